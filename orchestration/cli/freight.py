"""Network-freight (网络货运) commands: `report freight` (运行监测: operators, anomalies,
envelopes, --explain), and `envelope pack|open` — build and open the national-crypto envelope
(国密数字信封) of a freight upload from the shell (freight.md "Uploads and the national-crypto
envelope"; the work is :mod:`transforms.freight.envelope`).

Keys: the province platform's SM2 pair from ``$LAKEHOUSE_KEYS`` (``lakehouse keys init``), a
sender's private key from a file, senders' public keys from a senders ``.jsonl`` (the landing
feed's form) or one given key. No key value is ever printed.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import click

from orchestration.cli.bulletin import AS_PUBLISHED_OPTION
from orchestration.cli.bulletin import as_published as published_state
from orchestration.cli.common import LAKE_OPTION, echo_rows, existing_lake
from orchestration.cli.locking import writes_lake
from transforms.crypto.keys import KEYS_ENV

FieldCheck = Callable[[str | None, list[dict[str, Any]]], str | None]
_HEX = re.compile(r"[0-9a-fA-F]+")
REPORT_FORMATS = click.Choice(["json", "csv", "table"])
SENT_AT_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y%m%d%H%M%S"]


def register(main: click.Group, report: click.Group) -> None:
    main.add_command(envelope)
    main.add_command(freight)
    report.add_command(report_freight)


def _waybills(scale: dict[str, int] | None) -> int | None:
    return (scale or {}).get("freight_waybills_per_day")


def licence_subjects(
    lake: Path, start: dt.date, days: int, seed: int, scale: dict[str, int] | None = None
) -> list[dict[str, Any]]:
    """`lakehouse generate`: the licences the freight generator's operators, vehicles and drivers
    hold (the licences generator signs them; transforms/freight/generate)."""
    from transforms.freight.generate import licence_subjects as subjects

    return subjects(start, days, seed, _waybills(scale))


def generate_after_telematics(
    lake: Path,
    start: dt.date,
    days: int,
    seed: int,
    force: bool,
    progress,
    scale: dict[str, int] | None = None,
) -> dict[str, Any]:
    """`lakehouse generate`: senders, signed and encrypted envelopes, national positions and
    the divisions for the same days (transforms/freight/generate); its summary."""
    from transforms.freight.generate import generate_freight

    summary = generate_freight(
        lake, start, days, seed=seed, force=force, progress=progress,
        waybills_per_day=_waybills(scale),
    )  # fmt: skip
    return summary.to_dict()


@click.group()
def freight() -> None:
    """网络货运: appeals (申诉), closing alarms (整改), upload to the ministry system."""


@freight.command("appeal")
@LAKE_OPTION
@click.argument("anomaly_id")
@click.option("--reason", required=True, help="The operator's grounds, e.g. the licence number.")
@click.option("--rules", "rules_file", type=click.Path(dir_okay=False, exists=True), default=None)
@writes_lake
def appeal(lake, anomaly_id, reason, rules_file) -> None:
    """Appeal ANOMALY_ID (a 资质异常, e.g. qualification:W1/0000): recorded now; each
    monitoring run re-checks it against fresh licence data — withdrawn as soon as the
    qualification holds, confirmed if it still fails when the appeal window (30 days) closes."""
    from transforms.freight.jobs.appeals import AppealError, file_appeal
    from transforms.lake.clock import now_beijing
    from transforms.rules import load_rules

    root = existing_lake(lake)
    now = now_beijing().replace(tzinfo=None, microsecond=0)
    try:
        row = file_appeal(root, anomaly_id, reason, now, load_rules(rules_file, domain="freight"))
    except AppealError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"appeal {row['appeal_id']} filed for {anomaly_id}; re-checked by each run until "
        f"{row['deadline']:%Y-%m-%d %H:%M}"
    )


@freight.command("close-alarm")
@LAKE_OPTION
@click.argument("operator_id")
@click.argument("day")
@click.option("--result", required=True, help="The operator's rectification result (整改结果).")
@writes_lake
def close_alarm_command(lake, operator_id, day, result) -> None:
    """Close the alarm (预警) of OPERATOR_ID on DAY (YYYY-MM-DD) with the operator's
    rectification result; the next monitoring run shows it closed."""
    from transforms.freight.jobs.appeals import AppealError, close_alarm
    from transforms.lake.clock import now_beijing

    root = existing_lake(lake)
    now = now_beijing().replace(tzinfo=None, microsecond=0)
    try:
        close_alarm(root, operator_id, day, result, now)
    except AppealError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"alarm of {operator_id} on {day} closed; shown closed after the next run")


@freight.command("upload")
@LAKE_OPTION
@click.option("--rules", "rules_file", type=click.Path(dir_okay=False, exists=True), default=None)
@writes_lake
def upload_command(lake, rules_file) -> None:
    """上传部级系统: re-pack every accepted envelope not uploaded yet for the ministry system
    (encrypted for $LAKEHOUSE_KEYS/freight_ministry_sm2.pub, signed with the province platform's
    key) into <lake>/outbox/freight/<day>/ with a manifest.json per day."""
    from transforms.crypto.keys import KeyFileError
    from transforms.freight.jobs.upload import upload
    from transforms.rules import load_rules

    root = existing_lake(lake)
    try:
        result = upload(root, load_rules(rules_file, domain="freight"), click.echo)
    except KeyFileError as exc:
        raise click.ClickException(str(exc)) from None
    for path in result.files:
        click.echo(f"  {root / path}")


@freight.command("appeals")
@LAKE_OPTION
@click.option("--format", "fmt", type=REPORT_FORMATS, default="table", show_default=True)
def appeals_list(lake, fmt) -> None:
    """Every appeal event (filed, withdrawn, confirmed), oldest first."""
    from transforms.freight.jobs.appeals import SCHEMA, events

    rows = [
        {k: (v.replace(tzinfo=None).isoformat(sep=" ") if hasattr(v, "isoformat") else v)
         for k, v in e.items()}
        for e in events(existing_lake(lake))
    ]  # fmt: skip
    keys = SCHEMA.names
    echo_rows(rows, fmt, keys, ["appeal_id", "anomaly_id", "event", "status", "at", "reason"])


TABLE_KEYS = {
    "operators": [
        "operator_id",
        "operator_name",
        "waybills",
        "tonnes",
        "charges_yuan",
        "score",
        "rank",
    ],
    "anomalies": ["operator_id", "anomaly_type", "document_key", "rule", "status"],
    "envelopes": ["message_reference_number", "enterprise_sender_code", "result_code", "reason"],
}


@click.command("freight")
@LAKE_OPTION
@click.option("--period", required=True, help="The month (YYYY-MM) or day (YYYY-MM-DD), GMT+8.")
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Evaluate the anomalies at the end of this day (a waybill unpaid 30 days after receipt "
    "is a 匹配 anomaly from then on) [default: now].",
)
@click.option("--anomalies", "what", flag_value="anomalies", help="One row per anomaly (异常信息).")
@click.option(
    "--envelopes", "what", flag_value="envelopes", help="One row per envelope and its result code."
)
@click.option(
    "--explain",
    "explain_operator",
    default=None,
    metavar="OPERATOR",
    help="How OPERATOR's score comes about: rates, weights, penalties, its anomalies (JSON).",
)
@click.option("--format", "fmt", type=REPORT_FORMATS, default="json", show_default=True)
@click.option("--rules", "rules_file", type=click.Path(dir_okay=False, exists=True), default=None)
@AS_PUBLISHED_OPTION
def report_freight(lake, period, as_of, what, explain_operator, fmt, rules_file, as_published):
    """网络货运运行监测: per operator of the senders feed — envelopes, waybills, vehicles,
    drivers, tonnes, tonne-km, charges, anomalies of the six types, score and rank; or the
    anomaly rows (--anomalies) or the envelopes with their result codes (--envelopes); with
    --as-published, evaluated as of that bulletin's publication unless --as-of says otherwise."""
    from transforms.freight import report
    from transforms.freight.statistics import granularity
    from transforms.lake.clock import now_beijing
    from transforms.lake.session import get_spark
    from transforms.rules import load_rules

    root = existing_lake(lake)
    try:
        granularity(period)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--period") from None
    rules = load_rules(rules_file, domain="freight")
    licence_rules = load_rules(rules_file, domain="licences")
    at = report.as_of_time(
        as_of.date() if as_of else None, rules, now_beijing().replace(tzinfo=None)
    )
    spark = get_spark(root)
    try:
        with published_state(root, as_published, period) as published:
            if published is not None and as_of is None:  # evaluated when it was published
                at = published["published_at"]
            if explain_operator is not None:
                answer = report.explain(
                    spark, root, rules, licence_rules, period, at, explain_operator
                )
                click.echo(json.dumps(answer, ensure_ascii=False, indent=2))
                return
            if what == "anomalies":
                rows = report.anomaly_rows(spark, root, rules, licence_rules, period, at)
                keys = list(report.ANOMALY_KEYS)
            elif what == "envelopes":
                rows = report.envelope_rows(spark, root, period)
                keys = list(report.ENVELOPE_KEYS)
            else:
                rows = report.operators(spark, root, rules, licence_rules, period, at)
                keys = list(report.OPERATOR_KEYS)
    except (FileNotFoundError, KeyError) as exc:
        raise click.ClickException(str(exc).strip("'\"")) from None
    if fmt != "json":
        rows = [{k: json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v
                 for k, v in r.items()} for r in rows]  # fmt: skip
    echo_rows(rows, fmt, keys, TABLE_KEYS[what or "operators"])


def field_check(rules_file: str | None = None) -> FieldCheck:
    """The field rules (3005) of freight.md that publishing applies
    (:func:`transforms.freight.documents.check_fields` with the freight rules)."""
    from transforms.freight.documents import check_fields
    from transforms.rules import load_rules

    rules = load_rules(rules_file, domain="freight")
    return lambda ipc_type, documents: check_fields(ipc_type, documents, rules)


def _read_key(path: Path, what: str, digits: tuple[int, ...]) -> str:
    """The hex key in ``path`` (``digits`` long), or a one-line `KeyFileError` naming the file and
    the form found (never the value)."""
    from transforms.crypto.keys import KeyFileError, MalformedKeyError, MissingKeyError

    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise MissingKeyError(f"{what} not found: {path}") from None
    except UnicodeDecodeError:
        text = "?"  # reported as not hex, without showing the bytes
    except OSError as exc:
        raise KeyFileError(f"{what} in {path} cannot be read: {exc.strerror}") from None
    if len(text) not in digits or not _HEX.fullmatch(text):
        if not text:
            form = "an empty file"
        elif not _HEX.fullmatch(text):
            form = "characters that are not hex"
        else:
            form = f"{len(text)} hex digits"
        expected = " or ".join(str(n) for n in digits)
        raise MalformedKeyError(
            f"{what} in {path} is malformed: expected {expected} hex digits, found {form}"
        )
    return text.lower()


def _checked_public(key: str, source: str) -> str:
    """``key`` when it is a point of the curve, else a one-line error naming ``source``."""
    from transforms.crypto import sm2
    from transforms.crypto.errors import CryptoError

    try:
        sm2.verify(b"", "", key)  # builds the key (CryptoError when unusable); "" verifies nothing
    except CryptoError as exc:
        raise click.ClickException(f"{source}: {exc}") from None
    return key


def _platform_key(kind: str) -> str:
    """The platform's private or public key from $LAKEHOUSE_KEYS, or a one-line error."""
    from transforms.crypto import keys, sm2
    from transforms.crypto.errors import CryptoError

    try:
        if kind == "public":
            key = keys.platform_public_key()
            return _checked_public(key, str(keys.keys_dir() / keys.PLATFORM_PUBLIC_KEY))
        key = keys.platform_private_key()
        sm2.public_key_of(key)  # CryptoError when out of range
        return key
    except keys.KeyFileError as exc:
        raise click.ClickException(str(exc)) from None
    except CryptoError as exc:
        raise click.ClickException(
            f"{keys.keys_dir() / keys.PLATFORM_PRIVATE_KEY}: {exc}"
        ) from None


def _key_file(path: Path, what: str, digits: tuple[int, ...]) -> str:
    from transforms.crypto.keys import KeyFileError

    try:
        return _read_key(path, what, digits)
    except KeyFileError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
def envelope() -> None:
    """网络货运 national-crypto envelope (国密数字信封): build one as a platform would upload
    it, or open one as the province system does.

    encryptedCode = SM2 (C1C2C3) of a random SM4 key under the province platform's public key;
    encryptedContent = base64 of SM4-ECB (PKCS#7) of the UTF-8 JSON body; signature = SM2 (SM3,
    user id 1234567812345678) by the sender over encryptedContent. Keys: $LAKEHOUSE_KEYS.
    """


@envelope.command("pack")
@click.option(
    "--ipc-type",
    required=True,
    metavar="CODE",
    help="ipcType, the interface code: WLHY_YD1001 运单 (waybill), WLHY_ZJ1001 资金流水单 (fund "
    "flow), WLHY_CL1001 车辆 (vehicle), WLHY_JSY1001 驾驶员 (driver).",
)
@click.option(
    "--sender-code",
    required=True,
    metavar="CODE",
    help="enterpriseSenderCode of the sending platform (网络货运平台); the receiver looks its "
    "public key up by it.",
)
@click.option(
    "--sender-key",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="File holding the sender's SM2 private key (64 hex digits); it signs encryptedContent.",
)
@click.option(
    "--platform-public-key",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="File holding the receiving province platform's SM2 public key (04‖x‖y, 130 hex "
    f"digits) [default: freight_platform_sm2.pub in ${KEYS_ENV}, else ./keys].",
)
@click.option(
    "--sent-at",
    type=click.DateTime(SENT_AT_FORMATS),
    default=None,
    metavar="TIME",
    help="messageSendingDateTime, 'YYYY-MM-DD HH:MM:SS' or YYYYMMDDhhmmss, GMT+8 "
    "[default: now, GMT+8]. The sender's key must be valid on that day.",
)
@click.option(
    "--reference",
    default=None,
    metavar="GUID",
    help="messageReferenceNumber [default: a new GUID]; one already accepted makes the "
    "envelope 3001 (duplicate).",
)
@click.option(
    "--document-name", default=None, help="documentName, free text [default: the --ipc-type]."
)
@click.option(
    "--province-code",
    default="350000",
    show_default=True,
    metavar="CODE",
    help="senderCode, the province's 6-digit code.",
)
@click.option(
    "--no-04",
    "no_04",
    is_flag=True,
    help="Write encryptedCode without C1's 04 prefix (224 hex digits instead of 226).",
)
@click.argument("body", type=click.File("rb"), default="-", metavar="[BODY_FILE]")
def pack(
    ipc_type: str,
    sender_code: str,
    sender_key: Path,
    platform_public_key: Path | None,
    sent_at: dt.datetime | None,
    reference: str | None,
    document_name: str | None,
    province_code: str,
    no_04: bool,
    body: BinaryIO,
) -> None:
    """Build an envelope of BODY_FILE (a JSON object — one document — or an array of objects of
    one kind; `-` or nothing: stdin) and print it as one JSON object on one line."""
    from transforms.crypto import sm2
    from transforms.crypto.errors import CryptoError
    from transforms.freight.envelope import pack_envelope
    from transforms.lake.clock import now_beijing

    documents = _read_body(body)
    private = _key_file(sender_key, "sender's SM2 private key", (sm2.PRIVATE_HEX,))
    try:
        sm2.public_key_of(private)
    except CryptoError as exc:
        raise click.ClickException(f"{sender_key}: {exc}") from None
    if platform_public_key is None:
        public = _platform_key("public")
    else:
        public = _key_file(
            platform_public_key,
            "platform's SM2 public key",
            (sm2.PUBLIC_HEX, sm2.PUBLIC_HEX - 2),
        )
        public = _checked_public(public, str(platform_public_key))
    packed = pack_envelope(
        documents,
        ipc_type=ipc_type,
        enterprise_sender_code=sender_code,
        sender_private_key=private,
        platform_public_key=public,
        sent_at=sent_at or now_beijing().replace(microsecond=0),
        sender_code=province_code,
        document_name=document_name,
        reference=reference,
        with_04=not no_04,
    )
    click.echo(json.dumps(packed, ensure_ascii=False))


def _read_body(stream: BinaryIO) -> dict[str, Any] | list[dict[str, Any]]:
    """The documents of a body file: a JSON object or an array of objects (UTF-8)."""
    name = getattr(stream, "name", "BODY_FILE")
    try:
        value = json.loads(stream.read().decode("utf-8-sig"), parse_constant=_not_json)
    except UnicodeDecodeError:
        raise click.ClickException(f"body {name} is not UTF-8") from None
    except (ValueError, RecursionError) as exc:
        raise click.ClickException(f"body {name} is not JSON: {exc}") from None
    if isinstance(value, dict):
        return value
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        return value
    raise click.ClickException(
        f"body {name} must be a JSON object (one document) or an array of objects"
    )


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


@envelope.command("open")
@click.option(
    "--senders",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Senders .jsonl as landed in freight/senders (enterpriseSenderCode, name, "
    "unifiedSocialCreditIdentifier, sm2_public_key, valid_from, valid_to; dates, null = open): "
    "the key of the envelope's enterpriseSenderCode valid on its messageSendingDateTime day "
    "checks the signature.",
)
@click.option(
    "--sender-public-key",
    default=None,
    metavar="HEX_OR_FILE",
    help="The sender's SM2 public key (130 hex digits 04‖x‖y, or a file holding it), valid on "
    "any day; used for the envelope's enterpriseSenderCode instead of what --senders has.",
)
@click.argument("envelope_file", type=click.File("rb"), default="-", metavar="[ENVELOPE_FILE]")
def open_(senders: Path | None, sender_public_key: str | None, envelope_file: BinaryIO) -> None:
    """Open the envelope in ENVELOPE_FILE (one JSON object; `-` or nothing: stdin) with the
    platform's private key from $LAKEHOUSE_KEYS, checking in the spec's order: 3009 unknown sender
    or bad signature (验签) → 3006 SM4 key not decrypted → 3007 payload not decrypted → 3008 not
    parsed → 3005 field rules.

    Prints {"result_code", "reason", "documents", "body_sm3"}; exit status 0 when it opens
    (result_code 1001 — whether its messageReferenceNumber repeats an accepted one, 3001, is
    decided at publishing), 1 otherwise.
    """
    from transforms.freight.envelope import OK, SenderKey, open_envelope

    if senders is None and sender_public_key is None:
        raise click.UsageError("give the sender's key: --senders FILE or --sender-public-key")
    private = _platform_key("private")
    keys = _sender_keys(senders) if senders is not None else {}
    given = _sender_public_key(sender_public_key) if sender_public_key is not None else None
    packed = _read_envelope(envelope_file)
    code = packed.get("enterpriseSenderCode")
    if given is not None and code:
        keys[code] = [SenderKey(code, given)]
    opened = open_envelope(packed, keys, private, field_check())
    reason = opened.reason
    if opened.code is None:
        reason = (
            "opened: signature, SM4 key, payload, body and fields are good; 3001 (a repeated "
            "messageReferenceNumber) is decided at publishing"
        )
    answer = {
        "result_code": OK if opened.code is None else opened.code,
        "reason": reason,
        "documents": opened.documents,
        "body_sm3": opened.body_sm3,
    }
    click.echo(json.dumps(answer, ensure_ascii=False, indent=2))
    sys.exit(0 if opened.code is None else 1)


def _read_envelope(stream: BinaryIO) -> dict[str, str | None]:
    """The envelope's fields as landing keeps them in bronze (a repeated key keeps its first
    value; values as text), so this command answers what publishing would."""
    from transforms.freight.envelope import ENVELOPE_FIELDS
    from transforms.lake.landing import as_text, first_value_wins

    name = getattr(stream, "name", "ENVELOPE_FILE")
    try:
        text = stream.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise click.ClickException(f"{name} is not an envelope: not UTF-8") from None
    try:
        value = json.JSONDecoder(object_pairs_hook=first_value_wins).decode(text)
    except (ValueError, RecursionError) as exc:
        raise click.ClickException(
            f"{name} is not an envelope: not one JSON object ({exc})"
        ) from None
    if type(value) is not dict:
        raise click.ClickException(
            f"{name} is not an envelope: a JSON {type(value).__name__}, not an object"
        )
    return {field: as_text(value.get(field)) for field in ENVELOPE_FIELDS}


def _sender_public_key(text: str) -> str:
    """--sender-public-key: the hex key itself, or a file holding it."""
    from transforms.crypto import sm2

    digits = (sm2.PUBLIC_HEX, sm2.PUBLIC_HEX - 2)
    if len(text) in digits and _HEX.fullmatch(text):
        return _checked_public(text.lower(), "--sender-public-key")
    path = Path(text)
    if not path.is_file():
        raise click.BadParameter(
            "neither an SM2 public key (130 hex digits 04‖x‖y) nor an existing file",
            param_hint="--sender-public-key",
        )
    key = _key_file(path, "sender's SM2 public key", digits)
    return _checked_public(key, str(path))


def _date(value: Any, where: str, name: str) -> dt.date | None:
    if value is None or value == "":
        return None
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise click.ClickException(f"{where}: {name} {value!r} is not a date YYYY-MM-DD") from None


def _sender_keys(path: Path) -> dict[str, list[Any]]:
    """enterpriseSenderCode → its registered keys, from a senders .jsonl. A key that is no SM2
    public key stays in: opening then gives 3009 with that reason, as publishing would."""
    from transforms.freight.envelope import SenderKey

    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise click.ClickException(f"senders file {path} is not UTF-8") from None
    keys: dict[str, list[SenderKey]] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            row = json.loads(line)
        except (ValueError, RecursionError):
            raise click.ClickException(f"{where}: not a JSON line") from None
        code = row.get("enterpriseSenderCode") if isinstance(row, dict) else None
        key = row.get("sm2_public_key") if isinstance(row, dict) else None
        if not isinstance(code, str) or not code or not isinstance(key, str):
            raise click.ClickException(
                f"{where}: a sender needs enterpriseSenderCode and sm2_public_key (text)"
            )
        keys.setdefault(code, []).append(
            SenderKey(
                code,
                key,
                _date(row.get("valid_from"), where, "valid_from"),
                _date(row.get("valid_to"), where, "valid_to"),
            )
        )
    return keys

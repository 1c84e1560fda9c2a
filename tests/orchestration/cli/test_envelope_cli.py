"""`lakehouse envelope pack|open` (freight.md "CLI"): a body packed with the keys of a
$LAKEHOUSE_KEYS folder opens again, the exit status says whether it opened, the field rules are
publishing's (3005), and every missing or malformed key, file or body is one clear line, never a
traceback nor a key value.

The commands are invoked on the `envelope` group itself: freight is not in transforms/domains.py yet.
"""

import datetime as dt
import json
import types

import click
import pytest
from click.testing import CliRunner

from orchestration.cli.freight import envelope, register
from transforms.crypto import sm2, sm3
from transforms.crypto.keys import KEYS_ENV, init_keys
from transforms.lake.clock import now_beijing

SENDER = "91350100MA00000001"
WAYBILL = {
    "originalDocumentNumber": "YD20261103001",
    "shippingNoteNumber": "SN20261103001",
    "serialNumber": "0000",
    "unifiedSocialCreditIdentifier": SENDER,
    "despatchActualDateTime": "20261103080000",
    "goodsReceiptDateTime": "20261103180000",
    "totalMonetaryAmount": 1250.5,
    "vehicleInfo": [{"vehicleNumber": "闽A12345", "vehiclePlateColorCode": "2"}],
    "consignorInfo": {"consignor": "福州某某物流有限公司"},
}
SENT = "2026-11-03 10:00:00"


@pytest.fixture
def keys(tmp_path, monkeypatch):
    """A fresh keys folder in $LAKEHOUSE_KEYS, a sender's key file and a senders .jsonl whose key
    is valid from 2026-11-01 on."""
    folder = tmp_path / "keys"
    init_keys(folder)
    monkeypatch.setenv(KEYS_ENV, str(folder))
    private, public = sm2.generate_keypair()
    (tmp_path / "sender.key").write_text(private + "\n")
    senders = tmp_path / "senders.jsonl"
    write_senders(senders, public, "2026-11-01", None)
    (tmp_path / "body.json").write_text(json.dumps([WAYBILL], ensure_ascii=False), "utf-8")
    return types.SimpleNamespace(
        folder=folder, sender_private=private, sender_public=public, senders=senders, tmp=tmp_path
    )


def write_senders(path, public, valid_from, valid_to):
    row = {
        "enterpriseSenderCode": SENDER,
        "name": "某某网络货运平台",
        "unifiedSocialCreditIdentifier": SENDER,
        "sm2_public_key": public,
        "valid_from": valid_from,
        "valid_to": valid_to,
    }
    path.write_text(json.dumps(row, ensure_ascii=False) + "\n\n", "utf-8")


def run(*args, input=None):
    return CliRunner().invoke(envelope, [str(a) for a in args], input=input)


def pack(keys, *extra, body=None):
    args = ["pack", "--ipc-type", "WLHY_YD1001", "--sender-code", SENDER]
    args += ["--sender-key", keys.tmp / "sender.key", "--sent-at", SENT, *extra]
    return run(*args, body if body is not None else keys.tmp / "body.json")


def packed_args(keys, *extra):
    """pack's options with the YYYYMMDDhhmmss form of --sent-at and no BODY_FILE."""
    return [
        "pack", "--ipc-type", "WLHY_YD1001", "--sender-code", SENDER,
        "--sender-key", str(keys.tmp / "sender.key"), "--sent-at", "20261103100000", *extra,
    ]  # fmt: skip


def clean_error(result, *parts):
    """Exit 1, one line naming ``parts``, no traceback."""
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    for part in parts:
        assert str(part) in lines[0]


def test_register_adds_the_freight_commands():
    main, report = click.Group("main"), click.Group("report")
    register(main, report)
    assert set(main.commands) == {"envelope", "freight"}
    assert set(main.commands["envelope"].commands) == {"pack", "open"}
    assert set(main.commands["freight"].commands) == {
        "appeal", "appeals", "close-alarm", "upload"
    }  # fmt: skip
    assert set(report.commands) == {"freight"}


def test_pack_then_open(keys):
    packed = pack(keys)
    assert packed.exit_code == 0, packed.output
    assert len(packed.stdout.splitlines()) == 1  # one object on one line
    message = json.loads(packed.stdout)
    assert message["enterpriseSenderCode"] == SENDER
    assert message["messageSendingDateTime"] == "20261103100000"
    assert message["ipcType"] == message["documentName"] == "WLHY_YD1001"
    assert len(message["encryptedCode"]) == 226
    assert keys.sender_private not in packed.output

    (keys.tmp / "envelope.json").write_text(packed.stdout)
    opened = run("open", "--senders", keys.senders, keys.tmp / "envelope.json")
    assert opened.exit_code == 0, opened.output
    answer = json.loads(opened.stdout)
    assert list(answer) == ["result_code", "reason", "documents", "body_sm3"]
    assert answer["result_code"] == 1001
    assert "3001" in answer["reason"] and "publishing" in answer["reason"]
    assert "fields are good" in answer["reason"]
    assert answer["documents"] == [WAYBILL]
    body = json.dumps([WAYBILL], ensure_ascii=False, separators=(",", ":")).encode()
    assert answer["body_sm3"] == sm3.sm3_bytes(body)


def test_stdin_options_and_a_given_sender_key(keys):
    body = json.dumps(WAYBILL, ensure_ascii=False)  # one object
    extra = ("--no-04", "--reference", "GUID-1", "--document-name", "运单")
    packed = run(*packed_args(keys, *extra), input=body)  # no BODY_FILE: stdin
    assert packed.exit_code == 0, packed.output
    message = json.loads(packed.stdout)
    assert len(message["encryptedCode"]) == 224
    assert (message["messageReferenceNumber"], message["documentName"]) == ("GUID-1", "运单")

    (keys.tmp / "sender.pub").write_text(keys.sender_public)
    for given in (keys.sender_public, keys.sender_public[2:], keys.tmp / "sender.pub"):
        opened = run("open", "--sender-public-key", given, "-", input=packed.stdout)
        assert opened.exit_code == 0, opened.output
        assert json.loads(opened.stdout)["documents"] == [WAYBILL]


def test_sending_time_defaults_to_now_in_gmt8(keys):
    before = now_beijing().replace(microsecond=0)
    packed = run(*packed_args(keys)[:-2], keys.tmp / "body.json")  # no --sent-at
    after = now_beijing()
    assert packed.exit_code == 0, packed.output
    sent = dt.datetime.strptime(json.loads(packed.stdout)["messageSendingDateTime"], "%Y%m%d%H%M%S")
    assert before <= sent <= after


def test_a_rejected_envelope_exits_1_with_its_code(keys):
    packed = pack(keys).stdout
    write_senders(keys.senders, keys.sender_public, "2026-11-04", None)  # not yet valid that day
    opened = run("open", "--senders", keys.senders, input=packed)
    assert opened.exit_code == 1
    answer = json.loads(opened.stdout)
    assert answer["result_code"] == 3009 and "2026-11-03" in answer["reason"]
    assert (answer["documents"], answer["body_sm3"]) == ([], None)

    write_senders(keys.senders, keys.sender_public, "2026-11-01", "2026-11-03")  # its last day
    message = json.loads(packed)
    message["encryptedCode"] = "05" + message["encryptedCode"][2:]
    opened = run("open", "--senders", keys.senders, input=json.dumps(message))
    assert opened.exit_code == 1
    assert json.loads(opened.stdout)["result_code"] == 3006


def test_another_platform_key_makes_3006(keys):
    (keys.tmp / "other.pub").write_text(sm2.generate_keypair()[1])
    packed = pack(keys, "--platform-public-key", keys.tmp / "other.pub").stdout
    opened = run("open", "--senders", keys.senders, input=packed)
    assert opened.exit_code == 1
    assert json.loads(opened.stdout)["result_code"] == 3006


def test_the_field_rules_are_publishings(keys):
    missing = {k: v for k, v in WAYBILL.items() if k != "totalMonetaryAmount"}
    packed = run(*packed_args(keys), input=json.dumps(missing, ensure_ascii=False)).stdout
    opened = run("open", "--senders", keys.senders, input=packed)
    assert opened.exit_code == 1
    answer = json.loads(opened.stdout)
    assert (answer["result_code"], answer["reason"]) == (
        3005,
        "waybill 0: totalMonetaryAmount missing",
    )
    assert answer["documents"] == [missing]

    opened = run("open", "--senders", keys.senders, input=pack(keys).stdout)
    assert opened.exit_code == 0
    assert "fields are good" in json.loads(opened.stdout)["reason"]


def test_a_missing_keys_folder_is_one_clear_line(keys, monkeypatch):
    missing = keys.tmp / "no-keys"
    monkeypatch.setenv(KEYS_ENV, str(missing))
    clean_error(
        pack(keys), missing / "freight_platform_sm2.pub", "not found", "lakehouse keys init"
    )
    packed = pack(keys, "--platform-public-key", keys.folder / "freight_platform_sm2.pub")
    assert packed.exit_code == 0  # the public key given: $LAKEHOUSE_KEYS not needed
    opened = run("open", "--senders", keys.senders, input=packed.stdout)
    clean_error(opened, missing / "freight_platform_sm2.key", "not found", "lakehouse keys init")


def test_malformed_keys_are_one_clear_line_without_their_value(keys):
    key_file = keys.tmp / "sender.key"
    key_file.write_text("not-a-key")
    clean_error(pack(keys), key_file, "malformed", "not hex")
    assert "not-a-key" not in pack(keys).output
    key_file.write_text("ff" * 32)
    clean_error(pack(keys), key_file, "out of range")
    (keys.tmp / "sender.key").unlink()
    clean_error(pack(keys), key_file, "not found")

    (keys.tmp / "sender.key").write_text(keys.sender_private)
    off_curve = keys.tmp / "off-curve.pub"
    off_curve.write_text("04" + "00" * 64)
    clean_error(pack(keys, "--platform-public-key", off_curve), off_curve, "not a point")
    (keys.folder / "freight_platform_sm2.pub").write_text("04abc")
    clean_error(pack(keys), keys.folder / "freight_platform_sm2.pub", "malformed", "5 hex digits")

    packed = pack(keys, "--platform-public-key", keys.tmp / "sender.key")  # a private key: 64 hex
    clean_error(packed, keys.tmp / "sender.key", "expected 130 or 128 hex digits")
    (keys.folder / "freight_platform_sm2.key").write_text("00" * 32)
    opened = run("open", "--sender-public-key", keys.sender_public, input="{}")
    clean_error(opened, keys.folder / "freight_platform_sm2.key", "out of range")
    assert keys.sender_private not in opened.output


def test_bad_inputs_are_clear_errors(keys):
    clean_error(pack(keys, body="-"), "not JSON")  # empty stdin
    (keys.tmp / "number.json").write_text("42")
    clean_error(pack(keys, body=keys.tmp / "number.json"), "JSON object")
    (keys.tmp / "nan.json").write_text('{"a": NaN}')
    clean_error(pack(keys, body=keys.tmp / "nan.json"), "NaN")
    clean_error(run("open", "--senders", keys.senders, input="[]"), "not an object")
    clean_error(run("open", "--senders", keys.senders, input="{"), "not one JSON object")

    keys.senders.write_text(
        '{"enterpriseSenderCode": "X", "sm2_public_key": "04", "valid_from": "2026/11/01"}\n'
    )
    clean_error(
        run("open", "--senders", keys.senders, input="{}"), f"{keys.senders}:1", "valid_from"
    )
    keys.senders.write_text("[]\n")
    clean_error(run("open", "--senders", keys.senders, input="{}"), f"{keys.senders}:1")

    usage = run("open", input="{}")
    assert usage.exit_code == 2 and "--senders FILE or --sender-public-key" in usage.output
    usage = run("open", "--sender-public-key", "abc", input="{}")
    assert usage.exit_code == 2 and "neither an SM2 public key" in usage.output
    usage = run("open", "--sender-public-key", "04" + "00" * 64, input="{}")
    clean_error(usage, "--sender-public-key", "not a point")


def test_help_names_the_chinese_terms():
    assert "国密数字信封" in run("--help").output
    text = run("pack", "--help").output
    assert "运单" in text and "资金流水单" in text and "--no-04" in text
    text = run("open", "--help").output
    assert "3009" in text and "3001" in text and "exit status 0" in text

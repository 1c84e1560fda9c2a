"""Write a synthetic 网络货运 landing zone and return its known answer (:class:`FreightSummary`).

The run: the world (operators, keys, fleet), the trips, the licence states, double bookings, the
operators' permits, what each waybill says and how it is paid, the national positions, the
document uploads batched into envelopes with their cases, the files; then the answer, worked out
from all of that (:mod:`transforms.freight.generate.expected`). Deterministic by ``seed`` (and
``waybills_per_day``) except the SM2 bytes (encryptedCode and signature draw their nonces from
the OS): two runs give the same documents, references, SM4 keys and encryptedContent.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from transforms.crypto import keys as key_files
from transforms.freight.generate import documents
from transforms.freight.generate.content import build_content, build_fund_flows
from transforms.freight.generate.envelopes import (
    SEED_STREAM_ENVELOPES,
    assign_files,
    batch,
    decide_codes,
    inject,
    pack,
    received_effective,
    upload_documents,
)
from transforms.freight.generate.expected import evaluate
from transforms.freight.generate.licences import Subjects, add_permits, build_subjects
from transforms.freight.generate.positions import build_points, choose_cases, tracks
from transforms.freight.generate.schedule import (
    DAY_S,
    Geography,
    Waybills,
    add_double_bookings,
    build_trips,
)
from transforms.freight.generate.world import World, build
from transforms.reference.divisions import landing_records

DOMAIN = "freight"
DEFAULT_WAYBILLS_PER_DAY = 300
MATCH_DAYS = 31  # as_of = the last day + this: every receipt + 30 days has passed
POSITIONS_PER_FILE = 500_000
SENDERS_FILE = "senders.jsonl"
DIVISIONS_FILE = "divisions.jsonl"


@dataclass
class FreightSummary:
    """The known answer of a generated freight landing zone.

    Run: ``start``, ``days``, ``seed``, ``waybills_per_day``; ``as_of`` (the last day + 31 days:
    every match rule is evaluated, "no fund flow" included) — evaluate the anomalies as of it.

    Envelopes: ``envelopes`` (distinct envelopes written; the byte-identical re-sent file is not
    counted again), ``by_code`` (result code → envelopes), ``envelope_codes``
    (messageReferenceNumber → the codes its envelopes must get, in order of arrival: a rejected
    attempt and its same-reference retry, an accepted envelope and its 3001 duplicate);
    ``injected``: envelope cases (tampered, key_not_valid, unknown_sender, other_platform_key,
    bad_base64, bad_padding, not_json, missing_field, duplicate_reference), how rejected envelopes
    were retried (same_reference_retry, new_reference_retry), without_04 (accepted form), and
    ``resent_files`` / ``resent_lines`` (the byte-identical file: a no-op at landing).

    Documents: ``waybills`` (distinct accepted keys), ``waybill_versions`` (keys with two
    distinct accepted bodies), ``identical_resends`` (keys accepted twice with one body: no
    anomaly), ``fund_flows``, ``vehicle_records``, ``driver_records`` (accepted, distinct);
    ``cases``: what was built into them (waybill cases, payment cases, position cases, offline
    vehicles, double bookings, vehicle and driver licence states — see the modules' tables);
    ``placeholders_allowed`` (placeholder numbers met on waybills and allowed, by subject);
    ``small_overlaps`` (a vehicle's waybills overlapping by at most 10 min: no anomaly);
    ``unknown_distance`` (waybills with an unknown county code).

    Anomalies (freight.md "Exact anomaly rules"): ``anomalies`` — every row as
    ``(operator_id, anomaly_type, document_key)``, sorted; ``anomalies_by_type``; ``rules`` —
    ``"<type>.<rule>"`` → rows, the rule being the first one the row breaks in the order of
    transforms/freight/anomalies.py.

    Statistics (transforms/freight/statistics.py): ``stats`` — ``"<operator_id>|<YYYY-MM>"`` →
    the report row for every registered operator and month with anything attributed to it (an
    envelope, a waybill, an anomaly row): envelopes, accepted, rejected, waybills, vehicles,
    drivers (by drivingLicense), tonnes and tonne_km (3 decimals), charges_yuan (2),
    anomalies_<type> (rows attributed to the month, the fund-flow match rows included),
    unknown_distance, score (2 decimals; rate = waybills with a waybill row of the type /
    waybills, access: rows / envelopes, 6 decimals; default weights) and rank;
    ``alarm_days`` — ``"<operator_id>|<YYYY-MM-DD>"`` with anomaly rows and more than 5 % of
    its waybills (or none).

    Written: ``operators``, ``sender_keys``, ``vehicles`` and ``drivers`` (the fleet),
    ``licences`` (specs handed to the licence generator), ``national_positions`` (points),
    ``divisions``, ``files`` and ``lines`` by feed.
    """

    start: str = ""
    days: int = 0
    seed: int = 0
    waybills_per_day: int = 0
    as_of: str = ""
    operators: int = 0
    sender_keys: int = 0
    vehicles: int = 0
    drivers: int = 0
    licences: int = 0
    envelopes: int = 0
    by_code: dict[str, int] = field(default_factory=dict)
    envelope_codes: dict[str, list[int]] = field(default_factory=dict)
    injected: dict[str, int] = field(default_factory=dict)
    waybills: int = 0
    waybill_versions: int = 0
    identical_resends: int = 0
    fund_flows: int = 0
    vehicle_records: int = 0
    driver_records: int = 0
    cases: dict[str, int] = field(default_factory=dict)
    placeholders_allowed: dict[str, int] = field(default_factory=dict)
    small_overlaps: int = 0
    unknown_distance: int = 0
    anomalies: list[tuple[str, str, str]] = field(default_factory=list)
    anomalies_by_type: dict[str, int] = field(default_factory=dict)
    rules: dict[str, int] = field(default_factory=dict)
    stats: dict[str, dict[str, Any]] = field(default_factory=dict)
    alarm_days: list[str] = field(default_factory=list)
    national_positions: int = 0
    divisions: int = 0
    files: dict[str, int] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Plan:
    """Everything both the freight generator and :func:`licence_subjects` derive from the
    arguments: the world, the trips (double bookings included) and the licence subjects."""

    world: World
    geo: Geography
    trips: Waybills
    subjects: Subjects
    double_bookings: list[int]


def plan(start: dt.date, days: int, seed: int, waybills_per_day: int | None) -> Plan:
    if days < 1:
        raise ValueError("days must be at least 1")
    world = build(start, days, seed, waybills_per_day or DEFAULT_WAYBILLS_PER_DAY)
    geo = Geography()
    trips = build_trips(world, geo)
    subjects = build_subjects(world, trips)
    fleet = world.fleet
    eligible = {
        v
        for v in range(fleet.vehicles)
        if subjects.vehicle_record[v] and all(subjects.driver_record[d] for d in fleet.drivers[v])
    }
    bookings = add_double_bookings(world, trips, eligible)
    add_permits(world, subjects, trips)
    return Plan(world, geo, trips, subjects, bookings)


def licence_subjects(
    start: dt.date, days: int, seed: int, waybills_per_day: int | None = None
) -> list[dict[str, Any]]:
    """The licences the freight generator's operators, vehicles and drivers file, in the
    plain-data form of transforms/licences/generate/extra.py (for ``generate_licences(...,
    extra=...)``): the same numbers and states :func:`generate_freight` with the same arguments
    checks its waybills against."""
    return plan(start, days, seed, waybills_per_day).subjects.specs()


def _freight_files(lake: Path) -> list[Path]:
    base = lake / "landing" / DOMAIN
    return (
        sorted(base.glob(f"senders/*/{SENDERS_FILE}"))
        + sorted(base.glob("envelopes/*/*.json"))
        + sorted(base.glob("envelopes/*/*.jsonl"))
        + sorted(base.glob("national_positions/*/positions-*.jsonl"))
    )


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _positions_text(world: World, points, lo: int, hi: int, order: np.ndarray) -> str:
    fleet = world.fleet
    prefix = [
        f'{{"plate":{json.dumps(p, ensure_ascii=False)},"plate_color":{c},"gnss_time":"'
        for p, c in zip(fleet.plate, fleet.color, strict=True)
    ]
    idx = order[lo:hi]
    base = np.datetime64(world.start.isoformat() + "T00:00:00", "s")
    times = np.datetime_as_string(base + points.t[idx].astype("timedelta64[s]"), unit="s")
    return "".join(
        f'{prefix[v]}{t[:10]} {t[11:]}","lon":{x:.6f},"lat":{y:.6f},"speed":{s:.1f}}}\n'
        for v, t, x, y, s in zip(points.vehicle[idx].tolist(), times.tolist(),
                                 points.lon[idx].tolist(), points.lat[idx].tolist(),
                                 points.speed[idx].tolist(), strict=True)
    )  # fmt: skip


def generate_freight(
    lake: Path,
    start: dt.date,
    days: int,
    seed: int = 7,
    force: bool = False,
    progress: Callable[[str], None] | None = None,
    waybills_per_day: int | None = None,
) -> FreightSummary:
    """Write ``landing/freight/{senders,envelopes,national_positions}/…`` and
    ``landing/reference/divisions/<start>/divisions.jsonl`` for a run of ``days`` days from
    ``start`` with about ``waybills_per_day`` waybills a day (default 300; 200 000 is province
    scale), and return the exact known answer. The envelopes are encrypted for the province
    platform's public key in ``$LAKEHOUSE_KEYS`` (`lakehouse keys init`). Existing freight
    landing files raise :class:`FileExistsError` unless ``force`` (they are then deleted
    first)."""
    say = progress or (lambda _m: None)
    lake = Path(lake)
    try:
        platform_key = key_files.platform_public_key()
    except key_files.KeyFileError as exc:
        raise type(exc)(
            f"the freight generator encrypts every envelope for the province platform's SM2 "
            f"public key, which it cannot read: {exc}"
        ) from None
    divisions_path = (
        lake / "landing" / "reference" / "divisions" / start.isoformat() / DIVISIONS_FILE
    )
    divisions_text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in landing_records())
    existing = _freight_files(lake)
    if divisions_path.exists() and divisions_path.read_text(encoding="utf-8") != divisions_text:
        existing.append(divisions_path)
    if existing and not force:
        raise FileExistsError(
            f"freight landing file(s) already exist: {existing[0]}"
            + (f" and {len(existing) - 1} more" if len(existing) > 1 else "")
            + "; pass force=True (CLI --force) to overwrite"
        )
    for path in existing:
        path.unlink()

    p = plan(start, days, seed, waybills_per_day)
    world, trips, subjects = p.world, p.trips, p.subjects
    fleet = world.fleet
    say(
        f"freight: {len(trips)} waybills of {fleet.vehicles} vehicles, {len(world.operators)} operators"
    )
    content = build_content(world, p.geo, trips)
    flows, pay_cases = build_fund_flows(world, trips, content)
    offline, trip_cases = choose_cases(world, trips, p.geo)
    points = build_points(world, trips, p.geo, offline, trip_cases)
    track = tracks(points, trips)

    # envelopes
    docs = upload_documents(world, trips, content, flows, subjects)
    envelopes, injected = inject(world, batch(world, docs))
    files = assign_files(world, envelopes)
    decide_codes(world, envelopes)
    rng = np.random.default_rng([seed, SEED_STREAM_ENVELOPES, 4])
    base = lake / "landing" / DOMAIN
    lines: Counter = Counter()
    written: Counter = Counter()

    def body(doc) -> dict[str, Any]:
        if doc.kind == documents.WAYBILL:
            return documents.waybill(world, trips, content, doc.key, doc.version)
        if doc.kind == documents.FUND_FLOW:
            return documents.fund_flow(world, trips, content, flows[doc.key])
        if doc.kind == documents.VEHICLE:
            return documents.vehicle(world, doc.key, subjects.vehicle_cert[doc.key])
        return documents.driver(world, doc.key, subjects.driver_cert[doc.key])

    first_file: str | None = None
    for name in sorted(files):
        objects = [
            pack(world, e, e.fake or [body(d) for d in e.docs], platform_key, rng)
            for e in files[name]
        ]
        if name.endswith(".json"):
            text = json.dumps(objects[0], ensure_ascii=False) + "\n"
        else:
            text = "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objects)
            if first_file is None and name.split("/")[1].startswith(world.operators[0].code):
                first_file = name
        _write(base / "envelopes" / name, text)
        written["envelopes"] += 1
        lines["envelopes"] += len(objects)
    # one file re-sent byte for byte the next day (a no-op at landing)
    resent_lines = 0
    if first_file is not None:
        day, file_name = first_file.split("/")
        again = (dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat()
        data = (base / "envelopes" / first_file).read_bytes()
        target = base / "envelopes" / again / file_name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        resent_lines = data.count(b"\n")
        written["envelopes"] += 1
        lines["envelopes"] += resent_lines

    # national positions, by gnss day
    order = np.lexsort((points.vehicle, points.t))
    day_of = points.t[order] // DAY_S
    for day in np.unique(day_of):
        lo, hi = np.searchsorted(day_of, [day, day + 1])
        date = (world.start + dt.timedelta(days=int(day))).isoformat()
        for part, chunk in enumerate(range(lo, hi, POSITIONS_PER_FILE), start=1):
            end = min(hi, chunk + POSITIONS_PER_FILE)
            _write(base / "national_positions" / date / f"positions-{date}-{part:03d}.jsonl",
                   _positions_text(world, points, chunk, end, order))  # fmt: skip
            written["national_positions"] += 1
            lines["national_positions"] += int(end - chunk)

    # senders and divisions
    senders = [
        {"enterpriseSenderCode": op.code, "name": op.name,
         "unifiedSocialCreditIdentifier": op.uscc, "sm2_public_key": k.public_key,
         "valid_from": k.valid_from.isoformat(),
         "valid_to": k.valid_to.isoformat() if k.valid_to else None}
        for op in world.operators for k in op.keys
    ]  # fmt: skip
    _write(base / "senders" / start.isoformat() / SENDERS_FILE,
           "".join(json.dumps(s, ensure_ascii=False) + "\n" for s in senders))  # fmt: skip
    written["senders"] += 1
    lines["senders"] += len(senders)
    if not divisions_path.exists():
        _write(divisions_path, divisions_text)
    written["divisions"] += 1
    lines["divisions"] += divisions_text.count("\n")

    # the known answer
    answer = evaluate(world, trips, content, flows, subjects, envelopes, track)
    codes: dict[str, list[int]] = {}
    for e in sorted(envelopes, key=lambda e: (received_effective(world, e), e.file, e.line)):
        codes.setdefault(e.reference, []).append(e.code)
    cases: Counter = Counter()
    for c in content.case:
        if c:
            cases[f"waybill.{c}"] += 1
    for c in pay_cases:
        if c:
            cases[f"payment.{c}"] += 1
    for c in trip_cases:
        if c:
            cases[f"positions.{c}"] += 1
    cases["positions.offline_vehicle"] = int(offline.sum())
    cases["double_booking"] = len(p.double_bookings)
    cases["double_booking.cross_operator"] = sum(
        1 for i in p.double_bookings if trips.operator[i] != trips.operator[trips.twin[i]]
    )
    for s in subjects.vehicle_state:
        cases[f"vehicle.{s}"] += 1
    for s in subjects.driver_state:
        cases[f"driver.{s}"] += 1
    cases["unknown_county"] = sum(
        1 for i in range(len(trips))
        if trips.filed_loading[i] != trips.loading[i] or trips.filed_receipt[i] != trips.receipt[i]
    )  # fmt: skip
    summary = FreightSummary(
        start=start.isoformat(), days=days, seed=seed,
        waybills_per_day=world.waybills_per_day,
        as_of=(start + dt.timedelta(days=days - 1 + MATCH_DAYS)).isoformat(),
        operators=len(world.operators), sender_keys=len(senders), vehicles=fleet.vehicles,
        drivers=len(fleet.d_name), licences=len(subjects.licences), envelopes=len(envelopes),
        by_code={str(k): v for k, v in sorted(Counter(e.code for e in envelopes).items())},
        envelope_codes=codes,
        injected={**injected, "resent_files": 1 if first_file else 0, "resent_lines": resent_lines},
        waybills=answer.waybills, waybill_versions=answer.versions,
        identical_resends=answer.identical_resends, fund_flows=answer.fund_flows,
        vehicle_records=answer.vehicle_records, driver_records=answer.driver_records,
        cases=dict(sorted(cases.items())), placeholders_allowed=answer.placeholders_allowed,
        small_overlaps=answer.small_overlaps, unknown_distance=answer.unknown_distance,
        anomalies=answer.anomalies,
        anomalies_by_type={t: sum(1 for _, x, _ in answer.anomalies if x == t)
                           for t in ("access", "qualification", "vehicle_network", "trajectory",
                                     "match", "duplicate")},
        rules=dict(sorted(answer.rules.items())), stats=answer.stats,
        alarm_days=answer.alarm_days, national_positions=len(points),
        divisions=len(landing_records()), files=dict(written), lines=dict(lines),
    )  # fmt: skip
    say(
        f"freight: {summary.envelopes} envelopes ({summary.by_code}) in "
        f"{written['envelopes']} files, {summary.national_positions} national positions, "
        f"{len(summary.anomalies)} anomalies"
    )
    return summary

"""The network-freight benchmark (issue 10, "Speed"): envelopes opened and landed per second, and a
province-day's 运行监测 (anomalies and statistics) against DuckDB running the same SQL.

1. **Envelopes** — ``envelopes`` single-document waybill envelopes (packed once and cached in the
   work folder): land (read, SM3, bronze) and publish (signature → SM4 key → body → field rules →
   1001 / 3001 → silver documents), timed whole; envelopes per second end to end.
2. **Province-day** — the freight generator at ``waybills`` a day for one day (cached), its
   licences signed by the licence generator and published; then land + publish timed, and the
   anomaly + statistics evaluation timed on Sail and on DuckDB (the same SQL, transpiled:
   :mod:`orchestration.bench.freight_duckdb`). Both engines must find the same anomaly rows and
   the same statistics; a difference is reported.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

START = dt.date(2026, 11, 2)
SEED = 11


def _single_envelopes(folder: Path, count: int, say: Callable[[str], None]) -> Path:
    """A landing zone of ``count`` single-document waybill envelopes from one sender (cached)."""
    from transforms.crypto import keys as key_files
    from transforms.crypto import sm2
    from transforms.freight.envelope import pack_envelope

    done = folder / "done.json"
    if done.exists() and json.loads(done.read_text())["count"] == count:
        return folder / "landing"
    shutil.rmtree(folder, ignore_errors=True)
    say(f"freight bench: packing {count:,} single-document envelopes …")
    private, public = sm2.generate_keypair()
    platform = key_files.platform_public_key()
    day = START.isoformat()
    senders = folder / "landing" / "freight" / "senders" / day
    senders.mkdir(parents=True)
    (senders / "senders.jsonl").write_text(
        json.dumps({"enterpriseSenderCode": "BENCH", "name": "基准平台", "sm2_public_key": public,
                    "valid_from": "2026-01-01", "valid_to": None}) + "\n"
    )  # fmt: skip
    envelopes = folder / "landing" / "freight" / "envelopes" / day
    envelopes.mkdir(parents=True)
    sent = dt.datetime.combine(START, dt.time(8))
    per_file = 2_000
    for first in range(0, count, per_file):
        lines = []
        for n in range(first, min(count, first + per_file)):
            despatch = sent - dt.timedelta(hours=6)
            waybill = {
                "originalDocumentNumber": f"O{n:09d}", "shippingNoteNumber": f"B{n:09d}",
                "serialNumber": "0000", "unifiedSocialCreditIdentifier": "91350100MA2Y0BENCH",
                "despatchActualDateTime": despatch.strftime("%Y%m%d%H%M%S"),
                "goodsReceiptDateTime": sent.strftime("%Y%m%d%H%M%S"),
                "totalMonetaryAmount": 1000 + n % 500,
                "vehicleInfo": [{"vehicleNumber": f"闽A{n % 90000 + 10000}",
                                 "vehiclePlateColorCode": "2",
                                 "driver": [{"driverName": "张三", "drivingLicense": "350102199001011234"}],
                                 "goodsInfo": [{"descriptionOfGoods": "货物", "goodsItemGrossWeight": 8000}]}],
            }  # fmt: skip
            envelope = pack_envelope(
                waybill, ipc_type="WLHY_YD1001", enterprise_sender_code="BENCH",
                sender_private_key=private, platform_public_key=platform, sent_at=sent,
            )  # fmt: skip
            lines.append(json.dumps(envelope))
        (envelopes / f"envelopes-{first // per_file:04d}.jsonl").write_text("\n".join(lines) + "\n")
    done.write_text(json.dumps({"count": count}))
    return folder / "landing"


def _province_day(folder: Path, waybills: int, say: Callable[[str], None]) -> tuple[Path, Any]:
    """A province-day landing zone (freight + the licences its subjects hold), cached."""
    from transforms.freight.generate import generate_freight
    from transforms.freight.generate import licence_subjects as freight_subjects
    from transforms.licences.generate import generate_licences

    done = folder / "summary.json"
    if done.exists() and json.loads(done.read_text())["waybills_per_day"] == waybills:
        return folder / "landing", json.loads(done.read_text())
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    say(f"freight bench: generating a province-day of {waybills:,} waybills (cached afterwards) …")
    summary = generate_freight(folder, START, 1, seed=SEED, progress=say, waybills_per_day=waybills)
    generate_licences(folder, START, 1, seed=SEED, extra=freight_subjects(START, 1, SEED, waybills))
    answer = summary.to_dict()
    done.write_text(json.dumps(answer, ensure_ascii=False, default=str))
    return folder / "landing", answer


def _fresh_lake(landing: Path, lake: Path) -> Path:
    shutil.rmtree(lake, ignore_errors=True)
    lake.mkdir(parents=True)
    shutil.copytree(landing, lake / "landing")
    return lake


def _land_and_publish(spark, lake: Path) -> dict[str, float]:
    from transforms.freight.feeds import FEEDS
    from transforms.freight.jobs import publish
    from transforms.lake.landing import land_feed
    from transforms.reference.feeds import DIVISIONS
    from transforms.reference.publish import publish_divisions
    from transforms.rules import load_rules

    rules = load_rules(domain="freight")
    t0 = time.perf_counter()
    for feed in (DIVISIONS, *FEEDS):
        land_feed(lake, feed)
    t1 = time.perf_counter()
    publish_divisions(lake)
    publish.publish_senders(lake)
    result = publish.publish_envelopes(spark, lake, rules)
    publish.publish_positions(spark, lake)
    t2 = time.perf_counter()
    return {"land_s": t1 - t0, "publish_s": t2 - t1, "envelopes": result.envelopes,
            "documents": sum(result.documents.values()), "by_code": result.by_code}  # fmt: skip


def _licences(spark, lake: Path) -> None:
    from transforms.lake.landing import land_feed
    from transforms.licences.feeds import FEEDS
    from transforms.licences.jobs.publish import publish_authorities, publish_issuance
    from transforms.rules import load_rules

    rules = load_rules(domain="licences")
    for feed in FEEDS:
        land_feed(lake, feed)
    publish_authorities(spark, lake, rules)
    publish_issuance(spark, lake, rules)


def run(
    work: Path,
    envelopes: int = 20_000,
    waybills: int = 200_000,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """The freight benchmark (see the module doc); a JSON-able result."""
    from orchestration.bench.freight_duckdb import connect, evaluate
    from transforms.freight import anomalies
    from transforms.lake.session import get_spark
    from transforms.rules import load_rules

    say = progress or (lambda _m: None)
    out: dict[str, Any] = {}
    base = work / "freight"
    if envelopes:
        landing = _single_envelopes(base / f"envelopes-{envelopes}", envelopes, say)
        lake = _fresh_lake(landing, base / "lake-envelopes")
        spark = get_spark(lake)
        timed = _land_and_publish(spark, lake)
        seconds = timed["land_s"] + timed["publish_s"]
        out["envelopes"] = {
            **timed,
            "envelopes_per_s": round(envelopes / seconds, 1),
        }
        say(
            f"freight: {envelopes:,} single-document envelopes landed in {timed['land_s']:.1f} s, "
            f"opened and published in {timed['publish_s']:.1f} s → "
            f"{out['envelopes']['envelopes_per_s']:,.0f} envelopes/s"
        )
        shutil.rmtree(lake, ignore_errors=True)
    if waybills:
        landing, answer = _province_day(base / f"province-{waybills}", waybills, say)
        lake = _fresh_lake(landing, base / "lake-province")
        spark = get_spark(lake)
        _licences(spark, lake)
        timed = _land_and_publish(spark, lake)
        rules, licence_rules = load_rules(domain="freight"), load_rules(domain="licences")
        as_of = dt.datetime.fromisoformat(f"{answer['as_of']} 23:59:59")
        t0 = time.perf_counter()
        frame = anomalies.compute(spark, lake, rules, licence_rules, as_of)
        ours = sorted(
            tuple(r)
            for r in frame.select(
                "operator_id", "anomaly_type", "document_key", "rule", "status"
            ).collect()
        )
        stats = [r.asDict() for r in anomalies.compute_statistics(spark, rules, "month").collect()]
        sail_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        theirs, duck_stats = evaluate(connect(lake), rules, licence_rules, as_of)
        duck_s = time.perf_counter() - t0
        same = ours == theirs and len(stats) == len(duck_stats)
        out["province_day"] = {
            "waybills": answer["waybills"],
            "national_positions": answer["national_positions"],
            **timed,
            "anomalies": len(ours),
            "anomaly_step_s": round(sail_s, 2),
            "duckdb_anomaly_step_s": round(duck_s, 2),
            "ratio_duckdb": round(duck_s / sail_s, 2),
            "same_results": same,
            "known_answer": len(ours) == len(answer["anomalies"]),
        }
        say(
            f"freight province-day: {answer['waybills']:,} waybills, "
            f"{answer['national_positions']:,} national points — land {timed['land_s']:.1f} s, "
            f"publish {timed['publish_s']:.1f} s; anomalies + statistics {sail_s:.1f} s "
            f"(DuckDB, same SQL: {duck_s:.1f} s, ratio {duck_s / sail_s:.2f}); "
            f"{len(ours):,} anomaly rows, engines agree: {same}"
        )
        shutil.rmtree(lake, ignore_errors=True)
    return out

"""Platform link events (平台连通) and 查岗 checks with their answers.

The platform links decide when each platform is connected: while a platform is down, the
positions it forwards are held back and arrive shortly after the link is up again, and a 查岗 check
sent meanwhile gets no answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from transforms.telematics.generate.simulate import DAY_S, HOUR_S, MINUTE_S

FAULT, REPORTED_OUTAGE, UPSTREAM, OPERATOR = "fault", "reported_outage", "upstream", "operator"
FAULTS_PER_PLATFORM_DAY = 0.4  # short link faults (Poisson mean); at least one per run
FAULT_MIN = (2, 25)  # minutes down
OUTAGE_START_H = (0.5, 3.0)  # the run's one reported (报备) maintenance outage, at night
OUTAGE_MIN = (60, 180)
UPSTREAM_MIN = (10, 40)  # the provincial link fails for every platform at once (once a run)
OPERATOR_MIN = (5, 30)  # once a run, one platform is cut off by the regulator's side
EDGE_S = 60  # intervals stay inside [00:01, 23:59] of their day
MIN_APART_S = 60
BACKFILL_S = (1, 180)  # held-back positions arrive this long after the link is up again

CHECKS_PER_PLATFORM_DAY = (2, 7)  # integers in [2, 7)
CHECK_HOURS = (8.0, 21.0)
CHECK_ENTERPRISE_SHARE = 0.5  # checks addressed to one enterprise of the platform
LATE_SHARE = 0.08  # answered after more than 15 min
UNANSWERED_SHARE = 0.07  # never answered
ANSWER_S = (60, 600)  # most answers come within 1–10 min
LATE_ANSWER_S = (16 * MINUTE_S, 90 * MINUTE_S)
CHECK_LIMIT_S = 15 * MINUTE_S  # rules.yaml checks.response_limit_min
DUTY_NAMES = ("张伟", "王敏", "李磊", "陈静", "林海", "黄丽", "郑强", "吴芳")


def _ts(day: date, seconds: int) -> str:
    t = seconds % DAY_S
    d = day + timedelta(days=int(seconds // DAY_S))
    return f"{d.isoformat()} {t // 3600:02d}:{t // 60 % 60:02d}:{t % 60:02d}"


@dataclass
class PlatformEvents:
    """Link events and checks of a run, by day index."""

    down: dict[tuple[int, int], list[tuple[int, int, str]]]  # (day, platform) → intervals (s)
    links: list[list[dict[str, Any]]]  # per day: link events in time order
    checks: list[list[dict[str, Any]]]  # per day: checks in sent order

    def is_down(self, d: int, p: int, seconds: np.ndarray) -> np.ndarray:
        """Which of ``seconds`` (of day ``d``) fall in a down interval of platform ``p``."""
        out = np.zeros(len(seconds), dtype=bool)
        for lo, hi, _ in self.down.get((d, p), []):
            out |= (seconds >= lo) & (seconds < hi)
        return out

    def backfill(self, d: int, p: int, received: np.ndarray, rng: np.random.Generator) -> None:
        """Positions received while the link was down arrive after it is up again (in place)."""
        for lo, hi, _ in self.down.get((d, p), []):
            held = np.flatnonzero((received >= lo) & (received < hi))
            received[held] = hi + rng.integers(BACKFILL_S[0], BACKFILL_S[1] + 1, len(held))


def _minutes(rng: np.random.Generator, span: tuple[int, int]) -> int:
    return int(rng.integers(span[0] * MINUTE_S, span[1] * MINUTE_S + 1))


def _intervals(
    rng: np.random.Generator, n_platforms: int, days: int
) -> dict[tuple[int, int], list[tuple[int, int, str]]]:
    wanted: dict[tuple[int, int], list[tuple[int, int, str]]] = {}

    def add(d: int, p: int, start: int, length: int, reason: str) -> None:
        start = int(np.clip(start, EDGE_S, DAY_S - EDGE_S - length))
        wanted.setdefault((d, p), []).append((start, start + length, reason))

    # one reported outage, one upstream failure, one operator cut per run (in this priority)
    d = int(rng.integers(days))
    add(d, int(rng.integers(n_platforms)), int(rng.uniform(*OUTAGE_START_H) * HOUR_S),
        _minutes(rng, OUTAGE_MIN), REPORTED_OUTAGE)  # fmt: skip
    d, length = int(rng.integers(days)), _minutes(rng, UPSTREAM_MIN)
    start = int(rng.integers(6 * HOUR_S, 22 * HOUR_S))
    for p in range(n_platforms):
        add(d, p, start, length, UPSTREAM)
    add(int(rng.integers(days)), int(rng.integers(n_platforms)),
        int(rng.integers(HOUR_S, 23 * HOUR_S)), _minutes(rng, OPERATOR_MIN), OPERATOR)  # fmt: skip
    n_faults = max(1, int(rng.poisson(FAULTS_PER_PLATFORM_DAY * n_platforms * days)))
    for _ in range(n_faults):
        add(int(rng.integers(days)), int(rng.integers(n_platforms)),
            int(rng.integers(0, DAY_S)), _minutes(rng, FAULT_MIN), FAULT)  # fmt: skip

    out: dict[tuple[int, int], list[tuple[int, int, str]]] = {}
    for k, intervals in wanted.items():  # keep the first-added of overlapping intervals
        kept: list[tuple[int, int, str]] = []
        for lo, hi, reason in intervals:
            if all(hi + MIN_APART_S <= a or lo >= b + MIN_APART_S for a, b, _ in kept):
                kept.append((lo, hi, reason))
        out[k] = sorted(kept)
    return out


def build_platform_events(
    rng: np.random.Generator,
    start: date,
    days: int,
    platform_ids: list[str],
    enterprises_of_platform: list[list[str]],
) -> PlatformEvents:
    """Link events (every platform is up at 00:00:00 of the first day) and 查岗 checks."""
    n = len(platform_ids)
    down = _intervals(rng, n, days)
    links: list[list[dict[str, Any]]] = []
    for d in range(days):
        day = start + timedelta(days=d)
        rows: list[tuple[int, int, dict[str, Any]]] = []
        for p, pid in enumerate(platform_ids):
            if d == 0:
                rows.append((0, p, {"platform_id": pid, "event": "up", "at": _ts(day, 0),
                                    "reason": None}))  # fmt: skip
            for lo, hi, reason in down.get((d, p), []):
                rows.append((lo, p, {"platform_id": pid, "event": "down", "at": _ts(day, lo),
                                     "reason": reason}))  # fmt: skip
                rows.append((hi, p, {"platform_id": pid, "event": "up", "at": _ts(day, hi),
                                     "reason": None}))  # fmt: skip
        links.append([r for _, _, r in sorted(rows, key=lambda x: (x[0], x[1]))])

    # checks: sent times first, then outcomes shuffled over the whole run (exact shares)
    planned: list[tuple[int, int, int, str | None]] = []  # (day, seconds, platform, enterprise)
    for d in range(days):
        for p in range(n):
            k = int(rng.integers(*CHECKS_PER_PLATFORM_DAY))
            times = np.sort(rng.integers(int(CHECK_HOURS[0] * HOUR_S),
                                         int(CHECK_HOURS[1] * HOUR_S), k))  # fmt: skip
            for t in times.tolist():
                ents = enterprises_of_platform[p]
                ent = None
                if ents and rng.random() < CHECK_ENTERPRISE_SHARE:
                    ent = ents[int(rng.integers(len(ents)))]
                planned.append((d, int(t), p, ent))
    total = len(planned)
    n_late = max(1, round(LATE_SHARE * total)) if total >= 3 else 0
    n_none = max(1, round(UNANSWERED_SHARE * total)) if total >= 3 else 0
    outcome = np.array(["late"] * n_late + ["none"] * n_none + ["fast"] * (total - n_late - n_none))
    outcome = outcome[rng.permutation(total)]
    checks: list[list[dict[str, Any]]] = [[] for _ in range(days)]
    seq: dict[tuple[int, int], int] = {}
    for (d, t, p, ent), kind in zip(planned, outcome.tolist(), strict=True):
        day = start + timedelta(days=d)
        seq[(d, p)] = seq.get((d, p), 0) + 1
        pid = platform_ids[p]
        wait = None
        if kind == "fast":
            wait = int(rng.integers(ANSWER_S[0], ANSWER_S[1] + 1))
        elif kind == "late":
            wait = int(rng.integers(LATE_ANSWER_S[0], LATE_ANSWER_S[1] + 1))
        if any(lo <= t < hi for lo, hi, _ in down.get((d, p), [])):
            wait = None  # the platform is not connected: nobody sees the check
        name = DUTY_NAMES[int(rng.integers(len(DUTY_NAMES)))]
        who = "企业监控员" if ent else "平台值班员"
        checks[d].append(
            {
                "check_id": f"CG{pid}{day.strftime('%Y%m%d')}{seq[(d, p)]:03d}",
                "platform_id": pid,
                "enterprise_id": ent,
                "sent_at": _ts(day, t),
                "answered_at": None if wait is None else _ts(day, t + wait),
                "answer": None if wait is None else f"{who}{name}在岗，已收到",
            }
        )
    for d in range(days):
        checks[d].sort(key=lambda c: (c["sent_at"], c["check_id"]))
    return PlatformEvents(down, links, checks)


def answered_in_time(check: dict[str, Any]) -> bool:
    """answered_at − sent_at ≤ 15 min (telematics.md 查岗)."""
    if check["answered_at"] is None:
        return False
    fmt = "%Y-%m-%d %H:%M:%S"
    wait = datetime.strptime(check["answered_at"], fmt) - datetime.strptime(check["sent_at"], fmt)
    return wait.total_seconds() <= CHECK_LIMIT_S

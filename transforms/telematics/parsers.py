"""Landing parsers of the telematics feeds that the generic ones do not cover."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from transforms.lake import native
from transforms.lake.feeds import Feed
from transforms.lake.landing import ParsedFile, as_text
from transforms.lake.native import line_bounds
from transforms.telematics.frames import FrameError, decode_line
from transforms.telematics.frames_native import decode_common

MALFORMED_FRAME = "malformed_frame"


# the decoded frame attributes bronze keeps, as text
FRAME_ATTRIBUTES = (
    "platform_id", "plate", "plate_color", "terminal_phone", "gnss_time", "lon", "lat", "speed",
    "recorder_speed", "mileage_km", "direction", "altitude", "state", "alarm",
)  # fmt: skip


def parse_frames(data: bytes, feed: Feed) -> ParsedFile:
    """Raw JT/T 809 / 808 frames, one per line (``received_at<TAB>hex`` or ``hex``), decoded: the
    common 809 line for the whole file at once (:mod:`transforms.telematics.frames_native`), every
    other line by the Python decoder, with the same texts."""
    out = ParsedFile(feed.fields)
    starts, ends = line_bounds(data)
    if native.enabled():
        done, table = decode_common(data, starts, ends)
    else:  # LAKEHOUSE_NATIVE_PARSE=0: the Python decoder for every line (for comparisons)
        done, table = np.empty(0, dtype=np.int64), None
    if table is not None and len(done):
        lines = pa.array(done + 1, pa.int64())
        out.native = pa.table(
            [lines, *(table.column(f) for f in feed.fields)], ["_line", *feed.fields]
        )
        out.native_records = len(done)
        out.lines = len(done)
    columns = out.columns
    targets = [(columns[name], name) for name in FRAME_ATTRIBUTES]
    received, source = columns["received_at"], columns["source"]
    others = [
        columns[f] for f in feed.fields if f not in (*FRAME_ATTRIBUTES, "received_at", "source")
    ]
    numbers = out.line_numbers
    rest = np.ones(len(starts), dtype=bool)
    rest[done] = False
    for i in np.flatnonzero(rest):
        number = int(i) + 1
        text = data[starts[i] : ends[i]].decode("ascii", "replace").strip()
        if not text:
            continue
        out.lines += 1
        try:
            received_at, frame = decode_line(text)
        except FrameError as exc:
            out.malformed.append((number, text, f"{exc.reason}: {exc}", MALFORMED_FRAME))
            continue
        numbers.append(number)
        for values, name in targets:
            values.append(as_text(getattr(frame, name)))
        received.append(received_at)
        source.append(frame.protocol)
        for values in others:
            values.append(None)
    return out

"""Landing parsers of the telematics feeds that the generic ones do not cover."""

from __future__ import annotations

from transforms.lake.feeds import Feed
from transforms.lake.landing import ParsedFile, as_text
from transforms.telematics.frames import FrameError, decode_line

MALFORMED_FRAME = "malformed_frame"


def parse_frames(data: bytes, feed: Feed) -> ParsedFile:
    """Raw JT/T 809 / 808 frames, one per line (``received_at<TAB>hex`` or ``hex``), decoded."""
    out = ParsedFile(feed.fields)
    for number, raw in enumerate(data.split(b"\n"), start=1):
        text = raw.decode("ascii", "replace").strip()
        if not text:
            continue
        out.lines += 1
        try:
            received_at, frame = decode_line(text)
        except FrameError as exc:
            out.malformed.append((number, text, f"{exc.reason}: {exc}", MALFORMED_FRAME))
            continue
        record = {f: None for f in feed.fields}
        for name in ("platform_id", "plate", "plate_color", "terminal_phone", "gnss_time", "lon",
                     "lat", "speed", "recorder_speed", "mileage_km", "direction", "altitude",
                     "state", "alarm"):  # fmt: skip
            record[name] = as_text(getattr(frame, name))
        record["received_at"] = received_at
        record["source"] = frame.protocol
        out.add(number, record)
    return out

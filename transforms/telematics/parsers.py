"""Landing parsers of the telematics feeds that the generic ones do not cover."""

from __future__ import annotations

from transforms.lake.feeds import Feed
from transforms.lake.landing import ParsedFile, as_text
from transforms.telematics.frames import FrameError, decode_line

MALFORMED_FRAME = "malformed_frame"


# the decoded frame attributes bronze keeps, as text
FRAME_ATTRIBUTES = (
    "platform_id", "plate", "plate_color", "terminal_phone", "gnss_time", "lon", "lat", "speed",
    "recorder_speed", "mileage_km", "direction", "altitude", "state", "alarm",
)  # fmt: skip


def parse_frames(data: bytes, feed: Feed) -> ParsedFile:
    """Raw JT/T 809 / 808 frames, one per line (``received_at<TAB>hex`` or ``hex``), decoded."""
    out = ParsedFile(feed.fields)
    columns = out.columns
    targets = [(columns[name], name) for name in FRAME_ATTRIBUTES]
    received, source = columns["received_at"], columns["source"]
    others = [
        columns[f] for f in feed.fields if f not in (*FRAME_ATTRIBUTES, "received_at", "source")
    ]
    numbers = out.line_numbers
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
        numbers.append(number)
        for values, name in targets:
            values.append(as_text(getattr(frame, name)))
        received.append(received_at)
        source.append(frame.protocol)
        for values in others:
            values.append(None)
    return out

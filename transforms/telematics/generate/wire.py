"""Raw frame lines of the ``telematics/frames`` feed (``received_at<TAB>HEX``), encoded with
:mod:`transforms.telematics.frames`, plus the two defects: a corrupted byte (``bad_checksum``)
and a frame cut short (its end flag is missing: ``bad_flags``).
"""

from __future__ import annotations

from transforms.telematics.frames import encode_808, encode_809, to_hex

BAD_CHECKSUM = "bad_checksum"  # decoder reason of a frame with one byte changed
TRUNCATED = "bad_flags"  # decoder reason of a frame cut short: its end flag is missing
BAD_FRAME_REASONS = (BAD_CHECKSUM, TRUNCATED)
PLATE_PADDING = b"\x00" * 10  # 809 VEHICLE_NO is zero padded to 21 bytes (plates use ≤ 9)
CORRUPT_BYTE = 0x20  # not a flag or escape byte of either protocol
MAX_SN = 0xFFFFFFFF


def frame_809(platform_id: str, plate: str, plate_color: int, fields: tuple, msg_sn: int) -> bytes:
    """One UP_EXG_MSG_REAL_LOCATION frame; ``fields`` = (gnss_time, lon, lat, speed,
    recorder_speed, mileage_km, direction, altitude, state, alarm)."""
    gnss_time, lon, lat, speed, recorder, mileage, direction, altitude, state, alarm = fields
    return encode_809(
        platform_id=platform_id,
        plate=plate,
        plate_color=plate_color,
        gnss_time=gnss_time,
        lon=lon,
        lat=lat,
        speed=speed,
        recorder_speed=recorder,
        mileage_km=mileage,
        direction=direction,
        altitude=altitude,
        state=state,
        alarm=alarm,
        msg_sn=msg_sn & MAX_SN,
    )


def frame_808(terminal_phone: str, fields: tuple, serial: int) -> bytes:
    """One 0x0200 location report (2013 header) with mileage and recorder speed items."""
    gnss_time, lon, lat, speed, recorder, mileage, direction, altitude, state, alarm = fields
    return encode_808(
        terminal_phone=terminal_phone,
        gnss_time=gnss_time,
        lon=lon,
        lat=lat,
        speed=speed,
        recorder_speed=recorder,
        mileage_km=mileage,
        direction=direction,
        altitude=altitude,
        state=state,
        alarm=alarm,
        serial=serial & 0xFFFF,
    )


def corrupt(frame: bytes, reason: str, cut: float) -> bytes:
    """An 809 frame that fails to decode with ``reason`` (``cut``: kept fraction if truncated)."""
    if reason == BAD_CHECKSUM:  # change a padding byte of VEHICLE_NO: same length, wrong CRC
        i = frame.index(PLATE_PADDING) + len(PLATE_PADDING) // 2
        return frame[:i] + bytes((CORRUPT_BYTE,)) + frame[i + 1 :]
    return frame[: max(2, int(len(frame) * cut))]  # whole bytes, without the end flag


def line(received_at: str, frame: bytes) -> bytes:
    """``received_at<TAB>HEX`` as ASCII bytes."""
    return f"{received_at}\t{to_hex(frame)}".encode()

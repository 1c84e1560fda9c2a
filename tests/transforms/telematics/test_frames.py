"""JT/T 809 / JT/T 808 raw frame decoder and encoder (transforms/telematics/frames.py)."""

from __future__ import annotations

from functools import reduce
from operator import xor
from pathlib import Path

import pytest

from transforms.telematics.frames import (
    REASONS,
    DecodedFrame,
    FrameError,
    crc16_ccitt_false,
    decode_frame,
    decode_line,
    encode_808,
    encode_809,
    encode_frame,
    to_hex,
)

SAMPLE = Path(__file__).parents[2] / "fixtures" / "frames" / "sample.hex"


# ---------------------------------------------------------------- test-side reference helpers
def ref_crc(data: bytes) -> int:
    """Bit-by-bit CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no xorout)."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def wrap_808(content: bytes) -> bytes:
    """Header + body → XOR check code, escape, flags."""
    data = content + bytes((reduce(xor, content),))
    out = bytearray()
    for b in data:
        out += {0x7E: b"\x7d\x02", 0x7D: b"\x7d\x01"}.get(b, bytes((b,)))
    return b"\x7e" + bytes(out) + b"\x7e"


def wrap_809(content: bytes) -> bytes:
    """MSG_LENGTH .. end of body → CRC, escape, flags."""
    data = content + ref_crc(content).to_bytes(2, "big")
    esc = {0x5B: b"\x5a\x01", 0x5A: b"\x5a\x02", 0x5D: b"\x5e\x01", 0x5E: b"\x5e\x02"}
    out = bytearray()
    for b in data:
        out += esc.get(b, bytes((b,)))
    return b"\x5b" + bytes(out) + b"\x5d"


# ---------------------------------------------------------------- hand-assembled frames
# JT/T 808-2013 0x0200, every field written from the standard's layout (not with the encoder).
H808_CONTENT = bytes(
    [0x02, 0x00]  # MSG_ID 0x0200
    + [0x00, 0x26]  # body properties: 2013, no subpackage, no encryption, body length 38
    + [0x01, 0x39, 0x12, 0x34, 0x56, 0x78]  # terminal phone BCD 013912345678
    + [0x00, 0x07]  # serial 7
    + [0x00, 0x00, 0x00, 0x02]  # ALARM: bit 1 overspeed
    + [0x00, 0x00, 0x00, 0x03]  # STATE: ACC on, located, north, east
    + [0x01, 0x8D, 0xDD, 0x8C]  # LAT 26074508 → 26.074508
    + [0x07, 0x1C, 0x51, 0xEE]  # LON 119296494 → 119.296494
    + [0x00, 0x2A]  # ALTITUDE 42 m
    + [0x03, 0x07]  # SPEED 775 → 77.5 km/h
    + [0x00, 0x5A]  # DIRECTION 90
    + [0x24, 0x03, 0x15, 0x08, 0x30, 0x45]  # TIME BCD 2024-03-15 08:30:45
    + [0x01, 0x04, 0x00, 0x00, 0x30, 0x39]  # item 0x01 mileage 12345 → 1234.5 km
    + [0x03, 0x02, 0x03, 0x0C]  # item 0x03 recorder speed 780 → 78.0 km/h
)
H808_CHECK = 0x52  # XOR of the content above
H808_WIRE = bytes([0x7E]) + H808_CONTENT + bytes([H808_CHECK, 0x7E])  # nothing needs escaping

# JT/T 809-2011 UP_EXG_MSG / UP_EXG_MSG_REAL_LOCATION, byte by byte.
H809_CONTENT = bytes(
    [0x00, 0x00, 0x00, 0x5A]  # MSG_LENGTH 90 (flags included)
    + [0x00, 0x00, 0x00, 0x01]  # MSG_SN 1
    + [0x12, 0x00]  # MSG_ID UP_EXG_MSG
    + [0x02, 0x16, 0x35, 0xD1]  # MSG_GNSSCENTERID 35010001
    + [0x01, 0x00, 0x00]  # VERSION_FLAG 1.0.0
    + [0x00]  # ENCRYPT_FLAG: clear
    + [0x00, 0x00, 0x00, 0x00]  # ENCRYPT_KEY
    + [0xC3, 0xF6, 0x4A, 0x31, 0x32, 0x33, 0x34, 0x35]
    + [0x00] * 13  # VEHICLE_NO 闽J12345 (GBK)
    + [0x02]  # VEHICLE_COLOR yellow
    + [0x12, 0x02]  # DATA_TYPE UP_EXG_MSG_REAL_LOCATION
    + [0x00, 0x00, 0x00, 0x24]  # DATA_LENGTH 36
    + [0x00]  # GNSS ENCRYPT: clear
    + [0x0F, 0x03, 0x07, 0xE8]  # DATE day 15, month 3, year 2024
    + [0x08, 0x1E, 0x2D]  # TIME 08:30:45
    + [0x07, 0x1C, 0x51, 0xEE]  # LON 119.296494
    + [0x01, 0x8D, 0xDD, 0x8C]  # LAT 26.074508
    + [0x00, 0x4D]  # VEC1 GNSS speed 77 km/h
    + [0x00, 0x4E]  # VEC2 recorder speed 78 km/h
    + [0x00, 0x00, 0x04, 0xD2]  # VEC3 mileage 1234 km
    + [0x01, 0x0E]  # DIRECTION 270
    + [0x00, 0x2A]  # ALTITUDE 42 m
    + [0x00, 0x00, 0x00, 0x03]  # STATE
    + [0x00, 0x00, 0x00, 0x02]  # ALARM
)
H809_CRC = 0x19AB  # CRC-16/CCITT-FALSE of the content above
# on the wire the 0x5A of MSG_LENGTH is escaped to 5A 02
H809_WIRE = (
    bytes([0x5B, 0x00, 0x00, 0x00, 0x5A, 0x02]) + H809_CONTENT[4:] + bytes([0x19, 0xAB, 0x5D])
)

H808_EXPECTED = DecodedFrame(
    protocol="jtt808", platform_id=None, plate=None, plate_color=None,
    terminal_phone="013912345678", gnss_time="2024-03-15 08:30:45", lon=119.296494,
    lat=26.074508, speed=77.5, recorder_speed=78.0, mileage_km=1234.5, direction=90,
    altitude=42, state=3, alarm=2,
)  # fmt: skip
H809_EXPECTED = DecodedFrame(
    protocol="jtt809", platform_id="35010001", plate="闽J12345", plate_color=2,
    terminal_phone=None, gnss_time="2024-03-15 08:30:45", lon=119.296494, lat=26.074508,
    speed=77.0, recorder_speed=78.0, mileage_km=1234.0, direction=270, altitude=42, state=3,
    alarm=2,
)  # fmt: skip


def test_crc_variant_is_ccitt_false():
    assert crc16_ccitt_false(b"123456789") == 0x29B1 == ref_crc(b"123456789")
    assert ref_crc(H809_CONTENT) == H809_CRC == crc16_ccitt_false(H809_CONTENT)
    assert len(H809_CONTENT) + 4 == 90


def test_hand_assembled_808():
    assert len(H808_CONTENT) == 12 + 38
    assert reduce(xor, H808_CONTENT) == H808_CHECK
    assert decode_line(to_hex(H808_WIRE)) == (None, H808_EXPECTED)


def test_hand_assembled_809():
    assert decode_line(H809_WIRE.hex()) == (None, H809_EXPECTED)
    assert wrap_809(H809_CONTENT) == H809_WIRE


def test_encoders_reproduce_hand_frames():
    assert encode_808(**_fields(H808_EXPECTED, 808), serial=7) == H808_WIRE
    assert encode_809(**_fields(H809_EXPECTED, 809), msg_sn=1) == H809_WIRE
    assert encode_frame(H809_EXPECTED, msg_sn=1) == H809_WIRE


def test_sample_fixture():
    lines = SAMPLE.read_text(encoding="ascii").splitlines()
    assert decode_line(lines[0]) == ("2024-03-15 08:30:47", H808_EXPECTED)
    assert decode_line(lines[1]) == (None, H809_EXPECTED)
    assert bytes.fromhex(lines[0].split("\t")[1]) == H808_WIRE
    assert bytes.fromhex(lines[1]) == H809_WIRE


# ---------------------------------------------------------------- round trips
def _fields(frame: DecodedFrame, proto: int) -> dict:
    d = {k: getattr(frame, k) for k in DecodedFrame.__dataclass_fields__}
    del d["protocol"]
    if proto == 808:
        for k in ("platform_id", "plate", "plate_color"):
            del d[k]
    else:
        del d["terminal_phone"]
    return d


def test_round_trip_809_with_escaped_bytes():
    frame = DecodedFrame(
        protocol="jtt809", platform_id=str(0x5B5D5A5E), plate="闽J12345", plate_color=2,
        terminal_phone=None, gnss_time="2023-12-31 23:59:59", lon=0x075B5D5A / 1e6,
        lat=0x015E5A5B / 1e6, speed=float(0x5A), recorder_speed=float(0x5B),
        mileage_km=float(0x5D5E), direction=0x5E, altitude=0x5B5D, state=0x5A5B5D53,
        alarm=0x5E5D5B5A,
    )  # fmt: skip
    wire = encode_809(**_fields(frame, 809), msg_sn=0x5B5D5A5E)
    inner = wire[1:-1]
    assert b"\x5b" not in inner and b"\x5d" not in inner
    for pair in (b"\x5a\x01", b"\x5a\x02", b"\x5e\x01", b"\x5e\x02"):
        assert pair in inner
    assert decode_frame(wire) == frame
    assert decode_line("2024-01-01 00:00:05\t" + to_hex(wire).lower()) == (
        "2024-01-01 00:00:05",
        frame,
    )


@pytest.mark.parametrize("plate", ["闽J12345", "京A·B1234", "粤B12345挂", "ABC"])
def test_809_gbk_plates(plate):
    wire = encode_809(
        platform_id=1, plate=plate, plate_color=1, gnss_time="2024-01-01 00:00:00",
        lon=118.0, lat=24.5, speed=10,
    )  # fmt: skip
    assert decode_frame(wire).plate == plate


@pytest.mark.parametrize("version", [2013, 2019])
@pytest.mark.parametrize("lon, lat", [(119.5, 26.1), (-0x077E7D7E / 1e6, -0x017E7D7E / 1e6),
                                      (-70.25, 33.5), (151.2, -33.86)])  # fmt: skip
def test_round_trip_808(version, lon, lat):
    wire = encode_808(
        terminal_phone="13912345678", gnss_time="2024-02-29 12:00:01", lon=lon, lat=lat,
        speed=0x7E7D / 10, recorder_speed=0x7D7E / 10, mileage_km=0x7E7D7E7D / 10,
        direction=0x7E, altitude=0x7D7E, state=0x7E7D0001, alarm=0x7D7E7D7E, version=version,
        serial=0x7E7D, extra_items=((0x30, b"\x1f"), (0x2B, b"\x7e\x7d\x00\x01")),
    )  # fmt: skip
    inner = wire[1:-1]
    assert b"\x7e" not in inner and b"\x7d\x01" in inner and b"\x7d\x02" in inner
    got = decode_frame(wire)
    south, west = 4 if lat < 0 else 0, 8 if lon < 0 else 0
    assert got == DecodedFrame(
        protocol="jtt808", platform_id=None, plate=None, plate_color=None,
        terminal_phone="013912345678" if version == 2013 else "00000000013912345678",
        gnss_time="2024-02-29 12:00:01", lon=lon, lat=lat, speed=0x7E7D / 10, recorder_speed=0x7D7E / 10,
        mileage_km=0x7E7D7E7D / 10, direction=0x7E, altitude=0x7D7E,
        state=0x7E7D0001 | south | west, alarm=0x7D7E7D7E,
    )  # fmt: skip
    assert (got.lat < 0, got.lon < 0) == (lat < 0, lon < 0)
    assert encode_frame(got, version=version, serial=0x7E7D, extra_items=((0x30, b"\x1f"),
                        (0x2B, b"\x7e\x7d\x00\x01"))) == wire  # fmt: skip


def test_808_every_check_code_value():
    """Serial 0..255 makes the check code take every value, 0x7E and 0x7D included."""
    codes = set()
    for serial in range(256):
        wire = encode_808(
            terminal_phone="1",
            gnss_time="2024-01-01 00:00:00",
            lon=1,
            lat=1,
            speed=0,
            serial=serial,
        )
        got = decode_frame(wire)
        assert got.terminal_phone == "000000000001" and got.mileage_km is None
        assert got.recorder_speed is None
        raw = wire[1:-1].replace(b"\x7d\x02", b"\x7e").replace(b"\x7d\x01", b"\x7d")
        codes.add(raw[-1])
    assert codes == set(range(256))


def test_808_single_package_subpackage_is_read():
    content = bytearray(H808_CONTENT)
    content[2] |= 0x20  # bit 13 subpackage
    content[12:12] = b"\x00\x01\x00\x01"  # 1 package of 1
    assert decode_frame(wrap_808(bytes(content))) == H808_EXPECTED


def test_hex_with_spaces_and_case():
    spaced = " ".join(f"{b:02x}" for b in H808_WIRE)
    assert decode_line(spaced + "\r\n")[1] == H808_EXPECTED


# ---------------------------------------------------------------- errors
def _808_with(offset: int, value: bytes, content: bytes = H808_CONTENT) -> str:
    """The hand 808 frame with bytes replaced at ``offset`` (of the unescaped content), re-checked."""
    b = bytearray(content)
    b[offset : offset + len(value)] = value
    return wrap_808(bytes(b)).hex()


def _809_with(offset: int, value: bytes) -> str:
    """The hand 809 frame with bytes replaced at ``offset`` (of the unescaped content), re-CRC'd."""
    b = bytearray(H809_CONTENT)
    b[offset : offset + len(value)] = value
    return wrap_809(bytes(b)).hex()


def _flip(wire: bytes, index: int) -> str:
    b = bytearray(wire)
    b[index] ^= 0x01
    return b.hex()


_ENC_809 = dict(
    platform_id=1, plate="闽J12345", plate_color=2, gnss_time="2024-01-01 00:00:00", lon=118.0,
    lat=24.5, speed=10,
)  # fmt: skip
_SHORT_808 = bytearray(H808_CONTENT[:30])  # header + 18 body bytes, length field says 18
_SHORT_808[3] = 18
_SUB_808 = bytearray(H808_CONTENT)
_SUB_808[2] |= 0x20  # bit 13: subpackage
_SUB_808[12:12] = b"\x00\x02\x00\x01"  # package 1 of 2

# content offsets — 808: 0 MSG_ID, 2 props, 4 phone, 10 serial, 12 alarm, 16 state, 20 lat, 24 lon,
# 28 alt, 30 speed, 32 dir, 34 time YY MM DD hh mm ss, 40 item 0x01, 46 item 0x03.
# 809: 0 MSG_LENGTH, 4 SN, 8 MSG_ID, 10 center, 14 version, 17 encrypt, 18 key, 22 VEHICLE_NO,
# 43 colour, 44 DATA_TYPE, 46 DATA_LENGTH, 50 GNSS encrypt, 51 day, 52 month, 53 year, 55 h m s.
ERROR_CASES = [
    ("808 flipped check code", _flip(H808_WIRE, -2), "bad_checksum"),
    ("809 flipped CRC byte", _flip(H809_WIRE, -3), "bad_checksum"),
    ("809 flipped payload byte", _flip(H809_WIRE, 40), "bad_checksum"),
    ("808 7d 05", "7e 02 00 7d 05 00 7e", "bad_escape"),
    ("808 7d at end", "7e 02 00 00 7d 7e", "bad_escape"),
    ("808 bare 7e", "7e 02 7e 00 7e", "bad_escape"),
    ("809 5a 03", "5b 00 00 00 5a 03 5d", "bad_escape"),
    ("809 5e 00", "5b 00 5e 00 5d", "bad_escape"),
    ("809 bare 5b", "5b 00 5b 00 5d", "bad_escape"),
    ("808 end flag lost", H808_WIRE[:-5].hex(), "bad_flags"),
    ("one flag only", "7e", "bad_flags"),
    ("no start flag", "00 02 00 7e", "bad_flags"),
    ("808 then 809 flag", "7e 02 00 5d", "bad_flags"),
    ("808 truncated", (H808_WIRE[:-6] + H808_WIRE[-2:]).hex(), "bad_length"),
    ("809 truncated", (H809_WIRE[:-10] + H809_WIRE[-3:]).hex(), "bad_length"),
    ("808 tiny", "7e 02 00 7e", "bad_length"),
    ("809 tiny", "5b 00 00 5d", "bad_length"),
    ("808 body too short", wrap_808(bytes(_SHORT_808)).hex(), "bad_length"),
    ("808 item past body", _808_with(47, b"\x05"), "bad_length"),
    ("808 mileage item of 2", _808_with(40, b"\x01\x02\x00\x00\x00\x00"), "bad_length"),
    ("809 DATA_LENGTH 35", _809_with(46, b"\x00\x00\x00\x23"), "bad_length"),
    ("808 MSG_ID 0x0100", _808_with(0, b"\x01\x00"), "unsupported_message"),
    ("809 MSG_ID 0x1300", _809_with(8, b"\x13\x00"), "unsupported_message"),
    ("809 DATA_TYPE 0x1201", _809_with(44, b"\x12\x01"), "unsupported_message"),
    (
        "809 ENCRYPT_FLAG",
        to_hex(encode_809(**_ENC_809, encrypt_flag=1, encrypt_key=7)),
        "encrypted",
    ),
    ("809 GNSS ENCRYPT", to_hex(encode_809(**_ENC_809, gnss_encrypt=1)), "encrypted"),
    ("808 RSA bit", _808_with(2, b"\x04\x26"), "encrypted"),
    ("808 package 1 of 2", wrap_808(bytes(_SUB_808)).hex(), "fragmented"),
    ("808 seconds 3A", _808_with(39, b"\x3a"), "bad_bcd"),
    ("808 phone F", _808_with(4, b"\x0f"), "bad_bcd"),
    ("808 month 13", _808_with(35, b"\x13"), "bad_time"),
    ("808 Feb 30", _808_with(35, b"\x02\x30"), "bad_time"),
    ("809 month 13", _809_with(52, b"\x0d"), "bad_time"),
    ("809 hour 24", _809_with(55, b"\x18"), "bad_time"),
    ("809 not GBK", _809_with(22, b"\xff\xff"), "bad_plate"),
    ("words", "hello", "bad_hex"),
    ("odd digits", "7e0", "bad_hex"),
    ("non-hex inside", "7e 02 00 zz 7e", "bad_hex"),
    ("full-width digits", "７e 02 00 7e", "bad_hex"),
    ("blank", "   ", "empty"),
    ("prefix only", "2024-01-01 00:00:00\t", "empty"),
    ("received_at words", "yesterday\t" + H808_WIRE.hex(), "bad_received_at"),
    ("received_at Feb 30", "2024-02-30 00:00:00\t" + H808_WIRE.hex(), "bad_received_at"),
]


@pytest.mark.parametrize(
    "line, reason", [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES]
)
def test_error_reason(line, reason):
    with pytest.raises(FrameError) as info:
        decode_line(line)
    assert info.value.reason == reason
    assert str(info.value)  # a human detail for the quarantine row


def test_every_reason_reachable():
    assert {c[2] for c in ERROR_CASES} == REASONS


def test_frame_error_message_and_encoder_errors():
    with pytest.raises(FrameError) as info:
        decode_line(flip_check(H808_WIRE))
    assert info.value.reason == "bad_checksum" and "808" in str(info.value)
    with pytest.raises(ValueError):
        encode_808(terminal_phone="12345678901234567890123", gnss_time="2024-01-01 00:00:00",
                   lon=0, lat=0, speed=0)  # fmt: skip
    with pytest.raises(ValueError):
        encode_808(terminal_phone="1", gnss_time="2024-01-01 00:00:00", lon=0, lat=0, speed=0,
                   altitude=-5)  # fmt: skip
    with pytest.raises(ValueError):
        encode_809(platform_id=1, plate="闽J12345", plate_color=2, gnss_time="2024-13-01 00:00:00",
                   lon=0, lat=0, speed=0)  # fmt: skip


def flip_check(wire: bytes) -> str:
    b = bytearray(wire)
    b[-2] ^= 0xFF
    return b.hex()

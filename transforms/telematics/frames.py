"""Raw telematics frames of the landing feed ``telematics/frames`` (pure Python, stdlib only).

One frame per line of a ``.hex`` file, optionally prefixed ``received_at<TAB>`` (``YYYY-MM-DD HH:MM:SS``,
GMT+8). Hex may be upper or lower case and may contain spaces. Two frame kinds are understood:

**JT/T 809-2011 UP_EXG_MSG (0x1200) / UP_EXG_MSG_REAL_LOCATION (0x1202)** — platform to platform::

    0x5B | MSG_LENGTH u32 | MSG_SN u32 | MSG_ID u16 | MSG_GNSSCENTERID u32 | VERSION_FLAG 3 B
         | ENCRYPT_FLAG u8 | ENCRYPT_KEY u32                                   (22-byte header)
         | VEHICLE_NO 21 B GBK, zero padded | VEHICLE_COLOR u8 | DATA_TYPE u16 | DATA_LENGTH u32
         | GNSS_DATA 36 B                                                     (64-byte body)
         | CRC_CODE u16 | 0x5D

  GNSS_DATA: ENCRYPT u8, DATE (day u8, month u8, year u16), TIME (h, m, s u8), LON u32 and LAT u32
  (1e-6 degree), VEC1 u16 (GNSS speed, km/h), VEC2 u16 (recorder speed, km/h), VEC3 u32 (mileage, km),
  DIRECTION u16, ALTITUDE u16 (m), STATE u32, ALARM u32. MSG_LENGTH counts the whole unescaped message,
  both flags included (90 for this message). Escaping between the flags: 0x5A → 5A 02, 0x5B → 5A 01,
  0x5E → 5E 02, 0x5D → 5E 01.

  CRC_CODE is **CRC-16/CCITT-FALSE** (a.k.a. CRC-16/IBM-3740): polynomial 0x1021, initial value 0xFFFF,
  no input/output reflection, no final XOR (check value of ``b"123456789"`` is 0x29B1), computed over the
  unescaped bytes from MSG_LENGTH to the last body byte and sent big-endian. This is
  ``binascii.crc_hqx(data, 0xFFFF)``.

  Encrypted messages (ENCRYPT_FLAG ≠ 0, or a GNSS_DATA ENCRYPT byte ≠ 0) are rejected with reason
  ``encrypted``: there is no key management here, so their content cannot be read.

**JT/T 808 0x0200 location report** (2013 header, and the 2019 header flagged by bit 14 of the body
properties) — terminal to platform::

    0x7E | MSG_ID u16 | BODY_PROPS u16 | [2019: PROTOCOL_VERSION u8] | PHONE BCD 6 B (2013) / 10 B (2019)
         | SERIAL u16 | [subpackage: TOTAL u16, SEQ u16] | body | CHECK u8 | 0x7E

  BODY_PROPS: bits 0–9 body length, 10–12 encryption (non-zero → rejected as ``encrypted``), 13 subpackage,
  14 the 2019 version flag. Body: ALARM u32, STATE u32, LAT u32, LON u32 (1e-6 degree; STATE bit 2 = south,
  bit 3 = west → negative), ALTITUDE u16 (m), SPEED u16 (0.1 km/h), DIRECTION u16, TIME BCD 6 B
  YYMMDDhhmmss (20YY, GMT+8), then additional items (id u8, length u8, value): 0x01 mileage (u32, 0.1 km)
  and 0x03 recorder speed (u16, 0.1 km/h) are read, the others skipped. CHECK = XOR of every unescaped
  byte between the flags except itself. Escaping: 0x7E → 7D 02, 0x7D → 7D 01. A report split over several
  packages is rejected (``fragmented``); a one-package "subpackage" is read.
  808 frames carry no plate: ``terminal_phone`` (BCD digits, leading zeros kept) is returned and
  ``plate``/``plate_color``/``platform_id`` are None; the pipeline maps the phone to a vehicle later.

Integers are big-endian throughout. Values are returned as decoded — no range checking (the
qualification rules do that downstream); only a time that is not a real date/time is refused
(``bad_time``). For symmetry with 808 the 809 decoder also applies the STATE south/west bits to the sign
of LAT/LON (JT/T 809 STATE follows the JT/T 808 state bits); the encoders set those two bits from the
signs of ``lat``/``lon``.

Failures raise :class:`FrameError` whose ``reason`` is one of :data:`REASONS`.
"""

from __future__ import annotations

import binascii
import re
import struct
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from operator import xor

__all__ = [
    "REASONS",
    "DecodedFrame",
    "FrameError",
    "crc16_ccitt_false",
    "decode_frame",
    "decode_line",
    "encode_808",
    "encode_809",
    "encode_frame",
    "to_hex",
]

REASONS = frozenset(
    {
        "empty",  # nothing on the line
        "bad_hex",  # not an even number of hex digits
        "bad_received_at",  # the TAB prefix is not a YYYY-MM-DD HH:MM:SS time
        "bad_flags",  # missing / wrong start or end flag
        "bad_escape",  # invalid escape sequence, or a bare flag byte inside the frame
        "bad_length",  # too short, length fields disagree with the frame, truncated item
        "bad_checksum",  # 809 CRC or 808 XOR mismatch
        "unsupported_message",  # not 809 0x1200/0x1202 nor 808 0x0200
        "encrypted",  # 809 ENCRYPT_FLAG / GNSS ENCRYPT, or 808 encryption bits set
        "fragmented",  # 808 report split over several packages
        "bad_bcd",  # a BCD nibble > 9 (808 phone or time)
        "bad_time",  # not a real date/time
        "bad_plate",  # 809 VEHICLE_NO not decodable as GBK
    }
)

MSG_809_UP_EXG = 0x1200
DATA_809_REAL_LOCATION = 0x1202
MSG_808_LOCATION = 0x0200

_H809 = struct.Struct(">IIHI3sBI")  # MSG_LENGTH .. ENCRYPT_KEY (22 bytes)
_B809 = struct.Struct(">21sBHI")  # VEHICLE_NO, VEHICLE_COLOR, DATA_TYPE, DATA_LENGTH (28 bytes)
_G809 = struct.Struct(">BBBHBBBIIHHIHHII")  # GNSS_DATA (36 bytes)
_L809 = 1 + _H809.size + _B809.size + _G809.size + 2 + 1  # 90: MSG_LENGTH of a 0x1202 message
_B808 = struct.Struct(">IIIIHHH6s")  # location basic information (28 bytes)
_HH = struct.Struct(">HH")
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")

_RECEIVED_AT = re.compile(r"(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})")
_SOUTH = 1 << 2
_WEST = 1 << 3


@dataclass(frozen=True)
class DecodedFrame:
    """One position decoded from a frame."""

    protocol: str  # "jtt809" | "jtt808"
    platform_id: str | None  # 809 MSG_GNSSCENTERID (decimal); None for 808
    plate: str | None  # 809 VEHICLE_NO; None for 808 (and for an empty 809 VEHICLE_NO)
    plate_color: int | None  # 809 VEHICLE_COLOR; None for 808
    terminal_phone: str | None  # 808 terminal phone (BCD digits); None for 809
    gnss_time: str  # "YYYY-MM-DD HH:MM:SS", GMT+8
    lon: float  # degrees, west negative
    lat: float  # degrees, south negative
    speed: float  # GNSS speed, km/h
    recorder_speed: float | None  # km/h; 808: None unless additional item 0x03
    mileage_km: float | None  # km; 808: None unless additional item 0x01
    direction: int
    altitude: int
    state: int
    alarm: int


class FrameError(ValueError):
    """A line that is not a decodable position frame; ``reason`` is a short machine code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason


# --------------------------------------------------------------------------------------- helpers


def crc16_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, not reflected, no final XOR) — the 809 CRC."""
    return binascii.crc_hqx(data, 0xFFFF)


def to_hex(frame: bytes) -> str:
    """A frame as one upper-case hex string without spaces (the ``.hex`` line format)."""
    return frame.hex().upper()


def _unescape(data: bytes, esc: int, table: dict[int, int]) -> bytes:
    """Undo one escape byte ``esc``: ``esc`` followed by a key of ``table`` becomes its value."""
    parts = data.split(bytes((esc,)))
    out = [parts[0]]
    for part in parts[1:]:
        if not part or part[0] not in table:
            raise FrameError("bad_escape", f"0x{esc:02X} not followed by 0x01 or 0x02")
        out.append(bytes((table[part[0]],)))
        out.append(part[1:])
    return b"".join(out)


def _unescape_809(data: bytes) -> bytes:
    if b"\x5b" in data or b"\x5d" in data:
        raise FrameError("bad_escape", "unescaped 0x5B/0x5D inside the frame")
    if b"\x5a" in data:
        data = _unescape(data, 0x5A, {0x01: 0x5B, 0x02: 0x5A})
    if b"\x5e" in data:
        data = _unescape(data, 0x5E, {0x01: 0x5D, 0x02: 0x5E})
    return data


def _escape_809(data: bytes) -> bytes:
    data = data.replace(b"\x5a", b"\x5a\x02").replace(b"\x5b", b"\x5a\x01")
    return data.replace(b"\x5e", b"\x5e\x02").replace(b"\x5d", b"\x5e\x01")


def _unescape_808(data: bytes) -> bytes:
    if b"\x7e" in data:
        raise FrameError("bad_escape", "unescaped 0x7E inside the frame")
    if b"\x7d" in data:
        data = _unescape(data, 0x7D, {0x01: 0x7D, 0x02: 0x7E})
    return data


def _escape_808(data: bytes) -> bytes:
    return data.replace(b"\x7d", b"\x7d\x01").replace(b"\x7e", b"\x7d\x02")


def _time(y: int, mo: int, d: int, h: int, mi: int, s: int) -> str:
    try:
        datetime(y, mo, d, h, mi, s)
    except ValueError as exc:
        raise FrameError(
            "bad_time", f"{y:04d}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d}: {exc}"
        ) from None
    return f"{y:04d}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d}"


def _parse_time(text: str) -> datetime:
    """Encoder side: ``YYYY-MM-DD HH:MM:SS`` → datetime (ValueError otherwise)."""
    m = _RECEIVED_AT.fullmatch(text)
    if not m:
        raise ValueError(f"time must be 'YYYY-MM-DD HH:MM:SS', got {text!r}")
    return datetime(*map(int, m.groups()))


def _coord(value: float) -> tuple[int, bool]:
    return round(abs(value) * 1_000_000), value < 0


def _pack(st: struct.Struct, *values: int | bytes) -> bytes:
    try:
        return st.pack(*values)
    except struct.error as exc:
        raise ValueError(f"value out of range for the frame field: {exc}") from None


# --------------------------------------------------------------------------------------- decoding


def decode_line(line: str) -> tuple[str | None, DecodedFrame]:
    """Decode one ``.hex`` line → ``(received_at or None, frame)``; raises :class:`FrameError`."""
    received_at = None
    if "\t" in line:
        prefix, _, line = line.partition("\t")
        received_at = prefix.strip()
        m = _RECEIVED_AT.fullmatch(received_at)
        if not m:
            raise FrameError(
                "bad_received_at", f"received_at {received_at!r} is not YYYY-MM-DD HH:MM:SS"
            )
        try:
            datetime(*map(int, m.groups()))
        except ValueError as exc:
            raise FrameError("bad_received_at", f"received_at {received_at!r}: {exc}") from None
    line = line.strip()
    if not line:
        raise FrameError("empty", "no frame on the line")
    try:
        raw = bytes.fromhex(line)
    except ValueError as exc:
        raise FrameError("bad_hex", str(exc)) from None
    return received_at, decode_frame(raw)


def decode_frame(frame: bytes) -> DecodedFrame:
    """Decode one escaped frame, flags included; raises :class:`FrameError`."""
    if len(frame) < 2:
        raise FrameError("bad_flags" if frame else "empty", "frame shorter than its two flags")
    first, last = frame[0], frame[-1]
    if first == 0x7E and last == 0x7E:
        return _decode_808(_unescape_808(frame[1:-1]))
    if first == 0x5B and last == 0x5D:
        return _decode_809(_unescape_809(frame[1:-1]))
    raise FrameError("bad_flags", f"frame starts 0x{first:02X} and ends 0x{last:02X}")


def _decode_809(data: bytes) -> DecodedFrame:
    if len(data) < _H809.size + 2:
        raise FrameError(
            "bad_length", f"809 frame of {len(data) + 2} bytes is shorter than its header"
        )
    msg_len, _sn, msg_id, center, _version, encrypt_flag, _key = _H809.unpack_from(data)
    if msg_len != len(data) + 2:
        raise FrameError(
            "bad_length", f"809 MSG_LENGTH {msg_len} but the frame has {len(data) + 2} bytes"
        )
    crc = (data[-2] << 8) | data[-1]
    expected = binascii.crc_hqx(data[:-2], 0xFFFF)
    if crc != expected:
        raise FrameError("bad_checksum", f"809 CRC 0x{crc:04X}, computed 0x{expected:04X}")
    if msg_id != MSG_809_UP_EXG:
        raise FrameError("unsupported_message", f"809 MSG_ID 0x{msg_id:04X}")
    if encrypt_flag:
        raise FrameError("encrypted", "809 ENCRYPT_FLAG set; no key management here")
    body = data[_H809.size : -2]
    if len(body) < _B809.size:
        raise FrameError("bad_length", f"809 body of {len(body)} bytes")
    vehicle_no, color, data_type, data_len = _B809.unpack_from(body)
    if data_type != DATA_809_REAL_LOCATION:
        raise FrameError("unsupported_message", f"809 DATA_TYPE 0x{data_type:04X}")
    if data_len != _G809.size or len(body) != _B809.size + _G809.size:
        raise FrameError(
            "bad_length", f"809 DATA_LENGTH {data_len}, {len(body) - _B809.size} bytes of GNSS_DATA"
        )
    (
        gnss_encrypt, day, month, year, hour, minute, second,
        lon, lat, vec1, vec2, vec3, direction, altitude, state, alarm,
    ) = _G809.unpack_from(body, _B809.size)  # fmt: skip
    if gnss_encrypt:
        raise FrameError("encrypted", "809 GNSS_DATA ENCRYPT set; no key management here")
    try:
        plate = vehicle_no.split(b"\x00", 1)[0].decode("gbk")
    except UnicodeDecodeError as exc:
        raise FrameError("bad_plate", f"809 VEHICLE_NO is not GBK: {exc}") from None
    return DecodedFrame(
        protocol="jtt809",
        platform_id=str(center),
        plate=plate or None,
        plate_color=color,
        terminal_phone=None,
        gnss_time=_time(year, month, day, hour, minute, second),
        lon=-lon / 1e6 if state & _WEST else lon / 1e6,
        lat=-lat / 1e6 if state & _SOUTH else lat / 1e6,
        speed=float(vec1),
        recorder_speed=float(vec2),
        mileage_km=float(vec3),
        direction=direction,
        altitude=altitude,
        state=state,
        alarm=alarm,
    )


def _decode_808(data: bytes) -> DecodedFrame:
    if len(data) < 13:  # 2013 header (12) + check code
        raise FrameError(
            "bad_length", f"808 frame of {len(data) + 2} bytes is shorter than its header"
        )
    msg_id, props = _HH.unpack_from(data)
    body_len = props & 0x3FF
    if props & 0x4000:  # 2019: protocol version u8, phone BCD 10
        phone_at, phone_end = 5, 15
    else:
        phone_at, phone_end = 4, 10
    header_len = phone_end + 2 + (4 if props & 0x2000 else 0)
    if len(data) != header_len + body_len + 1:
        raise FrameError(
            "bad_length",
            f"808 header {header_len} + body length {body_len} + 1, but {len(data)} bytes unescaped",
        )
    check = reduce(xor, data)  # XOR over everything including the check code is 0 when it matches
    if check:
        raise FrameError(
            "bad_checksum", f"808 check code 0x{data[-1]:02X}, computed 0x{check ^ data[-1]:02X}"
        )
    if props & 0x1C00:
        raise FrameError("encrypted", "808 body encryption bits set; no key management here")
    if msg_id != MSG_808_LOCATION:
        raise FrameError("unsupported_message", f"808 MSG_ID 0x{msg_id:04X}")
    if props & 0x2000:
        total, seq = _HH.unpack_from(data, phone_end + 2)
        if total != 1 or seq != 1:
            raise FrameError("fragmented", f"808 package {seq} of {total}")
    phone = data[phone_at:phone_end].hex()
    if not phone.isdigit():
        raise FrameError("bad_bcd", f"808 terminal phone BCD {phone!r}")
    body = data[header_len:-1]
    if body_len < _B808.size:
        raise FrameError("bad_length", f"808 location body of {body_len} bytes")
    alarm, state, lat, lon, altitude, speed, direction, bcd = _B808.unpack_from(body)
    t = bcd.hex()
    if not t.isdigit():
        raise FrameError("bad_bcd", f"808 time BCD {t!r}")
    gnss_time = _time(
        2000 + int(t[0:2]), int(t[2:4]), int(t[4:6]), int(t[6:8]), int(t[8:10]), int(t[10:12])
    )
    mileage = recorder = None
    pos = _B808.size
    while pos < body_len:
        if pos + 2 > body_len:
            raise FrameError("bad_length", "808 additional item header truncated")
        item, size = body[pos], body[pos + 1]
        pos += 2
        if pos + size > body_len:
            raise FrameError("bad_length", f"808 additional item 0x{item:02X} truncated")
        if item == 0x01:
            if size != 4:
                raise FrameError("bad_length", f"808 mileage item of {size} bytes")
            mileage = int.from_bytes(body[pos : pos + 4], "big") / 10
        elif item == 0x03:
            if size != 2:
                raise FrameError("bad_length", f"808 recorder speed item of {size} bytes")
            recorder = int.from_bytes(body[pos : pos + 2], "big") / 10
        pos += size
    return DecodedFrame(
        protocol="jtt808",
        platform_id=None,
        plate=None,
        plate_color=None,
        terminal_phone=phone,
        gnss_time=gnss_time,
        lon=-lon / 1e6 if state & _WEST else lon / 1e6,
        lat=-lat / 1e6 if state & _SOUTH else lat / 1e6,
        speed=speed / 10,
        recorder_speed=recorder,
        mileage_km=mileage,
        direction=direction,
        altitude=altitude,
        state=state,
        alarm=alarm,
    )


# --------------------------------------------------------------------------------------- encoding


def encode_809(
    *,
    platform_id: str | int,
    plate: str,
    plate_color: int,
    gnss_time: str,
    lon: float,
    lat: float,
    speed: float,
    recorder_speed: float | None = None,
    mileage_km: float | None = None,
    direction: int = 0,
    altitude: int = 0,
    state: int = 0,
    alarm: int = 0,
    msg_sn: int = 0,
    version_flag: bytes = b"\x01\x00\x00",
    encrypt_flag: int = 0,
    encrypt_key: int = 0,
    gnss_encrypt: int = 0,
) -> bytes:
    """A JT/T 809-2011 UP_EXG_MSG_REAL_LOCATION frame, escaped, CRC'd, flags included.

    Speeds and mileage are whole km/h / km on the wire (rounded; None → 0). STATE bits 2/3 are set
    from the signs of ``lat``/``lon``. ``encrypt_flag``/``gnss_encrypt`` only set the flags (the body is
    never actually encrypted) — useful to test rejection. Out-of-range values raise ValueError.
    """
    when = _parse_time(gnss_time)
    lon_raw, west = _coord(lon)
    lat_raw, south = _coord(lat)
    state = (state & ~(_SOUTH | _WEST)) | (_SOUTH if south else 0) | (_WEST if west else 0)
    vehicle_no = plate.encode("gbk")
    if len(vehicle_no) > 21:
        raise ValueError(f"plate {plate!r} is longer than 21 GBK bytes")
    gnss = _pack(
        _G809, gnss_encrypt, when.day, when.month, when.year, when.hour, when.minute, when.second,
        lon_raw, lat_raw, round(speed), round(recorder_speed or 0), round(mileage_km or 0),
        direction, altitude, state, alarm,
    )  # fmt: skip
    body = _pack(_B809, vehicle_no, plate_color, DATA_809_REAL_LOCATION, len(gnss)) + gnss
    length = 1 + _H809.size + len(body) + 2 + 1
    if len(version_flag) != 3:
        raise ValueError("version_flag must be 3 bytes")
    header = _pack(
        _H809, length, msg_sn, MSG_809_UP_EXG, int(platform_id), version_flag, encrypt_flag,
        encrypt_key,
    )  # fmt: skip
    data = header + body
    data += crc16_ccitt_false(data).to_bytes(2, "big")
    return b"\x5b" + _escape_809(data) + b"\x5d"


def _bcd(digits: str, size: int) -> bytes:
    if not digits.isascii() or not digits.isdigit() or len(digits) > 2 * size:
        raise ValueError(f"{digits!r} is not at most {2 * size} decimal digits")
    return bytes.fromhex(digits.rjust(2 * size, "0"))


def encode_808(
    *,
    terminal_phone: str,
    gnss_time: str,
    lon: float,
    lat: float,
    speed: float,
    recorder_speed: float | None = None,
    mileage_km: float | None = None,
    direction: int = 0,
    altitude: int = 0,
    state: int = 0,
    alarm: int = 0,
    version: int = 2013,
    serial: int = 0,
    protocol_version: int = 1,
    extra_items: tuple[tuple[int, bytes], ...] = (),
) -> bytes:
    """A JT/T 808 0x0200 location report frame (``version`` 2013 or 2019 header), escaped and checked.

    The phone is left-padded with zeros to 12 (2013) / 20 (2019) digits. Speeds are 0.1 km/h and
    mileage 0.1 km on the wire (rounded); mileage / recorder speed are sent as additional items 0x01 /
    0x03 when not None, followed by ``extra_items`` (id, value). STATE bits 2/3 are set from the signs
    of ``lat``/``lon``. Out-of-range values raise ValueError.
    """
    if version not in (2013, 2019):
        raise ValueError("version must be 2013 or 2019")
    when = _parse_time(gnss_time)
    if not 2000 <= when.year <= 2099:
        raise ValueError("808 time carries a two-digit year (2000-2099)")
    lon_raw, west = _coord(lon)
    lat_raw, south = _coord(lat)
    state = (state & ~(_SOUTH | _WEST)) | (_SOUTH if south else 0) | (_WEST if west else 0)
    bcd_time = bytes.fromhex(when.strftime("%y%m%d%H%M%S"))
    body = _pack(
        _B808, alarm, state, lat_raw, lon_raw, altitude, round(speed * 10), direction, bcd_time
    )
    items = []
    if mileage_km is not None:
        items.append((0x01, _pack(_U32, round(mileage_km * 10))))
    if recorder_speed is not None:
        items.append((0x03, _pack(_U16, round(recorder_speed * 10))))
    for item, value in (*items, *extra_items):
        if len(value) > 255:
            raise ValueError(f"additional item 0x{item:02X} longer than 255 bytes")
        body += bytes((item, len(value))) + value
    if len(body) > 0x3FF:
        raise ValueError("808 body longer than 1023 bytes")
    props = len(body)
    if version == 2019:
        props |= 0x4000
        head = _pack(_HH, MSG_808_LOCATION, props) + bytes((protocol_version,))
        head += _bcd(terminal_phone, 10)
    else:
        head = _pack(_HH, MSG_808_LOCATION, props) + _bcd(terminal_phone, 6)
    data = head + _pack(_U16, serial) + body
    data += bytes((reduce(xor, data),))
    return b"\x7e" + _escape_808(data) + b"\x7e"


def encode_frame(frame: DecodedFrame, **options: object) -> bytes:
    """Re-encode a :class:`DecodedFrame` with the encoder of its protocol (``options`` passed on)."""
    common = {
        "gnss_time": frame.gnss_time,
        "lon": frame.lon,
        "lat": frame.lat,
        "speed": frame.speed,
        "recorder_speed": frame.recorder_speed,
        "mileage_km": frame.mileage_km,
        "direction": frame.direction,
        "altitude": frame.altitude,
        "state": frame.state,
        "alarm": frame.alarm,
    }
    if frame.protocol == "jtt809":
        if frame.platform_id is None or frame.plate_color is None:
            raise ValueError("an 809 frame needs platform_id and plate_color")
        return encode_809(
            platform_id=frame.platform_id,
            plate=frame.plate or "",
            plate_color=frame.plate_color,
            **common,
            **options,  # type: ignore[arg-type]
        )
    if frame.protocol == "jtt808":
        if frame.terminal_phone is None:
            raise ValueError("an 808 frame needs terminal_phone")
        return encode_808(terminal_phone=frame.terminal_phone, **common, **options)  # type: ignore[arg-type]
    raise ValueError(f"unknown protocol {frame.protocol!r}")

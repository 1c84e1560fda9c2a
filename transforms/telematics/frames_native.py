"""Vectorised decoding of the common JT/T 809 frame line, with exactly the results of the Python
decoder (:mod:`transforms.telematics.frames`).

A province's platforms send UP_EXG_MSG_REAL_LOCATION frames by the million, nearly all alike:
``YYYY-MM-DD HH:MM:SS<TAB>`` and the hex of a 90-byte frame (longer when escaped). Each line is
unhexed and unescaped with C-speed bytes methods, then the whole file's frames are checked and
decoded at once with numpy (flags, header, CRC-16/CCITT-FALSE, body, date checks) and Arrow
string kernels (the texts bronze keeps). Any line that is not of that shape, or fails any check,
or whose text could differ — a malformed escape, a JT/T 808 report, a coordinate below 1e-4 degree
(Python writes it with an exponent), a plate that is not GBK, a bad CRC — is left to
:func:`transforms.telematics.frames.decode_line`, which decides it and words its error. A test
compares both on generated and damaged frames.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

FRAME_BYTES = 90  # an unescaped UP_EXG_MSG_REAL_LOCATION frame, flags included
HEX = 2 * FRAME_BYTES
PREFIX = 20  # "YYYY-MM-DD HH:MM:SS\t"

# hex digit → nibble; 255 for anything else
_NIBBLE = np.full(256, 255, dtype=np.uint8)
for _i, _c in enumerate(b"0123456789"):
    _NIBBLE[_c] = _i
for _i, _c in enumerate(b"abcdef"):
    _NIBBLE[_c] = 10 + _i
    _NIBBLE[_c - 32] = 10 + _i

_CRC = np.zeros(256, dtype=np.uint16)  # CRC-16/CCITT-FALSE table (poly 0x1021)
for _b in range(256):
    _r = _b << 8
    for _ in range(8):
        _r = ((_r << 1) ^ 0x1021) if _r & 0x8000 else (_r << 1)
    _CRC[_b] = _r & 0xFFFF

_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]  # of "YYYY-MM-DD HH:MM:SS"
_MARKS = {4: ord("-"), 7: ord("-"), 10: ord(" "), 13: ord(":"), 16: ord(":")}
_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])

FIELDS = (
    "platform_id", "plate", "plate_color", "terminal_phone", "gnss_time", "lon", "lat", "speed",
    "recorder_speed", "mileage_km", "direction", "altitude", "state", "alarm", "received_at",
    "source",
)  # fmt: skip


def _be(frames: np.ndarray, at: int, size: int) -> np.ndarray:
    """Big-endian unsigned integers of ``size`` bytes at column ``at`` of every frame."""
    out = np.zeros(len(frames), dtype=np.int64)
    for k in range(size):
        out = (out << 8) | frames[:, at + k]
    return out


def _real_time(y, mo, d, h, mi, s) -> np.ndarray:
    """Which (year, month, day, hour, minute, second) are a real date and time (as datetime has
    it: year 1–9999)."""
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    month_ok = (mo >= 1) & (mo <= 12)
    days = _DAYS[np.where(month_ok, mo, 0)] + ((mo == 2) & leap)
    return (
        (y >= 1) & (y <= 9999) & month_ok & (d >= 1) & (d <= days)
        & (h < 24) & (mi < 60) & (s < 60)
    )  # fmt: skip


def _text(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values), pa.string())


def _padded(values: np.ndarray, width: int) -> pa.Array:
    return pc.utf8_lpad(_text(values), width=width, padding="0")


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _degrees(micro: np.ndarray, negative: np.ndarray) -> pa.Array:
    """``repr(±micro / 1e6)`` for micro ≥ 100 or 0: the decimal, trailing zeros dropped, ".0" for a
    whole number (the double nearest a 10-digit decimal prints as that decimal)."""
    fraction = pc.utf8_rtrim(_padded(micro % 1_000_000, 6), characters="0")
    fraction = pc.if_else(pc.equal(fraction, ""), "0", fraction)
    sign = pa.array(np.where(negative, "-", ""))
    return _join(sign, _text(micro // 1_000_000), ".", fraction)


def _frames(
    data: bytes, starts: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(line indices, their 90 unescaped frame bytes, their 19 reception-time bytes — zeros where
    a line has none) of the lines shaped like a 809 frame: ``[time<TAB>]`` hex of a frame between
    its flags whose every escape is well formed (each 0x5A / 0x5E followed by 01 or 02, no bare
    0x5B / 0x5D inside) and which unescapes to 90 bytes. The whole file at once: hex digits,
    escapes and lengths are numpy operations over all its lines."""
    arr = np.frombuffer(data, np.uint8)
    lengths = ends - starts
    tab = np.zeros(len(starts), dtype=bool)
    long_enough = lengths >= PREFIX + HEX
    tab[long_enough] = arr[starts[long_enough] + PREFIX - 1] == 9
    first = np.where(tab, starts + PREFIX, starts)
    size = ends - first
    lines = np.flatnonzero((size >= HEX) & (size % 2 == 0) & (size <= 4 * FRAME_BYTES))
    empty = np.empty(0, dtype=np.int64)
    if len(lines) == 0:
        return empty, np.zeros((0, FRAME_BYTES), np.int64), np.zeros((0, PREFIX - 1), np.uint8)
    first, size = first[lines], size[lines]
    # every hex digit of those lines, in order (one C-speed join); line k owns one run of them
    digits = np.frombuffer(
        b"".join([data[f : f + n] for f, n in zip(first.tolist(), size.tolist(), strict=True)]),
        np.uint8,
    )
    nibbles = _NIBBLE[digits]
    count = size // 2
    owner = np.repeat(np.arange(len(lines), dtype=np.int32), count)
    bad = (
        np.bincount(owner[(nibbles[0::2] == 255) | (nibbles[1::2] == 255)], minlength=len(lines))
        > 0
    )
    raw = (nibbles[0::2] << 4) | nibbles[1::2]  # uint8: an invalid digit's byte never counts
    start = np.concatenate(([0], np.cumsum(count)[:-1]))
    position = np.arange(len(raw), dtype=np.int32) - start[owner].astype(np.int32)
    bad |= raw[start] != 0x5B
    bad |= raw[start + count - 1] != 0x5D
    inner = (position > 0) & (position < count[owner] - 1)
    bad |= np.bincount(owner[inner & ((raw == 0x5B) | (raw == 0x5D))], minlength=len(lines)) > 0
    escape = inner & ((raw == 0x5A) | (raw == 0x5E))
    at = np.flatnonzero(escape)
    follow = np.minimum(at + 1, len(raw) - 1)
    well = inner[follow] & (owner[follow] == owner[at]) & ((raw[follow] == 1) | (raw[follow] == 2))
    bad |= np.bincount(owner[at[~well]], minlength=len(lines)) > 0
    unescaped = raw.copy()  # uint8
    unescaped[at] = np.where(
        raw[at] == 0x5A,
        np.where(raw[follow] == 1, 0x5B, 0x5A),
        np.where(raw[follow] == 1, 0x5D, 0x5E),
    )
    keep_byte = np.ones(len(raw), dtype=bool)
    keep_byte[follow[well]] = False
    bad |= count - np.bincount(owner[~keep_byte], minlength=len(lines)) != FRAME_BYTES
    good = ~bad
    frames = unescaped[keep_byte & good[owner]].reshape(-1, FRAME_BYTES).astype(np.int64)
    chosen = lines[good]
    stamp = np.zeros((len(chosen), PREFIX - 1), dtype=np.uint8)
    prefixed = tab[chosen]
    if prefixed.any():
        stamp[prefixed] = arr[starts[chosen[prefixed]][:, None] + np.arange(PREFIX - 1)]
    return chosen, frames, stamp


def decode_common(data: bytes, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, pa.Table]:
    """The lines (``starts``/``ends`` in ``data``) decodable here: their indices, and a table of
    their bronze texts (:data:`FIELDS`) in the same order. Every other line is the caller's."""
    candidates, frames, stamp = _frames(data, starts, ends)
    if len(candidates) == 0:
        return candidates, pa.table({f: pa.array([], pa.string()) for f in FIELDS})
    prefixed = stamp[:, 0] != 0
    ok = np.ones(len(candidates), dtype=bool)

    digits = stamp[:, _DIGITS].astype(np.int64) - 48
    stamp_ok = ((digits >= 0) & (digits <= 9)).all(axis=1)
    for at, mark in _MARKS.items():
        stamp_ok &= stamp[:, at] == mark
    r_year = digits[:, 0] * 1000 + digits[:, 1] * 100 + digits[:, 2] * 10 + digits[:, 3]
    r_fields = [digits[:, i] * 10 + digits[:, i + 1] for i in (4, 6, 8, 10, 12)]
    stamp_ok &= _real_time(r_year, *r_fields)
    ok &= ~prefixed | stamp_ok

    ok &= _be(frames, 1, 4) == FRAME_BYTES  # MSG_LENGTH
    crc = np.full(len(frames), 0xFFFF, dtype=np.int64)
    for column in range(1, 87):  # MSG_LENGTH .. the last GNSS byte
        crc = ((crc << 8) & 0xFFFF) ^ _CRC[((crc >> 8) ^ frames[:, column]) & 0xFF]
    ok &= crc == _be(frames, 87, 2)
    ok &= _be(frames, 9, 2) == 0x1200  # MSG_ID: UP_EXG_MSG
    ok &= frames[:, 18] == 0  # ENCRYPT_FLAG
    ok &= _be(frames, 45, 2) == 0x1202  # DATA_TYPE: real location
    ok &= _be(frames, 47, 4) == 36  # DATA_LENGTH
    ok &= frames[:, 51] == 0  # GNSS ENCRYPT
    day, month, year = frames[:, 52], frames[:, 53], _be(frames, 54, 2)
    hour, minute, second = frames[:, 56], frames[:, 57], frames[:, 58]
    ok &= _real_time(year, month, day, hour, minute, second)
    lon, lat = _be(frames, 59, 4), _be(frames, 63, 4)
    ok &= ((lon == 0) | (lon >= 100)) & ((lat == 0) | (lat >= 100))  # no exponent in repr

    # plates: GBK, decoded once per distinct VEHICLE_NO
    plates_raw = np.ascontiguousarray(frames[:, 23:44].astype(np.uint8))
    keys = plates_raw.view(np.dtype((np.void, 21))).ravel()
    distinct, which = np.unique(keys, return_inverse=True)
    decoded: list[str | None] = []
    decodable = np.ones(len(distinct), dtype=bool)
    for i, key in enumerate(distinct):
        try:
            decoded.append(bytes(key).split(b"\x00", 1)[0].decode("gbk") or None)
        except UnicodeDecodeError:
            decoded.append(None)
            decodable[i] = False
    ok &= decodable[which]

    keep = np.flatnonzero(ok)
    f = frames[keep]
    state = _be(f, 79, 4)
    west, south = (state & 8) != 0, (state & 4) != 0
    time = _join(
        _padded(year[keep], 4), "-", _padded(month[keep], 2), "-", _padded(day[keep], 2), " ",
        _padded(hour[keep], 2), ":", _padded(minute[keep], 2), ":", _padded(second[keep], 2),
    )  # fmt: skip
    stamps = np.ascontiguousarray(stamp[keep]).view(f"S{PREFIX - 1}").ravel()
    received = pc.if_else(
        pa.array(prefixed[keep]),
        pc.cast(pa.array(stamps), pa.string()),
        pa.scalar(None, pa.string()),
    )
    columns = {
        "platform_id": _text(_be(f, 11, 4)),
        "plate": pa.array(decoded, pa.string()).take(pa.array(which[keep])),
        "plate_color": _text(f[:, 44]),
        "terminal_phone": pa.nulls(len(keep), pa.string()),
        "gnss_time": time,
        "lon": _degrees(lon[keep], west),
        "lat": _degrees(lat[keep], south),
        "speed": _join(_text(_be(f, 67, 2)), ".0"),
        "recorder_speed": _join(_text(_be(f, 69, 2)), ".0"),
        "mileage_km": _join(_text(_be(f, 71, 4)), ".0"),
        "direction": _text(_be(f, 75, 2)),
        "altitude": _text(_be(f, 77, 2)),
        "state": _text(state),
        "alarm": _text(_be(f, 83, 4)),
        "received_at": received,
        "source": pa.array(np.full(len(keep), "jtt809")),
    }
    return candidates[keep], pa.table({name: columns[name] for name in FIELDS})

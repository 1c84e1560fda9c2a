"""The native parsers (transforms/lake/native.py) give exactly what the Python parsers give: the
same records, texts, line numbers, malformed lines with the same errors, and line counts — on files
full of every defect we could think of, and on the generator's realistic landing files."""

import json
import random

import pytest

from transforms.lake import native
from transforms.lake.landing import parse_csv, parse_jsonl
from transforms.telematics.feeds import POSITION_FIELDS, POSITIONS

NASTY_JSON = [
    '{"plate": "闽A3E55Q", "speed": 1e-7, "lon": 118.178000}',  # 'E' in a plate, exponent
    '{"plate": "闽J12345", "speed": 0.00001, "lat": 1E5, "altitude": 12345678901234567890}',
    '{"plate": "x", "speed": 60, "recorder_speed": 60.0, "mileage_km": -0.0}',
    '{"plate": "dup", "speed": 1, "speed": 2}',  # Python keeps the last value
    '{"plate": {"nested": [1, 2.50]}, "alarm": [1, {"a": null}]}',
    '{"plate": "NaN number", "speed": NaN, "lon": Infinity}',  # Python accepts these
    '{"plate": "big", "speed": 1e400, "mileage_km": 123456789012345678.0}',
    '{"plate": "MX20261101000001", "platform_id": "350124199710191866", "speed":1234567890123456}',
    '{"plate": "long fraction", "lon": 0.12345678901234567, "note": "x:12345678901234567"}',
    '{"plate": "esc \\u00e9\\t\\"q\\"", "state": true, "alarm": false, "direction": null}',
    '{"plate": "[not an array]", "gnss_time": "{not an object}"}',
    '  {"plate": "leading spaces"}',
    '\t{"plate": "leading tab"}',
    '{"plate": "crlf"}\r',
    "",
    "   ",
    "\r",
    "{broken",
    "[1, 2]",
    '"just a string"',
    "42",
    "{}",
    '{"plate": "trailing"} x',
    '{"plate": "trailing comma", "speed": 1,}',  # yyjson accepts trailing commas, Python not
    '{"plate": "comma in array", "alarm": [1, 2, ]}',
    '{"plate": "not a trailing comma: ,}", "speed": 3}',
    '{"plate": "comment" /* c */}',
    '{"plate": "\\ud800 lone surrogate"}',  # kept as malformed (it used to stop the landing)
    '{"plate": "\\ud83d\\ude00 a pair is fine"}',
    '{"plate": "ok", "platform_id": "35090001", "plate_color": 2, "gnss_time": "2026-11-02 08:00:00"}',
]


@pytest.fixture(autouse=True)
def small_batches(monkeypatch):
    """Lines go to DuckDB in batches scanned in parallel: make the tests' files span many."""
    monkeypatch.setattr(native, "_BATCH_LINES", 256)


def _same(a, b):
    assert a.to_arrow().equals(b.to_arrow())
    assert a.malformed == b.malformed
    assert a.lines == b.lines
    assert a.n_records == b.n_records


def _both(parse, data: bytes, feed, monkeypatch):
    monkeypatch.setenv(native.NATIVE_ENV, "0")
    python = parse(data, feed)
    monkeypatch.setenv(native.NATIVE_ENV, "1")
    fast = parse(data, feed)
    return python, fast


def test_json_lines_full_of_defects_parse_the_same(monkeypatch):
    rng = random.Random(3)
    good = json.dumps({"plate": "闽J00001", "plate_color": 2, "speed": 12.5, "lon": 118.1})
    lines = [rng.choice(NASTY_JSON) if rng.random() < 0.2 else good for _ in range(4000)]
    data = "\n".join(lines).encode() + b"\n\xff\xfe not utf-8\n" + good.encode() + b"\n\xc3("
    assert len(data) > native.NATIVE_MIN_BYTES
    python, fast = _both(parse_jsonl, data, POSITIONS, monkeypatch)
    _same(python, fast)
    assert fast.native_records > 3000  # mostly native
    assert sum(line.startswith("not UTF-8") for *_, line, _ in fast.malformed) == 2
    assert {e.split(":")[0] for _, _, e, _ in fast.malformed} == {
        "not JSON",
        "not a JSON object",
        "not UTF-8",
        "not valid Unicode",
    }


def test_a_file_that_is_not_utf8_throughout_parses_the_same(monkeypatch):
    data = ("\n".join(NASTY_JSON * 200)).encode("utf-8", "surrogatepass") + b"\n\xc3\x28\n"
    python, fast = _both(parse_jsonl, data, POSITIONS, monkeypatch)
    _same(python, fast)


@pytest.mark.parametrize("crlf", [False, True])
def test_csv_parses_the_same(monkeypatch, crlf):
    rng = random.Random(5)
    header = ",".join(reversed(POSITION_FIELDS)) + ",extra"
    width = len(POSITION_FIELDS) + 1
    rows = []
    for i in range(3000):
        cells = [str(i), "闽J1", "", " 2 ", "119.648000", *["0.0"] * (width - 5)]
        r = rng.random()
        if r < 0.02:
            cells = cells[:-2]  # too few fields
        elif r < 0.04:
            cells = [*cells, "x"]  # too many
        elif r < 0.05:
            cells = ["   "]  # whitespace only: blank
        elif r < 0.06:
            cells = [""]  # empty line
        rows.append(",".join(cells))
    end = "\r\n" if crlf else "\n"
    data = ("\ufeff" + header + end + end.join(rows) + end).encode()
    python, fast = _both(parse_csv, data, POSITIONS, monkeypatch)
    _same(python, fast)
    assert fast.native_records > 2500
    assert len(fast.malformed) > 50


def test_csv_with_quotes_is_left_to_python(monkeypatch):
    header = ",".join(POSITION_FIELDS)
    row = ",".join(['"a,b"', *["1"] * (len(POSITION_FIELDS) - 1)])
    data = (header + "\n" + "\n".join([row, 'x,"unclosed'] * 3000)).encode()
    python, fast = _both(parse_csv, data, POSITIONS, monkeypatch)
    _same(python, fast)
    assert fast.native_records == 0


def test_generated_landing_files_parse_the_same(monkeypatch, tmp_path):
    from transforms.telematics.generate import generate_landing

    lake = tmp_path / "lake"
    generate_landing(lake, start=__import__("datetime").date(2026, 11, 2), days=1, vehicles=30,
                     seed=9, bad_rate=0.01)  # fmt: skip
    files = sorted((lake / "landing/telematics/positions").rglob("*.*"))
    assert {f.suffix for f in files} == {".jsonl", ".csv"}
    natively = 0
    for path in files:
        parse = parse_csv if path.suffix == ".csv" else parse_jsonl
        python, fast = _both(parse, path.read_bytes(), POSITIONS, monkeypatch)
        _same(python, fast)
        natively += fast.native_records
    assert natively > 10_000


def test_numbers_of_every_magnitude_keep_python_text(monkeypatch):
    """Every float and int token, as json.dumps or a sender's fixed decimals write it, gets the
    text the Python parser gives (DuckDB writes some magnitudes differently: those go to Python)."""
    rng = random.Random(11)
    lines = []
    for _ in range(6000):
        exponent = rng.randint(-9, 20)
        value = rng.uniform(-10, 10) * 10.0**exponent
        speed = int(value) if abs(value) < 1e18 else 7
        lines.append(
            f'{{"plate": "n", "lon": {json.dumps(value)}, "lat": {value:.6f}, "speed": {speed}, '
            f'"mileage_km": {json.dumps(float(round(value)))}}}'
        )
    data = "\n".join(lines).encode()
    python, fast = _both(parse_jsonl, data, POSITIONS, monkeypatch)
    _same(python, fast)
    assert fast.native_records > 1000


def test_strings_of_many_digits_stay_native(monkeypatch):
    """An ID card or order number (a string of 16+ digits) is parsed natively; the same digits as a
    number (beyond a double's precision) go to Python, and both give Python's text."""
    lines = [
        f'{{"plate": "MX2026110{i:08d}", "platform_id": "3501241997{i:08d}", "speed": {i}}}'
        for i in range(3000)
    ]
    lines += [f'{{"plate": "n", "speed": 9007199254740{i:03d}1}}' for i in range(100)]
    python, fast = _both(parse_jsonl, "\n".join(lines).encode(), POSITIONS, monkeypatch)
    _same(python, fast)
    assert fast.native_records == 3000

"""No personal field is kept in clear anywhere in the lake (licences.md, "Data protection").

Every sensitive field any domain's feed declares is collected, in clear, from the generated landing
files of the shared pipeline lake; then every Delta table of every layer (every string and list
column) and every ``_delta_log`` file (their statistics hold column minima and maxima) is searched
for them: numbers as substrings (a zero-padded SIM number holds the number), names as whole values.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable

from transforms.domains import DOMAINS
from transforms.lake import registry

ORGANISATION_NAME = re.compile(r"公司|有限|集团|中心|合作社|厂|站|局|平台|物流|运输")
USCC = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}")


def clear_values(lake: Path) -> tuple[set[str], set[str]]:
    """(numbers, names) the landing files hold in the domains' sensitive fields, on the rows where
    each is sensitive (``Sensitive.sensitive_rows``: an organisation's licence holder is not)."""
    numbers: set[str] = set()
    names: set[str] = set()
    for domain in DOMAINS:
        for feed in domain.feeds:
            if not feed.sensitive:
                continue
            records = []
            for path in (lake / "landing" / feed.domain / feed.name).glob("*/*.jsonl"):
                for line in path.read_text(encoding="utf-8").splitlines():
                    try:
                        record = json.loads(line)
                    except ValueError:
                        continue
                    if isinstance(record, dict):
                        records.append(
                            {
                                f: None if record.get(f) is None else str(record[f])
                                for f in feed.fields
                            }
                        )
            if not records:
                continue
            table = pa.Table.from_pylist(
                records, pa.schema([(f, pa.string()) for f in feed.fields])
            )
            for s in feed.sensitive:
                hidden = s.sensitive_rows(table).to_pylist()
                for value, hide in zip(table.column(s.field).to_pylist(), hidden, strict=True):
                    if hide and s.kind != "record":
                        _add(value, s.kind, numbers, names)
    freight_numbers, freight_names = freight_clear_values(lake)
    return numbers | freight_numbers, names | freight_names


def _add(value: str | None, kind: str, numbers: set[str], names: set[str]) -> None:
    """A personal value to look for. An organisation's name or USCC is not personal (licences.md)
    even in a field protected fail-safe (a vehicle's holder, a consignor, a carrier): skipped."""
    if value is None or not value.strip():
        return
    text = value.strip()
    if ORGANISATION_NAME.search(text) or USCC.fullmatch(text):
        return
    digits = re.sub(r"\D", "", text)
    if kind == "name" or len(digits) < 7:
        names.add(text)
    else:
        numbers.add(digits.lstrip("0"))


def freight_clear_values(lake: Path) -> tuple[set[str], set[str]]:
    """The personal fields of the documents inside the landed freight envelopes (their bodies are
    encrypted: each envelope is opened with the platform key, its documents flattened as
    publishing does, and the columns freight declares sensitive read)."""
    from transforms.crypto.keys import platform_private_key
    from transforms.freight.documents import SENSITIVE, Flattener, document_kind
    from transforms.freight.envelope import SenderKey, open_envelope
    from transforms.rules import load_rules

    numbers: set[str] = set()
    names: set[str] = set()
    root = lake / "landing" / "freight"
    if not (root / "envelopes").is_dir():
        return numbers, names
    keys: dict[str, list[SenderKey]] = {}
    for path in (root / "senders").glob("*/*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            keys.setdefault(row["enterpriseSenderCode"], []).append(
                SenderKey(row["enterpriseSenderCode"], row["sm2_public_key"])
            )
    rules = load_rules(domain="freight")
    private = platform_private_key()
    flat = Flattener()
    for path in (root / "envelopes").glob("*/*.json*"):
        lines = [path.read_text(encoding="utf-8")] if path.suffix == ".json" else path.read_text(encoding="utf-8").splitlines()  # fmt: skip
        for line in lines:
            try:
                envelope = json.loads(line)
            except ValueError:
                continue
            if not isinstance(envelope, dict):
                continue
            opened = open_envelope(envelope, keys, private, lambda _i, _d: None)
            kind = document_kind(envelope.get("ipcType"), rules)
            if opened.code is None and kind is not None:
                flat.add(kind, {}, opened.documents)
    for name, table in flat.tables().items():
        for s in SENSITIVE.get(name, ()):
            for value in table.column(s.field).to_pylist():
                _add(value, s.kind, numbers, names)
    return numbers, names


def _strings(column: pa.ChunkedArray) -> pa.ChunkedArray | None:
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return column
    if pa.types.is_list(kind) and pa.types.is_string(kind.value_type):
        return pc.list_flatten(column)
    return None


def test_no_table_and_no_delta_log_holds_a_personal_field_in_clear(pipeline_lake: Path):
    numbers, names = clear_values(pipeline_lake)
    assert len(numbers) >= 5 and len(names) >= 3, (numbers, names)  # the scan has work to do
    number_pattern = "|".join(sorted(numbers))
    tables = registry.discover(pipeline_lake)
    assert len(tables) > 20
    found = []
    for name in tables:
        layer, entity = name.split(".", 1)
        location = pipeline_lake / layer / entity
        data = DeltaTable(str(location)).to_pyarrow_table()
        for column_name in data.column_names:
            values = _strings(data.column(column_name))
            if values is None or len(values) == 0:
                continue
            hits = pc.sum(pc.match_substring_regex(values, number_pattern)).as_py()
            if hits:
                found.append(f"{name}.{column_name}: {hits} value(s) hold a number in clear")
            named = pc.sum(pc.is_in(values, value_set=pa.array(sorted(names)))).as_py()
            if named:
                found.append(f"{name}.{column_name}: {named} value(s) are a name in clear")
        for log in (location / "_delta_log").glob("*.json"):
            text = log.read_text(encoding="utf-8")
            if re.search(number_pattern, text) or any(f'"{n}"' in text for n in names):
                found.append(f"{name}: {log.name} holds a personal value in clear")
    assert found == []


def test_the_scan_finds_what_it_looks_for(tmp_path: Path):
    """The search itself: a clear phone in a column and a clear name are both found."""
    from deltalake import write_deltalake

    table = pa.table({"phone": ["x013912345678y", None], "who": ["张伟", "张*"]})
    write_deltalake(str(tmp_path / "t"), table)
    data = DeltaTable(str(tmp_path / "t")).to_pyarrow_table()
    assert pc.sum(pc.match_substring_regex(data["phone"], "13912345678")).as_py() == 1
    assert pc.sum(pc.is_in(data["who"], value_set=pa.array(["张伟"]))).as_py() == 1
    log = next((tmp_path / "t" / "_delta_log").glob("*.json")).read_text(encoding="utf-8")
    assert "13912345678" in log  # statistics hold clear values: why the logs are searched


def test_no_kept_validation_and_no_data_docs_page_holds_a_personal_field(pipeline_lake: Path):
    """The GX JSON of every kept validation (its unexpected values included) and every page of
    the Data Docs site (transforms/lake/validations.py) are files beside the tables: searched the
    same way."""
    numbers, names = clear_values(pipeline_lake)
    pattern = re.compile("|".join(sorted(numbers)))
    files = [p for folder in ("gx", "data_docs") for p in (pipeline_lake / "ops" / folder).rglob("*")
             if p.suffix in (".json", ".html")]  # fmt: skip
    assert (
        sum(p.suffix == ".json" for p in files) > 10
        and sum(p.suffix == ".html" for p in files) > 10
    )
    found = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".json":  # GX writes non-ASCII escaped: its string values, as text
            values = set(_json_strings(json.loads(text)))
        else:  # a page: the text between its tags
            values = {v.strip() for v in re.findall(r">([^<>]*)<", text)}
        if pattern.search("\n".join(values)) or values & names:
            found.append(str(path.relative_to(pipeline_lake)))
    assert found == []


def _json_strings(value) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _json_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _json_strings(v)]
    return [str(value)] if value is not None else []

"""A landing feed: where its files are, what they hold, how each file type is parsed, and which
bronze / quarantine tables it lands into (../shared/domain/contracts.md).

Every domain declares its feeds in ``transforms/<domain>/feeds.py``; the shared landing
(:mod:`transforms.lake.landing`) lands any of them. A parser is picked by file extension: the
generic ones (``.jsonl``, ``.csv``, ``.json``) live in the landing module, a domain adds its own
(JT/T 809 frames, encrypted envelopes) by naming a top-level function in ``parsers``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa

from transforms.lake.protection import Sensitive, stored_fields

# a parser turns the bytes of one file into a ParsedFile (transforms.lake.landing); it must be a
# top-level function, so landing worker processes can receive it
Parser = Callable[..., object]


@dataclass(frozen=True)
class Feed:
    """One landing feed of a domain (``landing/<domain>/<name>/<YYYY-MM-DD>/<file>``)."""

    domain: str
    name: str
    fields: tuple[str, ...]  # the bronze columns (strings), in order
    extensions: tuple[str, ...]  # file types accepted, e.g. (".jsonl", ".csv")
    required: tuple[str, ...] = ()  # CSV header must name these
    lands_into: str | None = None  # another feed's bronze/quarantine tables (frames → positions)
    # extension → parser for file types the generic parsers do not read (e.g. ".hex" → frames)
    parsers: tuple[tuple[str, Parser], ...] = ()
    # columns a generic parser fills with a constant (positions from files: source = "file")
    constants: tuple[tuple[str, str], ...] = ()
    # landed by day (daily partitions, one run per landing day) rather than whole (master data)
    by_day: bool = False
    # typed columns the quarantine table keeps before the generic ones (positions keep their key)
    quarantine_columns: tuple[tuple[str, pa.DataType], ...] = field(default=())
    # personal fields kept only encrypted, hashed and masked from bronze on (protection.py)
    sensitive: tuple[Sensitive, ...] = ()

    @property
    def stored_fields(self) -> tuple[str, ...]:
        """The bronze columns of the fields: each sensitive one as its ``_sm4`` / ``_hmac`` /
        ``_masked`` columns."""
        return stored_fields(self.fields, self.sensitive)

    @property
    def key(self) -> str:
        return f"{self.domain}/{self.name}"

    @property
    def target(self) -> str:
        return self.lands_into or self.name

    @property
    def bronze_table(self) -> str:
        return f"bronze.{self.domain}__{self.target}"

    @property
    def quarantine_table(self) -> str:
        return f"quarantine.{self.domain}__{self.target}"

    @property
    def bronze_partition_by(self) -> tuple[str, ...]:
        """Feeds landed by day are partitioned by landing folder in bronze."""
        return ("_folder_date",) if self.by_day else ()

    def parser_for(self, suffix: str) -> Parser | None:
        """The domain's own parser for a file type, if it declares one."""
        return dict(self.parsers).get(suffix)

"""The quality owner's links in Dagster, shared by every domain: each GX asset check's metadata
names the Data Docs page of the validation it reports and the site's index
(transforms/lake/validations.py keeps every validation and renders the site when the run ends).

The links are ``http://`` URLs under ``$LAKEHOUSE_DATA_DOCS_URL`` when the site is served
(``make demo`` serves ``<lake>/ops/data_docs`` and sets it), else ``file://`` URLs of the pages.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from expectations.suites import ValidationReport
from transforms.lake.validations import data_docs_index, page_url

DATA_DOCS_URL_ENV = "LAKEHOUSE_DATA_DOCS_URL"


def data_docs_metadata(lake: Path, report: ValidationReport | None) -> dict[str, dg.MetadataValue]:
    """Asset-check metadata: ``data_docs`` (the validation's page; the index when the check
    validated nothing), ``data_docs_index`` (the site's index file) and, for a batch validated in
    passes, ``data_docs_pages`` (every pass's page)."""
    base = os.environ.get(DATA_DOCS_URL_ENV) or None
    pages = list(report.pages) if report is not None else []
    out = {
        "data_docs": dg.MetadataValue.url(page_url(lake, pages[0] if pages else None, base)),
        "data_docs_index": dg.MetadataValue.path(str(data_docs_index(lake))),
    }
    if len(pages) > 1:
        out["data_docs_pages"] = dg.MetadataValue.md(
            "\n".join(f"- [{page}]({page_url(lake, page, base)})" for page in pages)
        )
    return out

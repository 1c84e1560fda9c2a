"""The one list of domains (transforms/domains.py) and what each domain must bring: the seams every
shared part iterates. A new domain that forgets one of its pieces fails here, by name."""

import importlib
from pathlib import Path

import dagster as dg
import pytest

from transforms.domains import DOMAINS, domain
from transforms.lake import registry
from transforms.rules import load_rules

REPO = Path(__file__).resolve().parents[1]
NAMES = [d.name for d in DOMAINS]
CROSS_DOMAIN = {"profile", "quality"}  # dashboards over every domain: 车辆/企业画像, 数据质量


def test_domain_lookup_is_by_name():
    assert domain("telematics").title == "动态监控"
    with pytest.raises(KeyError, match="unknown domain"):
        domain("shipping")
    assert len(set(NAMES)) == len(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_tables_and_feeds_belong_to_their_domain(name):
    d = domain(name)
    assert all(t.entity.startswith(f"{name}__") for t in d.tables)
    known = {t.name for t in registry.all_tables()}
    for feed in d.feeds:
        assert feed.domain == name
        assert {feed.bronze_table, feed.quarantine_table} <= known, feed.key
    assert len({t.name for t in registry.all_tables()}) == len(registry.all_tables())


@pytest.mark.parametrize("name", NAMES)
def test_every_shared_part_finds_the_domain(name):
    rules = load_rules()
    assert isinstance(rules[name], dict) and rules[name]
    defs = importlib.import_module(f"orchestration.defs.{name}")
    assert defs.LANDING.domain.name == name and defs.PIPELINE
    assert callable(importlib.import_module(f"orchestration.cli.{name}").register)
    for layer in ("staging", "marts"):
        assert (REPO / "dbt_project" / "models" / layer / name).is_dir(), layer
    assert (REPO / "infra" / "superset" / "dashboards" / name).is_dir()


def test_the_domain_folders_are_the_domains():
    """What serving (dashboard folders) and dbt (model folders) iterate is the list of domains:
    no folder of a domain that is not in transforms/domains.py (dashboard folders: besides the
    dashboards over every domain's tables, CROSS_DOMAIN)."""
    dashboards = REPO / "infra" / "superset" / "dashboards"
    assert {p.name for p in dashboards.iterdir() if p.is_dir() and p.name != "databases"} == set(
        NAMES
    ) | CROSS_DOMAIN
    for layer in ("staging", "intermediate", "marts"):
        folders = {
            p.name for p in (REPO / "dbt_project" / "models" / layer).iterdir() if p.is_dir()
        }
        assert folders <= set(NAMES), layer


def test_domain_jobs_select_only_their_own_assets():
    """A job of one domain never picks up another domain's assets (no `AssetSelection.all()`);
    the shared reference assets (divisions) are anyone's; a domain's dbt models are its own
    (those of the shared multi-asset tagged with its name)."""
    from orchestration.definitions import defs
    from orchestration.defs import domain_modules, reference
    from orchestration.defs.marts import marts

    graph = defs.resolve_asset_graph()
    shared = {key for assets in reference.ASSETS for key in assets.keys}
    for name, module in zip(NAMES, domain_modules(), strict=True):
        models = marts(name).resolve(graph)
        assert models, name
        own = {key for assets in module.defs.assets for key in assets.keys} | shared | models
        for job in module.defs.jobs:
            assert not isinstance(job.selection, type(dg.AssetSelection.all())), job.name
            selected = job.selection.resolve(graph)
            assert selected and selected <= own, job.name

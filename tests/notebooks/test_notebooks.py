"""The notebooks run top to bottom on a real lake and draw their plots."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"

pytestmark = pytest.mark.slow


def test_explore_positions_runs(fixture_pipeline_lake, monkeypatch):
    # the fixture landing after one `lakehouse run` (tests/conftest.py; the notebook only reads)
    monkeypatch.setenv("LAKEHOUSE_LAKE", str(fixture_pipeline_lake))
    nb = nbformat.read(NOTEBOOKS / "01_explore_positions.ipynb", as_version=4)
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    ).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 2  # the rule bar chart and the vehicle's track
    text = "".join(o.get("text", "") for o in outputs)
    assert "qualified 7, quarantined 10" in text

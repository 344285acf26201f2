"""The dashboard notebooks run top to bottom (as Voila runs them) and show their app."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

DASHBOARDS = Path(__file__).resolve().parents[1] / "dashboards"
WIDGET = "application/vnd.jupyter.widget-view+json"

pytestmark = pytest.mark.notebook


# manifest (the strict example tracker): tests/conftest.py
@pytest.mark.parametrize("name", ["overview", "trust", "acceptability"])
def test_notebook_runs_and_shows_the_app(name, manifest, monkeypatch):
    path = DASHBOARDS / f"{name}.ipynb"
    stored = nbformat.read(path, as_version=4)
    assert all(not cell.get("outputs") for cell in stored.cells), "commit dashboards without outputs"
    assert len(stored.cells) <= 3
    monkeypatch.setenv("SURVEYTOOLS_MANIFEST", str(manifest))
    monkeypatch.setenv("QUERY_STRING", "breakdown=age")
    NotebookClient(stored, kernel_name="python3", timeout=300,
                   resources={"metadata": {"path": str(DASHBOARDS)}}).execute()
    outputs = [o for cell in stored.cells for o in cell.get("outputs", [])]
    assert any(WIDGET in o.get("data", {}) for o in outputs)
    assert not [o for o in outputs if o["output_type"] == "error" or o.get("name") == "stderr"]

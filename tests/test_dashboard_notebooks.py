"""The dashboard notebooks run top to bottom (as Voila runs them) and show their app,
on the example tracker and on a scaffolded tracker whose topics are not the example's."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from browser.fixtures import write_scaffolded_tracker

DASHBOARDS = Path(__file__).resolve().parents[1] / "dashboards"
WIDGET = "application/vnd.jupyter.widget-view+json"

pytestmark = pytest.mark.notebook


@pytest.fixture(scope="module")
def scaffolded_manifest(tmp_path_factory):
    return write_scaffolded_tracker(tmp_path_factory.mktemp("scaffolded"))


def run_dashboard(name: str, manifest: Path, query: str, monkeypatch) -> list[dict]:
    """Execute ``dashboards/NAME.ipynb`` as Voila would; return its outputs."""
    path = DASHBOARDS / f"{name}.ipynb"
    stored = nbformat.read(path, as_version=4)
    assert all(not cell.get("outputs") for cell in stored.cells), "commit dashboards without outputs"
    assert len(stored.cells) <= 3
    monkeypatch.setenv("SURVEYTOOLS_MANIFEST", str(manifest))
    monkeypatch.setenv("QUERY_STRING", query)
    NotebookClient(stored, kernel_name="python3", timeout=300,
                   resources={"metadata": {"path": str(DASHBOARDS)}}).execute()
    return [o for cell in stored.cells for o in cell.get("outputs", [])]


def assert_shows_the_app(outputs: list[dict]) -> None:
    assert any(WIDGET in o.get("data", {}) for o in outputs)
    assert not [o for o in outputs if o["output_type"] == "error" or o.get("name") == "stderr"]


def test_every_dashboard_notebook_is_tested():
    assert {p.stem for p in DASHBOARDS.glob("*.ipynb")} == {"overview", "trust", "acceptability",
                                                           "topic"}


# manifest (the strict example tracker): tests/conftest.py
@pytest.mark.parametrize("name", ["overview", "trust", "acceptability", "topic"])
def test_notebook_runs_and_shows_the_app(name, manifest, monkeypatch):
    assert_shows_the_app(run_dashboard(name, manifest, "breakdown=age", monkeypatch))


@pytest.mark.parametrize("name,query", [("topic", "topic=Other+questions&breakdown=mode"),
                                        ("trust", "")])
def test_notebook_runs_on_any_catalogue(name, query, scaffolded_manifest, monkeypatch):
    assert_shows_the_app(run_dashboard(name, scaffolded_manifest, query, monkeypatch))

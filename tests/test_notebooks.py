"""The analyst notebooks run top to bottom in a fresh kernel, and are committed clean.

Each notebook is executed with nbclient (kernel ``python3``, working directory
``notebooks/``, 300 s per cell) exactly as an analyst opening it would run
it; any error output fails the test.
"""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
EXPECTED = (
    "01_load_and_inspect.ipynb",
    "02_trust_and_acceptability_by_group.ipynb",
    "03_change_over_time.ipynb",
    "04_reproduce_published_estimates.ipynb",
    "05_weighting_audit_and_drivers.ipynb",
)


def _read(name: str):
    return nbformat.read(NOTEBOOKS / name, as_version=4)


def test_every_analyst_notebook_is_there():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", EXPECTED)
def test_committed_without_outputs(name):
    notebook = _read(name)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code, "a notebook with no code"
    for number, cell in enumerate(code, start=1):
        assert cell.outputs == [], f"{name}: code cell {number} has outputs; clear them"
        assert cell.execution_count is None, f"{name}: code cell {number} has an execution count"
    assert notebook.cells[0].cell_type == "markdown", "open with a markdown cell saying what it shows"


@pytest.mark.notebook
@pytest.mark.parametrize("name", EXPECTED)
def test_runs_top_to_bottom_in_a_fresh_kernel(name):
    notebook = _read(name)
    client = NotebookClient(notebook, kernel_name="python3", timeout=300,
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    started = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - started
    for number, cell in enumerate(notebook.cells, start=1):
        for output in cell.get("outputs", []):
            assert output.output_type != "error", (
                f"{name}, cell {number}: {output.ename}: {output.evalue}")
            if output.output_type == "stream" and output.name == "stderr":
                assert "Traceback" not in output.text, f"{name}, cell {number}: {output.text}"
    executed = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in executed)
    print(f"{name}: {elapsed:.1f} s")

"""The analyst notebooks run top to bottom in a fresh kernel, and are committed clean.

Each notebook is executed with nbclient (kernel ``python3``, working directory
``notebooks/``, 300 s per cell) exactly as an analyst opening it would run
it.  A cell that raises fails the test with the cell's source and the
traceback; a warning, error or traceback written to stderr fails it too.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

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


#: What must not show in a cell's stderr: tracebacks, warnings (deprecated paths,
#: pandas FutureWarnings, undeclared-missing warnings) and error messages.
UNWANTED = re.compile(r"Traceback|Warning|Error|Exception")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _code_number(notebook, cell) -> int:
    code = [c for c in notebook.cells if c.cell_type == "code"]
    return next(number for number, c in enumerate(code, start=1) if c is cell)


def execute(notebook, *, name: str, path: Path = NOTEBOOKS, timeout: int = 300):
    """Run ``notebook`` top to bottom in a fresh ``python3`` kernel (working directory
    ``path``), as an analyst opening it would; fail the test with the cell's number, its
    source and the traceback when a cell raises, and with the text when a cell writes a
    warning or an error to stderr."""
    client = NotebookClient(notebook, kernel_name="python3", timeout=timeout,
                            resources={"metadata": {"path": str(path)}})
    raised = None
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError) as error:
        raised = ANSI.sub("", str(error))  # holds the cell's source and the traceback
    if raised is not None:
        failed = [cell for cell in notebook.cells if cell.cell_type == "code"
                  and any(o.output_type == "error" for o in cell.get("outputs", []))]
        where = f"code cell {_code_number(notebook, failed[0])}: " if failed else ""
        pytest.fail(f"{name}: {where}{raised}", pytrace=False)
    problems = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            text = ""
            if output.output_type == "error":  # a cell tagged raises-exception
                text = f"{output.ename}: {output.evalue}"
            elif output.output_type == "stream" and output.name == "stderr":
                text = output.text if UNWANTED.search(output.text) else ""
            if text:
                problems.append(f"code cell {_code_number(notebook, cell)}:\n{cell.source}\n"
                                f"--> {ANSI.sub('', text).strip()}")
    if problems:
        pytest.fail(f"{name}:\n" + "\n\n".join(problems), pytrace=False)
    assert all(cell.execution_count for cell in notebook.cells if cell.cell_type == "code")
    return notebook


@pytest.mark.notebook
@pytest.mark.parametrize("name", EXPECTED)
def test_runs_top_to_bottom_in_a_fresh_kernel(name):
    started = time.perf_counter()
    execute(_read(name), name=name)
    print(f"{name}: {time.perf_counter() - started:.1f} s")


# -- the runner itself can fail ---------------------------------------------------
def _notebook(*sources: str):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# test")] + [
        nbformat.v4.new_code_cell(source) for source in sources]
    return notebook


@pytest.mark.notebook
def test_a_cell_that_raises_fails_with_its_source_and_traceback(tmp_path):
    notebook = _notebook("x = 1", "def broken():\n    return 1 / 0\nbroken()", "y = 2")
    with pytest.raises(pytest.fail.Exception) as failure:
        execute(notebook, name="synthetic.ipynb", path=tmp_path, timeout=60)
    message = str(failure.value)
    assert "synthetic.ipynb: code cell 2:" in message
    assert "def broken():" in message and "ZeroDivisionError" in message
    assert "\x1b[" not in message
    assert "y = 2" not in message  # execution stopped at the failing cell


@pytest.mark.notebook
def test_a_warning_on_stderr_fails(tmp_path):
    notebook = _notebook("import warnings\nwarnings.warn('old path', FutureWarning)",
                         "import sys\nprint('progress 50%', file=sys.stderr)")
    with pytest.raises(pytest.fail.Exception) as failure:
        execute(notebook, name="synthetic.ipynb", path=tmp_path, timeout=60)
    message = str(failure.value)
    assert "code cell 1:" in message and "FutureWarning: old path" in message
    assert "progress" not in message  # plain stderr text is not a problem

"""The project installs as documented: pyproject.toml and environment.yml agree,
README's two commands are what .ci/run and the Makefile run; every reference
value under tests/reference/ sits beside the R script that wrote it, with the
R call and the R and package versions."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _requirement_names(requirements) -> dict[str, str]:
    out = {}
    for req in requirements:
        match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", req)
        out[match.group(1).lower().replace("_", "-")] = match.group(2).replace(" ", "")
    return out


def _environment_requirements() -> tuple[dict[str, str], dict[str, str]]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)
             and not d.startswith(("python=", "pip"))]
    pip = [d for block in env["dependencies"] if isinstance(block, dict)
           for d in block["pip"] if not d.startswith("-e")]
    return _requirement_names(conda), _requirement_names(pip)


def test_environment_yml_names_the_same_dependencies_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = _requirement_names(project["dependencies"])
    test = _requirement_names(project["optional-dependencies"]["test"])
    conda, pip = _environment_requirements()
    assert conda == core, "environment.yml's conda dependencies differ from pyproject's"
    assert pip == test, "environment.yml's pip (test) dependencies differ from pyproject's test extra"


def test_python_version_is_pinned_alike():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11"
    assert "- python=3.11" in (ROOT / "environment.yml").read_text()


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(?:bash|sh)?\n(.*?)```", section, flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def test_readme_gives_exactly_two_commands_and_ci_runs_the_test_one():
    commands = _readme_commands()
    assert commands == ["make serve", "make test"]
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert "make test" in ci_lines


def test_makefile_targets_exist_for_readme_commands():
    makefile = (ROOT / "Makefile").read_text()
    for target in ("serve", "test"):
        assert re.search(rf"^{target}:", makefile, flags=re.M), target


def test_console_script_is_declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["surveytools"] == "surveytools.cli:main"


# -- reference values carry their provenance ----------------------------------------
REFERENCE = ROOT / "tests" / "reference"
#: Inputs the R scripts read (data, not reference values), as globs under REFERENCE.
REFERENCE_INPUTS = ("estimation/inputs/*.csv", "regression/nhanes.csv", "weighting/apiclus1.csv",
                    "weighting/apistrat.csv", "weighting/tracker2024_slice.csv", "waves/inputs.csv",
                    "dont_know/data.csv")


def _reference_csvs() -> list[Path]:
    return sorted(REFERENCE.rglob("*.csv"))


def _is_input(path: Path) -> bool:
    return any(path.match(str(REFERENCE / pattern)) for pattern in REFERENCE_INPUTS)


def _writers(path: Path) -> list[Path]:
    """Scripts beside ``path`` (one folder up for ``inputs/``) that name the file (or,
    for a family of files such as ``repweights_<design>.csv``, build the name with
    ``paste0("repweights_", ...)``)."""
    folder = path.parent.parent if path.parent.name == "inputs" else path.parent
    family = f'paste0("{path.stem.rsplit("_", 1)[0]}_"'
    return [script for script in sorted(folder.glob("*.R")) + sorted(folder.glob("*.py"))
            if path.name in (text := script.read_text(encoding="utf-8")) or family in text]


def test_reference_csvs_exist():
    assert len(_reference_csvs()) >= 20
    for pattern in REFERENCE_INPUTS:
        assert list(REFERENCE.glob(pattern)), pattern


@pytest.mark.parametrize("path", _reference_csvs(), ids=lambda p: p.relative_to(REFERENCE).as_posix())
def test_reference_csv_sits_beside_the_script_that_wrote_it(path):
    writers = _writers(path)
    assert writers, f"no script beside {path.relative_to(ROOT)} names it"
    if not _is_input(path):
        assert any(w.suffix == ".R" for w in writers), (
            f"{path.relative_to(ROOT)} is written by {writers}, not by an R script beside it")


@pytest.mark.parametrize("path", [p for p in _reference_csvs() if not _is_input(p)],
                         ids=lambda p: p.relative_to(REFERENCE).as_posix())
def test_reference_values_record_the_r_call_and_versions(path):
    """Either columns (``call``/``r_call``, ``r_version``, ``<package>_version``) or header
    lines (``# R version ...; survey x.y`` and an ``r_call`` column or a ``# call:`` line)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = [line for line in lines if line.startswith("#")]
    frame = pd.read_csv(path, comment="#" if header else None, dtype=str, keep_default_na=False)
    calls = [c for c in ("call", "r_call") if c in frame.columns]
    version_columns = [c for c in frame.columns if c.endswith("_version") and c != "r_version"]
    if "r_version" in frame.columns:
        assert version_columns, f"{path.name}: r_version but no package version column"
        for column in ("r_version", *version_columns):
            assert (frame[column] != "").all(), f"{path.name}: empty {column}"
        assert frame["r_version"].str.startswith("R version ").all(), path.name
    else:
        assert header and re.match(r"# R version \S+.*; survey \d", header[0]), (
            f"{path.name}: no r_version column and no '# R version ...; survey ...' first line")
    if calls:
        assert (frame[calls[0]].str.len() > 0).all(), f"{path.name}: a row without its R call"
    else:
        assert any(line.startswith("# call:") for line in header), (
            f"{path.name}: no call/r_call column and no '# call:' line")

"""The project installs as documented: pyproject.toml and environment.yml agree,
README's two commands are what .ci/run and the Makefile run."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

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

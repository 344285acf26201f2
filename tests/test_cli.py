"""The ``surveytools`` console script, run as a subprocess from the venv."""

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "data" / "tracker" / "waves.toml"
SCRIPT = Path(sys.executable).parent / "surveytools"


def run(*args, tmp_path):
    env = {**os.environ, "SURVEYTOOLS_CACHE_DIR": str(tmp_path / "cache"),
           "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.run([str(SCRIPT), *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=600)


@pytest.fixture
def strict_manifest(tmp_path):
    """The example manifest with a stricter small-base rule, next to links to its files."""
    folder = tmp_path / "tracker"
    folder.mkdir()
    for path in MANIFEST.parent.iterdir():
        if path.is_file() and path.name != "waves.toml":
            (folder / path.name).symlink_to(path)
    text = MANIFEST.read_text(encoding="utf-8")
    assert "suppress_below = 50" in text and "flag_below = 100" in text
    (folder / "waves.toml").write_text(
        text.replace("suppress_below = 50", "suppress_below = 100")
            .replace("flag_below = 100", "flag_below = 150"), encoding="utf-8")
    return folder / "waves.toml"


def test_tables_writes_the_workbook(tmp_path):
    out = tmp_path / "x.xlsx"
    result = run("tables", MANIFEST.relative_to(ROOT), "--out", out, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert str(out) in result.stdout
    book = load_workbook(out)
    assert book.sheetnames[0] == "Contents" and "trust_nhs" in book.sheetnames
    assert "2024" in book["Contents"]["A1"].value


def test_tables_suppresses_under_the_manifest_rule(strict_manifest, tmp_path):
    out = tmp_path / "strict.xlsx"
    result = run("tables", strict_manifest, "--out", out, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    sheet = load_workbook(out)["trust_nhs"]
    values = [c.value for row in sheet.iter_rows() for c in row]
    assert "n<100" in values
    csv = tmp_path / "strict.csv"
    result = run("tables", strict_manifest, "--out", csv, "--wave", "2023", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(csv)
    assert set(table["wave"].astype(str)) == {"2023"}
    hidden = table["base_flag"] == "suppressed"
    assert hidden.any() and table.loc[hidden, "estimate"].isna().all()
    assert set(table.loc[hidden, "display"]) == {"n<100", "[c]"}
    assert (table.loc[hidden, "display"] == table.loc[hidden, "suppression"].map(
        {"small base": "n<100", "complementary": "[c]"})).all()


@pytest.mark.parametrize("args, message", [
    (["tables", "no/such/waves.toml", "--out", "{tmp}/x.xlsx"], "manifest not found"),
    (["tables", MANIFEST, "--out", "{tmp}/missing/x.xlsx"], "output folder does not exist"),
    (["tables", MANIFEST, "--out", "{tmp}/x.xlsx", "--wave", "1999"], "unknown wave"),
    (["tables", "{tmp}/bad.toml", "--out", "{tmp}/x.xlsx"], "bad.toml"),
    (["export-dashboard", "no/such/waves.toml", "--out", "{tmp}/site"], "manifest not found"),
])
def test_bad_input_exits_2_without_traceback(tmp_path, args, message):
    (tmp_path / "bad.toml").write_text("[tracker\nname = ", encoding="utf-8")
    args = [str(a).replace("{tmp}", str(tmp_path)) for a in args]
    result = run(*args, tmp_path=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.xlsx").exists()


def test_usage_errors_exit_2(tmp_path):
    result = run("tables", MANIFEST, tmp_path=tmp_path)  # --out missing
    assert result.returncode == 2 and "--out" in result.stderr
    result = run("nonsense", tmp_path=tmp_path)
    assert result.returncode == 2


def test_init_scaffolds_then_refuses_to_overwrite_unless_forced(tmp_path):
    from fixtures import realworld

    paths, _ = realworld.two_surveys(tmp_path / "in")
    out = tmp_path / "tracker"
    result = run("init", *paths, "--out", out, "--dry-run", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "WtFactor" in result.stdout and not out.exists()
    result = run("init", *paths, "--out", out, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    written = {p.name: p.read_text() for p in out.iterdir()}
    assert set(written) == {"waves.toml", "indicators.toml", "breakdowns.toml", "README.md"}
    again = run("init", *paths, "--out", out, tmp_path=tmp_path)
    assert again.returncode == 2 and "already exists" in again.stderr
    assert "--force" in again.stderr and "Traceback" not in again.stderr
    forced = run("init", *paths, "--out", out, "--force", tmp_path=tmp_path)
    assert forced.returncode == 0, forced.stderr
    result = run("init", tmp_path / "nothing.sav", "--out", tmp_path / "other", tmp_path=tmp_path)
    assert result.returncode == 2 and "nothing.sav" in result.stderr


@pytest.mark.parametrize("command", ["tables", "serve", "export-dashboard"])
def test_publishing_commands_offer_allow_undeclared(command, tmp_path):
    result = run(command, "--help", tmp_path=tmp_path)
    assert result.returncode == 0 and "--allow-undeclared" in result.stdout

"""Manifest declarations of non-answers, the tracker's audit, and series breaks.

On a BSA-style file that declares only its negative "skip" codes: the audit
lists the undeclared Don`t know/Refusal codes, its fix (pasted into the
manifest) empties it, and the mean then equals R's.
"""

from __future__ import annotations

import textwrap

import pandas as pd
import pytest

import surveytools as st
from surveytools.core.errors import ManifestError
from tests.fixtures import realworld as rw

REFERENCE = pd.read_csv("tests/reference/realworld/reference.csv", dtype=str)


@pytest.fixture(scope="module")
def bsa(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bsa")
    path, truth = rw.bsa_style(folder)
    return path, truth


def _manifest(folder, file, extra="", wave_extra="", design=None):
    design = design or 'weight = "WtFactor"\nstrata = "StratID"\npsu = "Spoint"\nnest = true'
    text = textwrap.dedent(f"""\
        [tracker]
        name = "BSA-style test"

        [design]
        {{design}}
        {{extra}}
        [[waves]]
        label = "2024"
        file = "{file.name}"
        {{wave_extra}}
        """).format(design=design, extra=extra, wave_extra=wave_extra)
    path = folder / "waves.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _r(statistic, variable, by=""):
    rows = REFERENCE[(REFERENCE["fixture"] == "bsa_style") & (REFERENCE["statistic"] == statistic)
                     & (REFERENCE["variable"] == variable) & (REFERENCE["by"].fillna("") == by)]
    return rows.iloc[0]


def test_audit_lists_undeclared_codes_and_its_fix_makes_it_empty(bsa, tmp_path):
    path, truth = bsa
    (tmp_path / path.name).symlink_to(path)
    tracker = st.read_waves(_manifest(tmp_path, path), cache=False)
    found = tracker.missing_audit()
    gov = found[found["variable"] == "GovTrust"]
    assert gov["code"].tolist() == [8, 9]
    assert gov["label"].tolist() == ["Don`t know", "Refusal"]
    assert set(found["variable"]) >= set(truth["undeclared_non_answers"])
    assert {"WtFactor", "StratID", "Spoint"}.isdisjoint(found["variable"])  # design columns
    fix = tracker.missing_fix()
    assert 'GovTrust = [8, 9]  # 8 "Don`t know", 9 "Refusal"' in fix
    declared = st.read_waves(_manifest(tmp_path, path, extra=fix), cache=False)
    assert declared.missing_audit().empty
    report = declared.report
    added = report[(report["variable"] == "GovTrust") & (report["issue"] == "declared missing")]
    assert "8 (Don`t know), 9 (Refusal)" in added["detail"].iloc[0]
    mean = declared["2024"].mean("GovTrust").table.iloc[0]
    reference = _r("mean", "GovTrust")
    assert mean["estimate"] == pytest.approx(float(reference["estimate"]), rel=1e-8)
    assert mean["se"] == pytest.approx(float(reference["se"]), rel=1e-8)


def test_labels_true_declares_every_non_answer_label(bsa, tmp_path):
    path, _ = bsa
    (tmp_path / path.name).symlink_to(path)
    tracker = st.read_waves(_manifest(tmp_path, path, extra="[missing]\nlabels = true\n"
                                      "values = [98, 99]\n"), cache=False)
    meta = tracker["2024"].meta
    assert 8 in meta.missing["GovTrust"] and 9 in meta.missing["GovTrust"]
    assert meta.missing["GovTrust"].ranges  # the file's own skip range stays
    assert tracker.missing_audit().empty


def test_count_as_answer_keeps_a_dont_know_in_the_base(bsa, tmp_path):
    path, _ = bsa
    (tmp_path / path.name).symlink_to(path)
    extra = "[missing]\nlabels = true\nvalues = [98, 99]\n[missing.count_as_answer]\nGovTrust = [8]\n"
    tracker = st.read_waves(_manifest(tmp_path, path, extra=extra), cache=False)
    meta = tracker["2024"].meta
    assert 8 not in meta.missing["GovTrust"] and 9 in meta.missing["GovTrust"]
    assert tracker.missing_audit().empty
    base = tracker["2024"].proportion("GovTrust", value=[1, 2]).table["n"].iloc[0]
    assert base == int(_r("mean", "GovTrust")["n"]) + int(
        (tracker["2024"].data["GovTrust"] == 8).sum())


def test_per_wave_declarations_apply_to_that_wave(bsa, tmp_path):
    path, _ = bsa
    (tmp_path / path.name).symlink_to(path)
    tracker = st.read_waves(_manifest(tmp_path, path, wave_extra="[waves.missing.variables]\n"
                                      "GovTrust = [8, 9]\n"), cache=False)
    assert 8 in tracker["2024"].meta.missing["GovTrust"]
    detail = tracker.report.query("variable == 'GovTrust'")["detail"].iloc[-1]
    assert "[waves.missing] of wave '2024'" in detail


@pytest.mark.parametrize("extra, message", [
    ("[missing]\nlabel = true\n", "unknown key"),
    ("[missing]\nlabels = \"yes\"\n", "labels must be true"),
    ("[missing]\nvalues = [\"9999\"]\n", "numeric codes"),
    ("[missing.variables]\nGovTrst = [8]\n", "names a variable that no wave has"),
    ("[missing.variables]\nGovTrust = { ranges = [[-1, -9]] }\n", "a range must be"),
])
def test_bad_missing_declarations_are_named_errors(bsa, tmp_path, extra, message):
    path, _ = bsa
    (tmp_path / path.name).symlink_to(path)
    with pytest.raises(ManifestError, match=message) as caught:
        st.read_waves(_manifest(tmp_path, path, extra=extra), cache=False)
    assert "waves.toml" in str(caught.value)
    if "no wave has" in message:
        assert "did you mean 'GovTrust'" in str(caught.value)


def test_series_breaks_are_read_and_reported(tmp_path):
    (a, b), truth = rw.two_surveys(tmp_path)
    text = textwrap.dedent(f"""\
        [design]
        weight = "WtFactor"

        [[waves]]
        label = "2019"
        file = "{a.name}"

        [[waves]]
        label = "2023"
        file = "{b.name}"
        comparable_with_previous = false
        break_reason = "moved from face-to-face to push-to-web"
        [waves.changed_questions]
        TrstNHS = "wording changed"
        """)
    (tmp_path / "waves.toml").write_text(text, encoding="utf-8")
    tracker = st.read_waves(tmp_path / "waves.toml", cache=False)
    assert tracker.breaks == {"2023": "moved from face-to-face to push-to-web"}
    assert tracker.not_comparable("2019", "2023") == "moved from face-to-face to push-to-web"
    assert tracker.not_comparable("2019", "2019") is None


@pytest.mark.parametrize("wave_extra, message", [
    ("comparable_with_previous = false\n", "needs a reason"),
    ("comparable_with_previous = \"no\"\nbreak_reason = \"x\"\n", "true or false"),
    ("break_reason = \"x\"\n", "break_reason without a break"),
])
def test_bad_breaks_are_named_errors(bsa, tmp_path, wave_extra, message):
    path, _ = bsa
    (tmp_path / path.name).symlink_to(path)
    manifest = _manifest(tmp_path, path)
    text = manifest.read_text() + textwrap.dedent(f"""
        [[waves]]
        label = "2025"
        file = "{path.name}"
        """) + wave_extra
    manifest.write_text(text)
    with pytest.raises(ManifestError, match=message):
        st.read_waves(manifest, cache=False)


def test_a_break_on_the_first_wave_is_an_error(bsa, tmp_path):
    path, _ = bsa
    (tmp_path / path.name).symlink_to(path)
    manifest = _manifest(tmp_path, path, wave_extra="comparable_with_previous = false\n"
                                                    "break_reason = \"new survey\"\n")
    with pytest.raises(ManifestError, match="first wave has no previous wave"):
        st.read_waves(manifest, cache=False)


def test_nest_is_a_manifest_design_field(bsa, tmp_path):
    path, _ = bsa
    (tmp_path / path.name).symlink_to(path)
    design = 'weight = "WtFactor"\nstrata = "StratID"\npsu = "Spoint"'
    with pytest.raises(st.DataError, match="nest = true under \\[design\\]"):
        st.read_waves(_manifest(tmp_path, path, design=design), cache=False)

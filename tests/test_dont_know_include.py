"""``dont_know = "include"``: Don't know in the base, skips and refusals out, as R's svymean.

The fixture (``tests/reference/dont_know/data.csv``, written by
``Rscript tests/reference/dont_know/dont_know.R``) is a stratified two-stage
sample whose item ``q1`` holds answers 1-4, 9 "Don't know" and three codes that
are not a don't know: -1 "Not asked" and -8 (unlabelled), both in the file's
missing range -9..-1, and 8 "Refused", declared missing by the manifest.  An
indicator with ``dont_know = "include"`` rests on the answers and the Don't
knows (R: ``subset(des, q1 %in% c(1:4, 9))``); it once put every user-missing
code into the base, so that skips and refusals counted as "not yes".

Which label is which kind is :func:`surveytools.core.nonanswers.dont_know_kind`
(tested in ``tests/test_nonanswers.py``).

R's values (R 4.2.2, survey 4.1.1; the call and versions are stored on every
row of ``reference.csv``) are compared at 1e-8 relative: the share and the
net score, for the whole sample and by sex, with both settings; df and n exactly.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

import surveytools as st
from surveytools.core.errors import DataError
from surveytools.indicators.catalogue import (Breakdown, Breakdowns, Group, Indicator,
                                              IndicatorCatalogue)
from surveytools.indicators.cells import (CELL, CELL_STEP, TOTAL, estimate, net_scores,
                                          stacked_cells)

HERE = Path(__file__).parent / "reference" / "dont_know"
DATA = pd.read_csv(HERE / "data.csv")
REFERENCE = pd.read_csv(HERE / "reference.csv", dtype={"group": str})
LABELS = {1: "Strongly agree", 2: "Agree", 3: "Disagree", 4: "Strongly disagree",
          9: "Don't know", 8: "Refused", -1: "Not asked"}
SEX = Breakdown(name="sex", variable="sex", label="Sex",
                groups=(Group(code="1", label="Men", codes=(1,)),
                        Group(code="2", label="Women", codes=(2,))))
INDICATORS = {
    ("agree", dont_know): Indicator(name=f"agree_{dont_know}", question="q1", kind="share",
                                    codes=(1, 2), dont_know=dont_know)
    for dont_know in ("include", "exclude")} | {
    ("net", dont_know): Indicator(name=f"net_{dont_know}", question="q1", kind="net",
                                  codes=(1, 2), minus=(3, 4), dont_know=dont_know)
    for dont_know in ("include", "exclude")}
CELLS = {"all": 1, "1": CELL_STEP + 1, "2": CELL_STEP + 2}


def _write(folder: Path, frame: pd.DataFrame = DATA, *, file_value=9, declared="[8]",
           wave_extra: str = "") -> Path:
    """The fixture as an SPSS wave of a one-wave tracker (the file declares -9..-1 and
    ``file_value`` missing, the manifest ``declared``); the manifest's path."""
    pyreadstat.write_sav(frame.astype(float), folder / "w2024.sav",
                         variable_value_labels={"q1": LABELS, "sex": {1: "Men", 2: "Women"}},
                         missing_ranges={"q1": [{"lo": -9, "hi": -1}, file_value]})
    manifest = folder / "waves.toml"
    manifest.write_text(textwrap.dedent("""\
        [design]
        weight = "weight"
        strata = "stratum"
        psu = "psu"

        [missing.variables]
        q1 = {declared}

        [[waves]]
        label = "2024"
        file = "w2024.sav"
        """).format(declared=declared) + wave_extra, encoding="utf-8")
    return manifest


@pytest.fixture(scope="module")
def wave(tmp_path_factory):
    return st.read_waves(_write(tmp_path_factory.mktemp("dk")), cache=False)["2024"]


@pytest.fixture(scope="module")
def cells(wave):
    catalogue = IndicatorCatalogue(tuple(INDICATORS.values()))
    return stacked_cells(wave, catalogue, (TOTAL, SEX))


def test_the_fixture_has_every_kind_of_code(wave):
    counts = wave.data["q1"].value_counts()
    assert {1, 2, 3, 4, 9, 8, -1, -8} <= set(counts.index) and (counts > 10).all()
    assert [-1, -8, 8, 9] == [c for c in (-1, -8, 8, 9) if c in wave.meta.missing["q1"]]


@pytest.mark.parametrize("variable", ["agree", "net"])
@pytest.mark.parametrize("dont_know", ["include", "exclude"])
def test_cells_match_r(cells, variable, dont_know):
    est = estimate(cells, INDICATORS[(variable, dont_know)])
    table = est.table.set_index(CELL)
    expected = REFERENCE[(REFERENCE["variable"] == variable)
                         & (REFERENCE["dont_know"] == dont_know)]
    assert len(expected) == 3
    for row in expected.itertuples():
        found = table.loc[CELLS[row.group]]
        np.testing.assert_allclose(found["estimate"], float(row.estimate), rtol=1e-8, atol=0)
        np.testing.assert_allclose(found["se"], float(row.se), rtol=1e-8, atol=0)
        assert int(found["df"]) == row.df and int(found["n"]) == row.n, row


def test_include_base_is_the_answers_and_the_dont_knows(wave):
    q1 = wave.data["q1"]
    scores = net_scores(wave, INDICATORS[("net", "include")])
    np.testing.assert_array_equal(~np.isnan(scores), q1.isin([1, 2, 3, 4, 9]).to_numpy())
    est = estimate(wave, INDICATORS[("agree", "include")], by=None)
    assert int(est.table["n"].iloc[0]) == int(q1.isin([1, 2, 3, 4, 9]).sum())


def test_the_reference_records_its_r_call_and_versions():
    for column in ("call", "r_version", "survey_version"):
        assert REFERENCE[column].notna().all() and (REFERENCE[column].str.len() > 0).all()
    assert REFERENCE["r_version"].str.startswith("R version 4.").all()
    assert REFERENCE["call"].str.contains("svymean").all()


def test_the_cube_uses_the_same_base(wave):
    tracker = st.Tracker({"2024": wave})
    catalogue = IndicatorCatalogue(tuple(INDICATORS.values()))
    frame = st.cube(tracker, catalogue=catalogue, breakdowns=Breakdowns((SEX,))).frame
    row = frame[(frame["indicator"] == "agree_include") & (frame["breakdown"] == "total")]
    expected = REFERENCE[(REFERENCE["variable"] == "agree") & (REFERENCE["dont_know"] == "include")
                         & (REFERENCE["group"] == "all")].iloc[0]
    np.testing.assert_allclose(row["estimate"].iloc[0], float(expected.estimate), rtol=1e-8)
    assert int(row["n"].iloc[0]) == expected.n


# -- a missing code of unknown kind ---------------------------------------------------
def _with_97(folder: Path, **kwargs) -> Path:
    frame = DATA.copy()
    frame.loc[frame["q1"] == -8, "q1"] = 97         # an unlabelled positive missing code
    return _write(folder, frame, file_value=97, declared="[8, 9]", **kwargs)


def test_an_unknown_kind_is_a_named_error_with_the_manifest_lines(tmp_path):
    wave = st.read_waves(_with_97(tmp_path), cache=False)["2024"]
    first = int(np.flatnonzero(wave.data["q1"].to_numpy() == 97)[0]) + 1
    for indicator in (INDICATORS[("agree", "include")], INDICATORS[("net", "include")]):
        with pytest.raises(DataError) as error:
            catalogue = IndicatorCatalogue((indicator,))
            estimate(stacked_cells(wave, catalogue, (TOTAL,)), indicator)
        err = error.value
        assert err.file == str(tmp_path / "w2024.sav") and err.column == "q1"
        assert err.row == first and "97" in str(err.found)
        assert indicator.name in err.message
        assert '[waves.recode.q1]\n"-1" = -1\n' in err.hint
        assert '"4" = 4\n"8" = 8\n"9" = 9\n"97" = { code = 9, to_missing = true }' in err.hint
        assert "[missing.count_as_answer]" in err.hint and 'dont_know = "exclude"' in err.hint
    # an indicator that leaves missing codes out does not need to know
    estimate(wave, INDICATORS[("agree", "exclude")], by=None)


@pytest.mark.parametrize("option, same_as", [(0, 9), (1, -8)],
                         ids=["a kind of Don't know", "not asked"])
def test_the_hint_lines_work(tmp_path, option, same_as):
    """The recodes the hint gives, pasted into the wave's table: 97 is then a Don't
    know (or out), as if the file had coded it 9 (or -8, another unlabelled
    negative code) from the start."""
    wave = st.read_waves(_with_97(tmp_path), cache=False)["2024"]
    with pytest.raises(DataError) as error:
        estimate(wave, INDICATORS[("agree", "include")], by=None)
    options = error.value.hint.split("\n- ")[1:]
    fix = options[option].split(":\n", 1)[1] + "\n"
    assert fix.startswith("[waves.recode.q1]\n")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    fixed = st.read_waves(_with_97(tmp_path / "a", wave_extra=fix), cache=False)["2024"]
    assert 97 not in set(fixed.data["q1"])
    frame = DATA.copy()
    frame.loc[frame["q1"] == -8, "q1"] = same_as
    plain = st.read_waves(_write(tmp_path / "b", frame), cache=False)["2024"]
    indicator = INDICATORS[("agree", "include")]
    a, b = (estimate(w, indicator, by=None).table.iloc[0] for w in (fixed, plain))
    assert a["estimate"] == b["estimate"] and a["n"] == b["n"]


def test_count_as_answer_puts_the_code_in_the_base(tmp_path):
    manifest = _with_97(tmp_path)
    wave = st.read_waves(manifest, cache=False)["2024"]
    with pytest.raises(DataError) as error:
        estimate(wave, INDICATORS[("agree", "include")], by=None)
    lines = error.value.hint.split("\n- ")[3].split(":\n", 1)[1]
    assert lines == "[missing.count_as_answer]\nq1 = [97]"
    manifest.write_text(manifest.read_text() + "\n" + lines + "\n")
    wave = st.read_waves(manifest, cache=False)["2024"]
    est = estimate(wave, INDICATORS[("agree", "include")], by=None)
    assert int(est.table["n"].iloc[0]) == int(wave.data["q1"].isin([1, 2, 3, 4, 9, 97]).sum())


def test_cells_take_the_kind_of_a_code_from_core_nonanswers():
    """One home for "which non-answer is a don't know": cells use it and define no patterns."""
    from surveytools.core import nonanswers
    from surveytools.indicators import cells

    assert cells.dont_know_kind is nonanswers.dont_know_kind
    assert not [name for name in vars(cells) if name.endswith("_PATTERNS")]

"""The indicator cube on the example tracker: shape, suppression, letters, changes."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import surveytools as st
from surveytools.indicators import cells
from surveytools.indicators import cube as cube_module
from surveytools.indicators import significance
from surveytools.indicators.catalogue import (Breakdown, Breakdowns, Group, Indicator,
                                              IndicatorCatalogue)
from surveytools.indicators.catalogue_file import load_breakdowns
from surveytools.indicators.cube import COLUMNS, compare_groups
from surveytools.indicators.significance import adjust_p, column_letters

MANIFEST = Path(__file__).resolve().parents[1] / "data" / "tracker" / "waves.toml"
# Stricter than the manifest's rule so that the example's small groups
# (ethnic minority groups, Northern Ireland) are suppressed, not only flagged.
STRICT = st.SmallBaseRule(suppress_below=100, flag_below=150)
DERIVED = ["estimate", "se", "ci_low", "ci_high", "df", "deff", "n_eff", "change", "change_se",
           "change_p"]


# tracker, cube: tests/conftest.py
@pytest.fixture(scope="module")
def strict(tracker):
    return st.cube(tracker, small_base=STRICT)


def test_cube_covers_every_indicator_breakdown_and_wave(cube, tracker):
    frame = cube.frame
    assert list(frame.columns) == COLUMNS
    assert cube.waves == tracker.names
    assert set(frame["indicator"]) == set(cube.catalogue.names)
    assert set(frame["breakdown"]) == {"total", *cube.breakdowns.names}
    # accept_exams is first asked in 2023
    exams = frame[frame["question"] == "accept_exams"]
    assert sorted(set(exams["wave"])) == ["2023", "2024"]
    first = exams[exams["wave"] == "2023"]
    assert first["change"].isna().all() and not first["change_significant"].any()
    # one row per wave x indicator x breakdown x group
    assert not frame.duplicated(["wave", "indicator", "breakdown", "group"]).any()
    total = frame[frame["breakdown"] == "total"]
    assert (total["group"] == "all").all() and (total["letter"] == "").all()
    assert len(total) == sum(1 for w in tracker.names for i in cube.catalogue
                             if tracker[w].data.get(i.question, pd.Series()).notna().any())


def test_estimates_are_in_range_and_labelled(cube):
    frame = cube.frame
    shares = frame[frame["kind"] == "share"]
    assert shares["estimate"].between(0, 1).all()
    assert (shares["ci_low"] <= shares["estimate"]).all()
    nets = frame[frame["kind"] == "net"]
    assert nets["estimate"].between(-1, 1).all()
    means = frame[frame["kind"] == "mean"]
    assert means["estimate"].between(1, 4).all()  # ai_awareness ladder 1-4
    age = frame[(frame["breakdown"] == "age") & (frame["wave"] == "2024")]
    assert list(age["group_label"].unique()) == ["18-34", "35-54", "55+"]
    assert set(frame["dont_know"]) == {"excluded from base", "included in base"}
    assert set(frame.loc[frame["kind"] == "share", "ci_method"]) == {"logit"}


def test_total_matches_a_direct_estimate(cube, tracker):
    # independent path: the Survey's own estimator on the unstacked wave
    wave = tracker["2022"]
    direct = wave.proportion("secure_govt", value=[3, 4]).table.iloc[0]
    row = cube.select(indicator="secure_govt_trust", breakdown="total", waves="2022").iloc[0]
    assert row["estimate"] == pytest.approx(direct["estimate"], rel=1e-12)
    assert row["se"] == pytest.approx(direct["se"], rel=1e-10)
    assert row["n"] == direct["n"]


def test_dont_know_included_counts_as_not_yes(cube, tracker):
    data = tracker["2024"].data
    answered = data["ai_use_month"].notna()
    w = data["weight"]
    expected = (w * (data["ai_use_month"] == 1))[answered].sum() / w[answered].sum()
    row = cube.select(indicator="ai_use_month_yes", breakdown="total", waves="2024").iloc[0]
    assert row["estimate"] == pytest.approx(expected, rel=1e-12)
    assert row["n"] == answered.sum()  # Don't know (8) is in the base


def test_net_score_is_the_difference_of_two_shares(cube, tracker):
    wave = tracker["2023"]
    plus = wave.proportion("accept_chatbot", value=[4, 5]).table["estimate"].iloc[0]
    minus = wave.proportion("accept_chatbot", value=[1, 2]).table["estimate"].iloc[0]
    row = cube.select(indicator="accept_chatbot_net", breakdown="total", waves="2023").iloc[0]
    assert row["estimate"] == pytest.approx(plus - minus, rel=1e-12)


@pytest.mark.parametrize("breakdown, variable", [("digital", "digital_familiarity"),
                                                  ("mode", "mode"), ("region", "region")])
def test_letters_match_pairwise_tests_with_bh(cube, tracker, breakdown, variable):
    """Letters of breakdowns without regrouping or missing values, against the
    Estimate's own pairwise() on the wave by the raw column + BH (R-checked)."""
    for (wave, name), rows in cube.select(breakdown=breakdown).groupby(["wave", "indicator"]):
        indicator = cube.catalogue[name]
        survey = tracker[wave]
        if indicator.kind == "share":
            est = survey.proportion(indicator.question, value=list(indicator.codes),
                                    by=variable,
                                    user_missing="include" if indicator.dont_know == "include"
                                    else "exclude")
        elif indicator.kind == "mean":
            est = survey.mean(indicator.question, by=variable)
        else:
            continue  # nets are checked against R in test_indicators_r.py
        pairs = est.pairwise()
        adjusted = adjust_p(pairs["p_value"].to_numpy(float), method="bh")
        codes = [int(c) for c in est.table[variable]]
        letter = dict(zip(codes, column_letters(len(codes))))
        expected = {c: "" for c in codes}
        for a, b, d, p in zip(pairs["a"], pairs["b"], pairs["difference"], adjusted):
            if p < 0.05:
                high, low = (int(a), int(b)) if d > 0 else (int(b), int(a))
                expected[high] += letter[low]
        got = dict(zip(rows["group"].astype(int), rows["letters"]))
        assert got == {c: "".join(sorted(v)) for c, v in expected.items()}, (wave, name)


def test_correction_changes_letters_monotonically(tracker):
    catalogue = IndicatorCatalogue((Indicator(name="nhs", question="trust_nhs", kind="share",
                                              codes=(7, 8, 9, 10)),))
    breakdowns = Breakdowns((Breakdown(name="region", variable="region"),))
    count = {}
    for correction in ("none", "bh", "bonferroni"):
        frame = st.cube(tracker, catalogue, breakdowns, correction=correction).frame
        count[correction] = frame["letters"].str.len().sum()
    assert count["none"] >= count["bh"] >= count["bonferroni"]
    assert count["none"] > count["bonferroni"]


def test_method_note_states_weights_tests_correction_and_rule(cube):
    note = cube.method_note
    assert "weight" in note and "Benjamini-Hochberg" in note
    assert cube.small_base.describe() in note
    assert "Don't know" in note


def test_strict_rule_suppresses_small_groups(strict):
    flags = strict.frame["base_flag"]
    assert (flags == "suppressed").any() and (flags == "low").any()
    hidden = strict.frame[flags == "suppressed"]
    assert set(hidden["breakdown"]) >= {"ethnicity"}
    # why each is hidden: its small base, or to protect a small base (indicators/disclosure.py);
    # the bases of a hidden cell are withheld too (base differences disclose as estimates do)
    assert set(hidden["suppression"]) == {"small base", "complementary"}
    assert (strict.frame.loc[flags != "suppressed", "suppression"] == "").all()
    assert hidden[["n", "weighted_n"]].isna().all().all()
    assert (strict.frame.loc[flags != "suppressed", "n"] >= STRICT.suppress_below).all()


def test_no_suppressed_value_leaks_into_a_derived_column(strict):
    frame = strict.frame
    hidden = frame["base_flag"] == "suppressed"
    assert frame.loc[hidden, DERIVED].isna().all().all()
    assert (frame.loc[hidden, "letters"].fillna("") == "").all()
    assert not frame.loc[hidden, "change_significant"].any()
    # a suppressed group gives no letter to anyone ...
    for _, rows in frame.groupby(["wave", "indicator", "breakdown"]):
        gone = set(rows.loc[rows["base_flag"] == "suppressed", "letter"])
        for letters in rows["letters"]:
            assert not gone & set(letters if isinstance(letters, str) else "")
    # ... and no change: a group suppressed in the previous wave has none.
    for (name, bd, group), rows in frame.groupby(["indicator", "breakdown", "group"]):
        rows = rows.sort_values("wave")
        was_hidden = rows["base_flag"].eq("suppressed").shift(fill_value=False).to_numpy()
        assert rows.loc[was_hidden, "change"].isna().all(), (name, bd, group)


def test_changes_use_the_previous_wave_that_asked(cube):
    frame = cube.select(indicator="accept_exams_share", breakdown="total")
    by_wave = frame.set_index("wave")
    assert by_wave.loc["2024", "change"] == pytest.approx(
        by_wave.loc["2024", "estimate"] - by_wave.loc["2023", "estimate"], rel=1e-12)
    significant = cube.frame["change_significant"]
    assert (cube.frame.loc[significant, "change_p"] < 0.05).all()
    assert (cube.frame.loc[~significant & cube.frame["change_p"].notna(), "change_p"] >= 0.05).all()


def test_select_and_immutability(cube):
    part = cube.select(indicator=["trust_nhs_high", "trust_govt_high"], breakdown="age",
                       waves=["2024"])
    assert set(part["indicator"]) == {"trust_nhs_high", "trust_govt_high"}
    assert len(part) == 2 * 3
    part.loc[0, "estimate"] = -1.0
    assert (cube.frame["estimate"] != -1.0).all()
    everything = cube.select()
    everything.loc[0, "estimate"] = -1.0
    assert (cube.frame["estimate"] != -1.0).all()
    with pytest.raises(AttributeError):
        cube.method_note = "x"
    with pytest.raises(AttributeError):
        cube.ci = "beta"


def test_with_ci_returns_a_changed_copy(cube):
    before = cube.frame.copy()
    beta = cube.with_ci("beta")
    pd.testing.assert_frame_equal(cube.frame, before)  # the original is untouched
    assert (cube.ci, beta.ci) == ("logit", "beta")
    assert "logit method for shares" in cube.method_note
    assert "beta method for shares" in beta.method_note
    shares = beta.frame["kind"] == "share"
    assert (beta.frame.loc[shares, "ci_method"] == "beta").all()
    assert not np.allclose(beta.frame.loc[shares, "ci_low"], before.loc[shares, "ci_low"],
                           equal_nan=True)
    pd.testing.assert_frame_equal(beta.frame.loc[~shares], before.loc[~shares])
    with pytest.raises(st.DataError, match="confidence interval method"):
        cube.with_ci("probit")


def test_with_ci_at_another_level_equals_a_cube_built_at_it(tracker):
    catalogue = st.load_indicators(MANIFEST.parent / "indicators.toml").select(
        ["trust_nhs_high", "accept_chatbot_net", "ai_awareness_mean"])
    breakdowns = load_breakdowns(MANIFEST.parent / "breakdowns.toml").select(["age"])
    base = st.cube(tracker, catalogue, breakdowns)
    built = st.cube(tracker, catalogue, breakdowns, ci="wilson", conf_level=0.9)
    derived = base.with_ci("wilson", conf_level=0.9)
    pd.testing.assert_frame_equal(derived.frame, built.frame, rtol=1e-10)
    assert derived.method_note == built.method_note and "90% confidence" in built.method_note


def test_the_cube_reads_letters_through_significance(tracker, monkeypatch):
    """One implementation: the cube's letters come from significance.letters_from_pairs
    and significance.group_letters, nothing else."""
    calls = {"pairs": 0, "letters": 0}

    def pairs(*args, **kwargs):
        calls["pairs"] += 1
        return significance.letters_from_pairs(*args, **kwargs)

    def letters(*args, **kwargs):
        calls["letters"] += 1
        return significance.group_letters(*args, **kwargs)

    monkeypatch.setattr(cells, "letters_from_pairs", pairs)
    monkeypatch.setattr(cube_module, "group_letters", letters)
    catalogue = IndicatorCatalogue((Indicator(name="nhs", question="trust_nhs", kind="share",
                                              codes=(7, 8, 9, 10)),))
    breakdowns = load_breakdowns(MANIFEST.parent / "breakdowns.toml").select(["region", "age"])
    built = st.cube(tracker, catalogue, breakdowns, correction="none")
    assert calls == {"pairs": len(tracker.names), "letters": len(tracker.names)}
    assert built.frame["letters"].str.len().sum() > 0


def test_compare_groups_labels_its_pairs(tracker):
    catalogue = st.load_indicators(MANIFEST.parent / "indicators.toml")
    age = load_breakdowns(MANIFEST.parent / "breakdowns.toml")["age"]
    tests = compare_groups(tracker["2024"], catalogue["trust_bigtech_high"], age)
    assert list(tests["label_a"]) == ["18-34", "18-34", "35-54"]
    assert tests["p_adjusted"].ge(tests["p_value"]).all()


def test_unknown_correction_is_rejected(tracker):
    with pytest.raises(st.DataError, match="holm"):
        st.cube(tracker, correction="holm")


def test_bad_catalogue_question_is_a_manifest_error(tracker, tmp_path):
    path = tmp_path / "indicators.toml"
    path.write_text('[[indicator]]\nname = "x"\nquestion = "trust_nhz"\nkind = "mean"\n')
    with pytest.raises(st.ManifestError, match="trust_nhz") as err:
        st.cube(tracker, path)
    assert str(path) in str(err.value)


def test_shared_respondents_are_not_treated_as_independent(tracker, monkeypatch):
    monkeypatch.setattr(type(tracker), "shared_respondents", property(lambda self: True))
    with pytest.raises(st.SurveyError, match="not independent"):
        st.cube(tracker)


# -- comparability, titles, the tab book, groups that are answers --------------------------
SMALL = IndicatorCatalogue((
    Indicator(name="nhs", question="trust_nhs", kind="share", codes=(7, 8, 9, 10)),
    Indicator(name="govt", question="trust_govt", kind="mean"),
))
AGE = Breakdowns((Breakdown(name="age", variable="age_band"),))


def test_no_change_is_tested_across_a_series_break_or_a_changed_question(tracker):
    moved = tracker.replace(breaks={"2023": "moved online"},
                            changed_questions={"2024": {"trust_nhs": "reworded"}})
    built = st.cube(moved, SMALL, AGE)
    frame = built.frame
    assert list(frame.columns) == COLUMNS
    assert built.breaks == {"2023": "moved online"}
    across = frame[frame["wave"] == "2023"]
    assert (across["change_note"] == "not comparable (moved online)").all()
    assert across[["change", "change_se", "change_p"]].isna().all().all()
    assert not across["change_significant"].any()
    reworded = frame[(frame["wave"] == "2024") & (frame["question"] == "trust_nhs")]
    assert (reworded["change_note"] == "not comparable (reworded)").all()
    assert reworded["change"].isna().all()
    comparable = frame[(frame["wave"] == "2024") & (frame["question"] == "trust_govt")]
    assert (comparable["change_note"] == "").all() and comparable["change"].notna().all()
    assert (frame[frame["wave"] == "2022"]["change_note"] == "").all()
    assert "No change is tested across a series break: 2023 (moved online)." in \
        built.method_note


def test_the_cube_carries_the_trackers_name_description_and_exclusions(cube, tracker):
    assert (cube.name, cube.description) == (tracker.name, tracker.description)
    assert cube.breaks == {} and cube.undeclared == ()
    assert cube.excluded["trust_nhs"] == '98 "Don\'t know"'
    assert cube.undeclared_note() == ""


def test_without_a_catalogue_the_cube_is_the_tab_book(tracker):
    bare = tracker.replace(manifest=None, catalogue=None, breakdowns=None)
    built = st.cube(bare.replace(waves={"2024": tracker["2024"]}))
    assert built.breakdowns.names == ()  # no breakdowns file: the total only
    assert set(built.frame["breakdown"]) == {"total"}
    design = set(tracker["2024"].design.columns)
    assert not design & set(built.catalogue.questions)
    nhs = built.catalogue.for_question("trust_nhs")
    assert [i.codes for i in nhs] == [(c,) for c in range(11)]  # 0-10: labelled at the ends
    assert nhs[0].row_label == "0 - Do not trust at all" and nhs[0].kind == "share"
    direct = tracker["2024"].proportion("trust_nhs", value=10).table["estimate"].iloc[0]
    row = built.select(indicator="trust_nhs_10").iloc[0]
    assert row["estimate"] == pytest.approx(direct, rel=1e-12)
    # a question the latest wave does not ask is tabulated from the waves that do
    latest = tracker["2024"]
    dropped = bare.replace(waves={"2023": tracker["2023"], "2024": latest.replace(
        data=latest.data.drop(columns=["trust_nhs"]))})
    earlier = st.cube(dropped).select(indicator="trust_nhs_10")
    assert list(earlier["wave"]) == ["2023"]


def test_empty_groups_are_dropped_and_the_rest_lettered_in_order(tracker):
    """Nobody is 75+ here (7 is recoded 6): its group is no column and takes no letter."""
    younger = tracker.replace(waves={w: s.replace(data=s.data.assign(
        age_band=s.data["age_band"].replace(7, 6))) for w, s in tracker.items()})
    groups = Breakdowns((
        Breakdown(name="age", variable="age_band", groups=(
            Group(code="1", label="Young", codes=(1, 2)), Group(code="2", label="75+", codes=(7,)),
            Group(code="3", label="Old", codes=(5, 6, 7)))),
        Breakdown(name="oldest", variable="age_band", groups=(
            Group(code="1", label="75+", codes=(7,)),))))
    with pytest.warns(st.SurveyWarning, match="'oldest' .* no group with anyone"):
        built = st.cube(younger, SMALL, groups)
    assert [g.label for g in built.breakdowns["age"].groups] == ["Young", "Old"]
    assert built.breakdowns.names == ("age",)
    age = built.frame[built.frame["breakdown"] == "age"]
    assert set(age["letter"]) == {"A", "B"} and set(age["group"]) == {"1", "3"}
    default = st.cube(younger, SMALL, AGE).breakdowns["age"]  # groups from the labels
    assert "75+" not in [g.label for g in default.groups] and len(default.groups) == 6


def test_a_user_missing_breakdown_code_is_never_in_a_group(tracker):
    """A code declared missing in one wave only stays out of that wave's groups."""
    wave = tracker["2023"]
    one = tracker.replace(waves={"2023": wave.replace(meta=wave.meta.with_missing(
        "age_band", [1])), "2024": tracker["2024"]})
    regrouped = Breakdowns((Breakdown(name="age", variable="age_band", groups=(
        Group(code="1", label="Young", codes=(1, 2)),)),))
    built = st.cube(one, SMALL.select(["nhs"]), regrouped)
    young = built.select(breakdown="age", waves="2023").iloc[0]
    data = wave.data
    assert young["n"] == (data["trust_nhs"].between(0, 10) & (data["age_band"] == 2)).sum()
    both = built.select(breakdown="age", waves="2024").iloc[0]
    data = tracker["2024"].data
    assert both["n"] == (data["trust_nhs"].between(0, 10) & data["age_band"].isin([1, 2])).sum()

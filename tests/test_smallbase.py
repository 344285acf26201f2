"""The small-base rule: thresholds, flags and blanking of derived columns.

The blanking is checked on real outputs: estimates, differences, pairwise
tests, contrasts, wave changes and the indicator cube of a survey with a
suppressed group; every numeric column derived from the suppressed base must
be blank there (only the base size ``n``/``weighted_n`` and the keys stay).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import surveytools as st
from surveytools import ManifestError, SmallBaseRule


def test_default_thresholds_follow_design_md():
    rule = SmallBaseRule()
    assert [rule.flag(n) for n in (0, 49, 50, 99, 100, 5000)] == [
        "suppressed", "suppressed", "low", "low", "ok", "ok"]


def test_apply_blanks_every_estimate_column_but_keeps_the_base():
    frame = pd.DataFrame({
        "group": ["a", "b", "c"], "n": [12, 60, 400], "weighted_n": [10.0, 70.0, 390.0],
        "estimate": [0.9, 0.5, 0.4], "se": [0.1, 0.05, 0.02], "ci_low": [0.6, 0.4, 0.36],
        "ci_high": [0.99, 0.6, 0.44], "letters": ["B", "", "A"],
    })
    out = SmallBaseRule().apply(frame)
    assert list(out["base_flag"]) == ["suppressed", "low", "ok"]
    suppressed = out.iloc[0]
    for column in ("estimate", "se", "ci_low", "ci_high", "letters"):
        assert pd.isna(suppressed[column]), column
    assert suppressed["n"] == 12 and suppressed["weighted_n"] == 10.0
    assert out.iloc[1]["estimate"] == 0.5 and out.iloc[2]["letters"] == "A"
    # the input is not changed
    assert frame.loc[0, "estimate"] == 0.9 and "base_flag" not in frame


def test_missing_base_counts_as_suppressed():
    assert SmallBaseRule().flags(np.array([np.nan]))[0] == "suppressed"


def test_custom_rule_and_description():
    rule = SmallBaseRule(suppress_below=30, flag_below=75)
    assert rule.flag(30) == "low" and rule.flag(29) == "suppressed"
    assert "under 30" in rule.describe() and "30-74" in rule.describe()
    assert rule.suppressed_label == "n<30"
    changed = rule.replace(suppress_below=10)
    assert changed.suppress_below == 10 and rule.suppress_below == 30


@pytest.mark.parametrize("low, high", [(100, 50), (-1, 10)])
def test_inconsistent_thresholds_are_rejected(low, high):
    with pytest.raises(ManifestError, match="suppress_below"):
        SmallBaseRule(suppress_below=low, flag_below=high)


# -- nothing derived from a suppressed base leaks ------------------------------
#: What a suppressed row may still show: the size of its base (it explains the gap).
BASE_SIZE = {"n", "weighted_n"}


def assert_nothing_derived(frame: pd.DataFrame, hidden, *, keys, what: str) -> None:
    """Every numeric column of ``frame`` other than ``keys`` and the base size is blank in
    the ``hidden`` rows; flags claim nothing; ``letters`` is empty."""
    hidden = np.asarray(hidden, dtype=bool)
    assert hidden.any(), f"{what}: no suppressed row to check"
    rows = frame.loc[hidden]
    for column in frame.columns:
        if column in keys or column in BASE_SIZE or column == "base_flag":
            continue
        values = rows[column]
        if pd.api.types.is_bool_dtype(values) or column.endswith("significant"):
            assert not values.fillna(False).astype(bool).any(), f"{what}: {column} claims a result"
        elif pd.api.types.is_numeric_dtype(values):
            assert values.isna().all(), f"{what}: {column} = {values.tolist()} in a suppressed row"
        elif column == "letters":
            assert values.fillna("").eq("").all(), f"{what}: letters {values.tolist()}"
    if "base_flag" in frame.columns:
        assert (frame.loc[hidden, "base_flag"] == "suppressed").all(), what


def assert_shown(frame: pd.DataFrame, rows, columns, what: str) -> None:
    """The rows that are not suppressed keep their values (the test can fail)."""
    shown = frame.loc[np.asarray(rows, dtype=bool), list(columns)]
    assert len(shown) and shown.notna().all().all(), f"{what}: {shown}"


def small_group_survey(seed: int) -> st.Survey:
    """A stratified cluster sample in which group 2 has 30 respondents (suppressed at the
    default rule), groups 1 and 3 some hundreds."""
    rng = np.random.default_rng(seed)
    n = 600
    group = np.where(np.arange(n) < 30, 2, rng.choice([1, 3], n))
    data = pd.DataFrame({
        "wt": rng.uniform(0.5, 2.5, n), "stratum": np.arange(n) % 4, "psu": np.arange(n) % 40,
        "g": group, "y": rng.integers(0, 2, n), "x": rng.normal(5, 2, n),
        "q": rng.choice([1, 2, 3, 8], n),
    })
    meta = st.Metadata(missing={"q": [8]})
    return st.Survey(data, st.Design(weight="wt", strata="stratum", psu="psu"), meta)


@pytest.mark.parametrize("statistic", ["mean", "total", "proportion", "distribution"])
def test_estimates_and_their_comparisons_leak_nothing_from_a_suppressed_group(statistic):
    survey = small_group_survey(1)
    run = {"mean": lambda s: s.mean("x", by="g"), "total": lambda s: s.total("x", by="g"),
           "proportion": lambda s: s.proportion("y", value=1, by="g"),
           "distribution": lambda s: s.distribution("q", by="g")}[statistic]
    est = run(survey)
    level = ["level"] if statistic == "distribution" else []
    frame = est.to_frame()
    hidden = frame["g"] == 2
    assert_nothing_derived(frame, hidden, keys={"g", *level}, what=f"{statistic}: to_frame")
    assert_shown(frame, ~hidden, ["estimate", "se", "ci_low", "ci_high"], f"{statistic}: to_frame")
    assert_nothing_derived(est.to_frame(labels=True), hidden, keys={"g", "g_label", *level,
                                                                    "level_label"},
                           what=f"{statistic}: to_frame(labels=True)")

    # in comparisons within one estimate, df is the design df of the estimate's whole
    # base (the same in every row), not a number of the suppressed group: it may stay
    pairs = est.pairwise()
    involved = (pairs["a"] == 2) | (pairs["b"] == 2)
    assert_nothing_derived(pairs, involved, keys={"a", "b", "df", *level},
                           what=f"{statistic}: pairwise")
    assert_shown(pairs, ~involved, ["difference", "se", "p_value"], f"{statistic}: pairwise")

    if statistic != "distribution":
        for a, b in ((1, 2), (2, 3)):
            assert_nothing_derived(st.difference(est, a, b), [True], keys={"a", "b", "df"},
                                   what=f"{statistic}: difference {a}-{b}")
        assert_shown(st.difference(est, 1, 3), [True], ["difference", "se", "p_value"],
                     f"{statistic}: difference 1-3")
        assert_nothing_derived(est.contrast({1: 0.5, 2: 0.5}), [True], keys={"df"},
                               what=f"{statistic}: contrast")

    after = run(small_group_survey(2))
    change = st.wave_change(est, after)
    changed = change["g"] == 2
    assert_nothing_derived(change, changed, keys={"g", *level}, what=f"{statistic}: wave_change")
    assert_shown(change, ~changed, ["change", "change_se", "change_p"], f"{statistic}: wave_change")


def test_a_group_suppressed_in_one_wave_only_has_no_change():
    before = small_group_survey(1)
    # in the second wave group 2 is large: its change still rests on a suppressed base
    after = small_group_survey(2)
    after = after.replace(data=after.data.assign(g=np.where(np.arange(600) < 300, 2, 1)))
    change = st.wave_change(before.mean("x", by="g"), after.mean("x", by="g"))
    assert_nothing_derived(change, change["g"] == 2, keys={"g"}, what="wave_change")


STRICT = SmallBaseRule(suppress_below=100, flag_below=150)


@pytest.fixture(scope="module")
def strict_cube(tracker):
    """A cube of the example tracker in which the small ethnic groups and Northern
    Ireland are suppressed: a share, a net score and a mean."""
    from surveytools.indicators.cube import load_breakdowns, load_indicators  # re-exported

    folder = Path(tracker.manifest).parent
    catalogue = load_indicators(folder / "indicators.toml").select(
        ["trust_nhs_high", "accept_facial_net", "ai_awareness_mean"])
    breakdowns = load_breakdowns(folder / "breakdowns.toml").select(["ethnicity", "nation"])
    return st.cube(tracker, catalogue, breakdowns, small_base=STRICT, answers=True)


def test_the_cube_leaks_nothing_from_a_suppressed_group(strict_cube):
    frame = strict_cube.frame
    hidden = frame["base_flag"] == "suppressed"
    keys = {"wave", "indicator", "indicator_label", "question", "kind", "breakdown",
            "breakdown_label", "group", "group_label", "group_order", "letter", "dont_know",
            "ci_method"}
    assert_nothing_derived(frame, hidden, keys=keys, what="cube")
    assert_shown(frame, ~hidden, ["estimate", "se", "ci_low", "ci_high"], "cube")
    # the groups shown do not carry the letter of a suppressed group
    for _, rows in frame.groupby(["wave", "indicator", "breakdown"]):
        gone = set(rows.loc[rows["base_flag"] == "suppressed", "letter"])
        shown = "".join(rows.loc[rows["base_flag"] != "suppressed", "letters"].fillna(""))
        assert not gone & set(shown), (rows[["group", "letter", "letters", "base_flag"]])
    # a change next to a suppressed base in the previous wave is not shown either
    assert frame.loc[hidden, "change"].isna().all()
    # recomputing the intervals does not bring values back
    for ci in ("beta", "wilson", "wald"):
        assert_nothing_derived(strict_cube.with_ci(ci).frame, hidden, keys=keys,
                               what=f"cube.with_ci({ci!r})")
    answers = strict_cube.answers
    assert_nothing_derived(answers, answers["base_flag"] == "suppressed",
                           keys={"wave", "question", "breakdown", "group", "group_label",
                                 "level", "level_label"}, what="cube answers")

"""Estimators and the Estimate object: definitions, bad input, comparisons, suppression.

Expected values here come from theory or from direct numpy formulas written
in the test (never from the code's own output); the comparison with R is in
test_reference_estimation.py.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import surveytools as st
from surveytools.core.errors import DataError, DesignError, UndeclaredMissingWarning

OPEN = st.SmallBaseRule(suppress_below=0, flag_below=0)


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = 400
    return pd.DataFrame({
        "wt": rng.uniform(0.5, 2.0, n),
        "stratum": np.repeat([1, 2, 3, 4], n // 4),
        "psu": np.repeat(np.arange(40), n // 40),
        "g": rng.integers(1, 4, n),
        "h": rng.choice(["a", "b"], n),
        "y": rng.normal(5, 2, n),
        "q": rng.choice([1, 2, 3, 4, 8], n, p=[0.2, 0.3, 0.3, 0.1, 0.1]),
    })


@pytest.fixture
def meta() -> st.Metadata:
    return st.Metadata(value_labels={"q": {1: "Low", 2: "Mid", 3: "High", 4: "Top", 8: "Don't know"},
                                     "g": {1: "One", 2: "Two", 3: "Three"}},
                       missing={"q": st.MissingSpec(values=(8,))}, file="wave.sav")


@pytest.fixture
def survey(frame, meta) -> st.Survey:
    return st.Survey(frame, st.Design(weight="wt", strata="stratum", psu="psu"), meta,
                     small_base=OPEN)


def test_mean_by_matches_direct_formula(survey, frame):
    est = survey.mean("y", by="g")
    for row in est.table.itertuples():
        d = frame["g"] == row.g
        w, y = frame["wt"][d], frame["y"][d]
        assert row.estimate == pytest.approx(np.average(y, weights=w), rel=1e-12)
        assert row.n == d.sum()
        assert row.weighted_n == pytest.approx(w.sum(), rel=1e-12)
        # linearisation: PSU totals of w (y - ybar) / W, centred within strata, n_h/(n_h-1)
        z = np.where(d, frame["wt"] * (frame["y"] - row.estimate) / w.sum(), 0.0)
        totals = pd.Series(z).groupby(frame["psu"]).sum()
        strata = frame.groupby("psu")["stratum"].first()
        centred = totals - totals.groupby(strata).transform("mean")
        n_h = strata.value_counts()[strata].to_numpy()
        variance = float((n_h / (n_h - 1) * centred ** 2).sum())
        assert row.se == pytest.approx(np.sqrt(variance), rel=1e-10)
        held = frame[d].groupby("psu")["stratum"].first()
        assert row.df == held.size - held.nunique()
        t = stats.t.ppf(0.975, row.df)
        assert row.ci_low == pytest.approx(row.estimate - t * row.se, rel=1e-12)
        assert row.cv == pytest.approx(row.se / row.estimate)
        assert row.n_eff == pytest.approx(row.n / row.deff)


def test_proportion_excludes_user_missing_and_records_it(survey, frame):
    est = survey.proportion("q", value=[3, 4])
    answered = frame["q"] != 8
    expected = np.average(frame["q"][answered].isin([3, 4]), weights=frame["wt"][answered])
    assert est.table["estimate"].iloc[0] == pytest.approx(expected, rel=1e-12)
    assert est.table["n"].iloc[0] == answered.sum()
    assert est.excluded_codes == {"q": (8,)}
    assert "8 (Don't know)" in est.note()
    included = survey.proportion("q", value=[3, 4], user_missing="include")
    assert included.table["n"].iloc[0] == len(frame)
    assert included.excluded_codes == {}


def test_distribution_shares_sum_to_one_per_domain(survey):
    est = survey.distribution("q", by=["g", "h"])
    sums = est.table.groupby(["g", "h"])["estimate"].sum()
    assert np.allclose(sums, 1.0)
    assert sorted(est.table["level"].unique()) == [1, 2, 3, 4]
    assert est.key_columns == ("g", "h", "level")


def test_domains_are_sorted_observed_combinations(survey, frame):
    est = survey.mean("y", by=["h", "g"])
    expected = sorted(set(zip(frame["h"], frame["g"])))
    assert list(zip(est.table["h"], est.table["g"])) == expected


@pytest.mark.parametrize("where", [
    "g == 2", {"g": 2}, {"g": [2]},
])
def test_where_forms_agree_and_keep_the_design(survey, frame, where):
    est = survey.mean("y", where=where)
    by = survey.mean("y", by="g")
    row = by.table[by.table["g"] == 2].iloc[0]
    assert est.table["estimate"].iloc[0] == pytest.approx(row.estimate, rel=1e-12)
    assert est.table["se"].iloc[0] == pytest.approx(row.se, rel=1e-12)


def test_where_boolean_mask(survey, frame):
    mask = frame["g"] == 2
    a = survey.mean("y", where=mask).table["se"].iloc[0]
    b = survey.mean("y", where=mask.to_numpy()).table["se"].iloc[0]
    assert a == b


def test_total(survey, frame):
    est = survey.total("y", by="h")
    for row in est.table.itertuples():
        d = frame["h"] == row.h
        assert row.estimate == pytest.approx((frame["wt"] * frame["y"])[d].sum(), rel=1e-12)


def test_contrast_difference_pairwise(survey):
    est = survey.mean("y", by="g")
    cov = est.covariance
    diff = est.difference(1, 3)
    assert diff["difference"].iloc[0] == pytest.approx(
        est.table["estimate"].iloc[0] - est.table["estimate"].iloc[2])
    assert diff["se"].iloc[0] == pytest.approx(np.sqrt(cov[0, 0] + cov[2, 2] - 2 * cov[0, 2]))
    assert diff["df"].iloc[0] == est.design_df == 36
    pairs = est.pairwise()
    assert len(pairs) == 3
    assert pairs.iloc[1][["a", "b"]].tolist() == [1, 3]
    assert pairs.iloc[1]["se"] == pytest.approx(diff["se"].iloc[0])
    assert st.difference(est, 1, 3)["p_value"].iloc[0] == pytest.approx(diff["p_value"].iloc[0])
    by_dict = est.contrast({1: 0.5, 2: 0.5, 3: -1})
    assert by_dict["estimate"].iloc[0] == pytest.approx(
        est.table["estimate"].to_numpy() @ np.array([0.5, 0.5, -1]))


def test_suppressed_rows_never_leak(frame, meta):
    small = frame.assign(g=np.where(np.arange(len(frame)) < 20, 9, frame["g"]))
    s = st.Survey(small, st.Design(weight="wt"), meta)  # default rule: suppress under 50
    est = s.mean("y", by="g")
    shown = est.to_frame()
    hidden = shown[shown["g"] == 9].iloc[0]
    assert hidden["base_flag"] == "suppressed" and np.isnan(hidden["estimate"])
    assert np.isnan(hidden["ci_low"]) and hidden["n"] == 20
    assert not np.isnan(est.to_frame(suppress=False).query("g == 9")["estimate"].iloc[0])
    diff = est.difference(1, 9)
    assert np.isnan(diff["difference"].iloc[0]) and np.isnan(diff["p_value"].iloc[0])
    assert diff["base_flag"].iloc[0] == "suppressed"
    pairs = est.pairwise()
    involved = (pairs["a"] == 9) | (pairs["b"] == 9)
    assert pairs.loc[involved, "difference"].isna().all()
    assert pairs.loc[~involved, "difference"].notna().all()
    assert "n<50" in repr(est) or "suppressed" in repr(est)
    assert "<table" in est._repr_html_()


def test_labels(survey):
    frame = survey.distribution("q", by="g").to_frame(labels=True)
    assert frame["g_label"].iloc[0] == "One"
    assert frame["level_label"].tolist()[:4] == ["Low", "Mid", "High", "Top"]


def test_wave_change_independent(survey, frame):
    other = st.Survey(frame.assign(y=frame["y"] + 1), survey.design, small_base=OPEN)
    before, after = survey.mean("y", by="g"), other.mean("y", by="g")
    change = st.wave_change(before, after)
    assert np.allclose(change["change"], 1.0)
    se = np.hypot(before.table["se"], after.table["se"])
    assert np.allclose(change["change_se"], se)
    assert (change["df"] == before.table["df"] + after.table["df"]).all()
    with pytest.raises(DataError, match="Tracker.stacked"):
        st.wave_change(before, after, shared_respondents=True)


def test_replicate_design_mean(frame):
    """JK1 with one replicate per PSU: variance = (R-1)/R sum (theta_r - mean)^2."""
    psus = frame["psu"].to_numpy()
    reps = {f"r{j}": np.where(psus == j, 0.0, frame["wt"] * 40 / 39) for j in range(40)}
    data = frame.assign(**reps)
    s = st.Survey(data, st.ReplicateDesign(weight="wt", replicate_weights=list(reps), method="JK1"))
    est = s.mean("y")
    thetas = np.array([np.average(frame["y"], weights=w) for w in reps.values()])
    variance = 39 / 40 * ((thetas - thetas.mean()) ** 2).sum()
    assert est.table["se"].iloc[0] == pytest.approx(np.sqrt(variance), rel=1e-10)
    assert est.table["df"].iloc[0] == 39


def test_zero_base_domain_keeps_a_row_with_nan(frame, meta):
    data = frame.assign(y=np.where(frame["g"] == 3, np.nan, frame["y"]))
    est = st.Survey(data, st.Design(weight="wt"), meta, small_base=OPEN).mean("y", by="g")
    row = est.table[est.table["g"] == 3].iloc[0]
    assert row["n"] == 0 and np.isnan(row["estimate"]) and np.isnan(row["se"])
    assert np.isfinite(est.table[est.table["g"] == 1]["se"]).all()


def test_proportion_at_zero_and_one_does_not_crash(survey, frame):
    for ci in ("logit", "beta", "wilson", "wald"):
        est = survey.proportion("q", value=[1, 2, 3, 4], ci=ci)
        row = est.table.iloc[0]
        assert row["estimate"] == 1.0 and row["se"] == pytest.approx(0.0, abs=1e-15)
        if ci == "beta":  # R's svyciprop gives NaN here (qbeta with a zero shape)
            assert np.isnan(row["ci_low"])
        else:  # R's logit interval collapses on the point
            assert row["ci_low"] == row["ci_high"] == 1.0


def test_wilson_interval_formula(survey):
    est = survey.proportion("q", value=3, ci="wilson")
    row = est.table.iloc[0]
    p, se, df = row["estimate"], row["se"], row["df"]
    n = p * (1 - p) / se ** 2
    t = stats.t.ppf(0.975, df)
    centre = (p + t * t / (2 * n)) / (1 + t * t / n)
    half = t / (1 + t * t / n) * np.sqrt(p * (1 - p) / n + t * t / (4 * n * n))
    assert row["ci_low"] == pytest.approx(centre - half, rel=1e-12)
    assert row["ci_high"] == pytest.approx(centre + half, rel=1e-12)


# -- bad input --------------------------------------------------------------
def test_unknown_variable_lists_close_matches(survey):
    with pytest.raises(DataError) as err:
        survey.mean("yy")
    assert err.value.column == "yy" and "y" in str(err.value) and err.value.file == "wave.sav"
    with pytest.raises(DataError, match="'h'"):
        survey.mean("y", by="hh")


def test_non_numeric_mean_names_the_row(frame):
    data = frame.assign(y=frame["y"].astype(object))
    data.loc[6, "y"] = "n/a"
    with pytest.raises(DataError) as err:
        st.Survey(data, st.Design(weight="wt")).mean("y")
    assert err.value.row == 7 and "n/a" in str(err.value)


def test_value_checks(survey):
    with pytest.raises(DataError, match="does not occur"):
        survey.proportion("q", value=7)
    with pytest.raises(DataError, match="user-missing"):
        survey.proportion("q", value=8)
    assert survey.proportion("q", value=8, user_missing="include").table["estimate"].iloc[0] > 0


def test_labelled_code_without_answers_is_zero(frame, meta):
    meta = meta.replace(value_labels={"q": {**meta.value_labels["q"], 5: "Extra"}})
    est = st.Survey(frame, st.Design(weight="wt"), meta).proportion("q", value=5)
    assert est.table["estimate"].iloc[0] == 0.0


@pytest.mark.parametrize("kwargs,match", [
    ({"ci": "exact"}, "interval method"),
    ({"conf_level": 95}, "between 0 and 1"),
    ({"conf_level": 0.0}, "between 0 and 1"),
    ({"user_missing": "drop"}, "user_missing"),
])
def test_bad_options(survey, kwargs, match):
    with pytest.raises(DataError, match=match):
        survey.proportion("q", value=1, **kwargs)


@pytest.mark.parametrize("where", ["nonsense ==", np.ones(3, bool), pd.Series([1.0] * 400)])
def test_bad_where(survey, where):
    with pytest.raises(DataError):
        survey.mean("y", where=where)


def test_lonely_psu_fail_names_the_stratum(frame):
    data = frame.assign(stratum=np.where(frame["psu"] == 0, 99, frame["stratum"]))
    s = st.Survey(data, st.Design(weight="wt", strata="stratum", psu="psu"))
    with pytest.raises(DesignError, match="99"):
        s.mean("y")
    # a domain without rows in the lonely stratum is estimable, as in R
    assert np.isfinite(s.mean("y", where=data["stratum"] != 99).table["se"].iloc[0])


def test_undeclared_missing_warning(frame):
    meta = st.Metadata(value_labels={"score": {9999: "Don't know"}}, file="w.csv")
    data = frame.assign(score=np.where(frame["g"] == 1, 9999, 5))
    s = st.Survey(data, st.Design(weight="wt"), meta)
    with pytest.warns(UndeclaredMissingWarning) as caught:
        s.mean("score")
    text = str(caught[0].message)
    assert "w.csv" in text and "score" in text and "9999" in text and "Don't know" in text
    declared = s.replace(meta=meta.replace(missing={"score": [9999]}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert declared.mean("score").table["estimate"].iloc[0] == 5.0


def test_chisq_independent_computation_srs():
    """Equal weights, no design: Delta has every eigenvalue n/(n-1)."""
    rng = np.random.default_rng(3)
    n = 300
    data = pd.DataFrame({"wt": np.ones(n), "a": rng.integers(1, 3, n), "b": rng.integers(1, 4, n)})
    res = st.chisq(st.Survey(data, st.Design(weight="wt")), "a", "b", statistic="F")
    pearson = stats.chi2_contingency(pd.crosstab(data["a"], data["b"]), correction=False)[0]
    assert res.pearson == pytest.approx(pearson, rel=1e-10)
    assert res.statistic == pytest.approx(pearson / (2 * n / (n - 1)), rel=1e-8)
    assert res.ndf == pytest.approx(2.0) and res.ddf == pytest.approx(2.0 * (n - 1))
    with pytest.raises(DataError):
        st.chisq(st.Survey(data, st.Design(weight="wt")), "a", "b", statistic="G")


def test_value_inside_the_span_of_a_numeric_item_is_a_valid_zero(survey, meta):
    # 0-10 item labelled only at its ends; nobody answered 7
    frame = survey.data.assign(s=np.resize([0, 3, 10, 5], len(survey)))
    labels = {**meta.value_labels, "s": {0: "Not at all", 10: "Completely"}}
    wide = st.Survey(frame, survey.design, meta.replace(value_labels=labels), small_base=OPEN)
    assert wide.proportion("s", value=7).table["estimate"].iloc[0] == 0.0
    with pytest.raises(DataError, match="does not occur"):
        wide.proportion("s", value=11)  # outside the span: still an error
    with pytest.raises(DataError, match="does not occur"):
        wide.proportion("s", value=2.5)  # not a whole code

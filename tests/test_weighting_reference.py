"""Raking against R: survey::rake() + svymean/svytotal on the api data.

Reference values: tests/reference/weighting/rake_api.R (R 4.2.2, survey 4.1.1;
the version line heads each CSV). R was run with rake(control = list(maxit =
1000, epsilon = 1e-14)) so that its weights are the raking fixed point.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import surveytools as st
from surveytools.weighting.targets import read_targets
from surveytools.estimation.variance import replicate_covariance, taylor_covariance

REF = Path(__file__).parent / "reference" / "weighting"
WEIGHTS = pd.read_csv(REF / "rake_api_weights.csv", comment="#")
ESTIMATES = pd.read_csv(REF / "rake_api_estimates.csv", comment="#")
CLUS1 = pd.read_csv(REF / "apiclus1.csv")
STRAT = pd.read_csv(REF / "apistrat.csv")
# pop.types and pop.schwide of R's ?rake example; the crossed margin and comp.imp
# are table(apipop$stype, apipop$sch.wide) and table(apipop$comp.imp).
TWO_MARGINS = {"stype": {"E": 4421, "H": 755, "M": 1018}, "sch_wide": {"No": 1072, "Yes": 5122}}
CROSSED = {("stype", "sch_wide"): {("E", "No"): 472, ("E", "Yes"): 3949, ("H", "No"): 334,
                                   ("H", "Yes"): 421, ("M", "No"): 266, ("M", "Yes"): 752},
           "comp_imp": {"No": 1712, "Yes": 4482}}
CLUS1_DESIGN = st.Design(weight="pw", psu="dnum", fpc="fpc")
CASES = {
    "clus1_two": (CLUS1, CLUS1_DESIGN, TWO_MARGINS),
    "strat_two": (STRAT, st.Design(weight="pw", strata="stype", fpc="fpc"), TWO_MARGINS),
    "clus1_crossed": (CLUS1, CLUS1_DESIGN, CROSSED),
}


def r_weights(case, column="weight"):
    rows = WEIGHTS[(WEIGHTS["case"] == case) & (WEIGHTS["column"] == column)]
    return rows.sort_values("row")["value"].to_numpy(float)


def r_estimates(case):
    return ESTIMATES[ESTIMATES["case"] == case].set_index(["statistic", "variable"])


def outcomes(data):
    """(statistic, variable, y) of every stored estimate."""
    return [("mean", "api00", data["api00"]), ("mean", "enroll", data["enroll"]),
            ("proportion", "awards=No", data["awards"] == "No"),
            ("proportion", "awards=Yes", data["awards"] == "Yes"), ("total", "enroll", data["enroll"])]


def estimate_and_scores(weights, statistic, y):
    """A ratio mean or a total and its linearisation scores (independent of the estimators)."""
    y = np.asarray(y, float)
    if statistic == "total":
        return (weights * y).sum(), weights * y
    mean = (weights * y).sum() / weights.sum()
    return mean, weights * (y - mean) / weights.sum()


@pytest.mark.parametrize("case", sorted(CASES))
def test_raked_weights_match_r(case):
    data, design, margins = CASES[case]
    raked = st.rake(st.Survey(data, design), margins)
    np.testing.assert_allclose(raked.weights.to_numpy(), r_weights(case), rtol=1e-8, atol=0)


@pytest.mark.parametrize("case", sorted(CASES))
def test_post_raking_linearisation_se_match_r(case):
    data, design, margins = CASES[case]
    raked = st.rake(st.Survey(data, design), margins)
    weights = raked.weights.to_numpy()
    expected = r_estimates(case)
    for statistic, variable, y in outcomes(data):
        estimate, scores = estimate_and_scores(weights, statistic, y)
        se = np.sqrt(taylor_covariance(raked.sample.prepared, scores)[0, 0])
        r = expected.loc[(statistic, variable)]
        assert estimate == pytest.approx(float(r["estimate"]), rel=1e-8)
        assert se == pytest.approx(float(r["se"]), rel=1e-8)


def test_raking_changes_the_linearisation_se():
    """The calibration hook matters: without it the SE is R's unraked-formula SE."""
    raked = st.rake(st.Survey(CLUS1, CLUS1_DESIGN), TWO_MARGINS)
    weights = raked.weights.to_numpy()
    _, scores = estimate_and_scores(weights, "mean", CLUS1["api00"])
    naive = np.sqrt(taylor_covariance(raked.replace(calibration=None).sample.prepared, scores)[0, 0])
    r_se = float(r_estimates("clus1_two").loc[("mean", "api00"), "se"])
    assert abs(naive / r_se - 1) > 1e-3


def jk1_survey():
    design_row = pd.read_csv(REF / "rake_api_jk1_design.csv", comment="#").iloc[0]
    reps = {f"rep{j}": r_weights("clus1_jk1_initial", f"rep{j}") for j in range(1, 16)}
    data = CLUS1.assign(**reps)
    design = st.ReplicateDesign(weight="pw", replicate_weights=list(reps), method="JK1",
                                scale=float(design_row["scale"]))
    return st.Survey(data, design)


def test_replicate_weights_are_raked_as_r():
    raked = st.rake(jk1_survey(), TWO_MARGINS)
    np.testing.assert_allclose(raked.weights.to_numpy(), r_weights("clus1_jk1"), rtol=1e-8)
    for j, column in enumerate(raked.design.replicate_weights, start=1):
        np.testing.assert_allclose(raked.data[column].to_numpy(), r_weights("clus1_jk1", f"rep{j}"),
                                   rtol=1e-8, err_msg=column)
    assert raked.calibration is None


def test_post_raking_replicate_se_match_r():
    raked = st.rake(jk1_survey(), TWO_MARGINS)
    columns = [raked.design.weight, *raked.design.replicate_weights]
    matrix = raked.data[columns].to_numpy()
    expected = r_estimates("clus1_jk1")
    for statistic, variable, y in outcomes(CLUS1):
        values = [estimate_and_scores(matrix[:, j], statistic, y)[0] for j in range(len(columns))]
        cov = replicate_covariance(raked.sample.prepared, np.array(values[:1]), np.array(values[1:]))
        r = expected.loc[(statistic, variable)]
        assert values[0] == pytest.approx(float(r["estimate"]), rel=1e-8)
        assert np.sqrt(cov[0, 0]) == pytest.approx(float(r["se"]), rel=1e-8)


# Wave 2024 of the example tracker raked to the five margins of its targets file
# (tracker_rake.R; inputs from make_tracker_slice.py).
TRACKER = pd.read_csv(REF / "tracker2024_slice.csv")


def raked_tracker():
    targets = read_targets(REF / "tracker_targets.toml")
    return st.rake(st.Survey(TRACKER, st.Design(weight="design_weight")), targets)


def test_tracker_raked_weights_match_r():
    r = pd.read_csv(REF / "tracker_rake_weights.csv", comment="#").sort_values("row")
    raked = raked_tracker()
    np.testing.assert_allclose(raked.weights.to_numpy(), r["value"].to_numpy(float), rtol=1e-8)
    report = raked.meta.notes["raking"]
    assert report.converged and report.max_deviation <= 1e-10
    assert set(report.margins["margin"]) == {"age_band x gender", "region", "education",
                                             "ethnicity", "digital_familiarity"}


def test_tracker_post_raking_se_match_r():
    expected = pd.read_csv(REF / "tracker_rake_estimates.csv", comment="#").set_index("variable")
    raked = raked_tracker()
    weights = raked.weights.to_numpy()
    answered = (TRACKER["trust_nhs"] != 98).to_numpy()
    cases = {"age": ("mean", TRACKER["age"], weights),
             "ai_use_month=1": ("mean", TRACKER["ai_use_month"] == 1, weights),
             "trust_nhs>=7 (98 out)": ("mean", TRACKER["trust_nhs"].between(7, 10), weights * answered)}
    for variable, (statistic, y, w) in cases.items():
        estimate, scores = estimate_and_scores(w, statistic, y)
        se = np.sqrt(taylor_covariance(raked.sample.prepared, scores)[0, 0])
        r = expected[expected["statistic"] != "total"].loc[variable]
        assert estimate == pytest.approx(float(r["estimate"]), rel=1e-8), variable
        assert se == pytest.approx(float(r["se"]), rel=1e-8), variable
    total, scores = estimate_and_scores(weights, "total", TRACKER["ai_use_month"] == 1)
    r = expected[expected["statistic"] == "total"].iloc[0]
    assert total == pytest.approx(float(r["estimate"]), rel=1e-8)
    assert np.sqrt(taylor_covariance(raked.sample.prepared, scores)[0, 0]) == pytest.approx(
        float(r["se"]), rel=1e-8)


def test_survey_estimators_see_the_raking():
    """survey.mean / survey.proportion of a raked Survey give R's post-raking SEs."""
    expected = pd.read_csv(REF / "tracker_rake_estimates.csv", comment="#")
    expected = expected[expected["statistic"] != "total"].set_index("variable")
    raked = raked_tracker()
    raked = raked.replace(meta=raked.meta.replace(missing={"trust_nhs": [98]}))
    results = {"age": raked.mean("age"),
               "ai_use_month=1": raked.proportion("ai_use_month", value=1),
               "trust_nhs>=7 (98 out)": raked.proportion("trust_nhs", value=list(range(7, 11)))}
    for variable, estimate in results.items():
        row = estimate.to_frame(suppress=False).iloc[0]
        assert row["estimate"] == pytest.approx(float(expected.loc[variable, "estimate"]), rel=1e-8)
        assert row["se"] == pytest.approx(float(expected.loc[variable, "se"]), rel=1e-8), variable

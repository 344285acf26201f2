"""Design-based logistic regression against R's svyglm(family = quasibinomial()).

Reference values, next to the scripts that wrote them (the R and survey
versions head each CSV, the R call is in ``r_call``):
tests/reference/regression/svyglm_reference.R -> svyglm_reference.csv (api
and nhanes data) and tests/reference/regression/tracker_svyglm.R ->
tracker_svyglm.csv (the example tracker's wave 2024, with its weights and
raked by ../weighting/tracker_raked.R).  Fitted with glm.control(epsilon =
1e-14) so that R's coefficients are converged to machine precision.
Odds-ratio intervals are R's exp(confint(m, ddf = m$df.residual)).
"""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import surveytools as st

HERE = Path(__file__).parent / "reference"
REF = pd.concat([pd.read_csv(HERE / "regression" / name, comment="#")
                 for name in ("svyglm_reference.csv", "tracker_svyglm.csv")])
CLUS1 = pd.read_csv(HERE / "weighting" / "apiclus1.csv")
STRAT = pd.read_csv(HERE / "weighting" / "apistrat.csv")
NHANES = pd.read_csv(HERE / "regression" / "nhanes.csv")
# Wave 2024 of the example tracker (tests/reference/weighting/make_tracker_slice.py); 98 = "Don't know"
TRACKER = st.Survey(pd.read_csv(HERE / "weighting" / "tracker2024_slice.csv"),
                    st.Design(weight="weight"), st.Metadata(missing={"trust_nhs": [98]}))
TRACKER_TARGETS = HERE / "weighting" / "tracker_targets.toml"  # read by st.read_targets
DRIVERS = "I(trust_nhs >= 7) ~ C(age_band) + C(digital_familiarity)"
API = "I(sch_wide == 'Yes') ~ ell + meals + stype"
CLUS1_DESIGN = st.Design(weight="pw", psu="dnum", fpc="fpc")
TWO_MARGINS = {"stype": {"E": 4421, "H": 755, "M": 1018}, "sch_wide": {"No": 1072, "Yes": 5122}}


def python_name(term: str) -> str:
    """patsy's name of an R coefficient: (Intercept), stypeH, factor(race)2, agecat(19,39]."""
    if term == "(Intercept)":
        return "Intercept"
    factor = re.fullmatch(r"factor\((\w+)\)(.+)", term)
    if factor:
        return f"C({factor[1]})[T.{factor[2]}]"
    for factor in ("stype", "agecat"):
        if term.startswith(factor):
            return f"{factor}[T.{term.removeprefix(factor)}]"
    return term


def r_values(case, column):
    r = REF[REF["case"] == case]
    return pd.Series(r[column].to_numpy(float), index=r["term"].map(python_name))


def jk1_survey():
    weights = pd.read_csv(HERE / "weighting" / "rake_api_weights.csv", comment="#")
    initial = weights[weights["case"] == "clus1_jk1_initial"]
    reps = {c: g.sort_values("row")["value"].to_numpy(float) for c, g in initial.groupby("column")}
    scale = float(pd.read_csv(HERE / "weighting" / "rake_api_jk1_design.csv", comment="#")["scale"][0])
    return st.Survey(CLUS1.assign(**reps), st.ReplicateDesign(
        weight="pw", replicate_weights=sorted(reps, key=lambda c: int(c[3:])), method="JK1",
        scale=scale))


FITS = {
    "strat_api": lambda: st.logit(st.Survey(STRAT, st.Design(weight="pw", strata="stype", fpc="fpc")), API),
    "clus1_api": lambda: st.logit(st.Survey(CLUS1, CLUS1_DESIGN), API),
    "clus1_api_subset": lambda: st.logit(st.Survey(CLUS1, CLUS1_DESIGN),
                                         "I(sch_wide == 'Yes') ~ ell + meals", where="stype != 'H'"),
    "raked_api": lambda: st.logit(st.rake(st.Survey(CLUS1, CLUS1_DESIGN), TWO_MARGINS), API),
    "jk1_api": lambda: st.logit(jk1_survey(), API),
    "nhanes": lambda: st.logit(
        st.Survey(NHANES, st.Design(weight="WTMEC2YR", strata="SDMVSTRA", psu="SDMVPSU", nest=True)),
        "HI_CHOL ~ C(race) + agecat + RIAGENDR"),
    "tracker_weight": lambda: st.logit(TRACKER, DRIVERS),
    "tracker_raked": lambda: st.logit(
        st.rake(TRACKER.replace(design=st.Design(weight="design_weight")),
                st.read_targets(TRACKER_TARGETS)), DRIVERS),
}


@pytest.mark.parametrize("case", sorted(FITS))
def test_coefficients_ses_and_df_match_r(case):
    fit = FITS[case]()
    assert sorted(fit.params.index) == sorted(r_values(case, "estimate").index)
    for attribute, column, rtol in (("params", "estimate", 1e-8), ("bse", "se", 1e-8),
                                    ("pvalues", "p_value", 1e-6)):
        expected = r_values(case, column)
        np.testing.assert_allclose(getattr(fit, attribute)[expected.index], expected, rtol=rtol,
                                   err_msg=attribute)
    assert fit.df_resid == r_values(case, "df_resid").iloc[0]


@pytest.mark.parametrize("case", sorted(FITS))
def test_odds_ratio_intervals_match_r(case):
    odds = FITS[case]().odds_ratios()
    for column, r_column in (("ci_low", "or_low"), ("ci_high", "or_high")):
        expected = r_values(case, r_column)
        np.testing.assert_allclose(odds.loc[expected.index, column], expected, rtol=1e-6)
    expected = np.exp(r_values(case, "estimate"))
    np.testing.assert_allclose(odds.loc[expected.index, "odds_ratio"], expected, rtol=1e-8)


def test_rows_with_missing_outcome_leave_the_model_but_not_the_design():
    """nhanes has missing HI_CHOL: the fit uses the complete rows only."""
    fit = FITS["nhanes"]()
    complete = NHANES[["HI_CHOL", "race", "agecat", "RIAGENDR"]].notna().all(axis=1)
    assert fit.n == int(complete.sum()) < len(NHANES)


def test_user_missing_codes_leave_the_model():
    """trust_nhs = 98 ("Don't know") is out of the model and reported, as R's NA."""
    fit = FITS["tracker_weight"]()
    assert fit.n == int((TRACKER.data["trust_nhs"] != 98).sum())
    assert fit.excluded_codes == {"trust_nhs": (98,)}

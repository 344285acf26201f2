"""Unit tests of st.logit: errors, domains, user-missing codes, result object."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import surveytools as st


def make_survey(n=600, seed=3, **design):
    rng = np.random.default_rng(seed)
    data = pd.DataFrame({
        "w": rng.uniform(0.5, 3.0, n), "age": rng.integers(18, 90, n),
        "region": rng.integers(1, 5, n), "psu": rng.integers(0, 40, n)})
    data["stratum"] = data["psu"] % 4
    eta = -2 + 0.03 * data["age"] + 0.4 * (data["region"] == 2)
    data["trust"] = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(int)
    data["score"] = np.where(data["trust"] == 1, rng.integers(7, 11, n), rng.integers(0, 7, n))
    data.loc[rng.choice(n, 40, replace=False), "score"] = 98  # "Don't know"
    meta = st.Metadata(missing={"score": [98]}, file="wave.sav")
    return st.Survey(data, st.Design(weight="w", **design), meta)


def statsmodels_fit(data, formula):
    """Independent point estimates: statsmodels' GLM with the survey weights."""
    model = sm.GLM.from_formula(formula, data, family=sm.families.Binomial(),
                                freq_weights=data["w"].to_numpy())
    return model.fit(tol=1e-14).params


def test_point_estimates_match_weighted_glm():
    survey = make_survey()
    fit = st.logit(survey, "trust ~ age + C(region)")
    expected = statsmodels_fit(survey.data, "trust ~ age + C(region)")
    np.testing.assert_allclose(fit.params[expected.index], expected, rtol=1e-9)


def test_domain_keeps_the_design_and_matches_the_subset_fit():
    survey = make_survey(strata="stratum", psu="psu")
    fit = st.logit(survey, "trust ~ age", where="region != 3")
    subset = survey.data[survey.data["region"] != 3]
    np.testing.assert_allclose(fit.params, statsmodels_fit(subset, "trust ~ age"), rtol=1e-9)
    assert fit.n == len(subset)
    # same coefficients whether the other rows are out by where= or by a zero weight
    zeroed = survey.data.assign(w=np.where(survey.data["region"] != 3, survey.data["w"], 0.0))
    same = st.logit(st.Survey(zeroed, survey.design, survey.meta), "trust ~ age")
    np.testing.assert_allclose(fit.params, same.params, rtol=1e-10)
    np.testing.assert_allclose(fit.bse, same.bse, rtol=1e-10)


def test_user_missing_outcome_codes_are_out_and_reported():
    survey = make_survey()
    fit = st.logit(survey, "I(score >= 7) ~ age")
    answered = survey.data[survey.data["score"] != 98]
    np.testing.assert_allclose(
        fit.params.to_numpy(),
        statsmodels_fit(answered.assign(high=(answered["score"] >= 7).astype(int)),
                        "high ~ age").to_numpy(), rtol=1e-9)
    assert fit.n == len(answered) and fit.excluded_codes == {"score": (98,)}
    assert "score: 98" in fit.summary()


def test_result_tables_are_consistent():
    fit = st.logit(make_survey(strata="stratum", psu="psu"), "trust ~ age + C(region)")
    frame = fit.to_frame()
    assert list(frame.index) == list(fit.params.index)
    np.testing.assert_allclose(frame["t"], fit.params / fit.bse)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.cov_params())), fit.bse)
    # 40 PSUs in 4 strata: 36 design df, + 1 - 5 coefficients
    assert fit.df_resid == 36 + 1 - 5
    odds = fit.odds_ratios(0.9)
    from scipy import stats
    t = stats.t.ppf(0.95, fit.df_resid)
    np.testing.assert_allclose(odds["ci_high"], np.exp(fit.params + t * fit.bse))
    assert (odds["ci_low"] < odds["odds_ratio"]).all()


def test_survey_unchanged():
    survey = make_survey()
    before = survey.data.copy()
    st.logit(survey, "I(score >= 7) ~ age", where={"region": [1, 2]})
    pd.testing.assert_frame_equal(survey.data, before)


def test_unknown_column_is_named_with_close_matches():
    with pytest.raises(st.DataError, match="column not found") as err:
        st.logit(make_survey(), "trust ~ aeg + C(region)")
    assert err.value.column == "aeg" and "age" in str(err.value)


def test_outcome_not_zero_one_names_the_row():
    survey = make_survey()
    with pytest.raises(st.DataError, match="must be 0 or 1") as err:
        st.logit(survey, "region ~ age")
    first = int(np.flatnonzero(~survey.data["region"].isin([0, 1]))[0]) + 1
    assert err.value.row == first and err.value.column == "region"


def test_outcome_with_many_categories():
    with pytest.raises(st.DataError, match="two values"):
        st.logit(make_survey(), "C(region) ~ age")


def test_collinear_predictors():
    survey = make_survey()
    data = survey.data.assign(age2=survey.data["age"] * 2)
    with pytest.raises(st.DataError, match="collinear") as err:
        st.logit(st.Survey(data, survey.design), "trust ~ age + age2")
    assert "age2" in err.value.column or "age" in err.value.column


def test_perfect_separation_does_not_converge():
    data = pd.DataFrame({"w": 1.0, "x": np.arange(20.0), "y": [0] * 10 + [1] * 10})
    with pytest.raises(st.DataError, match="did not converge"):
        st.logit(st.Survey(data, st.Design(weight="w")), "y ~ x")


def test_bad_formula():
    with pytest.raises(st.DataError, match="outcome"):
        st.logit(make_survey(), "age + region")
    with pytest.raises(st.DataError, match="no respondents"):
        st.logit(make_survey(), "trust ~ age", where="region > 10")

"""Property tests (hypothesis) of the estimators: invariances and bounds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st_

import surveytools as st

OPEN = st.SmallBaseRule(suppress_below=0, flag_below=0)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st_.composite
def surveys(draw):
    """A stratified cluster sample: 2-4 strata of 2-4 PSUs, 2-6 rows each."""
    seed = draw(st_.integers(0, 2 ** 32 - 1))
    rng = np.random.default_rng(seed)
    n_strata = draw(st_.integers(2, 4))
    rows = []
    psu = 0
    for h in range(n_strata):
        for _ in range(int(rng.integers(2, 5))):
            size = int(rng.integers(2, 7))
            rows.append(pd.DataFrame({"stratum": h, "psu": psu, "row": np.arange(size)}))
            psu += 1
    data = pd.concat(rows, ignore_index=True)
    n = len(data)
    return data.assign(wt=rng.uniform(0.2, 5.0, n), g=rng.integers(1, 3, n),
                       y=rng.normal(0, 3, n).round(2), b=rng.integers(0, 2, n))


def _survey(data):
    return st.Survey(data, st.Design(weight="wt", strata="stratum", psu="psu"), small_base=OPEN)


@SETTINGS
@given(surveys(), st_.floats(0.01, 100))
def test_scaling_weights_changes_no_mean_or_share(data, factor):
    a, b = _survey(data), _survey(data.assign(wt=data["wt"] * factor))
    for method in ("mean", "proportion"):
        kwargs = {"value": 1} if method == "proportion" else {}
        ea = getattr(a, method)("b" if kwargs else "y", by="g", **kwargs).table
        eb = getattr(b, method)("b" if kwargs else "y", by="g", **kwargs).table
        np.testing.assert_allclose(ea["estimate"], eb["estimate"], rtol=1e-9)
        np.testing.assert_allclose(ea["se"], eb["se"], rtol=1e-7, atol=1e-12)
    ta, tb = a.total("y").table, b.total("y").table
    np.testing.assert_allclose(tb["estimate"], ta["estimate"] * factor, rtol=1e-9, atol=1e-9)


@SETTINGS
@given(surveys(), st_.integers(0, 2 ** 32 - 1))
def test_row_order_does_not_matter(data, seed):
    shuffled = data.sample(frac=1, random_state=np.random.RandomState(seed % 2 ** 31))
    a = _survey(data).distribution("b", by="g").table
    b = _survey(shuffled).distribution("b", by="g").table
    np.testing.assert_allclose(a["estimate"], b["estimate"], rtol=1e-10)
    np.testing.assert_allclose(a["se"], b["se"], rtol=1e-8, atol=1e-13)


@SETTINGS
@given(surveys(), st_.sampled_from(["logit", "beta", "wilson", "wald"]))
def test_proportions_bounded_and_ci_contains_estimate(data, ci):
    table = _survey(data).proportion("b", value=1, by="g", ci=ci).table
    p = table["estimate"]
    assert ((p >= 0) & (p <= 1)).all()
    assert (table["se"] >= 0).all()
    inside = table.dropna(subset=["ci_low", "ci_high"])
    tol = 1e-12
    assert (inside["ci_low"] <= inside["estimate"] + tol).all()
    assert (inside["estimate"] <= inside["ci_high"] + tol).all()


@SETTINGS
@given(surveys())
def test_domain_equals_subset_estimate_and_full_design_domain_variance(data):
    """Domain mean = mean on the subset; its SE is the full-design formula.

    With strata h and PSUs i, the domain mean's linearised variance is
    sum_h n_h/(n_h-1) sum_i (z_hi - zbar_h)^2, z_hi = sum_{j in PSU} d_j w_j (y_j - ybar_d) / W_d,
    where zbar_h averages over *all* PSUs of stratum h in the full sample,
    including PSUs without domain members (z = 0). Dropping those PSUs (the
    subset analysis) changes n_h and zbar_h, which is why domain SEs differ
    from subset SEs; this test computes the full-design formula directly.
    """
    s = _survey(data)
    est = s.mean("y", where=data["g"] == 1).table.iloc[0]
    d = (data["g"] == 1).to_numpy()
    w, y = data["wt"].to_numpy(), data["y"].to_numpy()
    ybar = np.average(y[d], weights=w[d])
    assert est["estimate"] == pytest.approx(ybar, rel=1e-12)
    subset = st.Survey(data[d], st.Design(weight="wt"), small_base=OPEN).mean("y").table.iloc[0]
    assert est["estimate"] == pytest.approx(subset["estimate"], rel=1e-12)
    z = pd.Series(np.where(d, w * (y - ybar) / w[d].sum(), 0.0)).groupby(data["psu"]).sum()
    strata = data.groupby("psu")["stratum"].first()
    n_h = strata.map(strata.value_counts())
    centred = z - z.groupby(strata).transform("mean")
    assert est["se"] == pytest.approx(np.sqrt((n_h / (n_h - 1) * centred ** 2).sum()), rel=1e-9,
                                      abs=1e-14)


@SETTINGS
@given(surveys())
def test_methods_never_change_the_survey(data):
    s = _survey(data)
    before = s.data.copy()
    s.mean("y", by="g")
    s.distribution("b", by=["g", "stratum"], where={"g": 1})
    s.proportion("b", value=1, where=data["g"] == 2)
    st.chisq(s, "b", "g")
    pd.testing.assert_frame_equal(s.data, before)
    pd.testing.assert_frame_equal(data, before)

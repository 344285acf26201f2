"""Input that R's survey package refuses is refused here too, with a named error.

Each case names the column (and row where there is one), what was found and
a fix whose code works; nothing is coerced into a number.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import surveytools as st
from surveytools.core.errors import DataError, DesignError


def _frame(**columns) -> pd.DataFrame:
    base = {"wt": [1.0, 2.0, 1.0, 2.0, 1.0, 1.0], "x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]}
    base.update(columns)
    return pd.DataFrame(base)


def test_duplicate_column_names_are_refused():
    data = pd.DataFrame([[1.0, 2.0, 3.0]], columns=["wt", "x", "x"])
    with pytest.raises(DataError, match="column names must be unique") as caught:
        st.Survey(data, st.Design(weight="wt"))
    assert caught.value.column == "x"
    assert "df.columns.duplicated()" in str(caught.value)


def test_non_string_column_names_are_refused_and_the_hint_works():
    data = pd.DataFrame({0: [1.0, 1.0], "x": [1.0, 2.0]})
    with pytest.raises(DataError, match="column names must be text"):
        st.Survey(data, st.Design(weight="x"))
    data.columns = [str(c) for c in data.columns]  # the hint, as printed
    assert len(st.Survey(data, st.Design(weight="x"))) == 2


@pytest.mark.parametrize("by", ["g", ["g", "h"], ["h", "g"]])
def test_all_missing_by_column_is_a_named_error(by):
    survey = st.Survey(_frame(g=[np.nan] * 6, h=[1, 2, 1, 2, 1, 2]), st.Design(weight="wt"))
    with pytest.raises(DataError, match="no respondent in scope has an answer") as caught:
        survey.mean("x", by=by)
    assert "g" in caught.value.column
    assert "value_counts(dropna=False)" in str(caught.value)


def test_by_column_all_user_missing_is_a_named_error():
    meta = st.Metadata(missing={"g": st.MissingSpec(values=(9,))})
    survey = st.Survey(_frame(g=[9] * 6), st.Design(weight="wt"), meta)
    with pytest.raises(DataError, match="user-missing"):
        survey.proportion("x", value=1.0, by="g")


def test_infinite_value_in_the_analysed_variable_names_its_row():
    survey = st.Survey(_frame(x=[1.0, 2.0, np.inf, 4.0, 5.0, 6.0]), st.Design(weight="wt"))
    with pytest.raises(DataError, match="finite") as caught:
        survey.mean("x")
    assert (caught.value.column, caught.value.row) == ("x", 3)
    # the hint's where= leaves the row out and then estimates
    where = np.isfinite(survey.data["x"])
    assert survey.mean("x", where=where).table["n"].iloc[0] == 5


def test_infinite_value_outside_the_base_does_not_matter():
    survey = st.Survey(_frame(x=[1.0, 2.0, np.inf, 4.0, 5.0, 6.0], g=[1, 1, np.nan, 2, 2, 2]),
                       st.Design(weight="wt"))
    assert survey.mean("x", where=survey.data["g"].notna().to_numpy()).table["n"].iloc[0] == 5


def test_overflowing_total_is_a_named_error():
    survey = st.Survey(pd.DataFrame({"wt": [1e300, 1e300], "x": [1e300, 1.0]}),
                       st.Design(weight="wt"))
    with np.errstate(all="ignore"), pytest.raises(DataError, match="overflows"):
        survey.total("x")


def test_weights_whose_sum_overflows_are_refused():
    with pytest.raises(DataError, match="sum overflows") as caught:
        st.Survey(pd.DataFrame({"wt": [1.7e308, 1.7e308]}), st.Design(weight="wt"))
    assert caught.value.column == "wt"


def _strata_frame(fpc):
    return pd.DataFrame({"wt": [1.0] * 6, "s": [1, 1, 1, 2, 2, 2], "p": [1, 2, 3, 4, 5, 6],
                         "f": fpc, "x": [1.0, 2, 3, 4, 5, 6]})


def test_fpc_below_the_number_of_sampled_psus_is_refused_as_in_r():
    # R: svydesign(..., fpc=~f) stops with "FPC implies >100% sampling in some strata"
    with pytest.raises(DataError, match="smaller than the number of PSUs") as caught:
        st.Survey(_strata_frame([10.0] * 3 + [2.0] * 3),
                  st.Design(weight="wt", strata="s", psu="p", fpc="f"))
    assert caught.value.column == "f" and caught.value.row == 4
    assert "stratum 2" in str(caught.value)


def test_fpc_equal_to_the_psu_count_is_a_census_stratum():
    survey = st.Survey(_strata_frame([10.0] * 3 + [3.0] * 3),
                       st.Design(weight="wt", strata="s", psu="p", fpc="f"))
    assert np.isfinite(survey.mean("x").table["se"].iloc[0])


def _reused_psus():
    return pd.DataFrame({"wt": [1.0] * 8, "s": [1, 1, 1, 1, 2, 2, 2, 2],
                         "p": [1, 1, 2, 2, 1, 1, 2, 2], "x": [1.0, 2, 3, 4, 6, 5, 8, 9]})


def test_psu_ids_reused_across_strata_need_nest_true():
    with pytest.raises(DataError, match="PSU ids repeat across strata") as caught:
        st.Survey(_reused_psus(), st.Design(weight="wt", strata="s", psu="p"))
    message = str(caught.value)
    assert "stratum 1" in message and "stratum 2" in message
    assert caught.value.row == 5
    assert "nest=True" in message


def test_nest_true_treats_reused_ids_as_distinct_psus():
    nested = st.Survey(_reused_psus(), st.Design(weight="wt", strata="s", psu="p", nest=True))
    data = _reused_psus().assign(p=lambda d: d["s"] * 10 + d["p"])
    distinct = st.Survey(data, st.Design(weight="wt", strata="s", psu="p"))
    mine, theirs = nested.mean("x").table, distinct.mean("x").table
    assert mine["se"].iloc[0] == pytest.approx(theirs["se"].iloc[0], rel=1e-12)
    assert mine["df"].iloc[0] == 2  # 4 PSUs in 2 strata


def test_nest_must_be_a_boolean():
    with pytest.raises(DesignError, match="nest"):
        st.Design(weight="wt", strata="s", psu="p", nest="yes")

"""Survey: validation of the design columns, immutability, labels."""

import numpy as np
import pandas as pd
import pytest

import surveytools as st
from surveytools import DataError, DesignError, Metadata


def frame(**overrides):
    data = {"wt": [1.0, 2.0, 1.5, 0.5], "s": [1, 1, 2, 2], "c": [1, 2, 3, 4], "q": [1, 2, 8, 1]}
    data.update(overrides)
    return pd.DataFrame(data)


META = Metadata(file="wave.sav", value_labels={"q": {1: "Yes", 2: "No", 8: "Don't know"}})


@pytest.mark.parametrize("weights, message, row", [
    (["1", "x", "1", "1"], "weights must be numeric", 2),
    ([1.0, np.nan, 1.0, 1.0], "weights must not be missing", 2),
    ([1.0, 1.0, -3.0, 1.0], "weights must not be negative", 3),
    ([1.0, 1.0, 1.0, np.inf], "weights must be finite", 4),
    ([0.0, 0.0, 0.0, 0.0], "weights are all zero", None),
])
def test_bad_weights_name_file_column_and_row(weights, message, row):
    with pytest.raises(DataError, match=message) as caught:
        st.Survey(frame(wt=weights), st.Design(weight="wt"), META)
    err = caught.value
    assert (err.file, err.column, err.row) == ("wave.sav", "wt", row)
    assert err.hint


def test_absent_design_column_lists_the_columns():
    with pytest.raises(DesignError, match="design column not found") as caught:
        st.Survey(frame(), st.Design(weight="weight"), META)
    assert caught.value.column == "weight" and "wt" in str(caught.value)


def test_missing_psu_and_varying_fpc_are_rejected():
    with pytest.raises(DataError, match="missing values") as caught:
        st.Survey(frame(c=[1, None, 3, 4]), st.Design(weight="wt", psu="c"))
    assert caught.value.row == 2
    with pytest.raises(DataError, match="constant within a stratum"):
        st.Survey(frame(f=[10, 11, 20, 20]), st.Design(weight="wt", strata="s", fpc="f"))


def test_replace_returns_a_new_survey_and_leaves_the_original():
    survey = st.Survey(frame(), st.Design(weight="wt"), META)
    changed = survey.replace(design=st.Design(weight="wt", strata="s"))
    assert changed.design.strata == "s" and survey.design.strata is None
    reweighted = survey.with_weights([1.0, 1.0, 1.0, 1.0])
    assert reweighted.design.weight == "wt_new" and "wt_new" not in survey.data
    with pytest.raises(TypeError, match="unknown fields"):
        survey.replace(weights=[1])


def test_data_cannot_be_changed_through_the_survey():
    df = frame()
    survey = st.Survey(df, st.Design(weight="wt"))
    view = survey.data
    view.loc[0, "wt"] = 100.0
    df.loc[1, "wt"] = 100.0
    assert survey.weights.tolist() == [1.0, 2.0, 1.5, 0.5]


def test_a_new_design_drops_the_calibration():
    class Calibration:
        def residualise(self, scores):
            return scores

    survey = st.Survey(frame(), st.Design(weight="wt"), calibration=Calibration())
    assert survey.replace(meta=META).calibration is survey.calibration
    assert survey.replace(design=st.Design(weight="wt", strata="s")).calibration is None


def test_labelled_maps_codes_and_keeps_unlabelled_values():
    survey = st.Survey(frame(q=[1.0, 2.0, 5.0, np.nan]), st.Design(weight="wt"), META)
    labelled = survey.labelled("q")
    assert labelled.iloc[:3].tolist() == ["Yes", "No", 5.0] and pd.isna(labelled.iloc[3])

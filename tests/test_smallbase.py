"""The small-base rule: thresholds, flags and blanking of derived columns."""

import numpy as np
import pandas as pd
import pytest

from surveytools import ManifestError, SmallBaseRule
from surveytools.core.smallbase import ESTIMATE_COLUMNS


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


def test_estimate_columns_cover_derived_numbers():
    for column in ("estimate", "se", "ci_low", "ci_high", "change", "p_value", "letters"):
        assert column in ESTIMATE_COLUMNS

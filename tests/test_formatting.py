"""Value formats: one rule per kind of number, used by every output."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from surveytools.core.smallbase import SmallBaseRule
from surveytools.estimation.intervals import CI_METHODS
from surveytools.presentation import formatting as f

RULE = SmallBaseRule(suppress_below=100, flag_below=150)


@pytest.mark.parametrize("value,kind,expected", [
    (0.4549, "share", "45%"), (0.4551, "share", "46%"), (0.0, "share", "0%"),
    (-0.123, "net", "-12"), (0.05, "net", "+5"), (0.0, "net", "+0"),
    (2.3449, "mean", "2.34"), (2.3451, "mean", "2.35"), (6.0, "mean", "6.00"),
    (float("nan"), "share", ""), (None, "mean", ""),
])
def test_format_value(value, kind, expected):
    assert f.format_value(value, kind) == expected


def test_means_have_one_decimals_rule_everywhere():
    assert f.MEAN_DECIMALS == 2
    assert f.format_value(2.3456, "mean") == "2.35"
    assert f.change_text(0.1234, "mean") == "+0.12"
    assert f.excel_format("mean") == "0.00"
    assert f.excel_format("mean", change=True) == "+0.00;-0.00;0.00"
    assert f"{2.3456:.{f.MEAN_DECIMALS}f}" == f.format_value(2.3456, "mean")


def test_intervals_and_changes():
    assert f.format_interval(0.421, 0.478, "share") == "42 to 48%"
    assert f.format_interval(-0.1, 0.05, "net") == "-10 to +5"
    assert f.format_interval(2.1, 2.345, "mean") == "2.10 to 2.35"
    assert f.format_interval(np.nan, 0.5, "share") == ""
    assert f.change_text(0.031, "share") == "+3 pts"
    assert f.change_text(-0.031, "share", significant=True) == "▼ -3 pts"
    assert f.change_text(0.02, "net", significant=True) == "▲ +2 pts"
    assert f.change_text(np.nan, "share", significant=True) == ""


def test_cells_suppressed_low_and_missing():
    assert f.cell_text(0.45, "share", "suppressed", RULE) == "n<100"
    assert f.cell_text(np.nan, "share", "suppressed", RULE) == "n<100"
    assert f.cell_text(0.45, "share", "low", RULE) == "45%*"
    assert f.cell_text(-0.2, "net", "ok", RULE) == "-20"
    assert f.cell_text(np.nan, "mean", "low", RULE) == ""
    assert f.FLAG_TEXT == {"suppressed": "too small: suppressed", "low": "low base"}


def test_shown_values_and_excel_formats():
    assert f.shown_value(0.456789, "share") == 46.0  # as shown: "46%"
    assert f.shown_value(-0.1, "net") == -10.0
    assert f.shown_value(2.34567, "mean") == 2.35
    assert f.shown_value(None, "share") is None
    assert f.excel_format("share") == "0%"
    assert f.excel_format("net") == f.excel_format("share", change=True) == "+0%;-0%;0%"


def test_ci_labels_are_keyed_by_the_one_list_of_methods():
    assert tuple(f.CI_LABELS) == CI_METHODS
    assert f.CI_LABELS["beta"] == "Korn-Graubard (beta)"
    assert f.conf_text(0.95) == "95%" and f.conf_text(0.9) == "90%"


def test_visible_blanks_suppressed_rows_through_the_one_blanking():
    rows = pd.DataFrame({"estimate": [0.5, 0.6], "ci_low": [0.4, 0.5], "change": [0.1, 0.2],
                         "letters": ["B", "A"], "change_significant": [True, False],
                         "n": [20, 900], "base_flag": ["suppressed", "ok"]})
    shown = f.visible(rows)
    assert shown["estimate"].isna().tolist() == [True, False]
    assert shown["ci_low"].isna().tolist() == [True, False]
    assert shown["letters"].tolist() == [None, "A"]
    assert shown["change_significant"].tolist() == [None, False]
    # the base goes too: total minus the other groups' bases would give it away
    assert shown["n"].isna().tolist() == [True, False] and shown["n"].iloc[1] == 900
    assert rows["estimate"].tolist() == [0.5, 0.6]  # a copy

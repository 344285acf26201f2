"""Multiple-comparison adjustment against R's p.adjust, and letters from pairwise tests."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from surveytools.indicators.significance import (adjust_p, column_letters, group_letters,
                                      letters_from_pairs)

REFERENCE = Path(__file__).parent / "reference" / "indicators"


@pytest.mark.parametrize("method", ["bh", "bonferroni", "none"])
def test_adjust_p_matches_r_p_adjust(method):
    # Rscript tests/reference/indicators/p_adjust.R (R 4.2.2, stats::p.adjust)
    ref = pd.read_csv(REFERENCE / "p_adjust.csv")
    got = adjust_p(ref["p"].to_numpy(), method=method)
    np.testing.assert_allclose(got, ref[method].to_numpy(), rtol=1e-12, equal_nan=True)


def test_adjust_p_rejects_unknown_method():
    with pytest.raises(ValueError, match="holm"):
        adjust_p([0.1], method="holm")


def test_adjust_p_all_missing_stays_missing():
    assert np.isnan(adjust_p([np.nan, np.nan])).all()


def test_column_letters_go_past_z():
    letters = column_letters(28)
    assert letters[:3] == ["A", "B", "C"] and letters[25:] == ["Z", "AA", "AB"]


def _pairs(rows):
    return pd.DataFrame(rows, columns=["a", "b", "difference", "p_value"])


def test_letters_mark_the_higher_group_only():
    groups = ["1", "2", "3"]
    pairs = _pairs([("1", "2", 0.10, 0.001),    # 1 > 2, significant
                    ("1", "3", -0.20, 0.0001),  # 3 > 1, significant
                    ("2", "3", -0.05, 0.40)])   # not significant
    tested = letters_from_pairs(pairs, correction="none")
    assert group_letters(groups, tested) == {"1": "B", "2": "", "3": "A"}


def test_correction_can_remove_a_letter():
    groups = ["1", "2", "3"]
    # 0.03 is significant alone; Bonferroni over 3 pairs makes it 0.09.
    pairs = _pairs([("1", "2", 0.1, 0.03), ("1", "3", 0.1, 0.6), ("2", "3", 0.1, 0.7)])
    assert group_letters(groups, letters_from_pairs(pairs, correction="none"))["1"] == "B"
    assert group_letters(groups, letters_from_pairs(pairs,
                                                    correction="bonferroni"))["1"] == ""


def test_suppressed_pairs_do_not_count_in_the_adjustment():
    groups = ["1", "2", "3"]
    # pair (1, 3) is NaN (group 3 suppressed): BH over 2 pairs, not 3.
    pairs = _pairs([("1", "2", 0.1, 0.02), ("1", "3", 0.1, np.nan), ("2", "3", 0.1, np.nan)])
    tested = letters_from_pairs(pairs, correction="bh")
    assert tested["p_adjusted"].iloc[0] == pytest.approx(0.02)
    assert group_letters(groups, tested) == {"1": "B", "2": "", "3": ""}

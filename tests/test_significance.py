"""Multiple-comparison adjustment against R's p.adjust, and letters from pairwise tests."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from surveytools.core.errors import DataError
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
    with pytest.raises(DataError, match="holm"):
        adjust_p([0.1], method="holm")
    with pytest.raises(DataError, match="bh, bonferroni, none"):
        letters_from_pairs(_pairs([]), correction="holm")


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


def test_families_are_adjusted_separately():
    # two breakdowns: BH within each, as over each family's pairs alone
    pairs = _pairs([("1", "2", 0.1, 0.02), ("1", "3", 0.1, 0.04),
                    ("4", "5", 0.1, 0.03)]).assign(family=[1, 1, 2])
    tested = letters_from_pairs(pairs, correction="bh", family="family")
    np.testing.assert_allclose(tested["p_adjusted"],
                               [*adjust_p([0.02, 0.04], method="bh"), 0.03])
    assert list(tested["higher"]) == ["1", "1", "4"]
    pooled = letters_from_pairs(pairs, correction="bonferroni")
    np.testing.assert_allclose(pooled["p_adjusted"], [0.06, 0.12, 0.09])


def test_letters_follow_given_column_letters():
    # a group absent from a wave keeps its column's letter: 1 -> A, 3 -> C
    tested = letters_from_pairs(_pairs([(1, 3, -0.2, 0.001)]), correction="none")
    assert group_letters([1, 3], tested) == {1: "", 3: "A"}
    assert group_letters([1, 3], tested, letters={1: "A", 3: "C"}) == {1: "", 3: "A"}
    tested = letters_from_pairs(_pairs([(1, 3, 0.2, 0.001)]), correction="none")
    assert group_letters([1, 3], tested, letters={1: "A", 3: "C"}) == {1: "C", 3: ""}

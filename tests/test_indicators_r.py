"""Group differences, net scores and wave changes of the cube against R's survey package.

Reference values: ``Rscript tests/reference/indicators/indicators.R``
(R 4.2.2, survey 4.1.1), stored next to the script.
"""

import numpy as np
import pandas as pd

from surveytools.indicators.catalogue import load_breakdowns
from surveytools.indicators.cube import compare_groups

from test_indicators import MANIFEST, cube, tracker  # noqa: F401  (shared fixtures)

REFERENCE = MANIFEST.parents[2] / "tests" / "reference" / "indicators"


def test_pairwise_group_differences_match_svycontrast(cube, tracker):
    # svycontrast(svyby(~trust_high, ~digital_familiarity, ..., covmat=TRUE)), p from t(degf)
    ref = pd.read_csv(REFERENCE / "trust_nhs_digital_2024_pairs.csv")
    digital = load_breakdowns(MANIFEST.parent / "breakdowns.toml")["digital"]
    for correction, column in (("bh", "p_bh"), ("bonferroni", "p_bonferroni")):
        got = compare_groups(tracker["2024"], cube.catalogue["trust_nhs_high"], digital,
                             correction=correction)
        assert list(zip(got["group_a"], got["group_b"])) == [
            (str(a), str(b)) for a, b in zip(ref["a"], ref["b"])]
        np.testing.assert_allclose(got["difference"], ref["difference"], rtol=1e-10)
        np.testing.assert_allclose(got["se"], ref["se"], rtol=1e-8)
        np.testing.assert_allclose(got["df"], ref["df"])
        np.testing.assert_allclose(got["p_value"], ref["p_value"], rtol=1e-6)
        np.testing.assert_allclose(got["p_adjusted"], ref[column], rtol=1e-6)


def test_cube_letters_follow_the_r_adjusted_p_values(cube):
    ref = pd.read_csv(REFERENCE / "trust_nhs_digital_2024_pairs.csv")
    rows = cube.select(indicator="trust_nhs_high", breakdown="digital", waves="2024")
    letters = dict(zip(rows["group"], rows["letters"]))
    letter = dict(zip(rows["group"], rows["letter"]))
    expected = {g: "" for g in letters}
    for a, b, diff, p in zip(ref["a"], ref["b"], ref["difference"], ref["p_bh"]):
        if p < 0.05:
            high, low = (str(a), str(b)) if diff > 0 else (str(b), str(a))
            expected[high] += letter[low]
    assert letters == expected
    assert any(expected.values())  # the reference has at least one significant pair


def test_net_score_and_its_se_match_svycontrast(cube):
    # svycontrast(svymean(~acc_plus + acc_minus, domain), c(1, -1))
    ref = pd.read_csv(REFERENCE / "accept_facial_net_2024.csv")
    rows = cube.select(indicator="accept_facial_net", breakdown=["total", "digital"],
                       waves="2024")
    np.testing.assert_allclose(rows["estimate"], ref["estimate"], rtol=1e-10)
    np.testing.assert_allclose(rows["se"], ref["se"], rtol=1e-8)


def test_wave_change_matches_the_stacked_design(cube):
    # rbind(2023, 2024), svydesign(strata = ~wave), svyby(~y, ~wave) + svycontrast(c(-1, 1))
    ref = pd.read_csv(REFERENCE / "trust_nhs_change_2023_2024.csv")
    rows = cube.select(indicator="trust_nhs_high", breakdown=["total", "digital"],
                       waves="2024")
    np.testing.assert_allclose(rows["change"], ref["change"], rtol=1e-10)
    np.testing.assert_allclose(rows["change_se"], ref["se"], rtol=1e-8)
    np.testing.assert_allclose(rows["change_p"], ref["p_value"], rtol=1e-6)
    assert list(rows["change_significant"]) == list(ref["p_value"] < 0.05)

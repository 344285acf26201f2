"""The production indicator cube against R's survey package: group differences,
significance letters, net scores and wave changes of the example tracker.

Reference values (each row records the R call, R.version.string and the survey
and haven versions that produced it), stored next to the scripts that wrote them:

- ``Rscript tests/reference/indicators/indicators.R``: pairwise differences of
  trust in the NHS by digital familiarity (2024), the net acceptability of live
  facial recognition, the 2023-2024 change;
- ``Rscript tests/reference/indicators/letters.R``: for a share by region (12
  groups, 2024), a net score by ethnic group (5 groups, 2023) and a mean by
  qualification (4 groups, 2022), every pairwise ``svycontrast`` of
  ``svyby(..., covmat=TRUE)``, its t test on ``degf()`` of the base, the
  Benjamini-Hochberg adjustment within the breakdown and the letters.

The cube is the one analysts and dashboards get:
``st.cube(st.read_waves("data/tracker/waves.toml"))`` (fixture ``cube`` in
conftest.py). Tolerances: 1e-8 relative for estimates, differences and SEs,
1e-6 for p-values.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REFERENCE = Path(__file__).parent / "reference" / "indicators"
LETTER_GROUPS = pd.read_csv(REFERENCE / "letters_groups.csv", keep_default_na=False,
                            na_values={"estimate": ["NA"], "se": ["NA"]})
LETTER_PAIRS = pd.read_csv(REFERENCE / "letters_pairs.csv")
LETTER_CASES = list(LETTER_GROUPS[["wave", "indicator", "breakdown"]].astype(str)
                    .drop_duplicates().itertuples(index=False, name=None))


def compare_groups(*args, **kwargs):
    """The cube's pairwise tests (imported here: the indicators modules are being split)."""
    from surveytools.indicators.cube import compare_groups

    return compare_groups(*args, **kwargs)


def _case(frame, wave, indicator, breakdown):
    rows = frame[(frame["wave"].astype(str) == wave) & (frame["indicator"] == indicator)
                 & (frame["breakdown"] == breakdown)]
    assert len(rows), (wave, indicator, breakdown)
    return rows.reset_index(drop=True)


def test_every_reference_row_records_its_r_call_and_versions():
    for path in sorted(REFERENCE.glob("*.csv")):
        frame = pd.read_csv(path, dtype=str)
        version = "stats_version" if path.stem == "p_adjust" else "survey_version"
        for column in ("call", "r_version", version):
            assert column in frame.columns, f"{path.name}: no {column} column"
            assert frame[column].notna().all() and (frame[column].str.len() > 0).all(), path.name
        assert frame["r_version"].str.startswith("R version 4.").all(), path.name


def test_the_letter_cases_cover_a_share_a_net_or_mean_and_a_large_breakdown():
    kinds = set(LETTER_GROUPS["kind"])
    assert "share" in kinds and kinds & {"net", "mean"}
    assert LETTER_GROUPS.groupby(["wave", "indicator", "breakdown"]).size().max() >= 4
    # the reference holds significant and non-significant pairs, and letters
    assert LETTER_PAIRS["significant"].any() and not LETTER_PAIRS["significant"].all()
    assert (LETTER_GROUPS["letters"] != "").any()


@pytest.mark.parametrize("wave, indicator, breakdown", LETTER_CASES)
def test_cube_letters_match_r(cube, wave, indicator, breakdown):
    ref = _case(LETTER_GROUPS, wave, indicator, breakdown)
    rows = cube.select(indicator=indicator, breakdown=breakdown, waves=wave)
    assert list(rows["group"]) == [str(g) for g in ref["group"]]
    assert list(rows["base_flag"] == "suppressed") == list(ref["suppressed"])
    assert list(rows["letter"]) == list(ref["letter"])
    assert list(rows["letters"].fillna("")) == list(ref["letters"])
    assert list(rows["n"]) == list(ref["n"])
    np.testing.assert_allclose(rows["estimate"], ref["estimate"], rtol=1e-8)
    np.testing.assert_allclose(rows["se"], ref["se"], rtol=1e-8)


@pytest.mark.parametrize("wave, indicator, breakdown", LETTER_CASES)
def test_p_values_behind_the_letters_match_r(cube, tracker, wave, indicator, breakdown):
    # the cube's pairwise tests (svycontrast on svyby(covmat=TRUE), t on degf, BH)
    ref = _case(LETTER_PAIRS, wave, indicator, breakdown)
    got = compare_groups(tracker[wave], cube.catalogue[indicator], cube.breakdowns[breakdown],
                         correction="bh")
    assert list(zip(got["group_a"], got["group_b"])) == [
        (str(a), str(b)) for a, b in zip(ref["a"], ref["b"])]
    np.testing.assert_allclose(got["difference"], ref["difference"], rtol=1e-8)
    np.testing.assert_allclose(got["se"], ref["se"], rtol=1e-8)
    np.testing.assert_array_equal(got["df"], ref["df"])
    np.testing.assert_allclose(got["p_value"], ref["p_value"], rtol=1e-6)
    np.testing.assert_allclose(got["p_adjusted"], ref["p_bh"], rtol=1e-6)
    assert list(got["significant"]) == list(ref["significant"])


def test_pairwise_group_differences_match_svycontrast(cube, tracker):
    # svycontrast(svyby(~trust_high, ~digital_familiarity, ..., covmat=TRUE)), p from t(degf)
    ref = pd.read_csv(REFERENCE / "trust_nhs_digital_2024_pairs.csv")
    digital = cube.breakdowns["digital"]
    for correction, column in (("bh", "p_bh"), ("bonferroni", "p_bonferroni")):
        got = compare_groups(tracker["2024"], cube.catalogue["trust_nhs_high"], digital,
                             correction=correction)
        assert list(zip(got["group_a"], got["group_b"])) == [
            (str(a), str(b)) for a, b in zip(ref["a"], ref["b"])]
        np.testing.assert_allclose(got["difference"], ref["difference"], rtol=1e-8)
        np.testing.assert_allclose(got["se"], ref["se"], rtol=1e-8)
        np.testing.assert_allclose(got["df"], ref["df"])
        np.testing.assert_allclose(got["p_value"], ref["p_value"], rtol=1e-6)
        np.testing.assert_allclose(got["p_adjusted"], ref[column], rtol=1e-6)


def test_net_score_and_its_se_match_svycontrast(cube):
    # svycontrast(svymean(~acc_plus + acc_minus, domain), c(1, -1))
    ref = pd.read_csv(REFERENCE / "accept_facial_net_2024.csv")
    rows = cube.select(indicator="accept_facial_net", breakdown=["total", "digital"],
                       waves="2024")
    np.testing.assert_allclose(rows["estimate"], ref["estimate"], rtol=1e-8)
    np.testing.assert_allclose(rows["se"], ref["se"], rtol=1e-8)


def test_wave_change_matches_the_stacked_design(cube):
    # rbind(2023, 2024), svydesign(strata = ~wave), svyby(~y, ~wave) + svycontrast(c(-1, 1))
    ref = pd.read_csv(REFERENCE / "trust_nhs_change_2023_2024.csv")
    rows = cube.select(indicator="trust_nhs_high", breakdown=["total", "digital"],
                       waves="2024")
    np.testing.assert_allclose(rows["change"], ref["change"], rtol=1e-8)
    np.testing.assert_allclose(rows["change_se"], ref["se"], rtol=1e-8)
    np.testing.assert_allclose(rows["change_p"], ref["p_value"], rtol=1e-6)
    assert list(rows["change_significant"]) == list(ref["p_value"] < 0.05)

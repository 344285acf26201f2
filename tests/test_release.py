"""The researchers' guarantee: the published release is reproduced exactly.

``data/tracker/release/published_2021_2024.csv`` was computed by R's survey
package (``make_release.R``, calls and versions in the JSON sidecar) from the
raw wave files, independently of surveytools. Every estimate and SE must be
reproduced from the same raw files through the manifest at 1e-8 relative.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from surveytools.core.errors import DataError, FileFormatError
from surveytools.indicators.release import read_release, reproduce_release, summarise_release

ROOT = Path(__file__).resolve().parents[1]
TRACKER = ROOT / "data" / "tracker"
RELEASE = TRACKER / "release" / "published_2021_2024.csv"
SIDECAR = TRACKER / "release" / "published_2021_2024.json"


# tracker: tests/conftest.py
@pytest.fixture(scope="module")
def comparison(tracker):
    return reproduce_release(tracker, RELEASE)


def test_release_records_r_version_calls_and_inputs():
    sidecar = json.loads(SIDECAR.read_text(encoding="utf-8"))
    assert sidecar["R_version"].startswith("R version 4.")
    assert sidecar["survey_version"] and sidecar["haven_version"]
    calls = "\n".join(sidecar["calls"])
    assert "svydesign(ids = ~1, weights = ~weight, data = data)" in calls
    assert "svyby(~trust_nhs__0" in calls and "svymean, na.rm = TRUE)" in calls
    assert sidecar["rows"] == len(read_release(RELEASE))
    # provenance only: the SPSS header holds a creation time, so a regenerated
    # file with the same data has another md5; the values are what is checked
    assert sorted(sidecar["inputs_md5"]) == sorted(
        ["wave2021.sav", "wave2022.sav", "wave2023.sav", "wave2024.csv"])
    assert all(re.fullmatch(r"[0-9a-f]{32}", md5) for md5 in sidecar["inputs_md5"].values())


def test_release_values_are_stored_at_full_precision():
    raw = pd.read_csv(RELEASE, dtype=str, keep_default_na=False)
    for column in ("estimate", "se"):
        digits = raw[column].str.replace(r"^0\.0*|\.|e.*$", "", regex=True).str.len()
        assert digits.median() >= 16, column


def test_release_covers_every_wave_question_and_breakdown():
    release = read_release(RELEASE)
    assert sorted(release["wave"].unique()) == ["2021", "2022", "2023", "2024"]
    assert set(release["breakdown"]) == {"total", "age_band", "digital_familiarity"}
    families = release["variable"].str.extract(r"^(trust|secure|accept|ai)_")[0]
    assert set(families) == {"trust", "secure", "accept", "ai"}
    per_wave = release.groupby("wave")["variable"].nunique()
    # 8 trust + 3 secure + 8 acceptability (accept_exams from 2023) + ai_benefits
    assert per_wave.to_dict() == {"2021": 19, "2022": 19, "2023": 20, "2024": 20}
    # the renamed question is there in the waves that call it trust_government
    assert {"2021", "2022"} <= set(release.loc[release["variable"] == "trust_govt", "wave"])
    assert (release["indicator"] != "").sum() > 0


def test_every_published_value_is_reproduced(comparison):
    release = read_release(RELEASE)
    assert len(comparison) == 3 * len(release)
    assert comparison["surveytools"].notna().all()
    failures = comparison[~comparison["match"]]
    assert failures.empty, (
        "published values not reproduced (if the example data were regenerated, rerun "
        "Rscript data/tracker/release/make_release.R):\n" + failures.head(10).to_string())
    summary = summarise_release(comparison)
    assert (summary["values"] == len(release)).all()
    assert (summary["matching"] == summary["values"]).all()
    assert summary.loc["estimate", "max_rel_diff"] <= 1e-8
    assert summary.loc["se", "max_rel_diff"] <= 1e-8
    assert summary.loc["n", "max_abs_diff"] == 0


def test_recoded_question_reproduced_on_the_harmonised_scale(comparison):
    # 2021 asked ai_benefits on 3 points; through the manifest's recode its
    # answers land on codes 2-4 of the 5-point scale, as R's release has them
    rows = comparison[(comparison["variable"] == "ai_benefits") & (comparison["wave"] == "2021")
                      & (comparison["breakdown"] == "total") & (comparison["quantity"] == "estimate")]
    by_answer = rows.set_index("answer")["surveytools"]
    assert by_answer["1"] == 0 and by_answer["5"] == 0
    assert by_answer[["2", "3", "4"]].sum() == pytest.approx(1.0, abs=1e-12)
    assert rows["match"].all()


def test_a_changed_published_value_is_caught(tracker, tmp_path):
    release = pd.read_csv(RELEASE, dtype=str, keep_default_na=False)
    target = release.index[(release["variable"] == "trust_nhs") & (release["indicator"] != "")][5]
    release.loc[target, "se"] = repr(float(release.loc[target, "se"]) * (1 + 1e-7))
    changed = tmp_path / "changed.csv"
    release.to_csv(changed, index=False)
    comparison = reproduce_release(tracker, changed)
    failing = comparison[~comparison["match"]]
    assert len(failing) == 1
    assert failing["quantity"].iloc[0] == "se"
    assert failing["rel_diff"].iloc[0] == pytest.approx(1e-7, rel=1e-3)


def test_reproduce_accepts_a_manifest_path(tmp_path):
    subset = tmp_path / "subset.csv"
    release = pd.read_csv(RELEASE, dtype=str, keep_default_na=False)
    release[release["variable"] == "secure_govt"].to_csv(subset, index=False)
    comparison = reproduce_release(TRACKER / "waves.toml", subset)
    assert len(comparison) == 3 * (release["variable"] == "secure_govt").sum()
    assert comparison["match"].all()


@pytest.mark.parametrize("column", ["estimate", "se", "n", "codes"])
def test_bad_values_name_file_column_and_row(tmp_path, column):
    release = pd.read_csv(RELEASE, dtype=str, keep_default_na=False).head(6)
    release.loc[3, column] = "n/a"
    path = tmp_path / "bad.csv"
    release.to_csv(path, index=False)
    with pytest.raises(DataError) as err:
        read_release(path)
    assert err.value.file == str(path) and err.value.column == column and err.value.row == 4


def test_missing_file_and_missing_column(tmp_path):
    with pytest.raises(FileFormatError, match="not found"):
        read_release(tmp_path / "absent.csv")
    path = tmp_path / "short.csv"
    pd.read_csv(RELEASE, dtype=str).drop(columns="se").head(3).to_csv(path, index=False)
    with pytest.raises(FileFormatError) as err:
        read_release(path)
    assert err.value.column == "se"


def test_unknown_wave_or_question_is_rejected(tracker, tmp_path):
    release = pd.read_csv(RELEASE, dtype=str, keep_default_na=False).head(4)
    for column, value in (("wave", "2019"), ("variable", "trust_nobody")):
        bad = release.copy()
        bad.loc[2:, column] = value
        path = tmp_path / f"bad_{column}.csv"
        bad.to_csv(path, index=False)
        with pytest.raises(DataError) as err:
            reproduce_release(tracker, path)
        assert err.value.column == column and err.value.row == 3
        assert err.value.file == str(path)
        assert value in str(err.value)


def test_shares_agree_with_proportion(tracker):
    # indicator rows are sums of answer shares with the distribution's
    # covariance; Survey.proportion with the same codes must agree
    release = read_release(RELEASE)
    row = release[(release["wave"] == "2024") & (release["indicator"] == "accept_facial_share")
                  & (release["breakdown"] == "digital_familiarity")]
    est = tracker["2024"].proportion("accept_facial", value=[4, 5], by="digital_familiarity")
    table = est.table.assign(group=est.table["digital_familiarity"].astype(int).astype(str))
    merged = row.merge(table, on="group", suffixes=("_r", ""))
    assert len(merged) == 3
    np.testing.assert_allclose(merged["estimate"], merged["estimate_r"], rtol=1e-8, atol=0)
    np.testing.assert_allclose(merged["se"], merged["se_r"], rtol=1e-8, atol=0)

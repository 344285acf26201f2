"""The example-data generator and the bundled files in data/.

The bundled files are read with pyreadstat, pandas, json and tomllib
directly (not with surveytools' readers), and every statistic is computed
here with plain numpy, independently of the estimation code.
"""

from __future__ import annotations

import json
import time
import tomllib

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from surveytools.datasets import (
    DEFAULT_SEED, POPULATION_SIZE, draw_wave, example_paths, generate_council,
    generate_population, population_attitudes, population_truth, write_examples,
)
from surveytools.datasets.raking import rake
from surveytools.core.errors import DataError, FileFormatError, WeightingError

PATHS = example_paths()
WAVES = (2021, 2022, 2023, 2024)
TEXT_FILES = ("wave2024", "wave2024_codebook", "population_truth", "targets", "tracker_manifest",
              "council_manifest", "readme")
SAV_FILES = ("wave2021", "wave2022", "wave2023", "council")


def read_wave(wave: int) -> pd.DataFrame:
    """A bundled wave as stored (codes kept, user-missing codes not turned into NaN)."""
    path = PATHS[f"wave{wave}"]
    if path.suffix == ".csv":
        return pd.read_csv(path, encoding="utf-8", keep_default_na=False,
                           dtype={"ai_word": str})
    return pyreadstat.read_sav(path, user_missing=True)[0]


@pytest.fixture(scope="module")
def truth() -> pd.DataFrame:
    return pd.read_csv(PATHS["population_truth"], dtype={"group": str, "value": str})


@pytest.fixture(scope="module")
def population() -> pd.DataFrame:
    return generate_population()


def true_value(truth, wave, variable, value, breakdown="all", group="all") -> float:
    row = truth[(truth.wave == wave) & (truth.breakdown == breakdown) & (truth.group == group)
                & (truth.variable == variable) & (truth.value == str(value))]
    assert len(row) == 1, (wave, variable, value, breakdown, group)
    return float(row["share"].iloc[0])


def share(values, code, missing, weights=None) -> float:
    values = np.asarray(values, dtype=float)
    weights = np.ones(len(values)) if weights is None else np.asarray(weights, dtype=float)
    ok = ~np.isin(values, missing)
    return float(np.sum(weights[ok] * (values[ok] == code)) / np.sum(weights[ok]))


# -- determinism --------------------------------------------------------------
@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    return write_examples(tmp_path_factory.mktemp("data"), seed=DEFAULT_SEED)


@pytest.mark.slow
@pytest.mark.parametrize("key", TEXT_FILES)
def test_regenerated_text_files_are_byte_identical(regenerated, key):
    assert regenerated[key].read_bytes() == PATHS[key].read_bytes()


@pytest.mark.slow
@pytest.mark.parametrize("key", SAV_FILES)
def test_regenerated_sav_files_hold_identical_data_and_metadata(regenerated, key):
    new, new_meta = pyreadstat.read_sav(regenerated[key], user_missing=True)
    old, old_meta = pyreadstat.read_sav(PATHS[key], user_missing=True)
    pd.testing.assert_frame_equal(new, old)
    for attr in ("column_names", "column_labels", "variable_value_labels", "missing_ranges",
                 "variable_measure", "original_variable_types", "file_label", "file_encoding"):
        assert getattr(new_meta, attr) == getattr(old_meta, attr), attr


def test_same_seed_same_draw_other_seed_other_draw(population):
    a = draw_wave(population, wave=2023, n_online=300, n_phone=30, seed=11)
    b = draw_wave(population, wave=2023, n_online=300, n_phone=30, seed=11)
    c = draw_wave(population, wave=2023, n_online=300, n_phone=30, seed=12)
    pd.testing.assert_frame_equal(a, b)
    assert not a.drop(columns="resp_id").equals(c.drop(columns="resp_id"))


def test_bundled_wave_is_what_draw_wave_returns(population):
    # wave2024.csv is written unchanged from draw_wave (2024 is the harmonised layout)
    stored = read_wave(2024)
    drawn = draw_wave(population, wave=2024, n_online=int((stored["mode"] == 1).sum()),
                      n_phone=int((stored["mode"] == 2).sum()), seed=DEFAULT_SEED)
    assert list(drawn.columns) == list(stored.columns)
    numeric = [c for c in stored.columns if c != "ai_word"]
    np.testing.assert_allclose(drawn[numeric].to_numpy(float), stored[numeric].to_numpy(float),
                               rtol=0, atol=5e-7)
    assert drawn["ai_word"].tolist() == stored["ai_word"].tolist()


# -- shapes and structure -------------------------------------------------------
@pytest.mark.parametrize("wave", WAVES)
def test_wave_shape(wave):
    df = read_wave(wave)
    assert 4000 <= len(df) <= 4400
    assert 150 <= int((df["mode"] == 2).sum()) <= 250
    assert set(np.unique(df["mode"])) == {1, 2}
    assert df["resp_id"].is_unique
    assert len(df.columns) == (34 if wave < 2023 else 35)


@pytest.mark.parametrize("wave", WAVES)
def test_harmonisation_structure_in_files(wave):
    df = read_wave(wave)
    old = wave in (2021, 2022)
    assert ("trust_government" in df) == old and ("trust_govt" in df) != old
    assert ("accept_exams" in df) == (wave >= 2023)
    substantive = set(np.unique(df["ai_benefits"])) - {8}
    assert substantive == ({1, 2, 3} if old else {1, 2, 3, 4, 5})


def test_old_ai_benefits_labels_are_the_3_point_scale():
    meta = pyreadstat.read_sav(PATHS["wave2021"], metadataonly=True)[1]
    labels = meta.variable_value_labels["ai_benefits"]
    assert sorted(labels) == [1, 2, 3, 8]
    assert "equal" in labels[2]


def test_phone_boost_is_low_digital_familiarity_only():
    for wave in WAVES:
        df = read_wave(wave)
        assert set(np.unique(df.loc[df["mode"] == 2, "digital_familiarity"])) == {3}


def test_ai_word_is_text_with_non_ascii_answers():
    words = set(read_wave(2024)["ai_word"]) | set(read_wave(2021)["ai_word"])
    assert {"naïve", "clichéd", "déjà-vu"} & words
    assert "" in words  # no answer


# -- weights ----------------------------------------------------------------------
@pytest.mark.parametrize("wave", WAVES)
def test_weights_positive_with_mean_one(wave):
    w = read_wave(wave)["weight"].to_numpy()
    assert np.all(np.isfinite(w)) and np.all(w > 0)
    assert abs(w.mean() - 1.0) < 1e-5


@pytest.mark.parametrize("wave", WAVES)
def test_weighting_corrects_the_response_bias(wave, truth):
    """Low digital familiarity under-responds: without weights "never heard of AI"
    is too low and "could explain AI" and AI use are too high."""
    df = read_wave(wave)
    for variable, code, missing in (("ai_awareness", 1, []), ("ai_awareness", 4, []),
                                    ("ai_use_month", 1, [8])):
        target = true_value(truth, wave, variable, code)
        weighted = share(df[variable], code, missing, df["weight"])
        unweighted = share(df[variable], code, missing)
        assert abs(weighted - target) < abs(unweighted - target), (variable, code)


def test_weighted_shares_are_unbiased_over_repeated_draws(population):
    truth = population_truth(population, wave=2024)
    target = float(truth.query("breakdown == 'all' and variable == 'ai_awareness' "
                               "and value == '1'")["share"].iloc[0])
    weighted, unweighted = [], []
    for seed in range(40):
        df = draw_wave(population, wave=2024, n_online=800, n_phone=40, seed=seed)
        weighted.append(share(df["ai_awareness"], 1, [], df["weight"]))
        unweighted.append(share(df["ai_awareness"], 1, []))
    mc_se = np.std(weighted, ddof=1) / np.sqrt(len(weighted))
    assert abs(np.mean(weighted) - target) < 4 * mc_se
    assert np.mean(unweighted) - target < -8 * mc_se


def test_draw_wave_weights_hit_the_population_margins(population):
    df = draw_wave(population, wave=2022, seed=5)
    for column in ("region", "age_band", "digital_familiarity"):  # never "Prefer not to say"
        sample = df.groupby(column)["weight"].sum() / df["weight"].sum()
        pop = population[column].value_counts(normalize=True)
        pd.testing.assert_series_equal(sample.sort_index(), pop.sort_index(), check_names=False,
                                       atol=1e-5)


def test_draw_wave_is_fast(population):
    draw_wave(population, wave=2024, seed=1)
    times = []
    for seed in range(3):
        start = time.perf_counter()
        draw_wave(population, wave=2024, seed=seed)
        times.append(time.perf_counter() - start)
    assert min(times) < 0.5


def test_rake_matches_two_margins_and_merges_empty_cells():
    cells = [np.array([0, 0, 1, 1, 1]), np.array([0, 1, 0, 1, 1])]
    result = rake(np.ones(5), cells, [np.array([40.0, 60.0]), np.array([30.0, 70.0])],
                  min_cell=1)
    w = result.weights
    assert np.allclose([w[:2].sum(), w[2:].sum(), w[[0, 2]].sum()], [40, 60, 30])
    # a third category without respondents: merged into its neighbour, total kept
    merged = rake(np.ones(5), [cells[0]], [np.array([40.0, 50.0, 10.0])], min_cell=1)
    assert merged.merged_cells == 1
    assert np.isclose(merged.weights.sum(), 100.0)


def test_rake_fails_loudly_on_inconsistent_margins():
    cells = [np.array([0, 1]), np.array([0, 1])]
    with pytest.raises(WeightingError, match="did not converge"):
        rake(np.ones(2), cells, [np.array([50.0, 50.0]), np.array([10.0, 90.0])], min_cell=1,
             max_iter=20)


# -- metadata ---------------------------------------------------------------------
@pytest.mark.parametrize("key", ["wave2021", "wave2022", "wave2023"])
def test_sav_metadata_read_back(key):
    df, meta = pyreadstat.read_sav(PATHS[key], user_missing=True)
    assert all(meta.column_names_to_labels[c] for c in df.columns)
    assert meta.variable_value_labels["trust_nhs"][98] == "Don't know"
    assert meta.variable_value_labels["region"][7] == "London"
    assert meta.missing_ranges["trust_nhs"] == [{"lo": 98.0, "hi": 98.0}]
    assert meta.missing_ranges["accept_diagnosis"] == [{"lo": 8.0, "hi": 8.0}]
    assert meta.missing_ranges["gender"] == [{"lo": 9.0, "hi": 9.0}]
    assert meta.variable_measure["weight"] == "scale"
    assert meta.variable_measure["region"] == "nominal"
    assert meta.variable_measure["trust_nhs"] == "ordinal"
    assert (df["trust_nhs"] == 98).any()  # user-missing codes are kept as codes
    # without user_missing=True the codes are declared missing
    plain = pyreadstat.read_sav(PATHS[key], usecols=["trust_nhs"])[0]
    assert plain["trust_nhs"].isna().sum() == (df["trust_nhs"] == 98).sum()


def test_csv_codebook_covers_every_column():
    book = json.loads(PATHS["wave2024_codebook"].read_text(encoding="utf-8"))
    assert book["format"] == "surveytools-codebook" and book["version"] == 1
    assert book["encoding"] == "utf-8"
    df = read_wave(2024)
    assert list(book["variables"]) == list(df.columns)
    for name, entry in book["variables"].items():
        assert entry["label"] and entry["measure"] in ("nominal", "ordinal", "scale")
        if name == "ai_word":
            assert entry["type"] == "string"
            continue
        assert entry["type"] == "numeric"
        assert pd.api.types.is_numeric_dtype(df[name]), name
        codes = {float(k) for k in entry["value_labels"]}
        missing = entry["missing"]["values"]
        assert set(missing) <= codes and entry["missing"]["ranges"] == []
        if codes and not name.startswith("trust_"):  # 0-10 scales label the ends only
            assert set(np.unique(df[name])) <= codes, name
    assert book["variables"]["trust_nhs"]["missing"]["values"] == [98]


# -- manifests and targets ---------------------------------------------------------
def test_tracker_manifest_follows_the_contract():
    manifest = tomllib.loads(PATHS["tracker_manifest"].read_text(encoding="utf-8"))
    assert manifest["tracker"]["shared_respondents"] is False
    assert manifest["design"] == {"weight": "weight"}
    waves = manifest["waves"]
    assert [w["label"] for w in waves] == ["2021", "2022", "2023", "2024"]
    folder = PATHS["tracker_manifest"].parent
    for w in waves:
        assert (folder / w["file"]).is_file()
        assert w["fieldwork_start"] < w["fieldwork_end"]
    for w in waves[:2]:
        assert w["rename"] == {"trust_government": "trust_govt"}
        assert w["recode"] == {"ai_benefits": {"1": 2, "2": 3, "3": 4}}
    assert "rename" not in waves[2] and "recode" not in waves[3]
    assert waves[3]["codebook"] == "wave2024.codebook.json"


def test_council_manifest_has_a_stratified_two_stage_design():
    manifest = tomllib.loads(PATHS["council_manifest"].read_text(encoding="utf-8"))
    assert manifest["design"] == {"weight": "weight", "strata": "stratum", "psu": "psu",
                                  "fpc": "fpc", "lonely_psu": "fail"}
    assert len(manifest["waves"]) == 1
    assert (PATHS["council_manifest"].parent / manifest["waves"][0]["file"]).is_file()


def test_targets_are_population_totals(population):
    targets = tomllib.loads(PATHS["targets"].read_text(encoding="utf-8"))
    assert targets["population_size"] == POPULATION_SIZE
    margins = targets["margins"]
    assert {tuple(m["variables"]) for m in margins.values()} == {
        ("age_band", "gender"), ("region",), ("education",), ("ethnicity",),
        ("digital_familiarity",)}
    scale = POPULATION_SIZE / len(population)
    for margin in margins.values():
        assert sum(margin["totals"].values()) == POPULATION_SIZE
        counts = population.groupby(margin["variables"]).size()
        for key, total in margin["totals"].items():
            codes = tuple(int(c) for c in key.split(":"))
            assert total == counts.loc[codes if len(codes) > 1 else codes[0]] * scale


# -- the truth ---------------------------------------------------------------------
def test_truth_file_matches_an_independent_count(population, truth):
    answers = population_attitudes(population, wave=2022)
    valid = answers["trust_govt"] != 98
    expected_mean = answers.loc[valid, "trust_govt"].mean()
    assert true_value(truth, 2022, "trust_govt", "mean") == pytest.approx(expected_mean, abs=1e-8)
    old = population["age_band"] == 7
    ok = answers["accept_facial"] != 8
    expected = (answers.loc[old & ok, "accept_facial"] == 5).mean()
    assert true_value(truth, 2022, "accept_facial", 5, "age_band", "7") == pytest.approx(
        expected, abs=1e-8)


def test_truth_file_layout(truth):
    assert list(truth.columns) == ["wave", "breakdown", "group", "variable", "value", "share"]
    assert set(truth["breakdown"]) == {"all", "age_band", "digital_familiarity"}
    sums = truth[truth.value != "mean"].groupby(["wave", "breakdown", "group", "variable"])["share"]
    np.testing.assert_allclose(sums.sum(), 1.0, atol=1e-6)
    benefits = truth[(truth.variable == "ai_benefits") & (truth.breakdown == "all")]
    assert set(benefits.loc[benefits.wave == 2021, "value"]) == {"2", "3", "4"}
    assert set(benefits.loc[benefits.wave == 2024, "value"]) == {"1", "2", "3", "4", "5"}
    assert set(truth.loc[truth.variable == "accept_exams", "wave"]) == {2023, 2024}


def test_truth_shows_the_documented_trends(truth):
    aware = [true_value(truth, w, "ai_awareness", 4) for w in WAVES]
    bigtech = [true_value(truth, w, "trust_bigtech", "mean") for w in WAVES]
    diagnosis = [true_value(truth, w, "accept_diagnosis", 5) for w in WAVES]
    assert aware == sorted(aware) and diagnosis == sorted(diagnosis)
    assert bigtech == sorted(bigtech, reverse=True)


def test_dont_know_more_common_with_low_digital_familiarity():
    df = read_wave(2023)
    dk = df["trust_govt"] == 98
    assert dk[df["digital_familiarity"] == 3].mean() > 2 * dk[df["digital_familiarity"] == 1].mean()


def test_attitudes_are_fixed_per_person(population):
    whole = population_attitudes(population.iloc[:2000], wave=2024)
    part = population_attitudes(population.iloc[1500:1600], wave=2024)
    pd.testing.assert_frame_equal(whole.iloc[1500:1600], part)


def test_population_joint_structure(population):
    low = population["digital_familiarity"] == 3
    assert low[population["age_band"] == 7].mean() > 5 * low[population["age_band"] <= 2].mean()
    assert low[population["education"] == 4].mean() > 3 * low[population["education"] == 1].mean()
    assert low[population["disability"] == 1].mean() > 2 * low[population["disability"] == 2].mean()
    minority = (population["ethnicity"] != 1).groupby(population["region"]).mean()
    assert minority.idxmax() == 7  # London
    assert len(population) == 200_000


# -- council -------------------------------------------------------------------------
def stratified_cluster_deff(df: pd.DataFrame, column: str, missing: list) -> float:
    """Design effect of a weighted mean: linearised, first stage, with fpc, vs SRS."""
    ok = ~df[column].isin(missing).to_numpy()
    y = df[column].to_numpy(float)
    w = df["weight"].to_numpy() * ok
    mean = np.sum(w * np.where(ok, y, 0)) / w.sum()
    z = w * np.where(ok, y - mean, 0) / w.sum()
    variance = 0.0
    for _, part in df.assign(z=z).groupby("stratum"):
        totals = part.groupby("psu")["z"].sum().to_numpy()
        n_h, big_n = len(totals), part["fpc"].iloc[0]
        variance += (1 - n_h / big_n) * n_h / (n_h - 1) * np.sum((totals - totals.mean()) ** 2)
    srs = np.sum(w * np.where(ok, (y - mean) ** 2, 0)) / w.sum() / ok.sum()
    return variance / srs


def test_council_design():
    df, meta = pyreadstat.read_sav(PATHS["council"], user_missing=True)
    assert 1500 <= len(df) <= 2500
    assert df["stratum"].nunique() == 8
    psus = df.groupby("stratum")["psu"].nunique()
    assert psus.between(10, 20).all()
    assert (df.groupby("stratum")["fpc"].nunique() == 1).all()
    assert (df.groupby("stratum")["fpc"].first() > psus).all()
    assert df.groupby("psu")["stratum"].nunique().max() == 1  # PSUs nested in strata
    assert df.groupby("psu").size().between(5, 25).all()
    assert (df["weight"] > 0).all()
    assert meta.missing_ranges["trust_council"] == [{"lo": 98.0, "hi": 98.0}]
    for column, missing in (("trust_council", [98]), ("satisfaction", [8])):
        assert stratified_cluster_deff(df, column, missing) > 1.3, column


def test_council_generator_matches_file():
    stored = pyreadstat.read_sav(PATHS["council"], user_missing=True)[0]
    np.testing.assert_allclose(generate_council().to_numpy(float), stored.to_numpy(float))


def test_bad_requests_are_rejected(population):
    with pytest.raises(DataError, match="unknown wave"):
        draw_wave(population, wave=2020)
    with pytest.raises(DataError, match="unknown wave"):
        population_attitudes(population.head(), wave=2025)
    too_many = int((population["digital_familiarity"] == 3).sum()) + 1
    with pytest.raises(DataError, match="that many respondents"):
        draw_wave(population, wave=2024, n_online=100, n_phone=too_many)


def test_example_paths_reports_missing_files(tmp_path):
    with pytest.raises(FileFormatError, match="python -m surveytools.datasets"):
        example_paths(tmp_path)

"""Unit tests of raking: targets, errors, capping and trimming, reports, audits."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

import surveytools as st
from surveytools.weighting.audit import margin_audit, weight_summary, weighting_audit
from surveytools.weighting.targets import read_targets

REF = Path(__file__).parent / "reference" / "weighting"
TARGETS_FILE = REF / "tracker_targets.toml"


def small_survey(**columns):
    """12 respondents: sex (1/2) and age group (1-3) unevenly represented."""
    data = pd.DataFrame({
        "w": [1.0, 2.0, 1.0, 1.5, 1.0, 1.0, 2.0, 1.0, 0.5, 1.0, 1.0, 3.0],
        "sex": [1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2],
        "age": [1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3],
        **columns})
    meta = st.Metadata(value_labels={"sex": {1: "Man", 2: "Woman"},
                                     "age": {1: "18-34", 2: "35-64", 3: "65+"}},
                       file="small.sav")
    return st.Survey(data, st.Design(weight="w"), meta)


MARGINS = {"sex": {1: 480.0, 2: 520.0}, "age": {1: 300.0, 2: 450.0, 3: 250.0}}


def achieved(survey, column):
    return survey.data.groupby(column)[survey.design.weight].sum().to_dict()


def test_raked_totals_hit_the_targets_and_report_says_so():
    raked = st.rake(small_survey(), MARGINS)
    for column, targets in MARGINS.items():
        got = achieved(raked, column)
        for code, total in targets.items():
            assert got[code] == pytest.approx(total, rel=1e-10)
    report = raked.meta.notes["raking"]
    assert report.converged and report.max_deviation <= report.tolerance == 1e-10
    w = raked.weights.to_numpy()
    assert report.kish_deff == pytest.approx(len(w) * (w ** 2).sum() / w.sum() ** 2)
    assert report.efficiency == pytest.approx(1 / report.kish_deff)
    assert report.effective_n == pytest.approx(len(w) / report.kish_deff)
    assert report.weight_ratio == pytest.approx(w.max() / w.min())
    table = report.margins.set_index(["margin", "category"])
    assert table.loc[("age", "2"), "initial"] == pytest.approx(1.0 + 1.0 + 2.0 + 1.0)
    assert table.loc[("age", "2"), "target"] == 450.0
    assert table.loc[("age", "2"), "label"] == "35-64"


def test_original_survey_unchanged_after_rake():
    survey = small_survey()
    before = survey.data.copy()
    raked = st.rake(survey, MARGINS)
    pd.testing.assert_frame_equal(survey.data, before)
    assert survey.design.weight == "w" and survey.calibration is None
    assert "raking" not in survey.meta.notes
    assert raked.design.weight == "w_raked" and "w" in raked.data
    np.testing.assert_array_equal(raked.data["w"], before["w"])


def test_labels_codes_and_strings_are_the_same_categories():
    by_code = st.rake(small_survey(), MARGINS).weights
    by_label = st.rake(small_survey(), {"sex": {"Man": 480.0, "Woman": 520.0},
                                        "age": {"18-34": 300.0, "35-64": 450.0, "65+": 250.0}}).weights
    by_text = st.rake(small_survey(), {"sex": {"1": 480.0, "2": 520.0},
                                       "age": {"1": 300.0, "2": 450.0, "3": 250.0}}).weights
    np.testing.assert_allclose(by_label, by_code, rtol=1e-12)
    np.testing.assert_allclose(by_text, by_code, rtol=1e-12)


def test_shares_are_scaled_to_the_population_of_the_total_margins():
    shares = {"sex": {1: 0.48, 2: 0.52}, "age": MARGINS["age"]}
    raked = st.rake(small_survey(), shares)
    np.testing.assert_allclose(raked.weights, st.rake(small_survey(), MARGINS).weights, rtol=1e-10)
    assert any("shares" in note for note in raked.meta.notes["raking"].notes)


def test_all_shares_keep_the_current_weighted_total():
    survey = small_survey()
    raked = st.rake(survey, {"sex": {1: 0.5, 2: 0.5}})
    assert raked.weights.sum() == pytest.approx(survey.weights.sum())


def test_crossed_margin():
    cells = {(s, a): 100.0 + 10 * s + a for s in (1, 2) for a in (1, 2, 3)}
    raked = st.rake(small_survey(), {("sex", "age"): cells})
    got = raked.data.groupby(["sex", "age"])["w_raked"].sum()
    for key, total in cells.items():
        assert got[key] == pytest.approx(total)


def test_uncovered_category_names_the_first_row():
    survey = small_survey(region=[1] * 6 + [2] * 5 + [9])
    with pytest.raises(st.WeightingError, match="does not cover") as err:
        st.rake(survey, {"region": {1: 500.0, 2: 500.0}})
    assert err.value.row == 12 and err.value.column == "region" and err.value.file == "small.sav"
    assert "region=9" in str(err.value)


def test_target_category_absent_from_the_data():
    with pytest.raises(st.WeightingError, match="neither a code in the data nor a value label") as err:
        st.rake(small_survey(), {"sex": {1: 480.0, 2: 500.0, 3: 20.0}})
    assert err.value.column == "sex" and "3" in str(err.value)


def test_labelled_category_without_respondents():
    data = small_survey().data.assign(age=[1, 2] * 6)
    survey = st.Survey(data, st.Design(weight="w"), small_survey().meta)
    with pytest.raises(st.WeightingError, match="'65\\+' of margin 'age' has no respondents"):
        st.rake(survey, {"age": {"18-34": 300.0, "35-64": 450.0, "65+": 250.0}})


@pytest.mark.parametrize("bad", [0.0, -5.0, float("nan"), "many"])
def test_non_positive_or_non_numeric_total(bad):
    with pytest.raises(st.WeightingError, match="must be a positive number") as err:
        st.rake(small_survey(), {"sex": {1: 480.0, 2: bad}})
    assert err.value.column == "sex"


def test_totals_that_disagree_are_an_error_that_says_by_how_much():
    margins = {"sex": {1: 480.0, 2: 520.0}, "age": {1: 300.0, 2: 450.0, 3: 270.0}}
    with pytest.raises(st.WeightingError, match=r"2\.00% apart"):
        st.rake(small_survey(), margins)


def test_totals_within_half_a_percent_are_reconciled_and_reported():
    margins = {"sex": {1: 480.0, 2: 520.0}, "age": {1: 300.0, 2: 450.0, 3: 252.0}}
    raked = st.rake(small_survey(), margins)
    assert raked.weights.sum() == pytest.approx(1000.0)
    assert any("scaled" in note for note in raked.meta.notes["raking"].notes)


def test_missing_value_in_a_margin_variable_names_the_row():
    survey = small_survey(region=[1.0, 2.0, np.nan] + [1.0] * 9)
    with pytest.raises(st.WeightingError, match="missing values") as err:
        st.rake(survey, {"region": {1: 500.0, 2: 500.0}})
    assert err.value.row == 3 and err.value.column == "region"


def test_unknown_margin_column():
    with pytest.raises(st.WeightingError, match="not found") as err:
        st.rake(small_survey(), {"regoin": {1: 1.0}})
    assert err.value.column == "regoin"


def test_non_convergence_reports_iterations_and_worst_margin():
    with pytest.raises(st.WeightingError, match="did not converge after 2 iterations") as err:
        st.rake(small_survey(), MARGINS, max_iterations=2)
    assert err.value.column in ("sex", "age") and "collapse" in str(err.value)


def adjustment(raked, survey):
    """Raked weight over the initial weight scaled to the population total."""
    return raked.weights / (survey.weights * raked.weights.sum() / survey.weights.sum())


def test_cap_is_enforced_and_reported():
    survey = small_survey()
    free = st.rake(survey, MARGINS)
    # free adjustments reach 1.513; 35-64 needs 450 of 1000 from 5 of 16 units, 1.44 on average
    cap = 1.47
    raked = st.rake(survey, MARGINS, cap=cap, max_iterations=2000)
    report = raked.meta.notes["raking"]
    assert adjustment(raked, survey).max() <= cap * (1 + 1e-12)
    assert report.n_capped >= 1 and report.cap == (0.0, cap) and report.converged
    assert free.meta.notes["raking"].n_capped == 0
    for column, targets in MARGINS.items():
        for code, total in targets.items():
            assert achieved(raked, column)[code] == pytest.approx(total, rel=1e-9)


def test_a_cap_that_does_not_bind_leaves_the_plain_raking_weights():
    free = st.rake(small_survey(), MARGINS)
    loose = st.rake(small_survey(), MARGINS, cap=(0.5, 1.55), trim=3.0)
    np.testing.assert_array_equal(loose.weights, free.weights)
    assert loose.meta.notes["raking"].n_capped == loose.meta.notes["raking"].n_trimmed == 0


def test_a_cap_that_cannot_hold_stops_convergence():
    # age 35-64 needs an adjustment of 1.44 on average (450 of 1000 from 5 of 16 units)
    with pytest.raises(st.WeightingError, match="cap="):
        st.rake(small_survey(), MARGINS, cap=(0.5, 1.3))


def test_trim_limits_weight_over_mean():
    raked = st.rake(small_survey(), MARGINS, trim=1.6, max_iterations=5000)
    w = raked.weights
    assert w.max() / w.mean() <= 1.6 * (1 + 1e-9)
    report = raked.meta.notes["raking"]
    assert report.trim == 1.6 and report.n_trimmed >= 1 and report.n_capped == 0
    free = st.rake(small_survey(), MARGINS).weights
    assert free.max() / free.mean() > 1.6
    for column, targets in MARGINS.items():
        for code, total in targets.items():
            assert achieved(raked, column)[code] == pytest.approx(total, rel=1e-9)


@pytest.mark.parametrize("options", [{"tolerance": 0}, {"max_iterations": 0}, {"cap": 0.5},
                                     {"trim": 1.0}])
def test_bad_options(options):
    with pytest.raises(st.WeightingError):
        st.rake(small_survey(), MARGINS, **options)


def test_raking_a_raked_survey_chains_the_calibration():
    once = st.rake(small_survey(), MARGINS)
    twice = st.rake(once, {"sex": {1: 480.0, 2: 520.0}})
    assert twice.calibration.previous is once.calibration
    assert twice.design.weight == "w_raked_raked"


def test_existing_name_is_refused():
    with pytest.raises(st.WeightingError, match="already exists"):
        st.rake(small_survey(), MARGINS, name="sex")


@settings(max_examples=30, deadline=None)
@given(hs.lists(hs.tuples(hs.integers(0, 2), hs.integers(0, 3), hs.floats(0.2, 5.0)),
                min_size=40, max_size=120),
       hs.lists(hs.floats(0.5, 3.0), min_size=7, max_size=7))
def test_property_every_margin_is_hit(rows, sizes):
    data = pd.DataFrame(rows, columns=["a", "b", "w"])
    if data["a"].nunique() < 3 or data["b"].nunique() < 4:
        return
    targets = {"a": dict(zip(range(3), np.array(sizes[:3]) / sum(sizes[:3]) * 100)),
               "b": dict(zip(range(4), np.array(sizes[3:]) / sum(sizes[3:]) * 100))}
    try:
        raked = st.rake(st.Survey(data, st.Design(weight="w")), targets, max_iterations=1000)
    except st.WeightingError as err:  # sparse random tables may have no raking solution
        assert "did not converge" in str(err)
        return
    for column, wanted in targets.items():
        got = raked.data.groupby(column)["w_raked"].sum()
        for code, total in wanted.items():
            assert got[code] == pytest.approx(total, rel=1e-8)


# -- targets files -------------------------------------------------------------
def test_read_targets_reads_the_tracker_file():
    targets = read_targets(TARGETS_FILE)
    assert targets.file == str(TARGETS_FILE)
    assert list(targets) == [("age_band", "gender"), "region", "education", "ethnicity",
                             "digital_familiarity"]
    for totals in targets.values():
        assert sum(totals.values()) == 53_000_000  # population_size of the file
    assert ("7", "2") in targets[("age_band", "gender")] and "12" in targets["region"]


def test_targets_cannot_be_changed_and_still_rake():
    import copy
    import pickle

    from surveytools.weighting.targets import Targets

    targets = read_targets(TARGETS_FILE)
    before = targets.to_dict()
    with pytest.raises(TypeError):
        targets["region"] = {"1": 1.0}
    with pytest.raises(TypeError):
        targets["region"]["1"] = 1.0
    with pytest.raises(TypeError):
        del targets["region"]
    for name in ("file", "_margins", "extra"):
        with pytest.raises(AttributeError, match="cannot be changed"):
            setattr(targets, name, None)
    assert not hasattr(targets, "pop") and not hasattr(targets, "update")
    # a plain dict of some margins is the way to a changed set; the original stays
    chosen = {k: v for k, v in targets.items() if k == "region"}
    chosen["region"] = dict(chosen["region"])
    chosen["region"]["1"] = 0.0
    assert targets.to_dict() == before and targets["region"]["1"] > 0
    assert pickle.loads(pickle.dumps(targets)) == targets
    assert copy.deepcopy(targets).file == targets.file
    # Targets work wherever a margins mapping does
    frozen = Targets(MARGINS, file="m.toml")
    np.testing.assert_array_equal(st.rake(small_survey(), frozen).weights,
                                  st.rake(small_survey(), MARGINS).weights)
    assert frozen == MARGINS and repr(frozen).startswith("Targets({'sex'")


def write(tmp_path, text):
    path = tmp_path / "targets.toml"
    path.write_text(text)
    return path


def test_read_targets_errors_name_the_file(tmp_path):
    with pytest.raises(st.WeightingError, match="not found"):
        read_targets(tmp_path / "absent.toml")
    with pytest.raises(st.WeightingError, match="not valid TOML") as err:
        read_targets(write(tmp_path, "[margins\n"))
    assert err.value.file.endswith("targets.toml")
    with pytest.raises(st.WeightingError, match="no margins"):
        read_targets(write(tmp_path, "population_size = 10\n"))
    with pytest.raises(st.WeightingError, match="does not name its variables"):
        read_targets(write(tmp_path, '[margins.sex.totals]\n"1" = 5\n'))
    with pytest.raises(st.WeightingError, match="one code per variable") as err:
        read_targets(write(tmp_path, '[margins.x]\nvariables = ["a", "b"]\n'
                                     '[margins.x.totals]\n"1" = 5\n'))
    assert err.value.column == "x"
    with pytest.raises(st.WeightingError, match=r"not population_size 100 \(-10\.00%\)"):
        read_targets(write(tmp_path, 'population_size = 100\n[margins.sex]\nvariables = ["sex"]\n'
                                     '[margins.sex.totals]\n"1" = 40\n"2" = 50\n'))


def test_bad_target_from_a_file_names_the_file_margin_and_category(tmp_path):
    path = write(tmp_path, '[margins.sex]\nvariables = ["sex"]\n[margins.sex.totals]\n'
                           '"1" = 480\n"2" = 500\n"Other" = 20\n')
    with pytest.raises(st.WeightingError) as err:
        st.rake(small_survey(), read_targets(path))
    assert err.value.file == str(path) and err.value.column == "sex" and "'Other'" in str(err.value)


# -- audits --------------------------------------------------------------------
def test_weight_summary_against_hand_computation():
    s = weight_summary([2.0, 2.0, 4.0, 0.0])
    # n = 3 positive weights, sum 8, sum of squares 24: deff = 3 * 24 / 64
    assert s["n"] == 3 and s["kish_deff"] == pytest.approx(72 / 64)
    assert s["cv"] == pytest.approx(np.std([2.0, 2.0, 4.0]) / np.mean([2.0, 2.0, 4.0]))
    assert s["ratio"] == 2.0 and s["effective_n"] == pytest.approx(3 * 64 / 72)


def test_weighting_audit_across_waves():
    surveys = {"before": small_survey(), "after": st.rake(small_survey(), MARGINS)}
    table = weighting_audit(surveys, MARGINS)
    assert list(table.index) == ["before", "after"]
    assert table.loc["before", "sum_weights"] == 16.0
    assert table.loc["after", "max_gap_weighted_pp"] == pytest.approx(0.0, abs=1e-8)
    # unweighted sex shares 5/12 and 7/12 against 48% and 52%
    assert table.loc["before", "max_gap_unweighted_pp"] >= 100 * abs(5 / 12 - 0.48) - 1e-9
    shares = margin_audit(surveys, MARGINS)
    for _, group in shares.groupby(["wave", "margin"]):
        assert group["weighted_share"].sum() == pytest.approx(1.0)
        assert group["population_share"].sum() == pytest.approx(1.0)


def test_margin_audit_shows_categories_without_targets():
    survey = small_survey(region=[1] * 6 + [2] * 5 + [9])
    shares = margin_audit([survey], {"region": {1: 500.0, 2: 500.0}})
    other = shares[shares["category"] == "(not in targets)"].iloc[0]
    assert other["n"] == 1 and np.isnan(other["population_share"])
    assert other["weighted_share"] == pytest.approx(3.0 / 16.0)


def test_weighting_audit_of_the_example_tracker():
    root = Path(__file__).parents[1] / "data" / "tracker"
    waves = st.read_waves(root / "waves.toml")
    targets = read_targets(root / "targets.toml")
    table = weighting_audit(waves, targets)
    assert list(table.index) == list(waves.names)
    w = waves["2023"].weights.to_numpy()
    assert table.loc["2023", "n"] == (w > 0).sum()
    assert table.loc["2023", "kish_deff"] == pytest.approx((w > 0).sum() * (w ** 2).sum() / w.sum() ** 2)
    shares = margin_audit(waves, targets).set_index(["wave", "margin", "category"])
    data = waves["2023"].data
    london = data.loc[data["region"] == 7, "weight"].sum() / data["weight"].sum()
    assert shares.loc[("2023", "region", "7"), "weighted_share"] == pytest.approx(london)
    assert shares.loc[("2023", "region", "7"), "population_share"] == pytest.approx(
        targets["region"]["7"] / 53_000_000)
    assert ("2023", "gender", "(not in targets)") not in shares.index  # gender is in a crossed margin
    assert ("2023", "age_band x gender", "(not in targets)") in shares.index  # "Prefer not to say"

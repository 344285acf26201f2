"""``surveytools init``: scaffolding a manifest, catalogue and breakdowns from SPSS files.

The fixtures are small SPSS files written here with pyreadstat that mimic
real conventions: a BSA-style wave (WtFactor / StratID / Spoint, a 1-4 trust
item with -1 "skip, version off route" declared missing as a range and
undeclared 8 "Don`t know" and 9 "Refusal", 0-10 trust items labelled only at
0 and 10, 5-point acceptability items with "Very acceptable" at code 1,
demographics, a text and a date variable); a file that declares nothing and
codes Don't know as 9999 on 0-10 items; two waves in which a question was
renamed; PSU ids that repeat across strata.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

import surveytools as st
from surveytools.core.errors import ManifestError
from surveytools.indicators.catalogue_file import load_breakdowns, load_indicators
from surveytools.scaffold import Scaffold, print_summary, scaffold_tracker, summary
from surveytools.scaffold.demographics import age_range, kind_of
from surveytools.scaffold.scales import classify, polarity
from surveytools.waves.manifest import parse_manifest

N = 600
ACCEPT = {1: "Very acceptable", 2: "Fairly acceptable", 3: "Neither acceptable nor unacceptable",
          4: "Fairly unacceptable", 5: "Very unacceptable", 8: "Don`t know"}
TRUST4 = {-1: "skip, version off route", 1: "A great deal", 2: "Quite a lot",
          3: "Not very much", 4: "Not at all", 8: "Don`t know", 9: "Refusal"}
ENDS = {0: "Do not trust at all", 10: "Trust completely"}


# -- fixtures ------------------------------------------------------------------
def _pick(rng, codes, n=N, p=None):
    return rng.choice(np.asarray(codes, dtype=float), size=n, p=p)


def write_bsa(path: Path, seed: int = 1) -> Path:
    """A BSA-style wave."""
    rng = np.random.default_rng(seed)
    strata = np.repeat(np.arange(1, 31), N // 30).astype(float)
    spoint = strata * 100 + np.tile(np.repeat(np.arange(1, 5), N // 120), 30)
    weight = np.exp(rng.normal(0, 0.4, N))
    trust4 = _pick(rng, [-1, 1, 2, 3, 4, 8, 9], p=[.1, .15, .3, .25, .12, .06, .02])
    frame = pd.DataFrame({
        "Sserial": np.arange(1, N + 1, dtype=float),
        "StratID": strata, "Spoint": spoint,
        "WtFactor": weight / weight.mean(),
        "RAge": _pick(rng, range(18, 91)),
        "RAgeCat": _pick(rng, [1, 2, 3, 4, 5, 6, 9], p=[.1, .15, .2, .2, .15, .18, .02]),
        "Rsex": _pick(rng, [1, 2]),
        "GOR_ID": _pick(rng, range(1, 12)),
        "RaceOri3": _pick(rng, [1, 2, 3, 4, 5, 8, 9], p=[.8, .04, .07, .03, .03, .02, .01]),
        "HEdQual3": _pick(rng, [1, 2, 3, 4]),
        "RClassGp": _pick(rng, [1, 2, 3, 4, 5]),
        "DisNew2": _pick(rng, [1, 2]),
        "HHIncQ": _pick(rng, [1, 2, 3, 4, 8], p=[.22, .22, .22, .22, .12]),
        "tenure2": _pick(rng, [1, 2, 3]),
        "Mode": _pick(rng, [1, 2]),
        "GovTrust": trust4,
        "TrustNHS": _pick(rng, range(11)), "TrustPol": _pick(rng, range(11)),
        "TrustCoun": _pick(rng, range(11)),
        "AIacc1": _pick(rng, [1, 2, 3, 4, 5, 8]), "AIacc2": _pick(rng, [1, 2, 3, 4, 5, 8]),
        "AIacc3": _pick(rng, [1, 2, 3, 4, 5, 8]),
        "VoteLast": _pick(rng, [1, 2]),
        "HHSize": _pick(rng, range(1, 8)),
        "OccText": rng.choice(["teacher", "nurse", "driver", ""], N),
        "IntDate": [dt.date(2019, 7, 1) + dt.timedelta(days=int(d))
                    for d in rng.integers(0, 90, N)],
    })
    accept = "How acceptable or unacceptable do you find the following? "
    labels = {
        "Sserial": "Serial number", "StratID": "Stratum", "Spoint": "Sampling point",
        "WtFactor": "Final weight", "RAge": "Age of respondent", "RAgeCat": "Age group",
        "Rsex": "Sex of respondent", "GOR_ID": "Government office region",
        "RaceOri3": "Ethnic origin", "HEdQual3": "Highest educational qualification",
        "RClassGp": "NS-SEC class of respondent", "DisNew2": "Disability (Equality Act)",
        "HHIncQ": "Household income quartile", "tenure2": "Housing tenure",
        "Mode": "Mode of interview",
        "GovTrust": "How much do you trust British governments to put the nation first?",
        "TrustNHS": "How much do you trust the NHS with your data?",
        "TrustPol": "How much do you trust the police with your data?",
        "TrustCoun": "How much do you trust your local council with your data?",
        "AIacc1": accept + "AI reading medical scans", "AIacc2": accept + "AI deciding benefits",
        "AIacc3": accept + "AI marking exams",
        "VoteLast": "Did you vote in the last general election?",
        "HHSize": "Number of people in the household",
        "OccText": "Occupation (verbatim)", "IntDate": "Date of interview",
    }
    value_labels = {
        "RAgeCat": {1: "18-24", 2: "25-34", 3: "35-44", 4: "45-54", 5: "55-64", 6: "65+",
                    9: "Refused"},
        "Rsex": {1: "Male", 2: "Female"},
        "GOR_ID": {i: f"Region {i}" for i in range(1, 12)},
        "RaceOri3": {1: "White", 2: "Black", 3: "Asian", 4: "Mixed", 5: "Other",
                     8: "Don`t know", 9: "Refusal"},
        "HEdQual3": {1: "Degree", 2: "Higher education below degree / A level",
                     3: "O level or equivalent", 4: "No qualifications"},
        "RClassGp": {1: "Managerial & professional", 2: "Intermediate", 3: "Employers/own account",
                     4: "Lower supervisory & technical", 5: "Semi-routine & routine"},
        "DisNew2": {1: "Disabled", 2: "Not disabled"},
        "HHIncQ": {1: "Lowest quartile", 2: "Second quartile", 3: "Third quartile",
                   4: "Highest quartile", 8: "Refused / Don't know"},
        "tenure2": {1: "Owns", 2: "Rents", 3: "Other"},
        "Mode": {1: "Face to face", 2: "Web"},
        "GovTrust": TRUST4, "TrustNHS": ENDS, "TrustPol": ENDS, "TrustCoun": ENDS,
        "AIacc1": ACCEPT, "AIacc2": ACCEPT, "AIacc3": ACCEPT,
        "VoteLast": {1: "Yes", 2: "No"},
    }
    pyreadstat.write_sav(frame, path, column_labels=labels, variable_value_labels=value_labels,
                         missing_ranges={"GovTrust": [{"lo": -9, "hi": -1}]},
                         variable_format={"IntDate": "DATE11"},
                         variable_measure={"HHSize": "scale", "RAge": "scale"},
                         file_label="British Social Attitudes 2019 (synthetic)")
    return path


def write_sentinels(path: Path) -> Path:
    """Declares nothing: Don't know is 9999 on four 0-10 items (two labelled at the ends)."""
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"id": np.arange(1, N + 1, dtype=float),
                          "wt": rng.uniform(0.4, 1.6, N)})
    frame["wt"] /= frame["wt"].mean()
    for item in ("q1", "q2", "q3", "q4"):
        frame[item] = _pick(rng, [*range(11), 9999])
    frame["gender"] = _pick(rng, [1, 2, 3])
    labels = {"wt": "Weight", "gender": "Gender", **{q: f"On a scale of 0 to 10, how much do you "
                                                        f"trust organisation {q}?"
                                                     for q in ("q1", "q2", "q3", "q4")}}
    pyreadstat.write_sav(frame, path, column_labels=labels,
                         variable_value_labels={"q1": ENDS, "q2": ENDS,
                                                "gender": {1: "Man", 2: "Woman",
                                                           3: "Prefer not to say"}})
    return path


def write_wave(path: Path, year: int, *, trust_name: str, seed: int, dk: int = 8,
               benefits: dict | None = None, yes: int = 1) -> Path:
    """One wave of a two-wave tracker; the trust question's name changes.

    ``dk`` and ``yes`` are codes of ``aware`` (Yes/No/Don't know); ``benefits``
    the answers of a question whose scale changed between waves.
    """
    rng = np.random.default_rng(seed)
    weight = rng.uniform(0.5, 1.5, N)
    benefits = benefits or {1: "Risks far outweigh benefits", 2: "About equal",
                            3: "Benefits far outweigh risks"}
    frame = pd.DataFrame({
        "serial": np.arange(1, N + 1, dtype=float) + year * 10000,
        "weight": weight / weight.mean(),
        "region": _pick(rng, [1, 2, 3]),
        trust_name: _pick(rng, [1, 2, 3, 4, 5, 8]),
        "aware": _pick(rng, [1, 2, dk]),
        "benefits": _pick(rng, list(benefits)),
    })
    labels = {"serial": "Serial", "weight": "Final weight", "region": "Region",
              trust_name: "To what extent do you agree: the government can be trusted with data",
              "aware": "Have you heard of AI?",
              "benefits": "Do the benefits of AI outweigh the risks?"}
    agree = {1: "Strongly disagree", 2: "Disagree", 3: "Neither agree nor disagree", 4: "Agree",
             5: "Strongly agree", 8: "Don't know"}
    pyreadstat.write_sav(frame, path, column_labels=labels, variable_value_labels={
        "region": {1: "North", 2: "Midlands", 3: "South"}, trust_name: agree,
        "aware": {yes: "Yes", 3 - yes: "No", dk: "Don't know"}, "benefits": benefits})
    return path


@pytest.fixture(scope="module")
def bsa(tmp_path_factory) -> Path:
    return write_bsa(tmp_path_factory.mktemp("in") / "bsa2019.sav")


@pytest.fixture(scope="module")
def bsa_found(bsa, tmp_path_factory) -> Scaffold:
    return scaffold_tracker([bsa], tmp_path_factory.mktemp("out") / "tracker")


def load_tracker(found: Scaffold):
    """The written manifest through read_waves: it loads, and nothing is left to declare."""
    tracker = st.read_waves(found.out_dir / "waves.toml", cache=False)
    audit = tracker.missing_audit()
    assert audit.empty, audit.to_string()
    return tracker


def check_tracker(found: Scaffold, tracker) -> None:
    """The written catalogue and breakdowns check as the cube checks them."""
    latest = tracker[tracker.names[-1]]
    columns = set().union(*(tracker[w].data.columns for w in tracker.names))
    load_indicators(found.out_dir / "indicators.toml").check(latest.meta, columns=columns)
    load_breakdowns(found.out_dir / "breakdowns.toml").check(latest.meta, columns=columns)


# -- unit heuristics ---------------------------------------------------------------
@pytest.mark.parametrize("label, sign", [
    ("Strongly agree", 1), ("Agree", 1), ("Tend to disagree", -1), ("Very acceptable", 1),
    ("Fairly unacceptable", -1), ("A great deal", 1), ("Not at all", -1),
    ("Neither agree nor disagree", 0), ("Neither acceptable nor unacceptable", 0),
    ("Very likely", 1), ("Not very likely", -1)])
def test_polarity(label, sign):
    assert polarity(label) == sign


def test_scale_direction_from_labels():
    first = classify({1: "Strongly agree", 2: "Agree", 3: "Neither agree nor disagree",
                      4: "Disagree", 5: "Strongly disagree"}, values=range(1, 6))
    top = classify({1: "Strongly disagree", 2: "Disagree", 3: "Neither", 4: "Agree",
                    5: "Strongly agree"}, values=range(1, 6))
    assert (first.plus, first.minus) == ((1, 2), (4, 5))
    assert (top.plus, top.minus) == ((4, 5), (1, 2))
    assert classify({1: "Yes", 2: "No"}, values=[1, 2]).kind == "yesno"
    assert classify({0: "Not at all", 10: "Completely"}, values=range(11)).plus == (7, 8, 9, 10)
    assert classify({1: "Red", 2: "Green", 3: "Blue"}, values=[1, 2, 3]).kind == "nominal"
    assert classify({}, values=[18, 40, 77]) is None
    assert classify({}, values=range(11)).kind == "mean"


@pytest.mark.parametrize("name, label, kind", [
    ("RAgeCat", "", "age"), ("age_band", "", "age"), ("Rsex", "", "gender"),
    ("gender", "", "gender"), ("GOR_ID", "", "region"), ("RaceOri3", "", "ethnicity"),
    ("p_ethnicity", "", "ethnicity"), ("HEdQual3", "", "education"),
    ("RClassGp", "", "social_grade"), ("DisNew2", "", "disability"), ("HHIncQ", "", "income"),
    ("tenure2", "", "tenure"), ("Mode", "", "mode"), ("x7", "Highest qualification", "education"),
    ("q12", "How much do you trust people in your region to use data about you", None),
    ("trust_nhs", "How much do you trust the NHS?", None)])
def test_demographic_names(name, label, kind):
    assert kind_of(name, label) == kind


def test_age_band_labels():
    assert [age_range(t) for t in ("18-24", "65+", "75 or over", "Under 25", "Refused")] == [
        (18, 24), (65, None), (75, None), (None, 24), None]


# -- the BSA-style wave ----------------------------------------------------------------
def test_weight_and_design_are_found_with_evidence(bsa_found):
    design = bsa_found.design
    assert (design.weight.column, design.strata.column, design.psu.column) == (
        "WtFactor", "StratID", "Spoint")
    assert design.weight.sure and design.strata.sure and design.psu.sure
    assert design.fpc.column is None and not design.nest
    text = bsa_found.files["waves.toml"]
    assert re.search(r'^weight = "WtFactor"  # weight-like name; label "Final weight"; positive, '
                     r"non-integer, mean 1\.00", text, re.M)
    assert re.search(r'^psu = "Spoint"  # .*Spoint: 120 distinct values, each within one StratID',
                     text, re.M)
    assert re.search(r'^strata = "StratID"  # .*30 distinct values', text, re.M)
    assert "nest" not in tomllib.loads(text)["design"]


def test_missing_declarations_from_the_audit(bsa_found):
    plan = bsa_found.missing
    declared = {d.variable: d for d in plan.variables}
    assert declared["GovTrust"].codes == (8, 9)             # -1 is declared by the file
    assert re.fullmatch(r'8 "Don`t know" \(\d+\), 9 "Refusal" \(\d+\)',
                        declared["GovTrust"].comment)
    assert declared["RaceOri3"].codes == (8, 9)
    assert declared["RAgeCat"].codes == (9,)
    assert declared["HHIncQ"].codes == (8,)
    assert {"WtFactor", "StratID", "Spoint", "Sserial"}.isdisjoint(declared)
    assert set(declared) == {"RAgeCat", "RaceOri3", "HHIncQ", "GovTrust", "AIacc1", "AIacc2",
                             "AIacc3"}
    manifest = tomllib.loads(bsa_found.files["waves.toml"])
    assert manifest["missing"]["variables"]["GovTrust"] == [8, 9]
    assert "values" not in manifest["missing"]
    assert re.search(r'^GovTrust = \[8, 9\]  # 8 "Don`t know" \(\d+\), 9 "Refusal" \(\d+\)$',
                     bsa_found.files["waves.toml"], re.M)


def test_batteries_and_default_indicators(bsa_found):
    topics = {b.topic: [i.name for i in b.items] for b in bsa_found.batteries}
    assert topics["How acceptable or unacceptable do you find the following?"] == [
        "AIacc1", "AIacc2", "AIacc3"]
    assert topics["How much do you trust ... with your data?"] == [
        "TrustNHS", "TrustPol", "TrustCoun"]
    specs = {s.name: s for s in bsa_found.indicators}
    # "Very acceptable" at code 1: top-2 is 1-2
    assert specs["AIacc1_top2"].codes == (1, 2) and specs["AIacc1_bottom2"].codes == (4, 5)
    assert (specs["AIacc1_net"].kind, specs["AIacc1_net"].codes, specs["AIacc1_net"].minus) == (
        "net", (1, 2), (4, 5))
    # 1-4 trust, "A great deal" at 1
    assert specs["GovTrust_top2"].codes == (1, 2) and specs["GovTrust_net"].minus == (3, 4)
    # 0-10 labelled only at the ends
    assert specs["TrustNHS_high"].codes == (7, 8, 9, 10)
    assert specs["TrustNHS_mean"].kind == "mean"
    assert specs["VoteLast_yes"].codes == (1,)
    assert specs["HHSize_mean"].kind == "mean"              # unlabelled, measured as a scale
    assert {s.question for s in bsa_found.indicators} == {
        "GovTrust", "TrustNHS", "TrustPol", "TrustCoun", "AIacc1", "AIacc2", "AIacc3", "VoteLast",
        "HHSize"}
    catalogue = tomllib.loads(bsa_found.files["indicators.toml"])["indicator"]
    assert all(entry["topic"] for entry in catalogue)


def test_skipped_variables_say_why(bsa_found):
    skipped = dict(bsa_found.skipped)
    assert skipped["OccText"] == "text variable"
    assert skipped["IntDate"] == "date or time variable"
    assert skipped["Sserial"] == "an id (one value per row)"
    assert skipped["WtFactor"] == "weight or design column"
    assert "`OccText`" in bsa_found.files["README.md"]


def test_breakdowns_from_demographics(bsa_found):
    found = {b.name: b for b in bsa_found.breakdowns}
    assert {n: b.variable for n, b in found.items()} == {
        "age": "RAgeCat", "gender": "Rsex", "region": "GOR_ID", "ethnicity": "RaceOri3",
        "education": "HEdQual3", "social_grade": "RClassGp", "disability": "DisNew2",
        "income": "HHIncQ", "tenure": "tenure2", "mode": "Mode"}
    assert [(g.label, g.codes) for g in found["age"].groups] == [
        ("18-34", (1, 2)), ("35-54", (3, 4)), ("55+", (5, 6))]
    # non-answers are never a group, even before [missing] applies
    assert [g.codes for g in found["ethnicity"].groups] == [(1,), (2,), (3,), (4,), (5,)]
    assert [g.codes for g in found["income"].groups] == [(1,), (2,), (3,), (4,)]
    assert found["gender"].groups == ()
    text = bsa_found.files["breakdowns.toml"]
    assert "RAge (age) is no breakdown: a number without value labels" in " ".join(
        line.lstrip("# ") for line in text.splitlines())


def test_written_catalogue_and_breakdowns_load_and_check(bsa, bsa_found):
    out = bsa_found.out_dir
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md", "breakdowns.toml", "indicators.toml", "waves.toml"]
    wave = st.read_wave(bsa, design=st.Design(weight="WtFactor"), cache=False)
    catalogue = load_indicators(out / "indicators.toml")
    breakdowns = load_breakdowns(out / "breakdowns.toml")
    columns = wave.data.columns
    catalogue.check(wave.meta, columns=columns)
    resolved = breakdowns.check(wave.meta, columns=columns)
    declared = wave.meta
    manifest = tomllib.loads(bsa_found.files["waves.toml"])
    for variable, codes in manifest["missing"]["variables"].items():
        declared = declared.with_missing(variable, codes)
    catalogue.check(declared, columns=columns)
    resolved = breakdowns.check(declared, columns=columns)
    assert [g.label for g in resolved["ethnicity"].groups] == ["White", "Black", "Asian", "Mixed",
                                                               "Other"]
    assert len(catalogue) == len(bsa_found.indicators)


def test_written_manifest_loads(bsa_found):
    out = bsa_found.out_dir
    manifest = tomllib.loads((out / "waves.toml").read_text())
    assert manifest["design"] == {"weight": "WtFactor", "strata": "StratID", "psu": "Spoint"}
    assert [w["label"] for w in manifest["waves"]] == ["2019"]
    tracker = load_tracker(bsa_found)
    assert tracker.names == ("2019",)
    wave = tracker["2019"]
    assert wave.design.psu == "Spoint"
    assert {8, 9} <= set(wave.meta.missing["GovTrust"].values)
    assert -1 in wave.meta.missing["GovTrust"]              # the file's own range stays
    check_tracker(bsa_found, tracker)


def test_output_is_deterministic(bsa, tmp_path, bsa_found):
    first = scaffold_tracker([bsa], tmp_path / "a")
    second = scaffold_tracker([bsa], tmp_path / "b")
    for name in first.files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert first.files["indicators.toml"] == bsa_found.files["indicators.toml"]
    assert first.files == second.files


def test_dry_run_writes_nothing(bsa, tmp_path, capsys):
    found = scaffold_tracker([bsa], tmp_path / "dry", dry_run=True)
    assert not (tmp_path / "dry").exists()
    assert found.written == () and set(found.files) == {"waves.toml", "indicators.toml",
                                                         "breakdowns.toml", "README.md"}
    print_summary(found)
    printed = capsys.readouterr().out
    assert "weight = WtFactor" in printed and "dry run: nothing written" in printed
    assert printed.strip() == summary(found)


def test_existing_files_need_force(bsa, tmp_path):
    out = tmp_path / "t"
    out.mkdir()
    (out / "waves.toml").write_text("# mine\n")
    with pytest.raises(ManifestError) as error:
        scaffold_tracker([bsa], out)
    assert "waves.toml" in str(error.value) and "--force" in str(error.value)
    assert (out / "waves.toml").read_text() == "# mine\n"
    assert not (out / "indicators.toml").exists()
    dry = scaffold_tracker([bsa], out, dry_run=True)                # a dry run only reports it
    assert dry.existing == ("waves.toml",) and "--force" in summary(dry)
    found = scaffold_tracker([bsa], out, force=True)
    assert (out / "waves.toml").read_text() == found.files["waves.toml"]


# -- other files ------------------------------------------------------------------------
def test_sentinel_shared_by_many_items_is_declared_once(tmp_path):
    path = write_sentinels(tmp_path / "panel2024.sav")
    found = scaffold_tracker([path], tmp_path / "out")
    assert [s.code for s in found.missing.values] == [9999]
    assert [i.split(" ")[0] for i in found.missing.values[0].items] == ["q1", "q2", "q3", "q4"]
    manifest = tomllib.loads(found.files["waves.toml"])
    assert manifest["missing"]["values"] == [9999]
    assert manifest["missing"]["variables"] == {"gender": [3]}
    assert "9999 unlabelled, far above the other answers, on 4 numeric items" in found.files[
        "waves.toml"]
    assert found.weight.column == "wt"
    specs = {s.name: s for s in found.indicators}
    assert specs["q1_high"].codes == (7, 8, 9, 10)     # labelled at 0 and 10
    assert "q3_high" not in specs and specs["q3_mean"].kind == "mean"   # no labels: mean only
    (gender,) = found.breakdowns
    assert [g.codes for g in gender.groups] == [(1,), (2,)]
    wave = st.read_wave(path, design=st.Design(weight="wt"), cache=False)
    check_against_file(found, path)


def test_two_waves_with_a_renamed_question(tmp_path):
    old = write_wave(tmp_path / "tracker_2022.sav", 2022, trust_name="gov_trust", seed=3)
    new = write_wave(tmp_path / "tracker_2023.sav", 2023, trust_name="trust_govt", seed=4)
    out = tmp_path / "out"
    found = scaffold_tracker([new, old], out)                      # given out of order
    assert [w.label for w in found.waves] == ["2022", "2023"]
    assert found.renames == {"2022": {"gov_trust": "trust_govt"}}
    text = found.files["waves.toml"]
    assert re.search(r'^gov_trust = "trust_govt"  # label "To what extent do you agree: the '
                     r'government can be trusted with data" in both tracker_2022.sav and '
                     r"tracker_2023.sav$", text, re.M)
    manifest = tomllib.loads(text)
    assert [w["file"] for w in manifest["waves"]] == ["../tracker_2022.sav", "../tracker_2023.sav"]
    # harmonised names: one declaration for the renamed question in both waves
    assert manifest["missing"]["variables"] == {"trust_govt": [8], "aware": [8]}
    assert "missing" not in manifest["waves"][0] and "missing" not in manifest["waves"][1]
    specs = {s.name: s for s in found.indicators}
    assert specs["trust_govt_top2"].codes == (4, 5)        # "Strongly agree" at the top
    tracker = load_tracker(found)
    assert tracker.names == ("2022", "2023") and "trust_govt" in tracker["2022"].data.columns
    assert 8 in tracker["2022"].meta.missing["trust_govt"]
    check_tracker(found, tracker)


def test_renumbered_codes_are_recoded_and_changed_answers_split(tmp_path):
    old = write_wave(tmp_path / "w2022.sav", 2022, trust_name="trust_govt", seed=3, dk=9,
                     benefits={1: "Risks outweigh benefits", 2: "Benefits outweigh risks"}, yes=2)
    new = write_wave(tmp_path / "w2023.sav", 2023, trust_name="trust_govt", seed=4, dk=98)
    out = tmp_path / "out"
    found = scaffold_tracker([old, new], out)
    (wave, _) = found.waves
    assert [(r.column, dict(r.mapping)) for r in wave.recodes] == [
        ("aware", {2: 1, 1: 2, 9: 98})]
    assert [(s.old, s.new) for s in wave.splits] == [("benefits", "benefits_2022")]
    manifest = tomllib.loads(found.files["waves.toml"])
    assert manifest["waves"][0]["recode"] == {"aware": {"2": 1, "1": 2, "9": 98}}
    assert manifest["waves"][0]["rename"] == {"benefits": "benefits_2022"}
    assert re.search(r'^benefits = "benefits_2022"  # CHECK: code 1 is "Risks outweigh benefits" '
                     r'in w2022\.sav but "Risks far outweigh benefits" in wave 2023', 
                     found.files["waves.toml"], re.M)
    # declared in harmonised codes: Don't know is 9 in the 2022 file, 98 after the recode
    assert manifest["missing"]["variables"]["aware"] == [98]
    assert "9 \"Don't know\" (2022:" not in found.files["waves.toml"]
    tracker = load_tracker(found)
    assert set(tracker["2022"].data["aware"].dropna().unique()) == {1, 2, 98}
    assert 98 in tracker["2022"].meta.missing["aware"]
    assert tracker["2022"].meta.value_labels["aware"][1] == "Yes"
    assert "benefits_2022" in tracker["2022"].data.columns


def test_psu_ids_that_repeat_across_strata_need_nest(tmp_path):
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"stratum": np.repeat(np.arange(1.0, 11.0), 40),
                          "psu": np.tile(np.repeat(np.arange(1.0, 5.0), 10), 10),
                          "wt": rng.uniform(0.5, 1.5, 400),
                          "q": rng.choice([1.0, 2.0], 400)})
    path = tmp_path / "nested.sav"
    pyreadstat.write_sav(frame, path, variable_value_labels={"q": {1: "Yes", 2: "No"}})
    found = scaffold_tracker([path], tmp_path / "out", dry_run=True)
    assert found.design.nest
    assert re.search(r"^nest = true  # PSU ids repeat across strata \(4 ids, e\.g\. psu = 1 in 10 "
                     r"strata\), so the same id in two strata is two PSUs$",
                     found.files["waves.toml"], re.M)


def test_unsure_weight_is_marked_and_candidates_listed(tmp_path):
    rng = np.random.default_rng(9)
    frame = pd.DataFrame({"design_wt": rng.uniform(0.5, 1.5, 300),
                          "final_wt": rng.uniform(0.5, 1.5, 300),
                          "calib": rng.uniform(0.8, 1.2, 300),
                          "area": np.repeat(np.arange(1.0, 31.0), 10),
                          "q": rng.choice([1.0, 2.0], 300)})
    path = tmp_path / "two_weights.sav"
    pyreadstat.write_sav(frame, path, column_labels={"design_wt": "Design weight",
                                                     "final_wt": "Final weight",
                                                     "area": "Interview cluster"},
                         variable_value_labels={"q": {1: "Yes", 2: "No"}})
    found = scaffold_tracker([path], tmp_path / "out", dry_run=True)
    assert found.weight.column == "final_wt"
    text = found.files["waves.toml"]
    assert re.search(r'^# weight = "design_wt"  # another candidate: ', text, re.M)
    # a PSU found by its label only is left for the analyst, commented out
    assert found.design.psu.column == "area" and not found.design.psu.sure
    assert re.search(r'^# psu = "area"  # CHECK: label "Interview cluster" like a PSU; 30 '
                     r"distinct values", text, re.M)
    assert tomllib.loads(text)["design"] == {"weight": "final_wt"}


def test_scaffolding_580_variables_is_fast(tmp_path):
    rng = np.random.default_rng(11)
    n = 2000
    columns = {"serial": np.arange(1.0, n + 1), "wt": rng.uniform(0.3, 2.0, n)}
    labels, value_labels = {}, {}
    for i in range(578):
        name = f"q{i // 10}_{i % 10}"
        columns[name] = rng.choice([1.0, 2.0, 3.0, 4.0, 5.0, 8.0], n)
        labels[name] = f"Battery {i // 10}: statement number {i % 10}"
        value_labels[name] = {1: "Strongly agree", 2: "Agree", 3: "Neither", 4: "Disagree",
                              5: "Strongly disagree", 8: "Don't know"}
    path = tmp_path / "big.sav"
    pyreadstat.write_sav(pd.DataFrame(columns), path, column_labels=labels,
                         variable_value_labels=value_labels)
    start = time.perf_counter()
    found = scaffold_tracker([path], tmp_path / "out", dry_run=True)
    elapsed = time.perf_counter() - start
    assert elapsed < 10, f"{elapsed:.1f} s"
    assert len(found.indicators) == 578 * 3 and len(found.missing.variables) == 578


def test_awkward_names_and_labels_stay_valid_toml(tmp_path):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"wt": rng.uniform(0.5, 1.5, 200),
                          "Q1.a": rng.choice([1.0, 2.0, 8.0], 200),
                          "Q1.b": rng.choice([1.0, 2.0, 8.0], 200),
                          "sex": rng.choice([1.0, 2.0], 200)})
    labels = {"wt": "Weight", "Q1.a": 'Do you use "smart" speakers?\nTick one \\ all',
              "Q1.b": 'Do you use "smart" watches?'}
    answers = {1: "Yes", 2: "No", 8: 'Don\'t know "DK"'}
    path = tmp_path / "odd.sav"
    pyreadstat.write_sav(frame, path, column_labels=labels,
                         variable_value_labels={"Q1.a": answers, "Q1.b": answers,
                                                "sex": {1: 'Male "M"', 2: "Female"}})
    found = scaffold_tracker([path], tmp_path / "out")
    manifest = tomllib.loads(found.files["waves.toml"])
    assert manifest["missing"]["variables"] == {"Q1.a": [8], "Q1.b": [8]}
    entries = tomllib.loads(found.files["indicators.toml"])["indicator"]
    assert [e["question"] for e in entries] == ["Q1.a", "Q1.b"]
    assert '"smart" speakers? Tick one \\ all' in entries[0]["label"]
    check_against_file(found, path)


def test_no_demographics_says_so(tmp_path):
    frame = pd.DataFrame({"wt": np.linspace(0.5, 1.5, 100), "q": np.tile([1.0, 2.0], 50)})
    path = tmp_path / "bare.sav"
    pyreadstat.write_sav(frame, path, variable_value_labels={"q": {1: "Yes", 2: "No"}})
    found = scaffold_tracker([path], tmp_path / "out", dry_run=True)
    assert found.breakdowns == ()
    assert "No demographic variable with value labels was found" in " ".join(
        found.files["breakdowns.toml"].split())
    assert "no breakdowns found" in summary(found)


def test_no_files_is_an_error(tmp_path):
    with pytest.raises(ManifestError, match="no files"):
        scaffold_tracker([], tmp_path)


def test_the_example_tracker_scaffolds_loads_and_checks(tmp_path):
    folder = Path(__file__).resolve().parents[1] / "data" / "tracker"
    files = [folder / "wave2024.csv", *sorted(folder.glob("wave20*.sav"))]   # CSV + codebook too
    found = scaffold_tracker(files, tmp_path / "out")
    assert [w.label for w in found.waves] == ["2021", "2022", "2023", "2024"]
    assert found.weight.column == "weight" and found.shared_design
    assert found.renames["2021"]["trust_government"] == "trust_govt"
    # ai_benefits had three answers before 2023: its codes mean other things, so the
    # early waves keep it apart (the hand-written manifest recodes it instead)
    assert found.renames["2022"]["ai_benefits"] == "ai_benefits_2022"
    assert {b.variable for b in found.breakdowns} >= {"age_band", "gender", "region", "mode",
                                                     "digital_familiarity"}
    spec = parse_manifest(tmp_path / "out" / "waves.toml")
    assert spec.waves[-1].file.resolve() == (folder / "wave2024.csv").resolve()
    check_tracker(found, load_tracker(found))
    again = scaffold_tracker(list(reversed(files)), tmp_path / "again", dry_run=True)
    assert again.files["indicators.toml"] == found.files["indicators.toml"]
    assert again.files["breakdowns.toml"] == found.files["breakdowns.toml"]


# -- the real-world fixtures (tests/fixtures/realworld.py), when they are there -------------
try:
    from fixtures import realworld
except ImportError:  # written by another engineer; the tests above do not need it
    realworld = None
needs_realworld = pytest.mark.skipif(realworld is None,
                                     reason="tests/fixtures/realworld.py is not there")


def declared(found: Scaffold) -> dict:
    """Variable -> codes of every [missing.variables] declaration (all waves)."""
    out = {d.variable: list(d.codes) for d in found.missing.variables}
    for declarations in found.missing.waves.values():
        for d in declarations:
            out.setdefault(d.variable, list(d.codes))
    return out


def check_against_file(found: Scaffold, path: Path) -> None:
    """The written catalogue and breakdowns check against the file's own metadata, and
    against the tracker the written manifest loads (whose audit is then empty)."""
    wave = st.read_wave(path, design=st.Design(weight=found.weight.column), cache=False)
    columns = wave.data.columns
    load_indicators(found.out_dir / "indicators.toml").check(wave.meta, columns=columns)
    load_breakdowns(found.out_dir / "breakdowns.toml").check(wave.meta, columns=columns)
    check_tracker(found, load_tracker(found))


@needs_realworld
def test_realworld_bsa_style(tmp_path):
    path, truth = realworld.bsa_style(tmp_path / "in")
    start = time.perf_counter()
    found = scaffold_tracker([path], tmp_path / "out")
    assert time.perf_counter() - start < 10
    want = truth["scaffold"]
    design = found.design
    assert (design.weight.column, design.strata.column, design.psu.column, design.nest) == (
        want["weight"], want["strata"], want["psu"], want["nest"])
    assert design.weight.sure and design.psu.sure
    assert declared(found) == want["missing_to_declare"]
    assert [b.variable for b in found.breakdowns] == want["breakdowns"]
    skipped = dict(found.skipped)
    assert set(want["not_analysed"]) <= set(skipped)
    batteries = {tuple(i.name for i in b.items) for b in found.batteries}
    for items in want["batteries"].values():
        assert tuple(items) in batteries
    # codes 8 and 9 are real answers of these two: never declared, kept as groups
    for column, codes in truth["answers_not_non_answers"].items():
        assert not set(codes) & set(declared(found).get(column, []))
    ethnicity = next(b for b in found.breakdowns if b.variable == "RaceOri3")
    assert {8, 9} <= {c for g in ethnicity.groups for c in g.codes}
    assert not {98, 99} & {c for g in ethnicity.groups for c in g.codes}
    assert "nest = true" in found.files["waves.toml"]
    check_against_file(found, path)


@needs_realworld
def test_realworld_election_style(tmp_path):
    path, truth = realworld.election_style(tmp_path / "in")
    found = scaffold_tracker([path], tmp_path / "out")
    want = truth["scaffold"]
    assert found.weight.column == want["weight"]
    assert found.design.strata.column is None and found.design.psu.column is None
    assert "wt_core_W1" in {c.column for c in found.weight.others}
    # 9999 unlabelled on the seven 0-10 items: declared once for every numeric item
    (sentinel,) = found.missing.values
    assert sentinel.code == 9999
    assert [i.split(" ")[0] for i in sentinel.items] == truth["batteries"]["like"]
    everything = declared(found)
    for column in truth["unlabelled_non_answers"]:
        everything.setdefault(column, [9999])
    assert everything == want["missing_to_declare"]
    assert [b.variable for b in found.breakdowns] == [c for c in want["breakdowns"]
                                                      if c not in truth["needs_banding"]]
    assert [u.variable for u in found.unusable] == truth["needs_banding"]
    assert {tuple(i.name for i in b.items) for b in found.batteries} >= {
        tuple(truth["batteries"]["like"])}
    assert set(want["not_analysed"]) <= set(dict(found.skipped))
    check_against_file(found, path)


@needs_realworld
def test_realworld_pspp_written(tmp_path):
    path, truth = realworld.pspp_written(tmp_path / "in")   # skips without pspp
    found = scaffold_tracker([path], tmp_path / "out")
    want = truth["scaffold"]
    assert (found.design.weight.column, found.design.strata.column, found.design.psu.column,
            found.design.nest) == (want["weight"], want["strata"], want["psu"], False)
    assert declared(found) == want["missing_to_declare"]
    assert sorted(b.variable for b in found.breakdowns) == sorted(want["breakdowns"])
    assert set(want["not_analysed"]) <= set(dict(found.skipped))
    specs = {s.name: s for s in found.indicators}
    assert specs["q1_top2"].codes == (1, 2)                   # "A great deal" at code 1
    assert specs["q2_top2"].codes == (1, 2) and specs["q2_net"].minus == (4, 5)
    assert specs["q3_high"].codes == (7, 8, 9, 10)
    check_against_file(found, path)


@needs_realworld
def test_realworld_two_surveys_break_the_series(tmp_path):
    (old, new), truth = realworld.two_surveys(tmp_path / "in")
    found = scaffold_tracker([new, old], tmp_path / "out")
    want = truth["scaffold"]
    assert [w.label for w in found.waves] == truth["waves"]
    breaks = {w.label: w.series_break is None for w in found.waves if w.label != "2019"}
    assert {label: comparable for label, comparable in breaks.items()} == \
        want["comparable_with_previous"]
    assert [c.column for w in found.waves for c in w.changed] == want["changed_questions"]
    manifest = tomllib.loads(found.files["waves.toml"])
    assert manifest["waves"][1]["comparable_with_previous"] is False
    assert not found.shared_design
    for wave in found.waves:
        expected = truth["designs"][wave.label]
        assert (wave.design.weight.column, wave.design.strata.column, wave.design.psu.column,
                wave.design.nest) == (expected["weight"], expected["strata"], expected["psu"],
                                      expected["nest"])
    assert declared(found) == truth["undeclared_non_answers"] | {"AIuse": [8]}
    tracker = load_tracker(found)
    assert tracker.not_comparable("2019", "2023").startswith("mode of interview changed from "
                                                             "Face-to-face interview (CAPI)")
    assert tracker.not_comparable("2019", "2023", "TrstNHS")     # the break, or the rewording
    assert tracker.report.query("issue == 'question wording'")["variable"].tolist() == ["TrstNHS"]
    check_tracker(found, tracker)

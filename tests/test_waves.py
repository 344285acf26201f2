"""read_waves and Tracker: manifests, harmonisation, the report, stacking.

The waves are small .sav files written here with pyreadstat; what each test
expects follows from what it wrote (or, for the stacked design, from R).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

import surveytools as st
from surveytools.core.errors import DataError, FileFormatError, HarmonisationError, ManifestError

REFERENCE = Path(__file__).parent / "reference" / "waves"
OLD_BENEFITS = {1: "Risks outweigh", 2: "About equal", 3: "Benefits outweigh", 8: "Don't know"}
NEW_BENEFITS = {1: "Risks far outweigh", 2: "Risks slightly outweigh", 3: "About equal",
                4: "Benefits slightly outweigh", 5: "Benefits far outweigh", 8: "Don't know"}
TRUST = {0: "Not at all", 10: "Completely", 98: "Don't know"}


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEYTOOLS_CACHE_DIR", str(tmp_path / "cache"))


def write_wave(path, *, old: bool, exams: bool = True, trust_labels=None, n=12, seed=0,
               measure="ordinal", **columns) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    trust = "trust_government" if old else "trust_govt"
    frame = pd.DataFrame({
        "resp_id": np.arange(1.0, n + 1),
        "weight": rng.uniform(0.5, 2.0, n).round(3),
        trust: rng.choice([0.0, 3.0, 10.0, 98.0], n),
        "ai_benefits": rng.choice([1.0, 2.0, 3.0, 8.0] if old else [1.0, 3.0, 5.0, 8.0], n),
        "ai_word": rng.choice(["good", "scary", ""], n),
    })
    if exams:
        frame["accept_exams"] = rng.choice([1.0, 5.0], n)
    frame = frame.assign(**columns)
    labels = {trust: trust_labels or TRUST, "ai_benefits": OLD_BENEFITS if old else NEW_BENEFITS}
    pyreadstat.write_sav(
        frame, path, variable_value_labels=labels,
        column_labels={trust: "Trust the government?", "ai_benefits": "Benefits or risks?"},
        missing_ranges={trust: [98], "ai_benefits": [8]},
        variable_measure={trust: measure, "ai_benefits": "ordinal"})
    return frame


RENAME = '[waves.rename]\ntrust_government = "trust_govt"\n'
RECODE = '[waves.recode.ai_benefits]\n"1" = 2\n"2" = 3\n"3" = 4\n'


def manifest(folder, waves: list[str], *, head: str = "", design='weight = "weight"') -> Path:
    text = (f'[tracker]\nname = "Test tracker"\nshared_respondents = false\n{head}\n'
            f"[small_base]\nsuppress_below = 5\nflag_below = 8\n\n[design]\n{design}\n\n")
    text += "\n".join(f"[[waves]]\n{w}" for w in waves)
    path = folder / "waves.toml"
    path.write_text(text, encoding="utf-8")
    return path


def wave_entry(label, file, extra="", start=None):
    start = start or f"{label}-03-01"
    return f'label = "{label}"\nfile = "{file}"\nfieldwork_start = {start}\n' \
           f"fieldwork_end = {label}-04-15\n{extra}"


@pytest.fixture
def tracker_files(tmp_path):
    frames = {
        "2021": write_wave(tmp_path / "w2021.sav", old=True, exams=False, seed=1),
        "2022": write_wave(tmp_path / "w2022.sav", old=True, exams=False, seed=2),
        "2023": write_wave(tmp_path / "w2023.sav", old=False, seed=3),
        "2024": write_wave(tmp_path / "w2024.sav", old=False, seed=4),
    }
    path = manifest(tmp_path, [
        wave_entry("2021", "w2021.sav", RENAME + RECODE),
        wave_entry("2022", "w2022.sav", RENAME + RECODE),
        wave_entry("2023", "w2023.sav"),
        wave_entry("2024", "w2024.sav"),
    ])
    return path, frames


def test_renames_recodes_and_absent_questions(tracker_files):
    path, frames = tracker_files
    tracker = st.read_waves(path)
    assert tracker.names == ("2021", "2022", "2023", "2024") and len(tracker) == 4
    assert [s.wave for s in tracker] == list(tracker.names)
    w2021 = tracker["2021"]
    # rename: the old column is there under its harmonised name, with its metadata
    np.testing.assert_array_equal(w2021.data["trust_govt"], frames["2021"]["trust_government"])
    assert "trust_government" not in w2021.data
    assert w2021.meta.value_labels["trust_govt"] == TRUST
    assert w2021.meta.variable_labels["trust_govt"] == "Trust the government?"
    # recode: 1->2, 2->3, 3->4 at once (not chained), 8 (user-missing) unchanged
    old = frames["2021"]["ai_benefits"].to_numpy()
    expected = np.select([old == 1, old == 2, old == 3], [2.0, 3.0, 4.0], default=old)
    np.testing.assert_array_equal(w2021.data["ai_benefits"].to_numpy(), expected)
    assert w2021.meta.value_labels["ai_benefits"] == NEW_BENEFITS
    assert w2021.meta.missing["ai_benefits"] == st.MissingSpec(values=(8,))
    # absent question: no column, and said so in the report
    assert "accept_exams" not in w2021.data
    report = tracker.report
    assert list(report.columns) == ["variable", "wave", "issue", "detail"]
    rows = set(map(tuple, report[["variable", "wave", "issue"]].to_numpy()))
    assert {("trust_govt", "2021", "renamed"), ("trust_govt", "2022", "renamed"),
            ("ai_benefits", "2021", "recoded"), ("ai_benefits", "2022", "recoded"),
            ("ai_benefits", "2021", "value labels harmonised"),
            ("accept_exams", "2021", "absent"), ("accept_exams", "2022", "absent")} <= rows
    recoded = report[(report.issue == "recoded") & (report.wave == "2021")]["detail"].item()
    assert recoded == "1->2, 2->3, 3->4"
    harmonised = report[(report.issue == "value labels harmonised") & (report.wave == "2021")]
    assert "2024" in harmonised["detail"].item()
    assert not {r for r in rows if r[1] in ("2023", "2024")}  # nothing to say about those


def test_tracker_parts(tracker_files):
    path, _ = tracker_files
    tracker = st.read_waves(path)
    assert tracker.fieldwork["2022"] == (dt.date(2022, 3, 1), dt.date(2022, 4, 15))
    assert tracker.shared_respondents is False and tracker.name == "Test tracker"
    assert tracker["2024"].small_base == st.SmallBaseRule(suppress_below=5, flag_below=8)
    assert tracker["2023"].meta.notes["fieldwork_start"] == "2023-03-01"
    assert tracker["2023"].meta.file == str(path.parent / "w2023.sav")
    assert "2023" in tracker and "1999" not in tracker
    with pytest.raises(KeyError, match="no wave 2023; the waves are 2021, 2022, 2023, 2024"):
        tracker[2023]
    book = tracker.codebook()
    assert list(book.columns) == ["label", "2021", "2022", "2023", "2024"]
    assert book.loc["accept_exams", ["2021", "2022", "2023", "2024"]].tolist() == [
        False, False, True, True]
    assert book.loc["trust_govt"].tolist() == ["Trust the government?", True, True, True, True]
    assert book.index[0] == "resp_id" and "trust_government" not in book.index


def test_wording_only_differences_are_reported_not_errors(tmp_path):
    write_wave(tmp_path / "a.sav", old=False, trust_labels={0: "not at all", 10: "Completely!",
                                                            98: "Don’t  know"}, measure="scale")
    write_wave(tmp_path / "b.sav", old=False)
    tracker = st.read_waves(manifest(tmp_path, [wave_entry("2023", "a.sav"),
                                                wave_entry("2024", "b.sav")]))
    report = tracker.report.set_index(["variable", "wave", "issue"])
    wording = report.loc[("trust_govt", "2023", "value label wording")]["detail"].tolist()
    assert len(wording) == 3 and any("'Don’t  know' here, \"Don't know\" in 2024" in d
                                     for d in wording)
    measure = report.loc[("trust_govt", "2023", "measure"), "detail"]
    assert measure == "'scale' here, 'ordinal' in 2024"


def test_user_missing_and_labelled_code_differences_are_reported(tmp_path):
    frame = write_wave(tmp_path / "a.sav", old=False)
    pyreadstat.write_sav(frame, tmp_path / "a.sav",
                         variable_value_labels={"trust_govt": {0: "Not at all", 99: "Refused"}},
                         missing_ranges={"trust_govt": [98, 99]})
    write_wave(tmp_path / "b.sav", old=False)
    report = st.read_waves(manifest(tmp_path, [wave_entry("2023", "a.sav"),
                                               wave_entry("2024", "b.sav")])).report
    detail = report.set_index(["variable", "wave", "issue"])["detail"]
    assert detail[("trust_govt", "2023", "user-missing")] == "'98, 99' here, '98' in 2024"
    assert detail[("trust_govt", "2023", "labelled codes")] == (
        "labelled only here: 99; labelled only in 2024: 10, 98")


def test_a_code_that_changes_meaning_is_an_error_naming_both_files(tmp_path):
    write_wave(tmp_path / "a.sav", old=True, exams=False)
    write_wave(tmp_path / "b.sav", old=False)
    path = manifest(tmp_path, [wave_entry("2021", "a.sav", RENAME), wave_entry("2024", "b.sav")])
    with pytest.raises(HarmonisationError) as err:
        st.read_waves(path)
    message = str(err.value)
    assert message.startswith(f"{tmp_path / 'a.sav'}, column 'ai_benefits': code ")
    assert "means different things in two waves" in message
    assert str(tmp_path / "b.sav") in message
    # code 1 is the first that differs: both labels are named
    assert "'Risks outweigh' in wave 2021" in message and "'Risks far outweigh'" in message
    assert f"add [waves.recode.ai_benefits] for wave 2021 to {path}" in message


def test_a_recode_must_cover_every_answer_code(tmp_path):
    frame = write_wave(tmp_path / "a.sav", old=True, exams=False)
    write_wave(tmp_path / "b.sav", old=False)
    partial = '[waves.recode.ai_benefits]\n"1" = 2\n"2" = 3\n'
    path = manifest(tmp_path, [wave_entry("2021", "a.sav", RENAME + partial),
                               wave_entry("2024", "b.sav")])
    first = int(np.flatnonzero(frame["ai_benefits"].to_numpy() == 3)[0]) + 1
    with pytest.raises(HarmonisationError) as err:
        st.read_waves(path)
    message = str(err.value)
    assert message.startswith(f"{tmp_path / 'a.sav'}, column 'ai_benefits', row {first}: "
                              "the recode of wave 2021 does not map every answer code")
    assert 'found 3. Fix: add "3" = <harmonised code> to [waves.recode.ai_benefits]' in message


@pytest.mark.parametrize("extra, column, where", [
    ('[waves.rename]\ntrust_gov = "trust_govt"\n', "trust_gov", "[waves.rename] of wave 2021"),
    (RENAME + '[waves.recode.ai_benefit]\n"1" = 2\n', "ai_benefit",
     "[waves.recode.ai_benefit] of wave 2021"),
])
def test_a_column_the_wave_lacks(tmp_path, extra, column, where):
    write_wave(tmp_path / "a.sav", old=True, exams=False)
    path = manifest(tmp_path, [wave_entry("2021", "a.sav", extra)])
    with pytest.raises(HarmonisationError) as err:
        st.read_waves(path)
    message = str(err.value)
    assert message.startswith(f"{path}, column '{column}': {where} names a column that a.sav "
                              "does not have")
    assert str(tmp_path / "a.sav") in message


def test_a_recode_code_of_the_wrong_type(tmp_path):
    write_wave(tmp_path / "a.sav", old=False)
    path = manifest(tmp_path, [wave_entry("2024", "a.sav", '[waves.recode.ai_benefits]\n'
                                                           '"one" = 2\n')])
    with pytest.raises(ManifestError, match=r"waves.toml, column 'ai_benefits': \[waves.recode."
                                            r"ai_benefits of wave 2024\] maps a code that is not"):
        st.read_waves(path)


@pytest.mark.parametrize("head, waves, pattern", [
    ("colour = 1", None, r"unknown key in \[tracker\]; expected one of breakdowns, catalogue, "
                         r"description, name, shared_respondents, found colour"),
    ("", ['label = "2024"\nfile = "a.sav"\nrenames = {}\n'],
     r"unknown key in wave '2024' \(\[\[waves\]\] number 1\).*found renames"),
    ("", ['label = "2024"\nfile = "missing.sav"\n'],
     r"wave '2024' .*: the file named in the manifest does not exist; expected a file at "
     r".*missing.sav"),
    ("", ['label = "2024"\nfile = "a.xlsx"\n'], None),
    ("", ['label = "2024"\nfile = "a.sav"\n[waves.design]\nlonely_psu = "ignore"\n'],
     r"\[design\]: unknown lonely_psu option.*'ignore'"),
    ("", ['label = "2024"\nfile = "a.sav"\n[waves.design]\nstrata = 3\n'],
     r"design field 'strata' must be a column name"),
    ("", ['label = "2024"\nfile = "a.sav"\n[waves.design]\nweights = "w"\n'],
     r"unknown key in wave '2024' .* \[design\].*found weights"),
    ("", ['label = 2024\nfile = "a.sav"\n'], r"label must be text; expected label = \"2024\""),
    ("", ['label = "2024"\nfile = "a.sav"\nfieldwork_start = "2024-01-01"\n'],
     r"fieldwork_start must be a date; expected fieldwork_start = 2024-05-13 \(a TOML date, "
     r"without quotes\)"),
    ("", ['label = "2024"\nfile = "a.sav"\nfieldwork_start = 2024-05-01\n'
          'fieldwork_end = 2024-04-01\n'], "fieldwork ends before it starts"),
    ("", [wave_entry("2024", "a.sav"), wave_entry("2023", "a.sav")],
     "the waves are not listed in time order"),
    ("", [wave_entry("2024", "a.sav"), wave_entry("2024", "a.sav", start="2024-03-05")],
     "two waves have the same label; expected a different label for every wave, found 2024"),
    ("", [], "the manifest lists no waves"),
])
def test_manifest_faults_name_the_manifest_and_key(tmp_path, head, waves, pattern):
    write_wave(tmp_path / "a.sav", old=False)
    (tmp_path / "a.xlsx").write_bytes(b"PK")
    path = manifest(tmp_path, [wave_entry("2024", "a.sav")] if waves is None else waves,
                    head=head)
    expected = FileFormatError if pattern is None else ManifestError
    with pytest.raises(expected, match=pattern or r"a.xlsx: unknown file format") as err:
        st.read_waves(path)
    if pattern is not None:
        assert str(err.value).startswith(str(path))


def test_design_overrides_and_replicate_designs(tmp_path):
    write_wave(tmp_path / "a.sav", old=False, stratum=[1.0, 2.0] * 6)
    write_wave(tmp_path / "b.sav", old=False, rw1=[1.0] * 12, rw2=[2.0] * 12)
    path = manifest(tmp_path, [
        wave_entry("2023", "a.sav", '[waves.design]\nstrata = "stratum"\nlonely_psu = "adjust"\n'),
        wave_entry("2024", "b.sav", '[waves.design]\nreplicate_weights = ["rw1", "rw2"]\n'
                                    'method = "JK1"\n'),
    ])
    tracker = st.read_waves(path)
    assert tracker["2023"].design == st.Design(weight="weight", strata="stratum",
                                               lonely_psu="adjust")
    assert tracker["2024"].design == st.ReplicateDesign(weight="weight",
                                                        replicate_weights=["rw1", "rw2"])


def test_manifest_without_weight_or_valid_toml(tmp_path):
    write_wave(tmp_path / "a.sav", old=False)
    path = manifest(tmp_path, [wave_entry("2024", "a.sav")], design='strata = "resp_id"')
    with pytest.raises(ManifestError, match="the design has no weight"):
        st.read_waves(path)
    path.write_text('[tracker\nname = "x"\n')
    with pytest.raises(ManifestError, match=r"waves.toml: the manifest is not valid TOML.*line 1"):
        st.read_waves(path)
    with pytest.raises(ManifestError, match="nowhere.toml: manifest not found"):
        st.read_waves(tmp_path / "nowhere.toml")


def test_a_csv_wave_without_its_codebook(tmp_path):
    pd.DataFrame({"weight": [1.0]}).to_csv(tmp_path / "w.csv", index=False)
    path = manifest(tmp_path, ['label = "2024"\nfile = "w.csv"\n'])
    with pytest.raises(ManifestError, match=r"the CSV's codebook is missing; expected "
                                            r".*w.codebook.json"):
        st.read_waves(path)


def test_a_tracker_cannot_be_changed_and_no_method_changes_it(tracker_files):
    path, _ = tracker_files
    tracker = st.read_waves(path)
    surveys = dict(tracker.items())

    def state():
        return {"names": tracker.names, "fieldwork": dict(tracker.fieldwork),
                "report": tracker.report, "name": tracker.name,
                "description": tracker.description, "manifest": tracker.manifest,
                "shared": tracker.shared_respondents,
                "data": {label: s.data.copy() for label, s in tracker.items()},
                "designs": {label: s.design for label, s in tracker.items()}}

    def assert_unchanged(before):
        after = state()
        for key in ("names", "fieldwork", "name", "description", "manifest", "shared", "designs"):
            assert after[key] == before[key], key
        pd.testing.assert_frame_equal(after["report"], before["report"])
        for label, frame in before["data"].items():
            pd.testing.assert_frame_equal(after["data"][label], frame)
        assert all(tracker[label] is survey for label, survey in surveys.items())

    before = state()
    # every method and property, with its result changed where it can be
    for frame, row, column in ((tracker.report, 0, "issue"), (tracker.codebook(), "weight", "label"),
                               (tracker.stacked().data, 0, "wave")):
        frame.loc[row, column] = "changed"
    list(tracker), list(reversed(tracker)), len(tracker), "2021" in tracker, repr(tracker)
    tracker["2021"], tracker.names, tracker.fieldwork
    copy = tracker.replace(name="Other", waves={k: surveys[k] for k in ("2021", "2022")})
    assert copy.name == "Other" and copy.names == ("2021", "2022")
    assert copy.fieldwork == {k: tracker.fieldwork[k] for k in ("2021", "2022")}
    assert copy.manifest == tracker.manifest and copy.report.equals(tracker.report)
    assert_unchanged(before)
    # nothing can be set, deleted or added
    for name in ("name", "description", "manifest", "names", "fieldwork", "report",
                 "shared_respondents", "_waves", "extra"):
        with pytest.raises(AttributeError, match="cannot be changed"):
            setattr(tracker, name, None)
    with pytest.raises(AttributeError, match="cannot be changed"):
        del tracker.name
    with pytest.raises(TypeError):
        tracker.fieldwork["2021"] = (None, None)
    with pytest.raises(TypeError):
        tracker._waves["2021"] = surveys["2022"]  # the private state is read-only too
    with pytest.raises(TypeError, match="unknown fields"):
        tracker.replace(label="x")
    assert not hasattr(tracker, "__dict__")
    assert_unchanged(before)


def test_the_manifest_is_parsed_into_frozen_entries(tracker_files):
    from surveytools.waves.manifest import parse_manifest

    path, _ = tracker_files
    spec = parse_manifest(path)
    assert [w.label for w in spec.waves] == ["2021", "2022", "2023", "2024"]
    first = spec.waves[0]
    assert first.rename == {"trust_government": "trust_govt"}
    assert first.recode["ai_benefits"] == {"1": 2, "2": 3, "3": 4}
    with pytest.raises(TypeError):
        first.rename["x"] = "y"
    with pytest.raises(TypeError):
        first.recode["ai_benefits"]["1"] = 5
    with pytest.raises(AttributeError):
        first.label = "2020"


def test_a_misspelt_manifest_key_gets_a_suggestion(tmp_path):
    write_wave(tmp_path / "a.sav", old=False)
    path = manifest(tmp_path, [wave_entry("2024", "a.sav", 'fieldwork_stat = 2024-01-01\n')])
    with pytest.raises(ManifestError) as err:
        st.read_waves(path)
    assert err.value.column == "fieldwork_stat"
    assert err.value.hint.startswith("did you mean 'fieldwork_start'")
    path.write_bytes(path.read_bytes().replace(b"Test tracker", "Test tr\u00e4cker".encode("latin-1")))
    with pytest.raises(ManifestError, match=r"waves.toml: the manifest is not UTF-8 text.*line 2"):
        st.read_waves(path)


def test_bad_weights_in_a_wave_name_its_file(tmp_path):
    write_wave(tmp_path / "a.sav", old=False, weight=[1.0] * 11 + [-1.0])
    path = manifest(tmp_path, [wave_entry("2024", "a.sav")])
    with pytest.raises(DataError, match=rf"{tmp_path / 'a.sav'}, column 'weight', row 12: "
                                        "weights must not be negative"):
        st.read_waves(path)


def test_manifest_and_wave_files_are_not_changed(tracker_files):
    path, _ = tracker_files
    files = sorted(path.parent.glob("w*.*"))

    def snapshot():
        return [(hashlib.sha256(p.read_bytes()).hexdigest(), os.stat(p).st_mtime_ns)
                for p in files]

    before = snapshot()
    st.read_waves(path)
    st.read_waves(path)
    assert snapshot() == before


# -- stacking -------------------------------------------------------------------
def test_stacked_design_matches_r():
    """Two waves with different designs, stacked: R's svydesign on the rbind is the reference."""
    inputs = pd.read_csv(REFERENCE / "inputs.csv", dtype={"stype": "str"})
    reference = pd.read_csv(REFERENCE / "reference.csv", keep_default_na=False)
    value = {(r.quantity, r.by): float(r.r_value) for r in reference.itertuples()}
    strat = inputs[inputs.wave == "strat"].drop(columns=["wave", "dnum"]).reset_index(drop=True)
    clus = inputs[inputs.wave == "clus"].drop(columns=["wave", "stype"]).reset_index(drop=True)
    tracker = st.Tracker({
        "strat": st.Survey(strat, st.Design(weight="pw", strata="stype", fpc="fpc")),
        "clus": st.Survey(clus, st.Design(weight="pw", psu="dnum", fpc="fpc")),
    })
    stacked = tracker.stacked()
    assert stacked.design == st.Design(weight="pw", strata="wave_stratum", psu="wave_psu",
                                       fpc="fpc")
    assert len(stacked) == len(inputs) and stacked.data["wave"].tolist() == inputs["wave"].tolist()
    overall = stacked.mean("api00").to_frame(suppress=False).iloc[0]
    assert overall["estimate"] == pytest.approx(value[("mean", "")], rel=1e-10)
    assert overall["se"] == pytest.approx(value[("se", "")], rel=1e-8)
    assert overall["df"] == value[("df", "")]
    both = stacked.mean("both").to_frame(suppress=False).iloc[0]
    assert both["se"] == pytest.approx(value[("se_both", "")], rel=1e-8)
    by_wave = stacked.mean("api00", by="wave").to_frame(suppress=False).set_index("wave")
    for wave in ("strat", "clus"):
        assert by_wave.loc[wave, "estimate"] == pytest.approx(value[("mean", wave)], rel=1e-10)
        assert by_wave.loc[wave, "se"] == pytest.approx(value[("se", wave)], rel=1e-8)


def test_stacked_example_waves_keep_each_wave_as_a_stratum(tracker_files):
    path, frames = tracker_files
    stacked = st.read_waves(path).stacked()
    data = stacked.data
    assert stacked.design == st.Design(weight="weight", strata="wave_stratum")
    assert data["wave"].value_counts().to_dict() == {w: 12 for w in frames}
    assert (data["wave_stratum"] == data["wave"]).all()
    assert data.loc[data.wave == "2021", "accept_exams"].isna().all()
    assert stacked.meta.value_labels["ai_benefits"] == NEW_BENEFITS
    assert stacked.meta.variable_labels["wave"] == "Wave"


def test_stacking_is_refused_for_shared_respondents_and_mixed_designs():
    frame = pd.DataFrame({"w": [1.0, 2.0], "s": [1, 2], "f": [10.0, 10.0]})
    panel = st.Tracker({"a": st.Survey(frame, st.Design(weight="w")),
                        "b": st.Survey(frame, st.Design(weight="w"))}, shared_respondents=True)
    with pytest.raises(HarmonisationError, match="share respondents cannot be stacked"):
        panel.stacked()
    mixed = st.Tracker({"a": st.Survey(frame, st.Design(weight="w", fpc="f")),
                        "b": st.Survey(frame, st.Design(weight="w"))})
    with pytest.raises(HarmonisationError, match="some waves have an fpc and others do not"):
        mixed.stacked()
    lonely = st.Tracker({"a": st.Survey(frame, st.Design(weight="w", lonely_psu="adjust")),
                         "b": st.Survey(frame, st.Design(weight="w"))})
    with pytest.raises(HarmonisationError, match="disagree on lonely_psu"):
        lonely.stacked()
    taken = st.Tracker({"a": st.Survey(frame.assign(wave=1), st.Design(weight="w"))})
    with pytest.raises(HarmonisationError, match="already has a column that stacking adds"):
        taken.stacked()


def test_stacking_different_weight_columns():
    a = pd.DataFrame({"w1": [1.0, 3.0], "y": [1.0, 0.0]})
    b = pd.DataFrame({"w2": [2.0, 2.0], "y": [0.0, 0.0]})
    stacked = st.Tracker({"a": st.Survey(a, st.Design(weight="w1")),
                          "b": st.Survey(b, st.Design(weight="w2"))}).stacked()
    assert stacked.design.weight == "wave_weight"
    assert stacked.data["wave_weight"].tolist() == [1.0, 3.0, 2.0, 2.0]


# -- the bundled example --------------------------------------------------------
def test_the_example_tracker():
    tracker = st.read_waves("data/tracker/waves.toml")
    assert tracker.names == ("2021", "2022", "2023", "2024")
    raw, _ = pyreadstat.read_sav("data/tracker/wave2021.sav", user_missing=True)
    harmonised = tracker["2021"].data
    np.testing.assert_array_equal(harmonised["trust_govt"], raw["trust_government"])
    old = raw["ai_benefits"].value_counts()
    new = harmonised["ai_benefits"].value_counts()
    assert [new[2], new[3], new[4], new[8]] == [old[1], old[2], old[3], old[8]]
    assert "accept_exams" not in harmonised and "accept_exams" in tracker["2023"].data
    assert tracker["2024"].meta.file.endswith("wave2024.csv")
    issues = set(map(tuple, tracker.report[["variable", "wave", "issue"]].to_numpy()))
    assert ("accept_exams", "2022", "absent") in issues
    assert ("ai_benefits", "2022", "recoded") in issues

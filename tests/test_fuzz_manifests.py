"""Manifests: every value is type-checked, recodes make sense, nothing is read twice.

Two corpora, both generated here from the example ``data/tracker/waves.toml``:

* targeted faults, one a case: a boolean, text or a fraction where a count
  belongs (``suppress_below = true`` used to switch suppression off), recodes
  to ``nan``, ``inf``, ``2.5``, a code the harmonised scale lacks or a
  user-missing code, one old code written twice (``"1"`` and ``"01"``), one
  file used for two waves, keys of the wrong type anywhere: each must be a
  ManifestError that names the manifest and the key;
* seeded single-byte changes and truncations of the manifest: each must parse,
  or fail with a named error; a manifest that parses must read (or fail with a
  named error) -- never a generic exception.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

import surveytools as st
from surveytools.core.errors import ManifestError, SurveyError
from surveytools.waves.manifest import parse_manifest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = (ROOT / "data" / "tracker" / "waves.toml").read_text(encoding="utf-8")
RECODE = '"1" = 2\n"2" = 3\n"3" = 4'


@pytest.fixture(scope="module")
def tracker_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tracker")
    for path in (ROOT / "data" / "tracker").iterdir():
        if path.is_file():
            shutil.copyfile(path, folder / path.name)
    shutil.copyfile(folder / "wave2021.sav", folder / "copy_of_2021.sav")
    return folder


@pytest.fixture(autouse=True)
def cache_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("SURVEYTOOLS_CACHE_DIR",
                       str(tmp_path_factory.getbasetemp() / "manifest-cache"))


def edit(old: str, new: str, count: int = 1) -> str:
    assert old in EXAMPLE, old
    return EXAMPLE.replace(old, new, count)


def recode(lines: str) -> str:
    return edit(RECODE, lines)


# (case, manifest text, the key the error names, a phrase of the message)
TYPE_FAULTS = [
    ("suppress_below = true", edit("suppress_below = 50", "suppress_below = true"),
     "suppress_below", "must be a whole number"),
    ("suppress_below = false", edit("suppress_below = 50", "suppress_below = false"),
     "suppress_below", "found False (bool)"),
    ('suppress_below = "50"', edit("suppress_below = 50", 'suppress_below = "50"'),
     "suppress_below", "found '50' (str)"),
    ("suppress_below = 50.0", edit("suppress_below = 50", "suppress_below = 50.0"),
     "suppress_below", "found 50.0 (float)"),
    ("suppress_below = 2.5", edit("suppress_below = 50", "suppress_below = 2.5"),
     "suppress_below", "whole number"),
    ("suppress_below = nan", edit("suppress_below = 50", "suppress_below = nan"),
     "suppress_below", "whole number"),
    ("suppress_below = [50]", edit("suppress_below = 50", "suppress_below = [50]"),
     "suppress_below", "whole number"),
    ("flag_below = true", edit("flag_below = 100", "flag_below = true"), "flag_below",
     "whole number"),
    ('flag_below = "100"', edit("flag_below = 100", 'flag_below = "100"'), "flag_below",
     "whole number"),
    ("suppress_below above flag_below", edit("suppress_below = 50", "suppress_below = 150"),
     None, "0 <= suppress_below <= flag_below"),
    ('shared_respondents = "false"',
     edit("shared_respondents = false", 'shared_respondents = "false"'),
     "shared_respondents", "true or false"),
    ("shared_respondents = 0", edit("shared_respondents = false", "shared_respondents = 0"),
     "shared_respondents", "true or false"),
    ("name = 5", edit('name = "Public attitudes', 'name = 5\nx = "Public attitudes'),
     None, None),
    ("label = 2021", edit('label = "2021"', "label = 2021"), "label", "must be text"),
    ('fieldwork_start = "2021-08-02"',
     edit("fieldwork_start = 2021-08-02", 'fieldwork_start = "2021-08-02"'),
     "fieldwork_start", "must be a date"),
    ("encoding = klingon", edit('file = "wave2022.sav"', 'file = "wave2022.sav"\n'
                                'encoding = "klingon"'), "encoding", "unknown text encoding"),
    ("encoding = 8", edit('file = "wave2022.sav"', 'file = "wave2022.sav"\nencoding = 8'),
     "encoding", "must be text"),
    ('nest = "true"', edit('weight = "weight"', 'weight = "weight"\nnest = "true"'),
     "nest", "nest must be True or False"),
    ("weight = 5", edit('weight = "weight"', "weight = 5"), "weight", "column name"),
    ("lonely_psu = 1", edit('weight = "weight"', 'weight = "weight"\nlonely_psu = 1'),
     "lonely_psu", "unknown lonely_psu"),
    ('rho = "0.3" (replicate design)',
     edit('weight = "weight"', 'weight = "weight"\nreplicate_weights = ["a", "b"]\n'
                               'method = "Fay"\nrho = "0.3"'), "rho", "wrong type"),
    ("mse = 1 (replicate design)",
     edit('weight = "weight"', 'weight = "weight"\nreplicate_weights = ["a", "b"]\nmse = 1'),
     "mse", "wrong type"),
    ('rscales = ["1", "1"]',
     edit('weight = "weight"', 'weight = "weight"\nreplicate_weights = ["a", "b"]\n'
                               'method = "JKn"\nrscales = ["1", "1"]'), "rscales", "wrong type"),
    ('comparable_with_previous = "no"',
     edit('file = "wave2022.sav"', 'file = "wave2022.sav"\ncomparable_with_previous = "no"'),
     "comparable_with_previous", "true or false"),
    ("[missing] values = [nan]", edit("[design]", "[missing]\nvalues = [nan]\n\n[design]"),
     "values", "numeric codes"),
    ("[missing] values = [true]", edit("[design]", "[missing]\nvalues = [true]\n\n[design]"),
     "values", "numeric codes"),
    ('[missing] values = ["98"]', edit("[design]", '[missing]\nvalues = ["98"]\n\n[design]'),
     "values", "numeric codes"),
    ("[missing.variables] trust_nhs = [inf]",
     edit("[design]", "[missing.variables]\ntrust_nhs = [inf]\n\n[design]"), "values",
     "numeric codes"),
    ("catalogue = 5", edit("shared_respondents = false",
                           "shared_respondents = false\ncatalogue = 5"), "catalogue",
     "must be a file name"),
    # recodes
    ('recode "1" = nan', recode('"1" = nan\n"2" = 3\n"3" = 4'), "ai_benefits",
     "finite number"),
    ('recode "1" = inf', recode('"1" = inf\n"2" = 3\n"3" = 4'), "ai_benefits", "finite number"),
    ('recode "1" = -inf', recode('"1" = -inf\n"2" = 3\n"3" = 4'), "ai_benefits",
     "finite number"),
    ('recode "1" = true', recode('"1" = true\n"2" = 3\n"3" = 4'), "ai_benefits",
     "finite number"),
    ('recode "1" = 2.5', recode('"1" = 2.5\n"2" = 3\n"3" = 4'), "ai_benefits",
     "not a whole number"),
    ('recode "1" = 98 (not on the scale)', recode('"1" = 98\n"2" = 3\n"3" = 4'), "ai_benefits",
     "does not have"),
    ('recode "1" = 8 (Don\'t know)', recode('"1" = 8\n"2" = 3\n"3" = 4'), "ai_benefits",
     "onto a user-missing code"),
    ('recode "1" and "01"', recode('"1" = 2\n"01" = 3\n"2" = 3\n"3" = 4'), "ai_benefits",
     "maps one code twice"),
    ('recode "1" and "1.0"', recode('"1" = 2\n"1.0" = 3\n"2" = 3\n"3" = 4'), "ai_benefits",
     "maps one code twice"),
    ('recode "nan" = 2', recode('"nan" = 2\n"1" = 2\n"2" = 3\n"3" = 4'), "ai_benefits",
     "not of the column's type"),
    ("recode 7.5 = 2 (a dotted key)", recode('"1" = 2\n"2" = 3\n"3" = 4\n7.5 = 2'),
     "ai_benefits", "decimal code must be quoted"),
    ('recode "1" = 2 twice (TOML)', recode('"1" = 2\n"1" = 3\n"2" = 3\n"3" = 4'), None,
     "not valid TOML"),
    ('recode "1" = 2 and 1 = 3 (TOML: one key)', recode('"1" = 2\n1 = 3\n"2" = 3\n"3" = 4'),
     None, "not valid TOML"),
    ("recode to_missing = 1", recode('"1" = { code = 8, to_missing = 1 }\n"2" = 3\n"3" = 4'),
     "ai_benefits", "to_missing must be true or false"),
    # files
    ("one file for two waves", edit('file = "wave2022.sav"', 'file = "wave2021.sav"'), "file",
     "read the same data file"),
    ("a copy of one file for a second wave",
     edit('file = "wave2022.sav"', 'file = "copy_of_2021.sav"'), "file",
     "hold identical bytes"),
]


@pytest.mark.parametrize("case, text, key, phrase", TYPE_FAULTS,
                         ids=[c[0] for c in TYPE_FAULTS])
def test_a_value_of_the_wrong_kind_is_a_manifest_error_naming_the_key(
        tracker_folder, tmp_path, case, text, key, phrase):
    path = tracker_folder / f"case-{abs(hash(case))}.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SurveyError) as err:
        st.read_waves(path)
    message = str(err.value)
    assert isinstance(err.value, ManifestError), message
    assert message.startswith(str(path)), message
    if key is not None:
        assert f"column '{key}'" in message, message
    if phrase is not None:
        assert phrase in message, message
    assert "Fix: " in message


def test_recoding_onto_a_missing_code_on_purpose_declares_it(tracker_folder):
    path = tracker_folder / "to_missing.toml"
    path.write_text(recode('"1" = { code = 8, to_missing = true }\n"2" = 3\n"3" = 4'),
                    encoding="utf-8")
    tracker = st.read_waves(path)
    wave = tracker["2021"]
    assert 8 in wave.meta.missing["ai_benefits"]
    report = tracker.report
    detail = report[(report["variable"] == "ai_benefits") & (report["wave"] == "2021")
                    & (report["issue"] == "recoded")]["detail"].iloc[0]
    assert "1->8" in detail and "user-missing by to_missing: 8" in detail


def test_the_issue_suppression_cannot_be_switched_off_by_true(tracker_folder):
    """``suppress_below = true`` was read as 1: every base of 1 or more was shown."""
    path = tracker_folder / "true.toml"
    path.write_text(edit("suppress_below = 50", "suppress_below = true"), encoding="utf-8")
    with pytest.raises(ManifestError, match="column 'suppress_below'"):
        parse_manifest(path)
    with pytest.raises(ManifestError, match="column 'suppress_below'.*found True"):
        st.SmallBaseRule(suppress_below=True)
    with pytest.raises(ManifestError, match="column 'flag_below'.*found '100'"):
        st.SmallBaseRule(flag_below="100")


# -- seeded damage to the example manifest --------------------------------------------
def _mutations() -> list[tuple[str, bytes]]:
    raw = EXAMPLE.encode("utf-8")
    rng = random.Random(11)
    cases = []
    for number in range(150):
        at = rng.randrange(len(raw))
        changed = bytearray(raw)
        changed[at] ^= rng.randrange(1, 256)
        cases.append((f"flip {number} @{at}", bytes(changed)))
    for at in sorted({0, 1, len(raw) // 2, len(raw) - 1, *(rng.randrange(len(raw))
                                                         for _ in range(20))}):
        cases.append((f"cut at {at}", raw[:at]))
    return cases


MUTATIONS = _mutations()


@pytest.mark.parametrize("number", range(len(MUTATIONS)), ids=[m[0] for m in MUTATIONS])
def test_a_damaged_manifest_parses_or_is_a_named_error(tracker_folder, number):
    name, content = MUTATIONS[number]
    path = tracker_folder / "damaged.toml"
    path.write_bytes(content)
    try:
        parse_manifest(path)
    except SurveyError as error:
        assert str(error).startswith(str(path)) and "Fix: " in str(error), str(error)
        return
    try:
        st.read_waves(path)
    except SurveyError as error:
        assert "Fix: " in str(error), str(error)

"""core.schema: every check of a hand-written file names the file, the key, what was
expected, what was found and a fix."""

from __future__ import annotations

import datetime as dt

import pytest

from surveytools.core.errors import FileFormatError, ManifestError, WeightingError
from surveytools.core.schema import Source, did_you_mean, existing_file


def toml(tmp_path, text: str | bytes, name="file.toml"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def check(err, *, file, column, message, expected=True, hint=None):
    """The structured fields of a schema error, and its rendering."""
    error = err.value
    assert error.file == str(file)
    assert error.column == column
    assert message in error.message
    assert (error.expected is not None) == expected
    assert error.found is not None and error.hint
    if hint is not None:
        assert hint in error.hint
    assert str(error).startswith(str(file))


# -- reading ---------------------------------------------------------------------
def test_read_toml_and_json(tmp_path):
    assert Source(toml(tmp_path, 'a = 1\n[b]\nc = "x"\n')).read() == {"a": 1, "b": {"c": "x"}}
    path = toml(tmp_path, '{"a": [1, 2]}', name="f.json")
    assert Source(path, format="JSON").read() == {"a": [1, 2]}


@pytest.mark.parametrize("make, message, found, hint", [
    (lambda p: p / "absent.toml", "manifest not found", "no such file", "check the path"),
    (lambda p: p, "manifest not found", "a folder", "check the path"),
    (lambda p: toml(p, "[tracker\n"), "the manifest is not valid TOML", "line 1",
     "fix the TOML syntax"),
    (lambda p: toml(p, b'name = "caf\xe9"\n\nx = 1\n'), "the manifest is not UTF-8 text",
     "b'\\xe9' on line 1", "save the manifest as UTF-8"),
])
def test_read_faults_name_the_file(tmp_path, make, message, found, hint):
    path = make(tmp_path)
    with pytest.raises(ManifestError) as err:
        Source(path, what="manifest").read()
    check(err, file=path, column=None, message=message, hint=hint)
    assert found in str(err.value.found)


def test_read_uses_the_error_class_and_format_of_the_source(tmp_path):
    with pytest.raises(WeightingError, match="targets file not found"):
        Source(tmp_path / "t.toml", what="targets file", error=WeightingError).read()
    path = toml(tmp_path, '{"a": }', name="c.json")
    with pytest.raises(FileFormatError, match="codebook is not valid JSON.*line 1") as err:
        Source(path, what="codebook", error=FileFormatError, format="JSON").read()
    assert err.value.expected == "a JSON object"
    with pytest.raises(ValueError, match="format"):
        Source(path, format="YAML")


def test_existing_file(tmp_path):
    path = toml(tmp_path, "")
    assert existing_file(path, what="data file") == path
    with pytest.raises(FileFormatError) as err:
        existing_file(tmp_path / "w.sav", what="data file")
    assert str(err.value).startswith(f"{tmp_path / 'w.sav'}: data file not found; "
                                     "expected a readable data file, found no such file. Fix: ")


# -- fields ----------------------------------------------------------------------
SOURCE = Source("waves.toml", what="manifest", guide="see waves.toml for the format")


def test_unknown_keys_name_the_key_and_the_closest_allowed_one():
    SOURCE.check_keys({"name": 1}, {"name"}, where="[tracker]")  # no fault
    with pytest.raises(ManifestError) as err:
        SOURCE.check_keys({"nmae": 1, "zzz": 2}, {"name", "description"}, where="[tracker]")
    check(err, file="waves.toml", column="nmae", message="unknown key in [tracker]",
          hint="did you mean 'name'? Check the spelling (see waves.toml for the format)")
    assert err.value.found == "nmae, zzz"
    assert err.value.expected == "one of description, name"
    with pytest.raises(ManifestError) as err:
        SOURCE.check_keys({"zzz": 1}, {"name"}, where="[tracker]")
    assert err.value.hint == "check the spelling (see waves.toml for the format)"


def test_a_column_replaces_the_key_in_errors():
    variable = Source("w.codebook.json", error=FileFormatError, format="JSON").at("q1")
    with pytest.raises(FileFormatError) as err:
        variable.check_keys({"lable": "x"}, {"label"}, where="a codebook variable")
    check(err, file="w.codebook.json", column="q1", message="unknown key", hint="'label'")
    assert variable.column == "q1" and variable.at("q2").column == "q2"
    assert variable.column == "q1"  # at() returned a copy


@pytest.mark.parametrize("call, column, message", [
    (lambda s: s.table({"tracker": 3}, "tracker", where="the manifest"), "tracker",
     "the manifest: tracker must be a table"),
    (lambda s: s.table({}, "margins", where="the targets file", required=True), "margins",
     "the targets file has no margins"),
    (lambda s: s.text({}, "label", where="wave 1", required=True), "label",
     "wave 1: label is missing"),
    (lambda s: s.text({"label": ""}, "label", required=True), "label", "label must be text"),
    (lambda s: s.text({"label": 2024}, "label"), "label", "label must be text"),
    (lambda s: s.choice({"kind": "ratio"}, "kind", ("share", "mean")), "kind", "unknown kind"),
    (lambda s: s.codes({"codes": []}, "codes"), "codes",
     "codes must be a non-empty list of numeric codes"),
    (lambda s: s.codes({"codes": [1, True]}, "codes"), "codes", "must be a non-empty list"),
    (lambda s: s.codes({"codes": [1, 1]}, "codes"), "codes", "codes lists a code twice"),
    (lambda s: s.path({"file": 3}, "file", required=True), "file", "file must be a file name"),
    (lambda s: s.path({"file": "absent.sav"}, "file"), "file",
     "the file named in the manifest does not exist"),
    (lambda s: s.date({"start": "2024-01-01"}, "start"), "start", "start must be a date"),
    (lambda s: s.date({"start": dt.datetime(2024, 1, 1)}, "start"), "start",
     "start must be a date"),
    (lambda s: s.unique(["a", "b", "a"], key="name", things="entries", each="entry"), "name",
     "two entries have the same name"),
])
def test_every_field_check_names_file_key_expected_found_and_fix(tmp_path, call, column, message):
    source = Source(tmp_path / "waves.toml", what="manifest")
    with pytest.raises(ManifestError) as err:
        call(source)
    check(err, file=tmp_path / "waves.toml", column=column, message=message)


def test_field_checks_return_the_value(tmp_path):
    (tmp_path / "a.sav").write_bytes(b"")
    source = Source(tmp_path / "waves.toml", what="manifest")
    assert source.table({}, "design") == {}
    assert source.text({"encoding": ""}, "encoding") == ""     # optional text may be empty
    assert source.choice({}, "dont_know", ("exclude", "include"), default="exclude") == "exclude"
    assert source.codes({"codes": [1, 2.5]}, "codes") == (1, 2.5)
    assert source.path({"file": "a.sav"}, "file") == tmp_path / "a.sav"
    assert source.path({}, "codebook") is None
    assert source.date({}, "fieldwork_start") is None
    assert source.unique(["a", "b"], key="name", things="entries", each="entry") is None


def test_unique_names_the_repeated_value_and_both_positions():
    with pytest.raises(ManifestError, match=r"found 2024 \(numbers 1 and 3\)"):
        SOURCE.unique(["2024", "2023", "2024"], key="label", things="waves", each="wave")


def test_did_you_mean():
    assert did_you_mean("trust_nhss", ["trust_nhs", "age"]) == "did you mean 'trust_nhs'?"
    assert did_you_mean("zzz", ["trust_nhs"]) == ""

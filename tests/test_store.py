"""The cube on disk: IndicatorCube.save/load and the cube store (surveytools.indicators.store).

Every test here that writes uses its own cache folder (``$SURVEYTOOLS_CACHE_DIR``
in ``tmp_path``), so entries of other tests or of the user are never touched.
"""

from __future__ import annotations

import dataclasses
import zipfile

import pandas as pd
import pytest

import surveytools as st
from surveytools.indicators import store
from surveytools.indicators.cube import FILE_FORMAT, IndicatorCube, cube

from browser.fixtures import FEW_BREAKDOWNS, FEW_INDICATORS, write_strict_tracker


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("SURVEYTOOLS_CACHE_DIR", str(folder))
    return folder


@pytest.fixture(scope="module")
def small(manifest):
    """A cube with answers, of the strict tracker (few indicators and breakdowns)."""
    return cube(st.read_waves(manifest), answers=True, correction="bonferroni")


@pytest.fixture()
def builds(monkeypatch):
    """Counts the cubes the store builds."""
    calls = []

    def counted(*args, **kwargs):
        calls.append(kwargs)
        return cube(*args, **kwargs)

    monkeypatch.setattr(store, "cube", counted)
    return calls


def assert_same_cube(a: IndicatorCube, b: IndicatorCube) -> None:
    pd.testing.assert_frame_equal(a.frame, b.frame)
    if a.answers is None:
        assert b.answers is None
    else:
        pd.testing.assert_frame_equal(a.answers, b.answers)
    for f in dataclasses.fields(IndicatorCube):
        if f.name not in ("frame", "answers"):
            assert getattr(a, f.name) == getattr(b, f.name), f.name
    assert a.method_note == b.method_note


# -- IndicatorCube.save / load -------------------------------------------------------
def test_save_load_round_trip(small, tmp_path):
    before = small.frame.copy()
    path = small.save(tmp_path / "sub" / "strict.cube")
    assert path.is_file() and zipfile.is_zipfile(path)
    loaded = IndicatorCube.load(path)
    assert_same_cube(loaded, small)
    assert "Bonferroni" in loaded.method_note
    pd.testing.assert_frame_equal(small.frame, before)  # saving changed nothing
    assert not [p for p in path.parent.iterdir() if p != path]  # no temporary file left


def test_a_cube_without_answers_loads_without_answers(cube, tmp_path):
    loaded = IndicatorCube.load(cube.save(tmp_path / "c.cube"))
    assert loaded.answers is None
    assert_same_cube(loaded, cube)


@pytest.mark.parametrize("damage", ["truncated", "not a zip", "no json", "other version"])
def test_a_damaged_file_is_a_file_format_error(small, tmp_path, damage):
    path = small.save(tmp_path / "c.cube")
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "not a zip":
        path.write_text("hello")
    else:
        with zipfile.ZipFile(path) as archive:
            parts = {n: archive.read(n) for n in archive.namelist()}
        if damage == "no json":
            del parts["cube.json"]
        else:
            parts["cube.json"] = parts["cube.json"].replace(f'"format": {FILE_FORMAT}'.encode(),
                                                            b'"format": 99')
        with zipfile.ZipFile(path, "w") as archive:
            for name, data in parts.items():
                archive.writestr(name, data)
    with pytest.raises(st.FileFormatError, match="not a saved indicator cube") as error:
        IndicatorCube.load(path)
    assert str(path) in str(error.value) and error.value.hint


def test_a_missing_file_is_a_file_format_error(tmp_path):
    with pytest.raises(st.FileFormatError, match="no saved indicator cube"):
        IndicatorCube.load(tmp_path / "nothing.cube")


# -- the store -------------------------------------------------------------------------
def test_cached_cube_builds_once_then_reads(manifest, cache, builds):
    first = store.cached_cube(manifest)
    entry = store.entry_path(store.cube_key(manifest))
    assert entry.is_file() and entry.is_relative_to(cache)
    again = store.cached_cube(manifest)
    assert len(builds) == 1
    assert_same_cube(again, first)
    assert_same_cube(first, cube(st.read_waves(manifest)))


def test_a_corrupt_entry_is_a_miss_and_is_rebuilt(manifest, cache, builds):
    built = store.cached_cube(manifest)
    entry = store.entry_path(store.cube_key(manifest))
    entry.write_bytes(b"PK\x03\x04 not really a zip")
    rebuilt = store.cached_cube(manifest)
    assert len(builds) == 2
    assert_same_cube(rebuilt, built)
    assert_same_cube(IndicatorCube.load(entry), built)  # the entry was written again


def test_options_are_part_of_the_key(manifest, cache, builds):
    plain = store.cached_cube(manifest)
    tables = store.cached_cube(manifest, answers=True, correction="none")
    assert plain.answers is None and tables.answers is not None and tables.correction == "none"
    assert store.cube_key(manifest) != store.cube_key(manifest, answers=True)
    store.cached_cube(manifest, answers=True, correction="none")
    assert len(builds) == 2


def test_cube_key_follows_contents_not_places(manifest, tmp_path):
    key = store.cube_key(manifest)
    copy = write_strict_tracker(tmp_path / "copy", indicators=FEW_INDICATORS,
                                breakdowns=FEW_BREAKDOWNS)
    assert store.cube_key(copy) == key  # same content, other folder
    copy.with_name("breakdowns.toml").write_text(
        copy.with_name("breakdowns.toml").read_text() + "\n# changed\n")
    assert store.cube_key(copy) != key


def test_a_cube_stored_from_another_folder_names_the_files_here(manifest, cache, tmp_path):
    store.cached_cube(manifest)
    copy = write_strict_tracker(tmp_path / "copy", indicators=FEW_INDICATORS,
                                breakdowns=FEW_BREAKDOWNS)
    moved = store.cached_cube(copy)
    assert moved.catalogue.file == str(copy.parent / "indicators.toml")
    assert moved.breakdowns.file == str(copy.parent / "breakdowns.toml")


def test_an_unwritable_store_warns_and_still_returns_the_cube(manifest, cache, monkeypatch):
    def refuse(self, path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(IndicatorCube, "save", refuse)
    with pytest.warns(st.SurveyWarning, match="could not store"):
        built = store.cached_cube(manifest)
    assert len(built.frame)


def test_a_bad_manifest_is_a_manifest_error(tmp_path, cache):
    bad = tmp_path / "waves.toml"
    bad.write_text("[tracker\nname = ")
    with pytest.raises(st.ManifestError, match="waves.toml"):
        store.cached_cube(bad)


# -- CubeCache, warm, find_manifest -------------------------------------------------------
def test_cube_cache_derives_exact_methods_and_builds_the_others(small):
    built = []
    exact = store.CubeCache(small, lambda ci: built.append(ci))
    assert exact("beta").ci == "beta" and exact("beta") is exact("beta") and not built
    assert exact("logit") is small
    rough = store.CubeCache(small.replace(exact_with_ci=False),
                            lambda ci: built.append(ci) or small.with_ci(ci))
    rough("wilson")
    rough("wilson")
    assert built == ["wilson"]
    with pytest.raises(st.DataError, match="confidence interval method"):
        rough("probit")


def test_warm_and_main(manifest, cache, capsys):
    assert store.warm(manifest) >= 0
    assert store.entry_path(store.cube_key(manifest)).is_file()
    assert store.main([str(manifest)]) == 0
    assert "indicator cube ready in" in capsys.readouterr().out


def test_find_manifest(tmp_path, monkeypatch):
    monkeypatch.delenv(store.MANIFEST_ENV, raising=False)
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    (tmp_path / "data" / "tracker").mkdir(parents=True)
    (tmp_path / "data" / "tracker" / "waves.toml").write_text("")
    assert store.find_manifest(nested) == tmp_path / "data" / "tracker" / "waves.toml"
    monkeypatch.setenv(store.MANIFEST_ENV, "/x/waves.toml")
    assert str(store.find_manifest(nested)) == "/x/waves.toml"
    monkeypatch.delenv(store.MANIFEST_ENV)
    with pytest.raises(st.ManifestError, match="no tracker manifest"):
        store.find_manifest(tmp_path.parent.parent / "nowhere")


# -- publishing: undeclared non-answers, the files used -------------------------------------
UNDECLARED = (("2024", "trust_nhs", 97, "Don`t know", 12, "value label looks like a non-answer"),
              ("2024", "trust_nhs", 99, "Refusal", 3, "value label looks like a non-answer"))


def test_round_trip_keeps_titles_breaks_and_undeclared_codes(small, tmp_path):
    marked = small.replace(name="Tracker", description="About it", breaks={"2023": "moved online"},
                           undeclared=UNDECLARED)
    loaded = IndicatorCube.load(marked.save(tmp_path / "marked.cube"))
    assert_same_cube(loaded, marked)
    assert loaded.excluded == small.excluded and "trust_nhs" in loaded.excluded
    assert list(loaded.frame["change_note"]) == list(small.frame["change_note"])
    assert loaded.undeclared_frame.to_dict("list")["code"] == [97, 99]


def test_a_stored_cube_with_undeclared_codes_is_not_published(manifest, cache, monkeypatch):
    built = store.cached_cube(manifest)
    entry = store.entry_path(store.cube_key(manifest))
    built.replace(undeclared=UNDECLARED).save(entry)
    with pytest.raises(st.ManifestError, match="nothing is published") as error:
        store.cached_cube(manifest)
    text = str(error.value)
    assert 'wave 2024, trust_nhs: 97 "Don`t know" (n=12), 99 "Refusal" (n=3)' in text
    assert 'trust_nhs = [97, 99]  # 97 "Don`t know", 99 "Refusal"' in text
    assert str(manifest) in text and "--allow-undeclared" in text
    assert store.cached_cube(manifest, allow_undeclared=True).undeclared == UNDECLARED
    monkeypatch.setenv(store.ALLOW_UNDECLARED_ENV, "1")
    assert store.cached_cube(manifest).undeclared == UNDECLARED
    assert store.main([str(manifest)]) == 0
    monkeypatch.delenv(store.ALLOW_UNDECLARED_ENV)
    assert store.main([str(manifest)]) == 2


def test_inputs_are_the_files_given_or_the_manifests(manifest, tmp_path):
    beside = store.inputs(manifest)
    assert beside == {"catalogue": manifest.with_name("indicators.toml"),
                      "breakdowns": manifest.with_name("breakdowns.toml")}
    other = tmp_path / "other.toml"
    other.write_text(manifest.with_name("indicators.toml").read_text() + "\n# other\n")
    assert store.inputs(manifest, catalogue=other)["catalogue"] == other
    assert store.cube_key(manifest, catalogue=other) != store.cube_key(manifest)
    with pytest.raises(st.ManifestError, match="the breakdowns file given does not exist"):
        store.inputs(manifest, breakdowns=tmp_path / "nowhere.toml")
    alone = tmp_path / "alone" / "waves.toml"
    alone.parent.mkdir()
    alone.write_text(manifest.read_text())  # its wave files are named by absolute paths
    assert store.inputs(alone) == {"catalogue": None, "breakdowns": None}  # the tab book


def test_a_cube_built_from_other_files_names_them(manifest, cache, tmp_path):
    other = tmp_path / "mine.toml"
    other.write_text(manifest.with_name("breakdowns.toml").read_text())
    built = store.cached_cube(manifest, breakdowns=other)
    again = store.cached_cube(manifest, breakdowns=other)
    assert built.breakdowns.file == again.breakdowns.file == str(other)

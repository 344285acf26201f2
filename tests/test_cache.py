"""The parsed-file cache: hits are identical, changes are never served stale."""

from __future__ import annotations

import json
import os

import pandas as pd
import pyreadstat
import pytest

import surveytools as st
from surveytools.loading import cache
from surveytools.loading import read as io
from surveytools.core.errors import SurveyWarning

DESIGN = st.Design(weight="wt")


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("SURVEYTOOLS_CACHE_DIR", str(folder))
    return folder / f"v{cache.FORMAT_VERSION}"


@pytest.fixture
def raw(tmp_path):
    folder = tmp_path / "raw"
    folder.mkdir()
    return folder


def write_wave(path, q1, label="Yes") -> None:
    frame = pd.DataFrame({"wt": [1.0] * len(q1), "q1": q1, "s": ["é"] * len(q1)})
    pyreadstat.write_sav(frame, path, column_labels={"q1": "Trust"},
                         variable_value_labels={"q1": {1: label, 8: "Don't know"}},
                         missing_ranges={"q1": [8]}, variable_measure={"q1": "ordinal"})


@pytest.fixture
def parses(monkeypatch):
    """Counts the times a file is really parsed (not served from the cache)."""
    calls = []
    real = io._read

    def counting(kind, path, **options):
        calls.append(path.name)
        return real(kind, path, **options)

    monkeypatch.setattr(io, "_read", counting)
    return calls


def test_a_hit_gives_identical_data_and_metadata(raw, cache_dir, parses):
    write_wave(raw / "w.sav", [1.0, 8.0, 2.0])
    first = st.read_wave(raw / "w.sav", design=DESIGN, wave="2024")
    second = st.read_wave(raw / "w.sav", design=DESIGN, wave="2024")
    assert parses == ["w.sav"]
    pd.testing.assert_frame_equal(first.data, second.data)
    assert first.meta == second.meta
    uncached = st.read_wave(raw / "w.sav", design=DESIGN, wave="2024", cache=False)
    pd.testing.assert_frame_equal(uncached.data, second.data)
    assert uncached.meta == second.meta
    assert sorted(p.suffix for p in cache_dir.glob("*.*")) == [".json", ".parquet"]
    assert sorted(os.listdir(raw)) == ["w.sav"]  # never beside the raw file


def test_csv_entries_are_keyed_by_the_codebook_too(tmp_path, cache_dir, parses):
    pd.DataFrame({"wt": [1.0], "q1": [1.0]}).to_csv(tmp_path / "w.csv", index=False)
    st.write_codebook(st.Metadata(value_labels={"q1": {1: "Yes"}}), tmp_path / "w.codebook.json",
                      data=pd.DataFrame({"wt": [1.0], "q1": [1.0]}))
    assert st.read_wave(tmp_path / "w.csv", design=DESIGN).meta.value_labels["q1"][1] == "Yes"
    st.write_codebook(st.Metadata(value_labels={"q1": {1: "Oui"}}), tmp_path / "w.codebook.json",
                      data=pd.DataFrame({"wt": [1.0], "q1": [1.0]}))
    assert st.read_wave(tmp_path / "w.csv", design=DESIGN).meta.value_labels["q1"][1] == "Oui"
    assert parses == ["w.csv", "w.csv"]


def test_a_changed_file_is_read_again(raw, cache_dir, parses):
    write_wave(raw / "w.sav", [1.0, 2.0, 2.0])
    assert list(st.read_wave(raw / "w.sav", design=DESIGN).data["q1"]) == [1.0, 2.0, 2.0]
    write_wave(raw / "w.sav", [2.0, 1.0, 1.0], label="Oui")
    wave = st.read_wave(raw / "w.sav", design=DESIGN)
    assert list(wave.data["q1"]) == [2.0, 1.0, 1.0] and wave.meta.value_labels["q1"][1] == "Oui"
    assert parses == ["w.sav", "w.sav"]


def test_same_size_same_mtime_change_is_caught(raw, cache_dir, monkeypatch, parses):
    """Even when the hash is remembered by stat, a rewrite that keeps size and mtime is seen."""
    monkeypatch.setattr(cache, "SETTLE_SECONDS", -1.0)  # remember hashes of fresh files
    path = raw / "w.sav"
    write_wave(path, [1.0, 2.0, 2.0])
    info = os.stat(path)
    st.read_wave(path, design=DESIGN)
    assert len(list((cache_dir / "stat").glob("*.json"))) == 1
    write_wave(path, [2.0, 2.0, 1.0])
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert os.stat(path).st_size == info.st_size and os.stat(path).st_mtime_ns == info.st_mtime_ns
    assert list(st.read_wave(path, design=DESIGN).data["q1"]) == [2.0, 2.0, 1.0]
    assert parses == ["w.sav", "w.sav"]


def test_the_remembered_hash_is_used_only_while_the_stat_matches(raw, cache_dir, monkeypatch):
    monkeypatch.setattr(cache, "SETTLE_SECONDS", -1.0)
    path = raw / "w.sav"
    write_wave(path, [1.0])
    digest = cache.file_digest(path)
    (index,) = (cache_dir / "stat").glob("*.json")
    remembered = json.loads(index.read_text())
    assert remembered["sha256"] == digest
    index.write_text(json.dumps({**remembered, "sha256": "remembered"}))
    assert cache.file_digest(path) == "remembered"  # no re-hash while the stat matches
    os.utime(path)  # any touch moves ctime
    assert cache.file_digest(path) == digest


def test_a_freshly_written_file_is_not_remembered_by_stat(raw, cache_dir):
    """Within the timestamp granularity a file could change unseen: such hashes are not kept."""
    write_wave(raw / "w.sav", [1.0])
    cache.file_digest(raw / "w.sav")
    assert not (cache_dir / "stat").exists() or not list((cache_dir / "stat").iterdir())


def test_a_damaged_entry_is_a_miss(raw, cache_dir, parses):
    write_wave(raw / "w.sav", [1.0, 2.0])
    st.read_wave(raw / "w.sav", design=DESIGN)
    (entry,) = cache_dir.glob("*.parquet")
    entry.write_bytes(entry.read_bytes()[:50])
    assert list(st.read_wave(raw / "w.sav", design=DESIGN).data["q1"]) == [1.0, 2.0]
    assert parses == ["w.sav", "w.sav"]
    st.read_wave(raw / "w.sav", design=DESIGN)
    assert parses == ["w.sav", "w.sav"]  # rewritten, now a hit again


def test_no_cache_writes_nothing(raw, cache_dir):
    write_wave(raw / "w.sav", [1.0])
    st.read_wave(raw / "w.sav", design=DESIGN, cache=False)
    assert not cache_dir.parent.exists()


def test_an_unwritable_cache_warns_and_reads_anyway(raw, tmp_path, monkeypatch):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("SURVEYTOOLS_CACHE_DIR", str(blocker))
    write_wave(raw / "w.sav", [1.0, 8.0])
    with pytest.warns(SurveyWarning, match="could not write its cache.*cache=False"):
        wave = st.read_wave(raw / "w.sav", design=DESIGN)
    assert list(wave.data["q1"]) == [1.0, 8.0]


def test_default_location_is_the_user_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("SURVEYTOOLS_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_dir() == tmp_path / "xdg" / "surveytools" / f"v{cache.FORMAT_VERSION}"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.cache_dir() == tmp_path / "home" / ".cache" / "surveytools" / (
        f"v{cache.FORMAT_VERSION}")


def test_reader_options_are_part_of_the_key(raw, cache_dir, parses):
    write_wave(raw / "w.sav", [1.0])
    st.read_wave(raw / "w.sav", design=DESIGN)
    wave = st.read_wave(raw / "w.sav", design=DESIGN, encoding="utf-8")
    assert parses == ["w.sav", "w.sav"] and wave.meta.encoding == "utf-8"

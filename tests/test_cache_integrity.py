"""The parsed-file cache verifies what it serves: a damaged or foreign entry is never used.

The cache folder is a file system folder like any other: a bit can flip in
an entry, a person or a program can edit the stat index that remembers
content hashes, an entry can be copied under another name.  Each of those is
generated here (seeded) and the reader must return exactly what the raw file
holds: a damaged entry is a miss that is rebuilt without a warning, an index
that points at another file's hash is caught by the entry's fingerprint of
its source file.
"""

from __future__ import annotations

import json
import random
import shutil
import warnings
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

import surveytools as st
from surveytools.loading import cache
from surveytools.loading import read as io

DESIGN = st.Design(weight="wt")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("SURVEYTOOLS_CACHE_DIR", str(folder))
    monkeypatch.setattr(cache, "SETTLE_SECONDS", -1.0)   # remember hashes at once
    return folder / f"v{cache.FORMAT_VERSION}"


@pytest.fixture
def parses(monkeypatch):
    calls = []
    real = io._read

    def counting(kind, path, **options):
        calls.append(Path(path).name)
        return real(kind, path, **options)

    monkeypatch.setattr(io, "_read", counting)
    return calls


def write_wave(path: Path, seed: int, n: int = 40) -> None:
    rng = random.Random(seed)
    frame = pd.DataFrame({"wt": [round(rng.uniform(0.5, 2), 3) for _ in range(n)],
                          "q1": [float(rng.choice([1, 2, 3, 8])) for _ in range(n)],
                          "s": [rng.choice(["é", "b", ""]) for _ in range(n)]})
    pyreadstat.write_sav(frame, path, column_labels={"q1": f"Trust ({seed})"},
                         variable_value_labels={"q1": {1: "Yes", 8: "Don't know"}},
                         missing_ranges={"q1": [8]})


def entry(cache_dir: Path, source: Path) -> tuple[Path, Path]:
    """The (record, parquet) of the entry made from ``source``."""
    mark = cache.fingerprint(source)
    for record in cache_dir.glob("*.json"):
        if json.loads(record.read_text())["source"]["fingerprint"] == mark:
            return record, record.with_suffix(".parquet")
    raise AssertionError(f"no cache entry for {source}")


def same(a: st.Survey, b: st.Survey) -> bool:
    return a.data.equals(b.data) and a.meta == b.meta


FLIPS = [("parquet", n) for n in range(120)] + [("record", n) for n in range(60)]


@pytest.fixture(scope="module")
def flip_plan():
    rng = random.Random(7)
    return [(part, rng.random(), rng.randrange(8)) for part, _ in FLIPS]


@pytest.mark.parametrize("number", range(len(FLIPS)), ids=[f"{p}-{n}" for p, n in FLIPS])
def test_a_bit_flipped_in_an_entry_is_never_served(tmp_path, cache_dir, parses, flip_plan,
                                                    number):
    path = tmp_path / "w.sav"
    write_wave(path, seed=1)
    truth = st.read_wave(path, design=DESIGN, cache=False)
    st.read_wave(path, design=DESIGN)
    parses.clear()
    part, where, bit = flip_plan[number]
    record, data = entry(cache_dir, path)
    target = data if part == "parquet" else record
    raw = bytearray(target.read_bytes())
    raw[int(where * len(raw))] ^= 1 << bit
    target.write_bytes(bytes(raw))
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # a damaged entry is rebuilt without a word
        first = st.read_wave(path, design=DESIGN)
        second = st.read_wave(path, design=DESIGN)
    assert same(first, truth) and same(second, truth)
    assert parses == ["w.sav"]                   # rebuilt once, then served again


def test_the_issue_an_edited_index_never_serves_2022_as_2021(tmp_path, cache_dir, parses):
    folder = tmp_path / "tracker"
    shutil.copytree(ROOT / "data" / "tracker", folder)
    design = st.Design(weight="weight")
    truth = {w: st.read_wave(folder / f"wave{w}.sav", design=design, cache=False)
             for w in ("2021", "2022")}
    for w in truth:
        st.read_wave(folder / f"wave{w}.sav", design=design)
    index = {json.loads(p.read_text())["sha256"]: p for p in (cache_dir / "stat").glob("*.json")}
    sha = {w: cache.file_digest(folder / f"wave{w}.sav") for w in truth}
    record = json.loads(index[sha["2021"]].read_text())
    index[sha["2021"]].write_text(json.dumps({**record, "sha256": sha["2022"]}))
    parses.clear()
    served = st.read_wave(folder / "wave2021.sav", design=design)
    assert same(served, truth["2021"]) and parses == []   # found by the true hash, no parse
    assert same(st.read_wave(folder / "wave2022.sav", design=design), truth["2022"])
    # and the index was repaired
    assert json.loads(index[sha["2021"]].read_text())["sha256"] == sha["2021"]
    # through the manifest (surveytools tables, cube, dashboards), the same edit again
    index[sha["2021"]].write_text(json.dumps({**record, "sha256": sha["2022"]}))
    cached, fresh = (st.read_waves(folder / "waves.toml", cache=c) for c in (True, False))
    for wave in ("2021", "2022"):
        assert cached[wave].data.equals(fresh[wave].data)


def test_an_index_pointing_at_a_hash_with_no_entry_stores_nothing_under_it(
        tmp_path, cache_dir, parses):
    path = tmp_path / "w.sav"
    write_wave(path, seed=2)
    truth = st.read_wave(path, design=DESIGN)
    (index,) = (cache_dir / "stat").glob("*.json")
    record = json.loads(index.read_text())
    index.write_text(json.dumps({**record, "sha256": "0" * 64}))
    before = sorted(p.name for p in cache_dir.glob("*.*"))
    assert same(st.read_wave(path, design=DESIGN), truth)
    assert parses == ["w.sav"]                     # the true hash still finds the entry
    assert sorted(p.name for p in cache_dir.glob("*.*")) == before


def test_an_entry_copied_under_another_files_key_is_not_served(tmp_path, cache_dir, parses):
    one, two = tmp_path / "one.sav", tmp_path / "two.sav"
    write_wave(one, seed=3)
    write_wave(two, seed=4)
    truth = {p: st.read_wave(p, design=DESIGN) for p in (one, two)}
    record_one, data_one = entry(cache_dir, one)
    record_two, data_two = entry(cache_dir, two)
    shutil.copyfile(record_two, record_one)
    shutil.copyfile(data_two, data_one)
    parses.clear()
    assert same(st.read_wave(one, design=DESIGN), truth[one])
    assert same(st.read_wave(two, design=DESIGN), truth[two])
    assert parses == ["one.sav"]


def test_a_consistent_forgery_of_the_record_is_caught_by_the_parquet_hash(
        tmp_path, cache_dir, parses):
    """Rewriting the record's own checksum does not help: the Parquet bytes must hash
    to what the record says, and the record must be for this file."""
    path = tmp_path / "w.sav"
    write_wave(path, seed=5)
    truth = st.read_wave(path, design=DESIGN)
    record, data = entry(cache_dir, path)
    other = tmp_path / "x.parquet"
    truth.data.assign(q1=truth.data["q1"] + 1).to_parquet(other, index=False)
    shutil.copyfile(other, data)
    content = json.loads(record.read_text())
    content.pop("check")
    content["check"] = cache._checksum(content)
    record.write_text(json.dumps(content))
    assert same(st.read_wave(path, design=DESIGN), truth)
    assert parses == ["w.sav", "w.sav"]


def test_truncated_and_empty_entries_are_misses(tmp_path, cache_dir, parses):
    path = tmp_path / "w.sav"
    write_wave(path, seed=6)
    truth = st.read_wave(path, design=DESIGN)
    for damage in (lambda b: b[:len(b) // 2], lambda b: b"", lambda b: b + b"\0"):
        for part in entry(cache_dir, path):
            pristine = part.read_bytes()
            part.write_bytes(damage(pristine))
            assert same(st.read_wave(path, design=DESIGN), truth)
    assert len(parses) == 1 + 6

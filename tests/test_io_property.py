"""Property: any frame of integer codes with labels survives SAV and CSV + codebook."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

import surveytools as st

LETTERS = "abcdefghijklmnopqrstuvwxyz"
TEXT = LETTERS + LETTERS.upper() + "0123456789 -'/()&,.?éüßçÉ–«»£€中"

names = hs.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True).filter(lambda n: n != "wt")
codes = hs.integers(min_value=-99, max_value=999)
labels = hs.text(alphabet=TEXT, min_size=1, max_size=40).map(str.strip).filter(bool)


@hs.composite
def labelled_frames(draw):
    columns = draw(hs.lists(names, min_size=1, max_size=5, unique=True))
    n = draw(hs.integers(min_value=1, max_value=25))
    data = {"wt": np.ones(n)}
    value_labels, missing = {}, {}
    for column in columns:
        cells = draw(hs.lists(hs.one_of(codes, hs.none()), min_size=n, max_size=n))
        data[column] = np.array([np.nan if c is None else c for c in cells], dtype=float)
        labelled = draw(hs.dictionaries(codes, labels, max_size=6))
        if labelled:
            value_labels[column] = labelled
        declared = draw(hs.lists(codes, max_size=3, unique=True))
        if declared:
            missing[column] = st.MissingSpec(values=tuple(declared))
    return pd.DataFrame(data), st.Metadata(value_labels=value_labels, missing=missing)


def write_sav(frame: pd.DataFrame, meta: st.Metadata, path: Path) -> Path:
    pyreadstat.write_sav(
        frame, path, variable_value_labels={c: dict(v) for c, v in meta.value_labels.items()},
        missing_ranges={c: list(spec.values) for c, spec in meta.missing.items()})
    return path


def write_csv(frame: pd.DataFrame, meta: st.Metadata, path: Path) -> Path:
    frame.to_csv(path.with_suffix(".csv"), index=False)
    st.write_codebook(meta, path.with_suffix(".codebook.json"), data=frame)
    return path.with_suffix(".csv")


@pytest.mark.parametrize("write", [write_sav, write_csv])
@settings(max_examples=40, deadline=None)
@given(case=labelled_frames())
def test_int_codes_and_labels_round_trip(write, case):
    frame, meta = case
    with tempfile.TemporaryDirectory() as folder:
        path = write(frame, meta, Path(folder) / "w.sav")
        wave = st.read_wave(path, design=st.Design(weight="wt"), cache=False)
    pd.testing.assert_frame_equal(wave.data, frame)
    assert dict(wave.meta.value_labels) == dict(meta.value_labels)
    assert dict(wave.meta.missing) == dict(meta.missing)

"""read_wave: every format keeps its metadata; every bad input is named.

The expected labels and codes are the ones each test writes into the file
itself (with pyreadstat or by hand), never the reader's own output.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

import surveytools as st
from surveytools.core.errors import DataError, DesignError, FileFormatError
from surveytools.loading.read import write_parquet

DESIGN = st.Design(weight="wt")
LABELS = {"q1": "Wie sehr vertrauen Sie dem NHS? – « confiance »", "q2": "Age (years)",
          "name": "Prénom", "wt": "Final weight"}
VALUE_LABELS = {"q1": {0: "Überhaupt nicht", 10: "Völlig", 98: "Don't know", 99: "Refused"},
                "q2": {-9: "Not asked", -1: "Refused"}}
MISSING = {"q1": st.MissingSpec(values=(98, 99)), "q2": st.MissingSpec(ranges=((-9, -1),))}
MEASURE = {"q1": "ordinal", "q2": "scale", "name": "nominal", "wt": "scale"}


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("SURVEYTOOLS_CACHE_DIR", str(folder))
    return folder


def labelled_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "q1": [0.0, 10.0, 98.0, 5.0, 99.0, np.nan],
        "q2": [34.0, -9.0, -1.0, 71.0, -5.0, 18.0],
        "name": ["Zoë", "Jürgen", "", "Ólafur", "Ñandú", "plain"],
        "wt": [1.5, 0.5, 1.0, 2.25, 0.75, 1.0],
    })


def write_sav(frame: pd.DataFrame, path, **options) -> None:
    missing = {"q1": [98, 99], "q2": [{"lo": -9, "hi": -1}]}
    pyreadstat.write_sav(frame, path, column_labels=LABELS, variable_value_labels=VALUE_LABELS,
                         missing_ranges=missing, variable_measure=MEASURE, **options)


def snapshot(path):
    return hashlib.sha256(path.read_bytes()).hexdigest(), os.stat(path).st_mtime_ns


def expected_meta(path, wave=None) -> st.Metadata:
    return st.Metadata(variable_labels=LABELS, value_labels=VALUE_LABELS, missing=MISSING,
                       measure=MEASURE, encoding="utf-8", file=str(path), wave=wave)


@pytest.mark.parametrize("name, options", [("w.sav", {}), ("w.sav", {"row_compress": True}),
                                           ("w.zsav", {"compress": True})])
def test_sav_round_trip_keeps_every_kind_of_metadata(tmp_path, name, options):
    path = tmp_path / name
    frame = labelled_frame()
    write_sav(frame, path, **options)
    before = snapshot(path)
    wave = st.read_wave(path, design=DESIGN, wave="2024")
    pd.testing.assert_frame_equal(wave.data, frame)
    assert wave.meta == expected_meta(path, wave="2024")
    # codes stay as in the file; labels and missing codes are one look-up away
    assert wave.meta.value_labels["q1"][98] == "Don't know"
    assert list(wave.meta.missing_mask("q2", wave.data["q2"])) == [False, True, True, False,
                                                                  True, False]
    assert snapshot(path) == before


def test_csv_and_sav_versions_of_a_wave_are_identical(tmp_path):
    frame = labelled_frame()
    write_sav(frame, tmp_path / "w.sav")
    frame.to_csv(tmp_path / "w.csv", index=False)
    st.write_codebook(expected_meta(None), tmp_path / "w.codebook.json", data=frame)
    sav = st.read_wave(tmp_path / "w.sav", design=DESIGN)
    csv = st.read_wave(tmp_path / "w.csv", design=DESIGN)
    pd.testing.assert_frame_equal(sav.data, csv.data)
    assert sav.meta.replace(file=None) == csv.meta.replace(file=None)


def test_example_csv_wave_and_its_sav_copy_are_identical(tmp_path):
    """The bundled CSV wave, written to .sav with its codebook's metadata, reads back the same."""
    csv_path = "data/tracker/wave2024.csv"
    book = json.load(open("data/tracker/wave2024.codebook.json", encoding="utf-8"))["variables"]
    csv = st.read_wave(csv_path, design=st.Design(weight="weight"))
    numeric = {c for c, spec in book.items() if spec["type"] == "numeric"}
    pyreadstat.write_sav(
        csv.data, tmp_path / "wave2024.sav",
        column_labels={c: spec.get("label") for c, spec in book.items()},
        variable_value_labels={c: {float(k): v for k, v in spec["value_labels"].items()}
                               for c, spec in book.items() if spec.get("value_labels")},
        missing_ranges={c: spec["missing"]["values"] for c, spec in book.items()
                        if spec.get("missing", {}).get("values")},
        variable_measure={c: spec["measure"] for c, spec in book.items()})
    sav = st.read_wave(tmp_path / "wave2024.sav", design=st.Design(weight="weight"))
    pd.testing.assert_frame_equal(sav.data, csv.data)
    assert sav.meta.replace(file=None) == csv.meta.replace(file=None)
    assert set(csv.data.select_dtypes("number").columns) == numeric
    assert csv.meta.value_labels["trust_nhs"][98] == book["trust_nhs"]["value_labels"]["98"]


def test_parquet_round_trip_keeps_metadata(tmp_path):
    frame = labelled_frame()
    write_sav(frame, tmp_path / "w.sav")
    wave = st.read_wave(tmp_path / "w.sav", design=DESIGN, wave="2024")
    write_parquet(wave, tmp_path / "w.parquet")
    back = st.read_wave(tmp_path / "w.parquet", design=DESIGN, wave="2024")
    pd.testing.assert_frame_equal(back.data, frame)
    assert back.meta == wave.meta.replace(file=str(tmp_path / "w.parquet"))


def test_writes_are_atomic_a_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    frame = labelled_frame()
    write_parquet(frame, tmp_path / "w.parquet")
    st.write_codebook(st.Metadata(variable_labels={"q1": "Trust"}), tmp_path / "w.codebook.json")
    parquet, book = ((tmp_path / name).read_bytes() for name in ("w.parquet", "w.codebook.json"))

    def half_then_fail(table, where, **kwargs):
        Path(where).write_bytes(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        write_parquet(frame.assign(q1=0.0), tmp_path / "w.parquet")
    assert (tmp_path / "w.parquet").read_bytes() == parquet
    assert (tmp_path / "w.codebook.json").read_bytes() == book
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.codebook.json", "w.parquet"]


def test_parquet_from_elsewhere_has_empty_metadata(tmp_path):
    labelled_frame().to_parquet(tmp_path / "plain.parquet")
    wave = st.read_wave(tmp_path / "plain.parquet", design=DESIGN)
    assert wave.meta == st.Metadata(file=str(tmp_path / "plain.parquet"))
    pd.testing.assert_frame_equal(wave.data, labelled_frame())


def test_stata_labels_and_extended_missing_values(tmp_path):
    frame = pd.DataFrame({"x": pd.Series([1.0, 2.0, "a", None], dtype=object),
                          "s": ["é", "b", "", "d"], "wt": [1, 2, 3, 4]})
    pyreadstat.write_dta(frame, tmp_path / "w.dta", column_labels={"x": "Trust (Stata)"},
                         variable_value_labels={"x": {1: "Yes", 2: "No", "a": "Don't know"}},
                         missing_user_values={"x": ["a"]})
    wave = st.read_wave(tmp_path / "w.dta", design=DESIGN)
    assert list(wave.data["x"].iloc[:3]) == [1.0, 2.0, "a"]  # .a stays an answer code
    assert wave.meta.missing["x"].values == ("a",)
    assert wave.meta.value_labels["x"] == {1: "Yes", 2: "No", "a": "Don't know"}
    assert wave.meta.variable_labels["x"] == "Trust (Stata)"
    assert wave.data["wt"].dtype == "float64" and list(wave.data["s"]) == ["é", "b", "", "d"]


# -- bad input ----------------------------------------------------------------
def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileFormatError, match="nothere.sav: data file not found"):
        st.read_wave(tmp_path / "nothere.sav", design=DESIGN)
    (tmp_path / "folder.sav").mkdir()
    with pytest.raises(FileFormatError, match="folder.sav: data file not found.*found a folder"):
        st.read_wave(tmp_path / "folder.sav", design=DESIGN)


def test_unknown_format_lists_the_supported_ones(tmp_path):
    (tmp_path / "wave.xlsx").write_bytes(b"PK")
    with pytest.raises(FileFormatError) as err:
        st.read_wave(tmp_path / "wave.xlsx", design=DESIGN)
    message = str(err.value)
    assert "wave.xlsx" in message and "'.xlsx'" in message
    for ending in (".sav", ".zsav", ".por", ".csv", ".csv.gz", ".dta", ".parquet"):
        assert ending in message


@pytest.mark.parametrize("name, options, keep", [
    ("w.sav", {}, 0.5), ("w.sav", {}, 200), ("w.zsav", {"compress": True}, 0.7)])
def test_truncated_spss_file_is_a_file_format_error(tmp_path, name, options, keep):
    whole = tmp_path / ("whole" + name[1:])
    write_sav(labelled_frame(), whole, **options)
    data = whole.read_bytes()
    cut = tmp_path / name
    cut.write_bytes(data[: int(len(data) * keep) if keep < 1 else keep])
    with pytest.raises(FileFormatError) as err:
        st.read_wave(cut, design=DESIGN, cache=False)
    assert str(cut) in str(err.value)
    assert "corrupt or truncated" in str(err.value) and "export the file again" in str(err.value)


@pytest.mark.parametrize("name", ["junk.sav", "junk.dta", "junk.por", "junk.parquet"])
def test_a_file_that_is_not_what_its_extension_says(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"this is not a survey file\n" * 40)
    with pytest.raises(FileFormatError) as err:
        st.read_wave(path, design=DESIGN)
    assert str(path) in str(err.value)


def test_sav_text_that_does_not_decode_suggests_an_encoding(tmp_path):
    frame = pd.DataFrame({"wt": [1.0, 1.0], "name": ["ÉÉÉÉ", "ok"]})
    path = tmp_path / "misencoded.sav"
    pyreadstat.write_sav(frame, path)
    raw = path.read_bytes()
    assert raw.count("ÉÉÉÉ".encode()) == 1
    # The file declares UTF-8 but now holds Latin-1 bytes, as a mislabelled export would.
    path.write_bytes(raw.replace("ÉÉÉÉ".encode(), "ÉÉÉÉ".encode("latin-1") * 2))
    with pytest.raises(FileFormatError) as err:
        st.read_wave(path, design=DESIGN)
    assert "misencoded.sav" in str(err.value) and "does not decode as" in str(err.value)
    assert "encoding=" in str(err.value)
    wave = st.read_wave(path, design=DESIGN, encoding="latin-1")
    assert wave.data["name"].iloc[0] == "ÉÉÉÉÉÉÉÉ"
    assert wave.meta.encoding == "iso8859-1"


def test_a_codebook_for_a_file_that_is_not_csv(tmp_path):
    write_sav(labelled_frame(), tmp_path / "w.sav")
    with pytest.raises(FileFormatError, match="w.sav: a codebook goes with a CSV wave only"):
        st.read_wave(tmp_path / "w.sav", design=DESIGN, codebook=tmp_path / "w.codebook.json")


def test_unknown_encoding_name(tmp_path):
    write_sav(labelled_frame(), tmp_path / "w.sav")
    with pytest.raises(FileFormatError, match="unknown text encoding.*'klingon-8'"):
        st.read_wave(tmp_path / "w.sav", design=DESIGN, encoding="klingon-8")


def test_csv_in_another_encoding_names_the_row_and_suggests_encoding(tmp_path):
    frame = labelled_frame()
    frame.to_csv(tmp_path / "w.csv", index=False, encoding="cp1252")
    st.write_codebook(expected_meta(None), tmp_path / "w.codebook.json", data=frame)
    with pytest.raises(FileFormatError) as err:
        st.read_wave(tmp_path / "w.csv", design=DESIGN)
    message = str(err.value)
    assert "w.csv" in message and "row 1" in message and "utf-8" in message
    assert "encoding=" in message
    wave = st.read_wave(tmp_path / "w.csv", design=DESIGN, encoding="cp1252")
    assert list(wave.data["name"]) == list(frame["name"])
    assert wave.meta.encoding == "cp1252"
    # the codebook can say so instead
    st.write_codebook(expected_meta(None), tmp_path / "w.codebook.json", data=frame,
                      encoding="windows-1252")
    assert list(st.read_wave(tmp_path / "w.csv", design=DESIGN).data["name"]) == list(
        frame["name"])


@pytest.mark.parametrize("weights, error, pattern", [
    (None, DesignError, "column 'wt': design column not found"),
    (["1", "x", "2", "1", "1", "1"], DataError, "column 'wt', row 2: weights must be numeric"),
    ([1.0, 1.0, -2.0, 1.0, 1.0, 1.0], DataError,
     "column 'wt', row 3: weights must not be negative"),
    ([1.0, np.nan, 1.0, 1.0, 1.0, 1.0], DataError,
     "column 'wt', row 2: weights must not be missing"),
    ([0.0] * 6, DataError, "column 'wt': weights are all zero"),
])
@pytest.mark.parametrize("kind", ["sav", "csv"])
def test_bad_weights_name_the_file(tmp_path, weights, error, pattern, kind):
    frame = labelled_frame()
    if weights is None:
        frame = frame.drop(columns="wt")
    else:
        frame["wt"] = weights
    meta = expected_meta(None).restrict(frame.columns)
    path = tmp_path / f"w.{kind}"
    if kind == "sav":
        pyreadstat.write_sav(frame, path, column_labels=dict(meta.variable_labels))
    else:
        frame.to_csv(path, index=False)
        st.write_codebook(meta, tmp_path / "w.codebook.json", data=frame)
    with pytest.raises(error) as err:
        st.read_wave(path, design=DESIGN)
    assert str(err.value).startswith(f"{path}, {pattern}")


def test_raw_files_are_never_changed(tmp_path):
    frame = labelled_frame()
    write_sav(frame, tmp_path / "w.sav")
    frame.to_csv(tmp_path / "w.csv.gz", index=False)
    st.write_codebook(expected_meta(None), tmp_path / "w.codebook.json", data=frame)
    files = sorted(tmp_path.glob("w.*"))
    before = {p: snapshot(p) for p in files}
    for cache in (True, True, False):
        st.read_wave(tmp_path / "w.sav", design=DESIGN, cache=cache)
        st.read_wave(tmp_path / "w.csv.gz", design=DESIGN, cache=cache)
    assert {p: snapshot(p) for p in files} == before
    assert sorted(tmp_path.glob("w.*")) == files  # nothing written beside the raw files


def test_gzipped_csv_reads_like_the_plain_one(tmp_path):
    frame = labelled_frame()
    frame.to_csv(tmp_path / "w.csv", index=False)
    (tmp_path / "w.csv.gz").write_bytes(gzip.compress((tmp_path / "w.csv").read_bytes()))
    st.write_codebook(expected_meta(None), tmp_path / "w.codebook.json", data=frame)
    plain = st.read_wave(tmp_path / "w.csv", design=DESIGN)
    zipped = st.read_wave(tmp_path / "w.csv.gz", design=DESIGN)
    pd.testing.assert_frame_equal(plain.data, zipped.data)
    assert math.isnan(zipped.data["q1"].iloc[5]) and zipped.data["name"].iloc[2] == ""

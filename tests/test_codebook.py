"""CSV waves and their JSON codebooks: the contract, round trips, every fault named."""

from __future__ import annotations

import codecs
import json

import numpy as np
import pandas as pd
import pytest

import surveytools as st
from surveytools.loading.codebook import codebook_path, read_codebook
from surveytools.core.errors import DataError, FileFormatError

DESIGN = st.Design(weight="wt")


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEYTOOLS_CACHE_DIR", str(tmp_path / "cache"))


def contract_codebook() -> dict:
    """The example of the shared contract, plus a weight and a string variable."""
    return {"format": "surveytools-codebook", "version": 1, "encoding": "utf-8",
            "variables": {
                "trust_nhs": {"label": "How much do you trust the NHS to use data about you?",
                              "type": "numeric", "measure": "ordinal",
                              "value_labels": {"0": "0 - Do not trust at all",
                                               "10": "10 - Trust completely",
                                               "98": "Don't know"},
                              "missing": {"values": [98], "ranges": []}},
                "ai_word": {"label": "One word for AI", "type": "string", "measure": "nominal"},
                "wt": {"label": "Weight", "type": "numeric", "measure": "scale"}}}


def write_wave(folder, text: str, book: dict | None = None, name="w.csv"):
    (folder / name).write_text(text, encoding="utf-8")
    (folder / "w.codebook.json").write_text(json.dumps(book or contract_codebook()),
                                            encoding="utf-8")
    return folder / name


CSV = "trust_nhs,ai_word,wt\n7,scary,1.5\n98,,0.5\n,useful,1\n10,«ça»,2\n"


def test_the_contract_example_reads_with_numbers_as_codes(tmp_path):
    wave = st.read_wave(write_wave(tmp_path, CSV), design=DESIGN, wave="2024")
    meta = wave.meta
    assert meta.value_labels["trust_nhs"] == {0: "0 - Do not trust at all",
                                              10: "10 - Trust completely", 98: "Don't know"}
    assert all(type(code) is int for code in meta.value_labels["trust_nhs"])
    assert meta.missing["trust_nhs"] == st.MissingSpec(values=(98,))
    assert meta.measure == {"trust_nhs": "ordinal", "ai_word": "nominal", "wt": "scale"}
    assert meta.variable_labels["ai_word"] == "One word for AI"
    assert meta.encoding == "utf-8" and meta.wave == "2024"
    data = wave.data
    assert data["trust_nhs"].dtype == "float64" and data["ai_word"].dtype == "str"
    assert data["trust_nhs"].iloc[1] == 98 and np.isnan(data["trust_nhs"].iloc[2])
    assert list(data["ai_word"]) == ["scary", "", "useful", "«ça»"]  # empty text stays text


def test_write_codebook_round_trips_ranges_strings_and_open_ends(tmp_path):
    frame = pd.DataFrame({"q": [1.0, -3.0, 250.0], "s": ["a", "zz", "b"], "wt": [1.0, 1.0, 1.0]})
    meta = st.Metadata(
        variable_labels={"q": "Question", "s": "Text"},
        value_labels={"q": {1: "One", 2.5: "Two and a half"}, "s": {"zz": "Refused"}},
        missing={"q": st.MissingSpec(values=(99,), ranges=((-np.inf, -1), (200, np.inf))),
                 "s": st.MissingSpec(values=("zz",))},
        measure={"q": "ordinal", "s": "nominal"})
    frame.to_csv(tmp_path / "w.csv", index=False)
    st.write_codebook(meta, tmp_path / "w.codebook.json", data=frame)
    book = json.loads((tmp_path / "w.codebook.json").read_text())
    assert book["variables"]["q"]["missing"]["ranges"] == [[None, -1], [200, None]]
    assert book["variables"]["q"]["value_labels"] == {"1": "One", "2.5": "Two and a half"}
    wave = st.read_wave(tmp_path / "w.csv", design=DESIGN)
    assert wave.meta.replace(file=None) == meta.replace(encoding="utf-8")
    assert list(wave.meta.missing_mask("q", wave.data["q"])) == [False, True, True]
    assert list(wave.meta.missing_mask("s", wave.data["s"])) == [False, True, False]


def test_write_codebook_without_data_infers_types_from_codes(tmp_path):
    meta = st.Metadata(value_labels={"n": {1: "Yes"}, "s": {"a": "Alpha"}},
                       variable_labels={"x": "No codes"})
    st.write_codebook(meta, tmp_path / "c.json")
    variables = json.loads((tmp_path / "c.json").read_text())["variables"]
    assert {k: v["type"] for k, v in variables.items()} == {"x": "numeric", "n": "numeric",
                                                            "s": "string"}


def test_default_codebook_path():
    from pathlib import Path

    assert codebook_path(Path("d/wave2024.csv")) == Path("d/wave2024.codebook.json")
    assert codebook_path(Path("d/wave2024.CSV.gz")) == Path("d/wave2024.codebook.json")


def test_a_byte_order_mark_is_not_part_of_the_first_column(tmp_path):
    path = tmp_path / "w.csv"
    path.write_bytes(codecs.BOM_UTF8 + CSV.encode())
    (tmp_path / "w.codebook.json").write_text(json.dumps(contract_codebook()))
    assert list(st.read_wave(path, design=DESIGN).data.columns) == ["trust_nhs", "ai_word", "wt"]


# -- faults ---------------------------------------------------------------------
@pytest.mark.parametrize("text, error, start, more", [
    ("trust_nhs,ai_word,wt,extra,more\n1,a,1,2,3\n", FileFormatError,
     "{csv}, column 'extra': 2 CSV column(s) are not in the codebook",
     ["undescribed: extra, more", "w.codebook.json"]),
    ("trust_nhs,wt\n1,1\n", FileFormatError,
     "{book}, column 'ai_word': 1 codebook variable(s) are not in the CSV", ["w.csv"]),
    ("trust_nhs,ai_word,wt,wt\n1,a,1,1\n", FileFormatError,
     "{csv}, column 'wt': the CSV header names a column twice", []),
    ("trust_nhs,ai_word,wt\n1,a,1\n2,b,1\nn/a,c,1\n", DataError,
     "{csv}, column 'trust_nhs', row 3: a numeric column holds", ["found 'n/a'",
                                                                  '"type": "string"']),
    ("trust_nhs,ai_word,wt\n1,a,1\n2,b,1,9\n", FileFormatError,
     "{csv}, row 2: the CSV rows do not all have the same number of fields",
     ["expected 3 fields per row", "4 fields on line 3"]),
])
def test_csv_faults_name_file_column_and_row(tmp_path, text, error, start, more):
    path = write_wave(tmp_path, text)
    with pytest.raises(error) as err:
        st.read_wave(path, design=DESIGN)
    message = str(err.value)
    assert message.startswith(start.format(csv=path, book=tmp_path / "w.codebook.json"))
    assert all(part in message for part in more), message


def set_variable(book: dict, column: str, **changes) -> dict:
    book["variables"][column].update(changes)
    return book


@pytest.mark.parametrize("change, pattern", [
    (lambda b: set_variable(b, "trust_nhs", value_labels={"DK": "Don't know"}),
     "column 'trust_nhs': a value-label code is not of the variable's type; expected a number "
     r"\(the variable is numeric\), found 'DK'"),
    (lambda b: set_variable(b, "trust_nhs", missing={"values": ["98"], "ranges": []}),
     "column 'trust_nhs': a user-missing value is not of the variable's type; expected a JSON "
     "number, found '98'"),
    (lambda b: set_variable(b, "trust_nhs", missing={"values": [True], "ranges": []}),
     "found True"),
    (lambda b: set_variable(b, "ai_word", missing={"values": [9], "ranges": []}),
     "column 'ai_word': a user-missing value is not of the variable's type; expected a JSON "
     "string, found 9"),
    (lambda b: set_variable(b, "ai_word", missing={"values": [], "ranges": [["a", "b"]]}),
     "column 'ai_word': a user-missing range must be a \\[low, high\\] pair of a numeric"),
    (lambda b: set_variable(b, "trust_nhs", measure="interval"),
     "column 'trust_nhs': unknown measure level; expected nominal, ordinal or scale"),
    (lambda b: set_variable(b, "trust_nhs", type="integer"),
     "column 'trust_nhs': unknown variable type; expected numeric or string"),
    (lambda b: set_variable(b, "trust_nhs", value_label={"1": "x"}),
     "column 'trust_nhs': unknown key in a codebook variable.*found value_label. "
     "Fix: did you mean 'value_labels'"),
    (lambda b: {**b, "format": "other"}, "not a surveytools codebook"),
    (lambda b: {**b, "variables": {}}, "the codebook has no variables"),
    (lambda b: {**b, "encoding": "ebcdic-klingon"}, "unknown text encoding"),
])
def test_codebook_faults_name_the_codebook_and_column(tmp_path, change, pattern):
    path = write_wave(tmp_path, CSV, change(contract_codebook()))
    with pytest.raises(FileFormatError, match=pattern) as err:
        st.read_wave(path, design=DESIGN)
    assert str(err.value).startswith(str(tmp_path / "w.codebook.json"))


def test_codebook_that_is_not_json(tmp_path):
    write_wave(tmp_path, CSV)
    (tmp_path / "w.codebook.json").write_text('{"format": "surveytools-codebook",\n "version": }')
    with pytest.raises(FileFormatError, match="codebook is not valid JSON.*line 2 column 13"):
        read_codebook(tmp_path / "w.codebook.json")


def test_missing_codebook_names_the_expected_path(tmp_path):
    (tmp_path / "w.csv").write_text(CSV)
    with pytest.raises(FileFormatError) as err:
        st.read_wave(tmp_path / "w.csv", design=DESIGN)
    assert str(err.value).startswith(f"{tmp_path / 'w.codebook.json'}: codebook not found")
    assert "write_codebook" in str(err.value)
    # an explicit codebook= is used instead of the default name
    (tmp_path / "book.json").write_text(json.dumps(contract_codebook()))
    assert len(st.read_wave(tmp_path / "w.csv", design=DESIGN, codebook=tmp_path / "book.json")
               ) == 4


def test_header_that_does_not_decode(tmp_path):
    path = write_wave(tmp_path, CSV)
    path.write_bytes("trüst_nhs,ai_word,wt\n1,a,1\n".encode("latin-1"))
    with pytest.raises(FileFormatError, match=r"does not decode as utf-8.*in the header"):
        st.read_wave(path, design=DESIGN)

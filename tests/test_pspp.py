"""Files written by another program (GNU PSPP) load with nothing lost.

Each test writes an SPSS syntax file into tmp_path and runs ``pspp`` on it;
the expected codes, labels and missing values are the literals of that
syntax.  Without ``pspp`` these tests skip, except when ``CI`` is set, where
a missing PSPP is a failure (CI installs it: ``.ci/run``).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import shutil
import struct
import subprocess

import numpy as np
import pandas as pd
import pytest

import surveytools as st
from surveytools.core.errors import FileFormatError

SYNTAX = """\
DATA LIST LIST /id (F4.0) trust (F2.0) größe (F3.0) income (F8.2) name (A20) wt (F8.3)
  when (DATE11).
BEGIN DATA
1 7 34 1200.50 "Zoë" 1.5 01-JAN-2020
2 98 -5 -3 "refused" 0.5 15-MAR-2021
3 99 999 0 "Jürgen « ça »" 1 29-FEB-2024
4 0 18 . "" 2.25 31-DEC-1999
END DATA.
VARIABLE LABELS trust "Vertrauen – NHS « data »" größe "Größe in cm" income "Income (£)".
VALUE LABELS trust 0 "Gar nicht" 10 "Völlig" 98 "Weiß nicht" 99 "Refused"
  /name "Zoë" "Special Zoë".
MISSING VALUES trust (98, 99) größe (-9 THRU -1, 999) income (LO THRU 0) name ("refused").
VARIABLE LEVEL trust (ORDINAL) größe income wt (SCALE) id name (NOMINAL).
SAVE OUTFILE='w.sav'.
SAVE OUTFILE='w.zsav' /ZCOMPRESSED.
EXPORT OUTFILE='w.por'.
"""
#: What SYNTAX says, column by column.
EXPECTED = pd.DataFrame({
    "id": [1.0, 2.0, 3.0, 4.0],
    "trust": [7.0, 98.0, 99.0, 0.0],
    "größe": [34.0, -5.0, 999.0, 18.0],
    "income": [1200.5, -3.0, 0.0, np.nan],
    "name": pd.Series(["Zoë", "refused", "Jürgen « ça »", ""], dtype="str"),
    "wt": [1.5, 0.5, 1.0, 2.25],
    "when": pd.Series(pd.to_datetime(["2020-01-01", "2021-03-15", "2024-02-29", "1999-12-31"]
                                     )).astype("datetime64[us]"),
})
LABELS = {"trust": "Vertrauen – NHS « data »", "größe": "Größe in cm", "income": "Income (£)"}
VALUE_LABELS = {"trust": {0: "Gar nicht", 10: "Völlig", 98: "Weiß nicht", 99: "Refused"},
                "name": {"Zoë": "Special Zoë"}}
MISSING = {"trust": st.MissingSpec(values=(98, 99)),
           "größe": st.MissingSpec(values=(999,), ranges=((-9, -1),)),
           "income": st.MissingSpec(ranges=((-math.inf, 0),)),
           "name": st.MissingSpec(values=("refused",))}
MEASURE = {"id": "nominal", "trust": "ordinal", "größe": "scale", "income": "scale",
           "name": "nominal", "wt": "scale", "when": "scale"}


@pytest.fixture(scope="module")
def pspp() -> str:
    exe = shutil.which("pspp")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("GNU PSPP (pspp) is not installed but CI is set: install it "
                        "(apt-get install pspp) so that files from another program are tested")
        pytest.skip("GNU PSPP (pspp) is not installed: files written by another program are "
                    "not tested (install it with apt-get install pspp)")
    return exe


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEYTOOLS_CACHE_DIR", str(tmp_path / "cache"))


def run_pspp(exe: str, folder, syntax: str) -> None:
    (folder / "make.sps").write_text(syntax, encoding="utf-8")
    done = subprocess.run([exe, "--syntax-encoding=UTF-8", "make.sps"], cwd=folder,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "error" not in done.stdout.lower(), done.stdout + done.stderr


@pytest.fixture(scope="module")
def pspp_files(pspp, tmp_path_factory):
    folder = tmp_path_factory.mktemp("pspp")
    run_pspp(pspp, folder, SYNTAX)
    return folder


@pytest.mark.parametrize("name", ["w.sav", "w.zsav"])
def test_pspp_system_files_keep_labels_missing_codes_and_text(pspp_files, name):
    wave = st.read_wave(pspp_files / name, design=st.Design(weight="wt"), wave="2024")
    pd.testing.assert_frame_equal(wave.data, EXPECTED)
    assert wave.meta == st.Metadata(variable_labels=LABELS, value_labels=VALUE_LABELS,
                                    missing=MISSING, measure=MEASURE, encoding="utf-8",
                                    file=str(pspp_files / name), wave="2024")
    # user-missing codes are answers in the data and flagged by the metadata
    assert list(wave.meta.missing_mask("größe", wave.data["größe"])) == [False, True, True,
                                                                        False]
    assert list(wave.meta.missing_mask("income", wave.data["income"])) == [False, True, True,
                                                                          False]
    assert list(wave.meta.missing_mask("name", wave.data["name"])) == [False, True, False, False]
    cached = st.read_wave(pspp_files / name, design=st.Design(weight="wt"), wave="2024")
    pd.testing.assert_frame_equal(cached.data, wave.data)  # dates, open ranges, text survive
    assert cached.meta == wave.meta


def test_pspp_portable_file_keeps_labels_missing_codes_and_text(pspp_files):
    """A .por has upper-case names and no measure levels; everything else survives."""
    wave = st.read_wave(pspp_files / "w.por", design=st.Design(weight="WT"))
    upper = {c: c.upper() for c in EXPECTED.columns}
    pd.testing.assert_frame_equal(wave.data, EXPECTED.rename(columns=upper))
    expected = st.Metadata(variable_labels=LABELS, value_labels=VALUE_LABELS,
                           missing=MISSING).rename(upper)
    assert wave.meta == expected.replace(encoding="utf-8", file=str(pspp_files / "w.por"))


def test_portable_reader_and_pyreadstat_agree_where_pyreadstat_keeps_values(pspp_files):
    """pyreadstat's read_por is the independent check of the codes it does keep."""
    import pyreadstat

    theirs, _ = pyreadstat.read_por(pspp_files / "w.por")
    ours = st.read_wave(pspp_files / "w.por", design=st.Design(weight="WT")).data
    for column in ("ID", "WT"):
        np.testing.assert_array_equal(ours[column].to_numpy(), theirs[column].to_numpy())
    kept = theirs["TRUST"].notna().to_numpy()  # pyreadstat blanks user-missing codes
    np.testing.assert_array_equal(ours["TRUST"].to_numpy()[kept], theirs["TRUST"].to_numpy()[kept])
    assert list(ours["WHEN"].dt.date) == [dt.date(2020, 1, 1), dt.date(2021, 3, 15),
                                          dt.date(2024, 2, 29), dt.date(1999, 12, 31)]


def test_truncated_portable_file(pspp_files, tmp_path):
    data = (pspp_files / "w.por").read_bytes()
    for keep in (300, len(data) - 150):
        cut = tmp_path / f"cut{keep}.por"
        cut.write_bytes(data[:keep])
        with pytest.raises(FileFormatError) as err:
            st.read_wave(cut, design=st.Design(weight="WT"))
        assert str(cut) in str(err.value) and ("ends early" in str(err.value)
                                               or "not an SPSS portable file" in str(err.value))


WINDOWS_SYNTAX = """\
SET LOCALE='windows-1252'.
DATA LIST LIST /id (F4.0) name (A20) wt (F4.1).
BEGIN DATA
1 "Zoë café" 1
2 "Jürgen" 2
END DATA.
VARIABLE LABELS name "Prénom – «»".
VALUE LABELS id 1 "Über".
SAVE OUTFILE='w.sav'.
"""


@pytest.fixture
def windows_sav(pspp, tmp_path):
    run_pspp(pspp, tmp_path, WINDOWS_SYNTAX)
    raw = (tmp_path / "w.sav").read_bytes()
    assert "Zoë café".encode("cp1252") in raw and "Zoë".encode() not in raw
    return tmp_path / "w.sav"


def test_windows_1252_system_file(windows_sav):
    wave = st.read_wave(windows_sav, design=st.Design(weight="wt"))
    assert list(wave.data["name"]) == ["Zoë café", "Jürgen"]
    assert wave.meta.variable_labels["name"] == "Prénom – «»"
    assert wave.meta.value_labels["id"] == {1: "Über"}
    assert wave.meta.encoding == "cp1252"


def test_a_file_that_declares_the_wrong_encoding(windows_sav, tmp_path):
    raw = windows_sav.read_bytes()
    at = raw.index(b"WINDOWS-1252")
    assert struct.unpack("<i", raw[at - 4:at]) == (12,)  # the encoding record's length
    wrong = tmp_path / "declares_utf8.sav"
    wrong.write_bytes(raw[:at - 4] + struct.pack("<i", 5) + b"UTF-8" + raw[at + 12:])
    with pytest.raises(FileFormatError) as err:
        st.read_wave(wrong, design=st.Design(weight="wt"))
    message = str(err.value)
    assert message.startswith(f"{wrong}: text in the file does not decode")
    assert "encoding=" in message
    wave = st.read_wave(wrong, design=st.Design(weight="wt"), encoding="cp1252")
    assert list(wave.data["name"]) == ["Zoë café", "Jürgen"]

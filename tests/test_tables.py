"""Published-style tables: the workbook and the CSV, read back, with suppression enforced."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

import surveytools as st
from surveytools.presentation.tables import tidy_table

MANIFEST = Path(__file__).resolve().parents[1] / "data" / "tracker" / "waves.toml"
STRICT = st.SmallBaseRule(suppress_below=100, flag_below=150)
#: What stands in a hidden cell, by why it is hidden.
HIDDEN = {"small base": "n<100", "complementary": "[c]"}


@pytest.fixture(scope="module")
def cube():
    return st.cube(st.read_waves(MANIFEST), answers=True, small_base=STRICT)


@pytest.fixture(scope="module")
def book(cube, tmp_path_factory):
    path = tmp_path_factory.mktemp("tables") / "tables.xlsx"
    assert st.write_tables(cube, path) == path
    return load_workbook(path)


def _header(sheet):
    """Column number -> (breakdown label, group label) of the group columns."""
    out, current = {}, None
    for column in range(6, sheet.max_column + 1):
        current = sheet.cell(row=4, column=column).value or current
        out[column] = (current, sheet.cell(row=5, column=column).value)
    return out


def _row(sheet, label):
    for row in range(1, sheet.max_row + 1):
        if sheet.cell(row=row, column=1).value == label:
            return row
    raise AssertionError(f"no row {label!r} in {sheet.title}")


def test_workbook_has_contents_and_a_sheet_per_question(book, cube):
    assert book.sheetnames[0] == "Contents"
    assert set(book.sheetnames[1:]) == set(cube.catalogue.questions)
    contents = book["Contents"]
    links = [contents.cell(row=r, column=1).hyperlink for r in range(4, contents.max_row + 1)]
    assert sum(link is not None for link in links) == len(cube.catalogue.questions)


def test_sheet_layout_frozen_percent_bases_notes(book, cube):
    sheet = book["trust_nhs"]
    assert sheet.freeze_panes == "B7"
    assert sheet.column_dimensions["A"].width >= 30
    row = _row(sheet, "Trust (7-10)")
    assert sheet.cell(row=row, column=3).number_format.startswith("0%")
    for label in ("Unweighted base", "Weighted base"):
        assert isinstance(sheet.cell(row=_row(sheet, label), column=3).value, (int, float))
    notes = [sheet.cell(row=r, column=1).value for r in range(_row(sheet, "Notes"), sheet.max_row + 1)]
    text = "\n".join(n for n in notes if n)
    assert STRICT.describe() in text
    assert "Benjamini-Hochberg" in text and "weight" in text
    assert "Don't know excluded from base" in text
    assert "wave2024.csv" in text
    # every answer of the question is a row; Don't know (declared missing) is out of the
    # base, and the note says so
    with pytest.raises(AssertionError, match="no row"):
        _row(sheet, "Don't know")
    assert 'trust_nhs: not in any base: 98 "Don\'t know"' in text
    assert _row(sheet, "10 - Trust completely") < row
    answers = [sheet.cell(row=r, column=3).value
               for r in range(_row(sheet, "Answers (% of all asked)") + 1,
                              _row(sheet, "Unweighted base"))]
    assert sum(answers) == pytest.approx(1.0)


def test_indicator_cells_match_the_cube_and_hide_suppressed(book, cube):
    frame = cube.frame[cube.frame["wave"] == "2024"]
    checked_hidden = checked_low = 0
    for indicator in cube.catalogue:
        sheet = book[indicator.question]
        row = _row(sheet, indicator.row_label)
        rows = frame[frame["indicator"] == indicator.name]
        header = _header(sheet)
        lookup = {(r.breakdown_label, r.group_label): r for r in rows.itertuples()}
        for column, key in header.items():
            record = lookup[key]
            cell = sheet.cell(row=row, column=column)
            letters = sheet.cell(row=row + 1, column=column).value
            if record.base_flag == "suppressed":
                assert cell.value == HIDDEN[record.suppression]
                assert letters is None
                checked_hidden += 1
            else:
                # the value as published: rounded to what the cell shows, not kept at full
                # precision under a "0%" format
                assert cell.value == pytest.approx(np.round(record.estimate, 2), abs=1e-12)
                assert (letters or "") == record.letters
                if record.base_flag == "low":
                    assert cell.number_format.endswith('"*"')
                    checked_low += 1
        total = frame[(frame["indicator"] == indicator.name) & (frame["breakdown"] == "total")]
        assert sheet.cell(row=row, column=3).value == pytest.approx(
            np.round(total["estimate"].iloc[0], 2), abs=1e-12)
    assert checked_hidden > 0 and checked_low > 0


def test_no_number_in_any_suppressed_cell(book, cube):
    """Every cell of a suppressed group's column in an estimate row is text, never a number."""
    answers = cube.answers[cube.answers["wave"] == "2024"]
    checked = 0
    for question in cube.catalogue.questions:
        sheet = book[question]
        header = _header(sheet)
        flags = answers[answers["question"] == question].drop_duplicates(["breakdown", "group"])
        labels = {(bd.label, g.label): (bd.name, g.code) for bd in cube.breakdowns
                  for g in bd.groups}
        hidden = {(b, g) for b, g, f in zip(flags["breakdown"], flags["group"],
                                            flags["base_flag"]) if f == "suppressed"}
        hidden_cols = {c for c, key in header.items() if labels[key] in hidden}
        first, base = _row(sheet, "Answers (% of all asked)"), _row(sheet, "Unweighted base")
        reasons = dict(zip(zip(flags["breakdown"], flags["group"]), flags["suppression"]))
        for column in hidden_cols:
            label = HIDDEN[reasons[labels[header[column]]]]
            for row in range(first + 1, base):
                assert sheet.cell(row=row, column=column).value == label
            # the bases are hidden with the estimates (base differences disclose too)
            assert sheet.cell(row=base, column=column).value == label
            assert sheet.cell(row=base + 1, column=column).value == label
            checked += 1
    assert checked > 0


def test_csv_is_tidy_and_suppressed(cube, tmp_path):
    path = st.write_tables(cube, tmp_path / "tables.csv", format="csv")
    table = pd.read_csv(path, keep_default_na=False, na_values=[""])
    assert (tmp_path / "tables.notes.txt").read_text().count(STRICT.describe()) == 1
    assert set(table["row_type"]) == {"answer", "indicator"}
    hidden = table["base_flag"] == "suppressed"
    assert hidden.any()
    for column in ("estimate", "se", "ci_low", "ci_high", "change", "change_se", "change_p"):
        assert table.loc[hidden, column].isna().all(), column
    assert (table.loc[hidden, "display"] == table.loc[hidden, "suppression"].map(HIDDEN)).all()
    assert set(table.loc[hidden, "suppression"]) == set(HIDDEN)
    assert table.loc[hidden, ["n", "weighted_n"]].isna().all().all()
    # published as shown: whole per cent (as fractions), weighted bases to tens
    shares = table[~hidden & (table["kind"] == "share")]
    assert np.allclose(shares["estimate"] * 100, np.round(shares["estimate"] * 100), atol=1e-9)
    assert np.allclose(table.loc[~hidden, "weighted_n"] % 10, 0)
    assert table.loc[hidden, "letters"].isna().all()
    shown = table[~hidden & table["estimate"].notna()]
    assert not shown["display"].str.startswith("n<").any()
    assert shown.loc[shown["base_flag"] == "low", "display"].str.endswith("*").all()
    # every wave by default; one wave on request
    assert set(table["wave"].astype(str)) == set(cube.waves)
    one = tidy_table(cube, "2022")
    assert set(one["wave"]) == {"2022"}


def test_earlier_wave_and_bad_arguments(cube, tmp_path):
    path = st.write_tables(cube, tmp_path / "t2022.xlsx", wave="2022")
    sheets = load_workbook(path).sheetnames
    assert "accept_exams" not in sheets  # first asked in 2023
    with pytest.raises(st.FileFormatError, match="unknown wave"):
        st.write_tables(cube, tmp_path / "x.xlsx", wave="1999")
    with pytest.raises(st.FileFormatError, match="unknown table format"):
        st.write_tables(cube, tmp_path / "x.pdf", format="pdf")
    with pytest.raises(st.FileFormatError, match="output folder does not exist"):
        st.write_tables(cube, tmp_path / "no" / "x.xlsx")


def test_a_manifest_is_tabulated_from_the_cube_store(tmp_path, monkeypatch):
    from surveytools.indicators import store

    monkeypatch.setenv("SURVEYTOOLS_CACHE_DIR", str(tmp_path / "cache"))
    path = st.write_tables(MANIFEST, tmp_path / "t.csv", format="csv", wave="2024",
                           correction="none")
    assert store.entry_path(store.cube_key(MANIFEST, answers=True, correction="none")).is_file()
    table = pd.read_csv(path, keep_default_na=False)
    nets = table[(table["kind"] == "net") & (table["display"] != "")]
    assert nets["display"].str.fullmatch(r"[+-]\d+\*?").all()  # signed points, as shown everywhere
    with pytest.raises(st.FileFormatError, match="a cube or a manifest"):
        st.write_tables(st.read_waves(MANIFEST), tmp_path / "x.xlsx")


def test_workbook_formats_come_from_formatting(book, cube):
    from surveytools.presentation.formatting import excel_format

    for indicator in cube.catalogue:
        sheet = book[indicator.question]
        row = _row(sheet, indicator.row_label)
        assert sheet.cell(row=row, column=3).number_format.startswith(excel_format(indicator.kind))


# -- series breaks, the tab book, undeclared codes -------------------------------------------
@pytest.fixture(scope="module")
def broken(cube):
    """The cube as if 2024 could not be compared with 2023, with a code of trust_nhs
    counted as an answer."""
    frame = cube.frame.copy()
    later = frame["wave"] == "2024"
    frame.loc[later, ["change", "change_se", "change_p"]] = np.nan
    frame.loc[later, "change_significant"] = False
    frame.loc[later, "change_note"] = "not comparable (moved online)"
    return cube.replace(frame=frame, breaks={"2024": "moved online"}, undeclared=(
        ("2024", "trust_nhs", 97, "Refused", 5, "value label looks like a non-answer"),))


def test_a_change_across_a_break_reads_not_comparable(broken, tmp_path):
    book = load_workbook(st.write_tables(broken, tmp_path / "b.xlsx"))
    sheet = book["trust_nhs"]
    row = _row(sheet, "Trust (7-10)")
    assert sheet.cell(row=row, column=4).value == "not comparable (moved online)"
    assert sheet.cell(row=row, column=5).value is None
    notes = "\n".join(str(c.value) for r in sheet.iter_rows(max_col=1) for c in r if c.value)
    assert "No change is tested across a series break: 2024 (moved online)." in notes
    assert 'trust_nhs 97 "Refused" (2024: 5)' in notes
    assert 'Refused' not in "\n".join(
        str(c.value) for r in book["trust_govt"].iter_rows(max_col=1) for c in r if c.value)
    table = tidy_table(broken)
    later = table[(table["wave"] == "2024") & (table["row_type"] == "indicator")]
    assert (later["change_note"] == "not comparable (moved online)").all()
    assert later["change"].isna().all()
    assert (table.loc[table["wave"] == "2023", "change_note"] == "").all()


@pytest.fixture(scope="module")
def tab_book(tmp_path_factory):
    tracker = st.read_waves(MANIFEST)
    bare = tracker.replace(manifest=None, catalogue=None, breakdowns=None,
                           waves={w: tracker[w] for w in ("2023", "2024")})
    age = st.load_breakdowns(MANIFEST.parent / "breakdowns.toml").select(["age"])
    built = st.cube(bare, breakdowns=age, answers=True)
    return built, load_workbook(st.write_tables(built, tmp_path_factory.mktemp("tab") / "t.xlsx"))


def test_tab_book_rows_are_answers_with_letters(tab_book):
    built, book = tab_book
    assert "trust_nhs" in book.sheetnames and "weight" not in book.sheetnames
    sheet = book["trust_nhs"]
    labels = [sheet.cell(row=r, column=1).value for r in range(1, sheet.max_row + 1)]
    first = labels.index("Answers (% of all asked)")
    answers = labels[first + 1: labels.index("Unweighted base")]
    assert answers[0::2] == [i.row_label for i in built.catalogue.for_question("trust_nhs")]
    assert set(answers[1::2]) == {"   significantly higher than"}
    assert labels.count("Unweighted base") == 1  # each answer is shown once, not again below
    frame = built.select(indicator="trust_nhs_10", waves="2024")
    row = first + 1 + 2 * 10 + 1
    assert sheet.cell(row=row, column=3).value == pytest.approx(
        np.round(frame.loc[frame["breakdown"] == "total", "estimate"].iloc[0], 2), abs=1e-12)
    letters = {sheet.cell(row=row + 1, column=c).value for c in range(6, 9)}
    shown = set(frame.loc[frame["breakdown"] == "age", "letters"]) - {""}
    assert letters - {None} == shown
    change = sheet.cell(row=row, column=4).value
    assert change == pytest.approx(
        np.round(frame.loc[frame["breakdown"] == "total", "change"].iloc[0], 2), abs=1e-12)


@pytest.mark.parametrize("change", [0.004, -0.004])
def test_a_small_significant_change_keeps_its_direction(cube, tmp_path, change):
    """Published rounded, a significant change of 0.4 points shows as 0%: the column
    beside it still says which way it went."""
    frame = cube.frame.copy()
    indicator = next(i for i in cube.catalogue if i.kind == "share" and i.question != "trust_nhs")
    total = ((frame["indicator"] == indicator.name) & (frame["breakdown"] == "total")
             & (frame["wave"] == cube.waves[-1]))
    frame.loc[total, ["change", "change_significant"]] = [change, True]
    path = st.write_tables(cube.replace(frame=frame), tmp_path / "t.xlsx")
    sheet = load_workbook(path)[indicator.question]
    row = _row(sheet, indicator.row_label)
    assert sheet.cell(row=row, column=4).value == 0
    assert sheet.cell(row=row, column=5).value == ("Yes, up" if change > 0 else "Yes, down")

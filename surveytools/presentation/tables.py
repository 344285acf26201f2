"""Published-style weighted tables: an Excel workbook or a tidy CSV.

Workbook layout (one wave, by default the latest; a manager reads one sheet
per question top to bottom):

* a **Contents** sheet: every question with a link to its sheet, and the
  methods note;
* a sheet per **question** asked in the wave. Columns: the total of the
  previous wave that asked the question, the total of this wave, the change
  and whether it is significant (or "not comparable (reason)" across a
  series break), then the groups of every breakdown with a letter each
  (A, B, ...). Rows: every answer's weighted % of those asked who answered
  (user-missing codes, such as "Don't know" and "skip, version off route",
  are out of the base and named in the notes), the unweighted and weighted
  bases, then each indicator of the question ("Trust (7-10)", "Net
  acceptable", means) with a row of significance letters ("B" under column
  A: A is significantly higher than B) and the indicator's own unweighted
  base (Don't know out of it unless the catalogue says otherwise).  An
  indicator that is the share of one answer gives its letters to that
  answer's row instead.  A notes block closes every sheet.

Without a catalogue the cube is the full tab book
(:func:`surveytools.indicators.answers.tab_book`): every labelled question,
each answer with its letters, by every breakdown.

Small bases, as DESIGN.md says: a suppressed cell shows ``n<50`` (the rule's
label) and never a number, a group hidden so that a small one cannot be
worked out shows ``[c]``, and both withhold their bases (the cube's
disclosure control); a low base shows its number with a ``*`` suffix (a
number format, so the value stays a number) and a note.  Published values
are rounded as shown (:func:`surveytools.indicators.disclosure.round_published`):
no full precision under a cell format.

CSV: one tidy file, one row per wave x question x row x group (every wave
unless ``wave=`` is given), with a ``display`` column that reads as the
dashboards do (``n<50`` or ``[c]`` for hidden cells, whose numbers are
blank) and ``suppression`` saying why, and the notes beside it in
``<name>.notes.txt``.

The cube comes from the cube store (:mod:`surveytools.indicators.store`),
values are formatted by :mod:`surveytools.presentation.formatting`, and
files are written atomically.

Examples
--------
>>> import surveytools as st                                          # doctest: +SKIP
>>> st.write_tables("data/tracker/waves.toml", "tables.xlsx")         # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.errors import FileFormatError
from ..core.files import atomic_write
from ..core.meta import code_text, plain_code
from ..core.smallbase import LOW, SUPPRESSED, blank
from ..indicators.cube import IndicatorCube
from ..indicators.significance import column_letters
from ..indicators.store import cached_cube
from ..indicators.disclosure import BASE_STEP, round_published
from .formatting import (COMPLEMENTARY_LABEL, COMPLEMENTARY_TEXT, LOW_MARK, cell_text,
                         excel_format, hidden_label)

FORMATS = ("xlsx", "csv")
COUNT = "#,##0"


def write_tables(source, path, *, format: str = "xlsx", wave: str | None = None,
                 **cube_options) -> Path:
    """Write the published-style tables of a tracker (or of a ready cube).

    Parameters
    ----------
    source : IndicatorCube, or str or path of a tracker manifest
        A manifest's cube comes from the cube store with ``answers=True``
        and ``cube_options`` (:func:`surveytools.indicators.store.cached_cube`,
        which refuses while the tracker's non-answer audit is not empty).
        A cube made without ``answers=True`` gives tables of indicator rows only.
    path : str or Path
        The workbook (``.xlsx``) or CSV file to write; its folder must exist.
    format : {"xlsx", "csv"}
    wave : str, optional
        The wave to tabulate (xlsx default: the latest; csv default: every wave).
    **cube_options
        Keywords of :func:`surveytools.indicators.store.cached_cube`
        (``catalogue``, ``breakdowns``, ``allow_undeclared``) and of
        :func:`surveytools.indicators.cube.cube` (e.g. ``correction``).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    FileFormatError
        An unknown format, an output folder that does not exist, an unknown wave,
        a source that is neither a cube nor a manifest.
    ManifestError
        Codes that look like non-answers are counted as answers (the message
        lists them with the manifest lines that declare them), or a
        catalogue or breakdowns file that does not exist.
    """
    if format not in FORMATS:
        raise FileFormatError("unknown table format", file=path, expected=" or ".join(FORMATS),
                              found=repr(format), hint="pass format='xlsx' or format='csv'")
    path = Path(path)
    if not path.parent.is_dir():
        raise FileFormatError("the output folder does not exist", file=path,
                              expected="an existing folder", found=str(path.parent),
                              hint="create the folder first or choose another --out")
    if isinstance(source, IndicatorCube):
        result = source
    elif isinstance(source, (str, os.PathLike)):
        result = cached_cube(source, answers=True, **cube_options)
    else:
        raise FileFormatError("tables are written from a cube or a manifest", file=path,
                              expected="an IndicatorCube or the path of a tracker manifest",
                              found=type(source).__name__,
                              hint="pass the manifest path, or st.cube(tracker, answers=True)")
    if wave is not None and wave not in result.waves:
        raise FileFormatError("unknown wave", file=path, expected=" or ".join(result.waves),
                              found=repr(wave), hint="pick a wave label from the manifest")
    if format == "csv":
        return _write_csv(result, path, wave)
    return _write_xlsx(result, path, wave or result.waves[-1])


# -- shared ----------------------------------------------------------------
def _columns(result) -> list[tuple[str, str, str, str, str]]:
    """(breakdown, breakdown label, group key, group label, letter) of the group columns."""
    out = []
    for bd in result.breakdowns:
        letters = column_letters(len(bd.groups))
        out += [(bd.name, bd.label, g.code, g.label, letters[i]) for i, g in enumerate(bd.groups)]
    return out


def _previous_wave(result, wave: str, asked: set) -> str | None:
    """The last wave before ``wave`` among the waves that ``asked`` a question."""
    earlier = [w for w in result.waves[: result.waves.index(wave)] if w in asked]
    return earlier[-1] if earlier else None


def _notes(result, question: str | None = None) -> list[str]:
    rule = result.small_base
    notes = [*result.method_note.splitlines(),
             f"* Low base ({rule.suppress_below}-{rule.flag_below - 1} respondents): "
             "treat with caution.",
             f'"{rule.suppressed_label}": fewer than {rule.suppress_below} respondents; '
             "not shown.",
             f'"{COMPLEMENTARY_LABEL}": {COMPLEMENTARY_TEXT} (complementary suppression).',
             "Values are published rounded as shown: per cent to whole numbers, means to "
             f"2 decimals, weighted bases to the nearest {BASE_STEP}.",
             "Answers are % of all asked who gave an answer: codes declared missing (Don't "
             "know, refusals, not asked) are out of the base; each indicator row has its own "
             "unweighted base."]
    questions = [question] if question else result.catalogue.questions
    for name in questions:
        if name in result.excluded:
            notes.append(f"{name}: not in any base: {result.excluded[name]}.")
    undeclared = result.undeclared_note(question)
    if undeclared:
        notes.append(undeclared)
    indicators = result.catalogue.for_question(question) if question else list(result.catalogue)
    for ind in indicators:
        notes.append(f"{ind.row_label if question else ind.label}: {ind.describe()}; "
                     f"Don't know {ind.dont_know_text}.")
    sources = "; ".join(f"{w}: {Path(f).name if f else 'unknown'}"
                        for w, f in result.sources.items())
    notes.append(f"Source files: {sources}.")
    return notes


def _answer_indicators(result, question: str) -> dict:
    """Answer code -> the indicator that is the share of that one answer among those who
    answered (its letters go on the answer's row; it has no rows of its own)."""
    if result.answers is None:
        return {}
    return {plain_code(ind.codes[0]): ind for ind in result.catalogue.for_question(question)
            if ind.kind == "share" and len(ind.codes) == 1 and ind.dont_know == "exclude"}


# -- xlsx ------------------------------------------------------------------
TOTAL_KEY = ("total", "all")


class _Lookup:
    """The cube's values keyed for the workbook, read once: a sheet looks its cells up
    instead of filtering frames.

    ``indicator[(wave, indicator)]`` and ``answer[(wave, question, level)]`` map a
    column's ``(breakdown, group)`` to its record (a dict of the cube's columns);
    ``levels[(wave, question)]`` lists ``(level, label)`` in code order and
    ``asked[question]`` the waves that ask it.
    """

    def __init__(self, result) -> None:
        # values as published; the direction of a change from the value itself (a
        # significant rise of 0.4 points is shown as +0% and "Yes, up")
        frame = round_published(result.frame).assign(change_up=result.frame["change"] > 0)
        self.indicator = _records(frame, ("wave", "indicator"), (
            "estimate", "base_flag", "suppression", "letters", "n", "change", "change_up",
            "change_significant", "change_note"))
        self.asked: dict = {}
        for question, wave in zip(frame["question"].tolist(), frame["wave"].tolist()):
            self.asked.setdefault(question, set()).add(wave)
        answers = round_published(result.answers) if result.answers is not None else \
            pd.DataFrame(columns=["wave", "question", "level", "level_label", "breakdown",
                                  "group", "estimate", "base_flag", "suppression", "n",
                                  "weighted_n"])
        self.answer = _records(answers, ("wave", "question", "level"),
                               ("estimate", "base_flag", "suppression", "n", "weighted_n"))
        self.levels: dict = {}
        for wave, question, level, label in sorted(set(zip(
                answers["wave"].tolist(), answers["question"].tolist(),
                answers["level"].tolist(), answers["level_label"].tolist())),
                key=lambda r: (r[0], r[1], r[2])):
            self.levels.setdefault((wave, question), []).append((level, label))


def _records(frame: pd.DataFrame, keys: tuple, columns: tuple) -> dict:
    """``keys`` values -> {(breakdown, group): {column: value}} over the rows of ``frame``."""
    out: dict = {}
    k = len(keys)
    for row in zip(*(frame[c].tolist() for c in (*keys, "breakdown", "group", *columns))):
        out.setdefault(row[:k], {})[(row[k], row[k + 1])] = dict(zip(columns, row[k + 2:]))
    return out


def _write_xlsx(result, path: Path, wave: str) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    contents = book.active
    contents.title = "Contents"
    look = _Lookup(result)
    sheets = {}
    for question in (q for q in result.catalogue.questions if wave in look.asked.get(q, ())):
        name = _sheet_name(question, sheets.values())
        sheets[question] = name
        _question_sheet(book.create_sheet(name), result, wave, question, look)
    _contents_sheet(contents, result, wave, sheets)
    try:
        atomic_write(path, book.save)
    except OSError as err:
        raise FileFormatError(f"cannot write the workbook ({err.strerror or err})", file=path,
                              expected="a writable .xlsx path", found=type(err).__name__,
                              hint="close the file if it is open elsewhere, or choose "
                                   "another --out") from None
    return path


def _sheet_name(question: str, taken) -> str:
    name, i = question[:31], 2
    while name in taken:
        name = f"{question[:28]}_{i}"
        i += 1
    return name


def _contents_sheet(sheet, result, wave, sheets) -> None:
    from openpyxl.styles import Font

    sheet["A1"] = f"Weighted tables, wave {wave}"
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([])
    sheet.append(["Sheet", "Question", "Indicators"])
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for question, name in sheets.items():
        indicators = result.catalogue.for_question(question)
        sheet.append([name, indicators[0].wording, "; ".join(i.row_label for i in indicators)])
        cell = sheet.cell(row=sheet.max_row, column=1)
        cell.hyperlink = f"#'{name}'!A1"
        cell.font = Font(color="0563C1", underline="single")
    _notes_block(sheet, _notes(result), start=sheet.max_row + 2)
    sheet.freeze_panes = "A4"
    for column, width in (("A", 26), ("B", 90), ("C", 50)):
        sheet.column_dimensions[column].width = width


def _question_sheet(sheet, result, wave, question, look: _Lookup) -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    indicators = result.catalogue.for_question(question)
    previous = _previous_wave(result, wave, look.asked[question])
    groups = _columns(result)
    keys = [(bd, key) for bd, _, key, _, _ in groups]
    sheet["A1"] = indicators[0].wording
    sheet["A1"].font = Font(bold=True, size=12)
    sheet["A2"] = (f"{question}: wave {wave}. Weighted column percentages; "
                   f"letters mark significant differences between groups.")
    first_group = 6
    head_bd, head_group, head_letter = 4, 5, 6
    fixed = [(2, f"Total {previous}" if previous else "Total (no earlier wave)"),
             (3, f"Total {wave}"), (4, f"Change since {previous} (points)" if previous else "Change"),
             (5, "Change significant?")]
    for column, text in fixed:
        sheet.cell(row=head_group, column=column, value=text).font = Font(bold=True)
    for offset, (bd, bd_label, key, label, letter) in enumerate(groups):
        column = first_group + offset
        if offset == 0 or groups[offset - 1][0] != bd:
            sheet.cell(row=head_bd, column=column, value=bd_label).font = Font(bold=True)
        sheet.cell(row=head_group, column=column, value=label).font = Font(bold=True)
        sheet.cell(row=head_letter, column=column, value=f"({letter})").alignment = \
            Alignment(horizontal="center")
    row = head_letter + 1

    def put_row(this: dict, before: dict, column: str, fmt: str, *, base: bool = False) -> None:
        """The totals of both waves and every group of one row (the base of a hidden
        group is hidden with it: base differences disclose as estimates do)."""
        def cell(record):
            if record is None:
                return None
            flag = record["base_flag"]
            return (record[column], "base" if base and flag != SUPPRESSED else flag,
                    record["suppression"])

        _put(sheet, row, 3, cell(this.get(TOTAL_KEY)), fmt, result)
        _put(sheet, row, 2, cell(before.get(TOTAL_KEY)), fmt, result)
        for offset, key in enumerate(keys):
            _put(sheet, row, first_group + offset, cell(this.get(key)), fmt, result)

    def put_letters(this: dict) -> None:
        sheet.cell(row=row, column=1, value="   significantly higher than")
        for offset, key in enumerate(keys):
            record = this.get(key)
            if record is not None and record["base_flag"] != SUPPRESSED and record["letters"]:
                sheet.cell(row=row, column=first_group + offset,
                           value=record["letters"]).alignment = Alignment(horizontal="center")

    shown_as_answers: set = set()
    levels = look.levels.get((wave, question), [])
    if levels:
        by_code = _answer_indicators(result, question)
        sheet.cell(row=row, column=1, value="Answers (% of all asked)").font = Font(italic=True)
        row += 1
        percent = excel_format("share")
        for level, label in levels:
            sheet.cell(row=row, column=1, value=label)
            put_row(look.answer[(wave, question, level)],
                    look.answer.get((previous, question, level), {}), "estimate", percent)
            ind = by_code.get(plain_code(level))
            if ind is None:
                row += 1
                continue
            shown_as_answers.add(ind.name)
            this = look.indicator.get((wave, ind.name), {})
            _put_change(sheet, row, this.get(TOTAL_KEY), ind.kind, previous, result)
            row += 1
            put_letters(this)
            row += 1
        this = _bases(look, wave, question, levels)
        before = _bases(look, previous, question, look.levels.get((previous, question), []))
        for label, column in (("Unweighted base", "n"), ("Weighted base", "weighted_n")):
            sheet.cell(row=row, column=1, value=label).font = Font(bold=True)
            put_row(this, before, column, COUNT, base=True)
            row += 1
        row += 1

    for ind in indicators:
        if ind.name in shown_as_answers:
            continue
        fmt = excel_format(ind.kind)
        this = look.indicator.get((wave, ind.name), {})
        before = look.indicator.get((previous, ind.name), {})
        sheet.cell(row=row, column=1, value=ind.row_label).font = Font(bold=True)
        put_row(this, before, "estimate", fmt)
        _put_change(sheet, row, this.get(TOTAL_KEY), ind.kind, previous, result)
        row += 1
        put_letters(this)
        row += 1
        sheet.cell(row=row, column=1, value=f"   Unweighted base (Don't know {ind.dont_know_text})")
        put_row(this, before, "n", COUNT, base=True)
        row += 2

    _notes_block(sheet, _notes(result, question), start=row + 1)
    sheet.freeze_panes = sheet.cell(row=head_letter + 1, column=2)
    sheet.column_dimensions["A"].width = 46
    for column in range(2, first_group + len(groups)):
        sheet.column_dimensions[get_column_letter(column)].width = 12 if column >= first_group \
            else 14
    for column in range(2, first_group + len(groups)):
        sheet.cell(row=head_group, column=column).alignment = Alignment(wrap_text=True,
                                                                        horizontal="center")


def _bases(look: _Lookup, wave, question: str, levels) -> dict:
    """(breakdown, group) -> the answers' base record of one question and wave (every
    level of a group has the same base; a group may lack some levels)."""
    out: dict = {}
    for level, _ in levels:
        for key, record in look.answer[(wave, question, level)].items():
            out.setdefault(key, record)
    return out


def _put_change(sheet, row: int, total: dict | None, kind: str, previous, result) -> None:
    """The ``total`` record's change since ``previous`` and whether it is significant,
    or "not comparable (reason)" where no change is tested (columns 4 and 5)."""
    if total is None or not previous:
        return
    if total["change_note"]:
        sheet.cell(row=row, column=4, value=total["change_note"])
        return
    _put(sheet, row, 4, (total["change"], total["base_flag"], total["suppression"]),
         excel_format(kind, change=True), result)
    if total["base_flag"] != SUPPRESSED and not np.isnan(total["change"]):
        sheet.cell(row=row, column=5, value=(("Yes, up" if total["change_up"] else "Yes, down")
                                             if total["change_significant"] else "No"))


def _put(sheet, row: int, column: int, cell, number_format: str, result) -> None:
    """Write one ``(value, flag, suppression)``: the hidden cell's label (``n<50``,
    ``[c]``) for a suppressed one, else the number as rounded for publication (with a
    ``*`` in its format when the base is low)."""
    if cell is None:
        return
    value, flag, suppression = cell
    target = sheet.cell(row=row, column=column)
    if flag == SUPPRESSED:
        target.value = hidden_label(result.small_base, suppression)
        return
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return
    target.value = float(value)
    target.number_format = number_format + (f'"{LOW_MARK}"' if flag == LOW else "")


def _notes_block(sheet, notes: list[str], *, start: int) -> None:
    from openpyxl.styles import Font

    sheet.cell(row=start, column=1, value="Notes").font = Font(bold=True)
    for offset, note in enumerate(notes, start=1):
        sheet.cell(row=start + offset, column=1, value=note)


# -- csv -------------------------------------------------------------------
def tidy_table(result, wave: str | None = None, *, rounded: bool = True) -> pd.DataFrame:
    """The tables as one tidy DataFrame (what the CSV holds), suppression applied.

    Columns: ``wave, question, row_type ("answer" | "indicator"), row,
    row_label, breakdown, group, group_label, estimate, se, ci_low, ci_high,
    n, weighted_n, base_flag, suppression ("", "small base", "complementary"),
    display, letters, change, change_se, change_p, change_significant,
    change_note`` (``"not comparable (reason)"`` where no
    change is tested across a series break, ``"not shown: the previous wave's
    value is hidden"`` beside a hidden cell, else empty).  Values are rounded to
    what the tables show (:func:`surveytools.indicators.disclosure.round_published`);
    ``rounded=False`` keeps full precision, for analysis and checks against other
    software, not for publication (suppression is applied either way).
    """
    frame = result.frame
    indicators = pd.DataFrame({
        "wave": frame["wave"], "question": frame["question"], "row_type": "indicator",
        "row": frame["indicator"],
        "row_label": frame["indicator"].map({i.name: i.row_label for i in result.catalogue}),
        "kind": frame["kind"], "breakdown": frame["breakdown"], "group": frame["group"],
        "group_label": frame["group_label"],
        **{c: frame[c] for c in ("estimate", "se", "ci_low", "ci_high", "n", "weighted_n",
                                 "base_flag", "suppression", "letters", "change", "change_se",
                                 "change_p", "change_significant", "change_note")},
    })
    parts = [indicators]
    if result.answers is not None:
        answers = result.answers
        parts.insert(0, pd.DataFrame({
            "wave": answers["wave"], "question": answers["question"], "row_type": "answer",
            "row": answers["level"].map(code_text), "row_label": answers["level_label"],
            "kind": "share", "breakdown": answers["breakdown"], "group": answers["group"],
            "group_label": answers["group_label"], "estimate": answers["estimate"],
            "n": answers["n"], "weighted_n": answers["weighted_n"],
            "base_flag": answers["base_flag"], "suppression": answers["suppression"],
        }))
    out = pd.concat(parts, ignore_index=True)
    if wave is not None:
        out = out[out["wave"] == wave].reset_index(drop=True)
    out["display"] = [cell_text(v, k, f, result.small_base, r) for v, k, f, r in
                      zip(out["estimate"], out["kind"], out["base_flag"], out["suppression"])]
    out = blank(out, out["base_flag"].to_numpy() == SUPPRESSED)
    if rounded:
        out = round_published(out)
    # True/False where a change is published; empty where none is (first wave, a hidden
    # cell or a hidden previous one, a series break), not "not significant"
    out["change_significant"] = (out["change_significant"].astype("boolean")
                                 .where(out["change"].notna()))
    out["change_note"] = out["change_note"].fillna("")
    return out


def _write_csv(result, path: Path, wave: str | None) -> Path:
    table = tidy_table(result, wave)
    notes = path.with_name(path.stem + ".notes.txt")
    try:
        atomic_write(path, table.to_csv(index=False))
        atomic_write(notes, "\n".join(_notes(result)) + "\n")
    except OSError as err:
        raise FileFormatError(f"cannot write the CSV ({err.strerror or err})", file=path,
                              expected="a writable .csv path", found=type(err).__name__,
                              hint="choose another --out") from None
    return path


__all__ = ["write_tables", "tidy_table"]

"""Your own survey, end to end: a real-style SPSS file in, correct tables out, no TOML by hand.

The fixtures of ``tests/fixtures/realworld.py`` (a 580-variable BSA-style file,
a BES-style file with 9999 on 0-10 items, a file written by GNU PSPP, and two
waves that cannot be compared) are written into a temporary folder; then
``surveytools init`` and ``surveytools tables`` run through
:func:`surveytools.cli.main`, exactly as on the command line.  The published
numbers are checked against R's (``tests/reference/realworld/reference.csv``),
and so are the refusal while non-answers are undeclared, ``--allow-undeclared``,
the tab book of a tracker without a catalogue, breakdown groups that are
non-answers, and changes across a series break.
"""

from __future__ import annotations

import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

import surveytools as st
from surveytools.cli import main
from surveytools.core.nonanswers import looks_like_non_answer
from surveytools.indicators.catalogue import Breakdown
from surveytools.indicators.store import cached_cube
from surveytools.presentation.tables import tidy_table

from fixtures import realworld

REFERENCE = Path(__file__).resolve().parent / "reference" / "realworld" / "reference.csv"
RELATIVE = 1e-8


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """One cube store for the module (the tables of a tracker are built once)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SURVEYTOOLS_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        patch.delenv("SURVEYTOOLS_ALLOW_UNDECLARED", raising=False)
        yield


def run(*args) -> int:
    return main([str(a) for a in args])


def init(files, out: Path) -> Path:
    assert run("init", *files, "--out", out) == 0
    assert {p.name for p in out.iterdir()} >= {"waves.toml", "indicators.toml",
                                               "breakdowns.toml", "README.md"}
    return out / "waves.toml"


def publish(manifest: Path, *extra) -> tuple[Path, Path]:
    """``surveytools tables`` into a workbook and a tidy CSV beside the manifest."""
    xlsx, csv = manifest.with_name("tables.xlsx"), manifest.with_name("tables.csv")
    assert run("tables", manifest, "--out", xlsx, *extra) == 0
    assert run("tables", manifest, "--out", csv, *extra) == 0
    return xlsx, csv


def tidy(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False, na_values=[""],
                       dtype={"wave": str, "row": str, "group": str, "letters": str})


def without_missing(manifest: Path, folder: Path) -> Path:
    """A copy of ``manifest`` without its ``[missing]`` declarations, in a sibling
    ``folder`` (the wave files are named relative to it)."""
    folder.mkdir()
    text = manifest.read_text(encoding="utf-8")
    start, end = text.index("[missing]"), text.index("[[waves]]")
    copy = folder / "waves.toml"
    copy.write_text(text[:start] + text[end:], encoding="utf-8")
    return copy


def scaffolded(tmp_path_factory, write) -> tuple:
    """A fixture of ``realworld`` written, scaffolded by ``init`` and published:
    ``(manifest, truth, workbook, csv)``."""
    folder = tmp_path_factory.mktemp(write.__name__)
    paths, truth = write(folder)
    manifest = init(paths if isinstance(paths, tuple) else [paths], folder / "tracker")
    return manifest, truth, *publish(manifest)


#: The fixtures of tests/fixtures/realworld.py, by the short names the tests use.
WRITERS = {"bsa": realworld.bsa_style, "election": realworld.election_style,
           "pspp": realworld.pspp_written, "two": realworld.two_surveys}


@pytest.fixture(scope="module")
def published(tmp_path_factory, cache):
    """``published(name)``: the fixture ``name`` scaffolded and published, once per module."""
    done: dict = {}

    def get(name: str) -> tuple:
        if name not in done:
            done[name] = scaffolded(tmp_path_factory, WRITERS[name])
        return done[name]

    return get


def header_groups(sheet) -> list[str]:
    """The group labels of a question sheet's columns (row 5, from column 6)."""
    row = next(sheet.iter_rows(min_row=5, max_row=5, values_only=True))
    return [label for label in row[5:] if label]


# -- from raw file to tables, with no hand-written TOML -----------------------------
def test_init_then_tables_writes_a_workbook_and_a_csv(published):
    manifest, truth, xlsx, csv = published("bsa")
    book = load_workbook(xlsx)
    assert book.sheetnames[0] == "Contents"
    assert {"GovTrust", "TrstNHS", "AIacc1"} <= set(book.sheetnames)
    table = tidy(csv)
    assert {"answer", "indicator"} == set(table["row_type"])
    assert manifest.with_name("tables.notes.txt").is_file()


@pytest.mark.parametrize("fixture", ["bsa", "election", "pspp", "two"])
def test_no_non_answer_is_in_any_base(published, fixture):
    """Every answer row of the CSV is a real answer: no declared-missing, undeclared or
    not-asked code is ever counted in a base."""
    manifest, truth, _, csv = published(fixture)
    table = tidy(csv)
    answers = table[table["row_type"] == "answer"]
    non_answers = {q: set(codes) for q, codes in truth.get("non_answers", {}).items()}
    for question, codes in truth.get("undeclared_non_answers", {}).items():
        non_answers.setdefault(question, set()).update(codes)
    for question, rows in answers.groupby("question"):
        shown = {float(code) for code in rows["row"]}
        assert not shown & {float(c) for c in non_answers.get(question, ())}, question
        assert not any(code < 0 for code in shown), question  # skip codes: not asked


def test_govtrust_base_excludes_dont_know_refusal_and_skip_codes(published):
    manifest, truth, xlsx, csv = published("bsa")
    table = tidy(csv)
    govtrust = table[(table["question"] == "GovTrust") & (table["row_type"] == "answer")
                     & (table["breakdown"] == "total")]
    assert sorted(float(c) for c in govtrust["row"]) == [1.0, 2.0, 3.0, 4.0]
    assert set(govtrust["n"]) == {1968}  # R's n: 8, 9, -1 and -2 out of the base
    assert govtrust["estimate"].sum() == pytest.approx(1.0, abs=0.02)  # shares as published
    cube = cached_cube(manifest, answers=True, correction="bh")
    exact = tidy_table(cube, cube.waves[-1], rounded=False)
    exact = exact[(exact["question"] == "GovTrust") & (exact["row_type"] == "answer")
                  & (exact["breakdown"] == "total")]
    assert exact["estimate"].sum() == pytest.approx(1.0, rel=1e-12)
    sheet = load_workbook(xlsx)["GovTrust"]
    notes = "\n".join(str(c.value) for row in sheet.iter_rows(max_col=1) for c in row if c.value)
    for code, label in ((8, "Don`t know"), (9, "Refusal"), (-1, "skip, version off route"),
                        (-2, "Item not applicable")):
        assert f'{code} "{label}"' in notes


def _reference(fixture: str) -> pd.DataFrame:
    reference = pd.read_csv(REFERENCE, dtype=str, keep_default_na=False)
    return reference[reference["fixture"] == fixture]


def _figure(cube, table: pd.DataFrame, ref) -> dict | None:
    """The published figure (in the tidy ``table`` of ``cube``) that R's row ``ref``
    computed: an indicator of the catalogue (estimate, se and interval) or, for a
    question published answer by answer, the sum of the answers' shares (a share) or
    of code x share (a mean)."""
    breakdown, group = "total", "all"
    if ref.by:
        matches = [(bd.name, g.code) for bd in cube.breakdowns if bd.variable == ref.by
                   for g in bd.groups if tuple(map(float, g.codes)) == (float(ref.group),)]
        if not matches:
            return None  # published regrouped (e.g. ages in three bands), not as R's groups
        breakdown, group = matches[0]
    rows = table[(table["question"] == ref.variable) & (table["breakdown"] == breakdown)
                 & (table["group"].astype(str) == group) & (table["wave"] == cube.waves[-1])]
    codes = [float(c) for c in ref.value.split(",")] if ref.value else []
    for ind in cube.catalogue.for_question(ref.variable):
        wanted = "mean" if ref.statistic == "mean" else "share"
        if ind.kind == wanted and [float(c) for c in ind.codes] == codes:
            return rows[rows["row"] == ind.name].iloc[0].to_dict()
    answers = rows[rows["row_type"] == "answer"]
    values = answers["row"].astype(float).to_numpy()
    shares = answers["estimate"].to_numpy(float)
    if ref.statistic == "mean":
        return {"estimate": float(np.sum(values * shares)), "n": answers["n"].iloc[0]}
    return {"estimate": float(shares[np.isin(values, codes)].sum()), "n": answers["n"].iloc[0]}


@pytest.mark.parametrize("fixture", ["bsa", "election", "pspp"])
def test_published_figures_equal_r(published, fixture):
    """Every figure of R's reference that the scaffolded tables publish: to 1e-8 in the
    cube the tables are made from (full precision), and in the published CSV rounded
    as shown (to 2 decimals: whole per cent)."""
    manifest, truth, _, csv = published(fixture)
    reference = _reference({"bsa": "bsa_style", "election": "election_style",
                            "pspp": "pspp_written"}[fixture])
    compared, hidden = [], []
    rule = st.SmallBaseRule()
    cube = cached_cube(manifest, answers=True, correction="bh")
    exact, table = tidy_table(cube, rounded=False), tidy(csv)
    for ref in reference.itertuples(index=False):
        figure = _figure(cube, exact, ref)
        if figure is None:
            continue
        shown = _figure(cube, table, ref)
        if int(ref.n) < rule.suppress_below:
            assert np.isnan(figure["estimate"]), "a base under 50 is suppressed"
        if np.isnan(figure["estimate"]):  # hidden, for its small base or to protect one
            assert np.isnan(figure["n"]) and np.isnan(shown["n"]), "its base is withheld"
            hidden.append((ref.statistic, ref.variable, ref.by, ref.group))
            continue
        assert figure["n"] == shown["n"] == int(ref.n), (ref.variable, ref.by, ref.group)
        for column in ("estimate", "se", "ci_low", "ci_high"):
            if column in figure:
                value = float(getattr(ref, column))
                assert figure[column] == pytest.approx(value, rel=RELATIVE), (ref, column)
                if "se" in figure:  # a published row (not a sum of published answers)
                    places = 3 if column == "se" else 2
                    assert shown[column] == pytest.approx(round(value, places), abs=1e-12), \
                        (ref, column)
        compared.append((ref.statistic, ref.variable, ref.by, ref.group))
    expected = {"bsa": {("mean", "GovTrust", "", ""), ("proportion", "GovTrust", "", ""),
                        *(("proportion", "TrstNHS", "GOR_ID", str(g)) for g in range(1, 12))},
                "election": {("mean", "likeLab", "", ""), ("proportion", "likeLab", "", ""),
                             ("mean", "likeSNP", "", ""), ("mean", "likeCon", "gender", "1"),
                             ("mean", "likeCon", "gender", "2")},
                "pspp": {("mean", "q3", "", ""), ("proportion", "q1", "", ""),
                         *(("proportion", "q1", "agegrp", str(g)) for g in (1, 2, 3))}}
    # each is compared with R, or hidden (a region under 50 and the region hidden with it)
    assert expected[fixture] <= set(compared) | set(hidden)
    assert len(expected[fixture] - set(compared)) <= {"bsa": 2}.get(fixture, 0), hidden


# -- nothing is published while non-answers are undeclared ----------------------------
def test_tables_refuse_undeclared_non_answers_with_the_fix(published, capsys):
    manifest, truth, _, _ = published("bsa")
    bare = without_missing(manifest, manifest.parent.with_name("bare"))
    out = bare.with_name("tables.xlsx")
    capsys.readouterr()
    assert run("tables", bare, "--out", out) == 2
    error = capsys.readouterr().err
    assert "Traceback" not in error and not out.exists()
    assert "nothing is published until each is declared" in error
    assert 'wave 2023, GovTrust: 8 "Don`t know" (n=45), 9 "Refusal" (n=12)' in error
    assert "[missing.variables]" in error
    assert 'GovTrust = [8, 9]  # 8 "Don`t know", 9 "Refusal"' in error
    for question, codes in truth["undeclared_non_answers"].items():
        assert re.search(rf"^{question} = \[", error, re.M), question
    assert "--allow-undeclared" in error
    # the lines printed are the ones the tracker gives, and they are enough
    fix = st.read_waves(bare).missing_fix()
    assert fix in error


def test_allow_undeclared_publishes_and_says_which_codes_were_answers(published, capsys):
    manifest, truth, _, _ = published("two")
    bare = without_missing(manifest, manifest.parent.with_name("bare"))
    csv = bare.with_name("tables.csv")
    assert run("tables", bare, "--out", csv) == 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert run("tables", bare, "--out", csv, "--allow-undeclared") == 0
    notes = csv.with_name("tables.notes.txt").read_text(encoding="utf-8")
    assert "Counted as answers although they look like non-answers" in notes
    assert 'GovTrust 8 "Don`t know" (2019: ' in notes
    table = tidy(csv)
    govtrust = table[(table["question"] == "GovTrust") & (table["row_type"] == "answer")]
    assert 8.0 in set(govtrust["row"].astype(float))
    # the cube warns once per variable, not once per wave and indicator
    undeclared = [str(w.message) for w in caught
                  if issubclass(w.category, st.UndeclaredMissingWarning)]
    named = [re.search(r"column '(\w+)'", m).group(1) for m in undeclared]
    assert sorted(named) == sorted(set(named)) and set(named) >= {"GovTrust", "TrstNHS"}


def test_export_dashboard_refuses_too(published, tmp_path, capsys):
    manifest, _, _, _ = published("two")
    bare = without_missing(manifest, manifest.parent.with_name("bare_export"))
    assert run("export-dashboard", bare, "--out", tmp_path / "site") == 2
    assert "GovTrust = [8, 9]" in capsys.readouterr().err
    assert not (tmp_path / "site").exists()


# -- a tab book without a catalogue -----------------------------------------------------
def test_tab_book_without_a_catalogue(published, tmp_path):
    manifest, truth, _, _ = published("election")
    folder = manifest.parent.with_name("tabbook")
    folder.mkdir()
    shutil.copy(manifest, folder / "waves.toml")
    totals = folder / "totals.xlsx"
    assert run("tables", folder / "waves.toml", "--out", totals) == 0
    book = load_workbook(totals)
    labelled = {"generalElectionVote", "euRefVote", "likeCon", "likeLab", "gender", "gor"}
    assert labelled <= set(book.sheetnames)
    assert not {"id", "wt_full_W1", "age"} & set(book.sheetnames)  # design; no labels
    sheet = book["euRefVote"]
    assert sheet.max_column == 5  # no breakdowns file: the total only
    labels = [sheet.cell(row=r, column=1).value for r in range(1, sheet.max_row + 1)]
    assert {"Stay/remain in the EU", "Leave the EU", "I would/will not vote"} <= set(labels)
    assert "Don't know" not in labels  # 9999, declared by the scaffolded [missing]
    # with the breakdowns named on the command line: every group, lettered
    grouped = folder / "grouped.xlsx"
    assert run("tables", folder / "waves.toml", "--out", grouped,
               "--breakdowns", manifest.with_name("breakdowns.toml")) == 0
    sheet = load_workbook(grouped)["likeLab"]
    assert {"Male", "Female", "London"} <= set(header_groups(sheet))
    rows = [sheet.cell(row=r, column=1).value for r in range(1, sheet.max_row + 1)]
    assert rows.count("   significantly higher than") >= 11  # each answer 0-10
    letters = {sheet.cell(row=r, column=c).value for r in range(1, sheet.max_row + 1)
               for c in range(6, sheet.max_column + 1)
               if rows[r - 1] == "   significantly higher than"}
    assert letters - {None}  # some groups differ


def test_a_catalogue_named_on_the_command_line_must_exist(published, capsys):
    manifest, _, _, _ = published("election")
    missing = manifest.with_name("nowhere.toml")
    assert run("tables", manifest, "--out", manifest.with_name("x.xlsx"),
               "--catalogue", missing) == 2
    error = capsys.readouterr().err
    assert "the catalogue file given does not exist" in error and str(missing) in error
    assert "Traceback" not in error


# -- breakdown groups are answers only ------------------------------------------------------
@pytest.mark.parametrize("fixture", ["bsa", "election", "pspp", "two"])
def test_no_breakdown_group_is_a_non_answer(published, fixture):
    manifest, truth, xlsx, _ = published(fixture)
    book = load_workbook(xlsx, read_only=True)
    for name in book.sheetnames[1:]:
        for label in header_groups(book[name]):
            assert not looks_like_non_answer(label), (name, label)


def test_empty_and_non_answer_groups_are_dropped_when_undeclared(published):
    """Without [missing], "Prefer not to say" and "Don't know" of p_disability are
    undeclared: even with allow_undeclared they are no group; an empty group is none."""
    manifest, _, _, _ = published("election")
    bare = without_missing(manifest, manifest.parent.with_name("bare_groups"))
    tracker = st.read_waves(bare)
    breakdowns = st.Breakdowns((Breakdown(name="disability", variable="p_disability"),))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", st.UndeclaredMissingWarning)
        built = st.cube(tracker, st.load_indicators(manifest.with_name("indicators.toml"))
                        .select(["likeLab_mean"]), breakdowns)
    groups = [g.label for g in built.breakdowns["disability"].groups]
    assert groups == ["Yes, limited a lot", "Yes, limited a little", "No"]
    assert built.frame.loc[built.frame["breakdown"] == "disability", "letter"].tolist() \
        == ["A", "B", "C"]


def test_two_surveys_changes_read_not_comparable(published):
    manifest, truth, xlsx, csv = published("two")
    table = tidy(csv)
    later = table[(table["wave"] == "2023") & (table["row_type"] == "indicator")
                  & table["question"].isin(["TrstNHS", "GovTrust"])]
    assert len(later)
    assert later["change_note"].str.startswith("not comparable (mode of interview").all()
    assert later[["change", "change_se", "change_p"]].isna().all().all()
    assert not later["change_significant"].any()
    sheet = load_workbook(xlsx)["TrstNHS"]
    notes = [sheet.cell(row=r, column=4).value for r in range(7, sheet.max_row + 1)]
    assert any(str(n).startswith("not comparable (mode of interview") for n in notes if n)
    cube = cached_cube(manifest, answers=True, correction="bh")
    tracker = st.read_waves(manifest)
    assert cube.breaks == dict(tracker.breaks) and set(cube.breaks) == {"2023"}
    assert (cube.name, cube.description) == (tracker.name, tracker.description)
    first = cube.frame[cube.frame["wave"] == "2019"]
    assert (first["change_note"] == "").all()

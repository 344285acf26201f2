"""Views of a dashboard: deep links, the table, the CSV rows and the notes of a view."""

from __future__ import annotations

import html
import re

import pandas as pd
import pytest

from surveytools.core.smallbase import SmallBaseRule
from surveytools.indicators.cube import COLUMNS

from surveytools.presentation.views import (View, csv_frame, header_html, note_html, parse_query,
                                            table_html, view_table)


def test_parse_query():
    assert parse_query("indicator=trust_nhs&breakdown=age&wave=2024&ci=beta") == {
        "indicator": "trust_nhs", "breakdown": "age", "wave": ("2024",), "ci": "beta"}
    assert parse_query("?wave=2021,2023&wave=2024&evil=1") == {"wave": ("2021", "2023", "2024")}
    assert parse_query("") == {} and parse_query(None) == {}


def test_view_is_frozen_and_reopens_from_its_query():
    view = View(indicator="trust_nhs_high", breakdown="age", waves=("2023", "2024"), ci="beta")
    query = view.query(("indicator", "breakdown", "wave", "ci"))
    assert query == "indicator=trust_nhs_high&breakdown=age&wave=2023,2024&ci=beta"
    params = parse_query(query)
    assert View(indicator=params["indicator"], breakdown=params["breakdown"],
                waves=params["wave"], ci=params["ci"]) == view
    with pytest.raises(AttributeError):
        view.ci = "logit"
    assert view.replace(ci="wald").ci == "wald" and view.ci == "beta"


@pytest.fixture(scope="module")
def strict_rows(cube):
    """Rows of the example cube with a stricter rule applied to them (some suppressed)."""
    rows = cube.select(indicator="trust_nhs_high", breakdown="ethnicity", waves=["2023", "2024"])
    rule = cube.small_base.replace(suppress_below=100, flag_below=200)
    return rows.assign(base_flag=rule.flags(rows["n"].to_numpy())), rule


def test_view_table_shows_no_number_for_suppressed_rows(strict_rows):
    rows, rule = strict_rows
    table = view_table(rows, small_base=rule, conf_level=0.9)
    assert list(table.columns) == ["Wave", "Group", "Estimate", "90% CI",
                                   "Change since previous wave", "Significantly higher than",
                                   "Base (n)", "Base"]
    hidden = (rows["base_flag"] == "suppressed").to_numpy()
    assert hidden.any() and not hidden.all()
    for (_, row), suppressed in zip(table.iterrows(), hidden):
        if suppressed:
            assert row["Estimate"] == "n<100" and row["Base"] == "too small: suppressed"
            assert not re.search(r"\d", row["90% CI"] + row["Change since previous wave"]
                                 + row["Significantly higher than"])
        else:
            assert re.fullmatch(r"\d+%\*?", row["Estimate"])
    html_text = table_html(table)
    assert html_text.count('data-flag="suppressed"') == hidden.sum()


def test_csv_frame_blanks_suppressed_rows(strict_rows):
    rows, rule = strict_rows
    out = csv_frame(rows, small_base=rule)
    hidden = out["base_flag"] == "suppressed"
    assert out.loc[hidden, ["estimate", "ci_low", "ci_high", "change"]].isna().all().all()
    assert (out.loc[hidden, "note"] == "n<100").all() and (out.loc[hidden, "letters"] == "").all()
    shown = out[~hidden]
    # as shown: whole per cent, nothing finer
    assert shown["estimate"].tolist() == [round(100 * e) for e in rows.loc[~hidden.to_numpy(),
                                                                         "estimate"]]


def test_note_html_states_rule_method_and_the_cube_note(cube):
    text = note_html(cube, "Extra words.")
    assert html.escape(cube.small_base.describe()) in text
    assert "Confidence intervals: Logit. Extra words." in text
    assert "Benjamini-Hochberg" in text
    assert "Confidence intervals: Korn-Graubard (beta)." in note_html(cube.with_ci("beta"))


def test_a_change_across_a_series_break_reads_not_comparable(strict_rows):
    rows, rule = strict_rows
    note = "not comparable (mode of interview changed)"
    broken = rows.assign(change=float("nan"),
                         change_note=[note if w == "2024" else "" for w in rows["wave"]])
    table = view_table(broken, small_base=rule, conf_level=0.95)
    hidden = (broken["base_flag"] == "suppressed").to_numpy()
    expected = [note if w == "2024" and not h else "" for w, h in zip(broken["wave"], hidden)]
    assert table["Change since previous wave"].tolist() == expected
    out = csv_frame(broken, small_base=rule)
    assert out["change_note"].tolist() == expected and out["change"].isna().all()


def test_an_empty_view_has_no_table():
    empty = view_table(pd.DataFrame(columns=COLUMNS), small_base=SmallBaseRule(), conf_level=0.95)
    assert "95% CI" in empty.columns and empty.empty and table_html(empty) == ""


def test_header_names_the_tracker_and_links_pages():
    head = header_html(tracker="My <survey>", title="Health", intro="", lead="Topics:",
                       links=[("A & B", "topic.ipynb?topic=A+%26+B")])
    assert "<p class='st-tracker'>My &lt;survey&gt;</p>" in head and "st-intro" not in head
    assert '<p class=\'st-links\'>Topics: <a href="topic.ipynb?topic=A+%26+B" target="_top">A &amp; B</a></p>' in head
    assert "st-tracker" not in header_html(tracker=None, title="T", intro="I.")

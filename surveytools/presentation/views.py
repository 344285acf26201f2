"""What a dashboard view is and what it shows besides the chart: table, CSV, notes, links.

A :class:`View` is the frozen state of a dashboard's controls; it reads from
and writes to a URL query string (deep links such as
``trust.ipynb?indicator=trust_nhs&breakdown=age&wave=2024&ci=beta``).  The
functions below turn the cube rows of a view into the table people read
(:func:`view_table`, as HTML by :func:`table_html`; across a series break its
change reads "not comparable (REASON)"), the rows of its CSV download
(:func:`csv_frame`, :func:`csv_link`) and its notes (:func:`note_html`), and
write a page's head (:func:`header_html`: the tracker's name, the title, links
to other pages).  The live apps (:mod:`surveytools.presentation.dashboard`)
and the static export (:mod:`surveytools.presentation.export`) share them.
Values are formatted by :mod:`surveytools.presentation.formatting`.

Examples
--------
>>> parse_query("indicator=trust_nhs&wave=2023,2024&ci=beta")
{'indicator': 'trust_nhs', 'wave': ('2023', '2024'), 'ci': 'beta'}
>>> view = View(indicator="trust_nhs_high", waves=("2024",)).replace(ci="beta")
>>> view.query(("indicator", "wave", "ci"))
'indicator=trust_nhs_high&wave=2024&ci=beta'
"""

from __future__ import annotations

import base64
import dataclasses
import html
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

import pandas as pd

from ..core.smallbase import SUPPRESSED
from ..estimation.intervals import CI_METHODS
from ..indicators.disclosure import COMPLEMENTARY
from .formatting import (CI_LABELS, FLAG_TEXT, cell_text, change_text, conf_text, shown_value,
                         flag_text, format_interval, hidden_label, visible, why_hidden)

#: The charts a one-indicator dashboard offers.
CHARTS = {"trend": "Trend over waves", "groups": "Compare groups"}
_QUERY_KEYS = {"indicator", "breakdown", "wave", "ci", "chart", "topic"}
_CSV_UNITS = {"share": "per cent", "net": "net score x 100", "mean": "mean score"}


# -- deep links ------------------------------------------------------------
def parse_query(query: str | None) -> dict:
    """The view parameters of a URL query string (unknown keys are dropped).

    ``wave`` may be repeated or comma-separated and is returned as a tuple.

    Examples
    --------
    >>> parse_query("?breakdown=age&wave=2021&wave=2024&x=1")
    {'breakdown': 'age', 'wave': ('2021', '2024')}
    """
    params: dict = {}
    for key, value in parse_qsl((query or "").lstrip("?"), keep_blank_values=False):
        if key not in _QUERY_KEYS:
            continue
        if key == "wave":
            params["wave"] = params.get("wave", ()) + tuple(v for v in value.split(",") if v)
        else:
            params[key] = value
    return params


@dataclass(frozen=True)
class View:
    """What a dashboard shows: the values of its controls.

    Examples
    --------
    >>> View().ci, View(indicator="x").replace(breakdown="age").breakdown
    ('logit', 'age')
    """

    indicator: str = ""
    breakdown: str = "total"
    waves: tuple[str, ...] = ()
    ci: str = CI_METHODS[0]
    chart: str = "trend"
    topic: str = ""

    def replace(self, **changes) -> "View":
        return dataclasses.replace(self, **changes)

    def query(self, keys: Sequence[str]) -> str:
        """The URL query string that reopens this view (``keys`` in that order)."""
        values = {"indicator": self.indicator, "breakdown": self.breakdown,
                  "wave": ",".join(self.waves), "ci": self.ci, "chart": self.chart,
                  "topic": self.topic}
        return urlencode([(key, values[key]) for key in keys], safe=",|")


# -- the table, the CSV, the notes --------------------------------------------------
def view_table(rows: pd.DataFrame, *, small_base, conf_level: float,
               label_column: str = "group_label") -> pd.DataFrame:
    """The table people read: formatted values, bases and flags; hidden cells say ``"n<50"``
    (a small base) or ``"[c]"`` (hidden to protect one), in the estimate and the base.

    Parameters
    ----------
    rows : DataFrame
        Cube rows.
    small_base : SmallBaseRule
    conf_level : float
        The cube's confidence level (heads the interval column: ``"95% CI"``).
    label_column : str
        The column naming each row (``group_label``, or ``indicator_label`` in the overview).
    """
    rows = visible(rows)
    by_group = label_column == "group_label"
    columns = ["Wave", "Group" if by_group else "Indicator", "Estimate",
               f"{conf_text(conf_level)} CI", "Change since previous wave",
               "Significantly higher than", "Base (n)", "Base"]
    records = []
    for (_, row), note in zip(rows.iterrows(), change_notes(rows)):
        kind, flag = row["kind"], row["base_flag"]
        significant = row.get("change_significant")
        name = str(row[label_column])
        if by_group and isinstance(row.get("letter"), str) and row["letter"]:
            name += f" ({row['letter']})"
        change = note or change_text(row.get("change"), kind,
                                     significant=bool(pd.notna(significant) and significant))
        reason = why_hidden(row)
        records.append(dict(zip(columns, [
            str(row["wave"]), name, cell_text(row["estimate"], kind, flag, small_base, reason),
            format_interval(row["ci_low"], row["ci_high"], kind), change,
            row.get("letters") or "",
            hidden_label(small_base, reason) if flag == SUPPRESSED
            else f"{int(row['n']):,}" if pd.notna(row["n"]) else "",
            flag_text(flag, reason)])))
    return pd.DataFrame.from_records(records, columns=columns)


def change_notes(rows: pd.DataFrame) -> list[str]:
    """Each row's ``change_note`` ("not comparable (REASON)" across a series break, "not
    shown: the previous wave's value is hidden" beside a hidden cell, else "");
    "" for a suppressed row, which has no change to explain."""
    return ["" if flag == SUPPRESSED or not isinstance(note, str) else note
            for note, flag in zip(rows["change_note"], rows["base_flag"])]


def csv_frame(rows: pd.DataFrame, *, small_base) -> pd.DataFrame:
    """The rows of a view for download: numbers as shown (per cent for shares),
    suppression applied."""
    rows = visible(rows)
    out = pd.DataFrame({
        "wave": rows["wave"].astype(str), "indicator": rows["indicator"],
        "indicator_label": rows["indicator_label"], "breakdown": rows["breakdown"],
        "group": rows["group"].astype(str), "group_label": rows["group_label"],
        "unit": rows["kind"].map(_CSV_UNITS),
    })
    for column in ("estimate", "ci_low", "ci_high", "change"):
        out[column] = [shown_value(v, k) for v, k in zip(rows[column], rows["kind"])]
    out["change_significant"] = rows["change_significant"].astype(object)
    out["change_note"] = change_notes(rows)
    out["letters"] = rows["letters"].fillna("")
    out["n"] = rows["n"].astype("Int64")  # whole counts; empty where withheld
    out["base_flag"] = rows["base_flag"]
    reasons = [why_hidden(row) for _, row in rows.iterrows()]
    out["suppression"] = reasons
    out["note"] = [hidden_label(small_base, reason) if flag == SUPPRESSED
                   else flag_text(flag) for flag, reason in zip(rows["base_flag"], reasons)]
    out["ci_method"] = rows["ci_method"]
    return out.reset_index(drop=True)


def note_html(cube, *extra: str) -> str:
    """The notes under a view: the small-base rule, the interval method (and ``extra``
    sentences), then the cube's method note."""
    first = " ".join((cube.small_base.describe(),
                      f"Confidence intervals: {CI_LABELS[cube.ci]}.", *extra))
    return (f"<p class='st-note'>{html.escape(first)}</p>"
            f"<p class='st-note'>{html.escape(cube.method_note)}</p>")


def header_html(*, tracker: str | None, title: str, intro: str,
                links: Sequence[tuple[str, str]] = (), lead: str = "") -> str:
    """The head of a dashboard page: the tracker's name (the manifest's), the page's title
    and introduction, and links to other pages (``(label, href)`` pairs after ``lead``).

    >>> print(header_html(tracker="My survey", title="T", intro="", lead="See:",
    ...                   links=[("A b", "x?a=1&b=2")]))
    <p class='st-tracker'>My survey</p><h2 class='st-title'>T</h2><p class='st-links'>See: <a href="x?a=1&amp;b=2" target="_top">A b</a></p>
    """
    anchors = " · ".join(f'<a href="{html.escape(href)}" target="_top">{html.escape(label)}</a>'
                         for label, href in links)
    return "".join([
        f"<p class='st-tracker'>{html.escape(tracker)}</p>" if tracker else "",
        f"<h2 class='st-title'>{html.escape(title)}</h2>",
        f"<p class='st-intro'>{html.escape(intro)}</p>" if intro else "",
        f"<p class='st-links'>{html.escape(lead + ' ' if lead else '')}{anchors}</p>"
        if anchors else "",
    ])


_FLAG_OF_TEXT = {**{text: flag for flag, text in FLAG_TEXT.items()},
                 flag_text(SUPPRESSED, COMPLEMENTARY): SUPPRESSED}


def table_html(table: pd.DataFrame) -> str:
    """An HTML table; rows carry ``data-flag`` (the base flag) for styling and tests.
    ``""`` for a table without rows (the chart says why)."""
    if table.empty:
        return ""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = []
    for _, row in table.iterrows():
        flag = _FLAG_OF_TEXT.get(row.get("Base", ""), "ok")
        cells = "".join(f"<td>{html.escape(str(v))}</td>" for v in row)
        body.append(f'<tr data-flag="{flag}">{cells}</tr>')
    return (f"<table class='st-table'><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


#: The style of tables, links and notes (a page holds it once, in its head).
TABLE_CSS = """
.st-table{border-collapse:collapse;font:14px Arial,Helvetica,sans-serif;margin:8px 0}
.st-table th{background:#0072B2;color:#fff;text-align:left;padding:6px 10px}
.st-table td{border-bottom:1px solid #ddd;padding:5px 10px}
.st-table tr[data-flag=low] td{background:#fff4d6}
.st-table tr[data-flag=suppressed] td{background:#eeeeee;color:#555}
a.st-download,a.st-link{color:#0072B2;text-decoration:underline}
a.st-download{font-weight:bold}
.st-message{color:#8a4b00}
.st-tracker{font:13px Arial,Helvetica,sans-serif;color:#555;margin:0;text-transform:uppercase;letter-spacing:.04em}
.st-links{font:14px Arial,Helvetica,sans-serif}
.st-links a{color:#0072B2;text-decoration:underline}
"""


def csv_link(frame: pd.DataFrame, filename: str) -> str:
    """An ``<a download>`` link whose ``data:`` URI holds the frame as CSV.

    >>> csv_link(pd.DataFrame({"a": [1]}), "x.csv")[:40]
    '<a class="st-download" download="x.csv" '
    """
    payload = base64.b64encode(frame.to_csv(index=False).encode("utf-8")).decode("ascii")
    return (f'<a class="st-download" download="{html.escape(filename)}" '
            f'href="data:text/csv;charset=utf-8;base64,{payload}">Download CSV of this table</a>')

"""Numbers as people read them: the one home of every value format in the outputs.

Workbook, CSV, dashboards, charts and the static export all format through
here, so a number reads the same wherever it is shown:

* shares as whole per cent (``"45%"``);
* net scores as signed whole points (``"+12"``; % positive minus % negative);
* means with :data:`MEAN_DECIMALS` (two) decimals (``"2.35"``);
* changes as signed points (``"+3 pts"``) or signed means, with ``▲``/``▼``
  when significant;
* hidden cells as the small-base rule's label (``"n<50"``) or, for a group
  hidden so that a small one cannot be worked out, ``"[c]"`` (never a
  number, nor a base), and low bases with a ``*``;
* a view's CSV and chart data hold the numbers as shown (:func:`shown_value`).

Why two decimals for means: a shown value must be finer than the
uncertainty it carries, or two groups that differ significantly show the
same number.  Whole per cent is finer than the 95% CI of a share on a
typical base (about ±3 points at n = 1,000); one decimal is not finer than
the CI of a mean on the catalogue's short scales (about ±0.06 on the 1-4 AI
awareness ladder at n = 1,000), two decimals are.

Suppression: :func:`visible` blanks the values and bases of hidden rows through
:func:`surveytools.core.smallbase.blank`, the one blanking of the package.

Examples
--------
>>> format_value(0.453, "share"), format_value(-0.12, "net"), format_value(2.347, "mean")
('45%', '-12', '2.35')
>>> change_text(0.031, "share", significant=True)
'▲ +3 pts'
>>> from surveytools.core.smallbase import SmallBaseRule
>>> rule = SmallBaseRule()
>>> cell_text(0.4, "share", "suppressed", rule), cell_text(0.4, "share", "low", rule)
('n<50', '40%*')
"""

from __future__ import annotations

import pandas as pd

from ..core.smallbase import LOW, SUPPRESSED, SmallBaseRule, blank
from ..indicators.disclosure import BASE_COLUMNS, COMPLEMENTARY
from ..estimation.intervals import CI_METHODS

#: Decimals of a mean score (and of its change) everywhere it is shown.
MEAN_DECIMALS = 2
#: Decimals of a number as shown, on the scale shown (per cent for shares and net
#: scores, points for their changes): a view's CSV and its chart's data hold no more.
SHOWN_DECIMALS = {"share": 0, "net": 0, "mean": MEAN_DECIMALS}
#: The unit written after a value of each kind.
UNITS = {"share": "%", "net": "", "mean": ""}
#: Appended to a value on a low base.
LOW_MARK = "*"
#: What a base flag means, for a table's "Base" column.
FLAG_TEXT = {SUPPRESSED: "too small: suppressed", LOW: "low base"}
#: What stands in a cell hidden to protect a small group (complementary suppression,
#: :mod:`surveytools.indicators.disclosure`), and what it means.
COMPLEMENTARY_LABEL = "[c]"
COMPLEMENTARY_TEXT = "hidden: would reveal a suppressed group"
#: Display names of the confidence-interval methods of
#: :data:`surveytools.estimation.intervals.CI_METHODS`, in that order.
CI_LABELS = {method: {"logit": "Logit", "beta": "Korn-Graubard (beta)", "wilson": "Wilson",
                      "wald": "Wald"}[method] for method in CI_METHODS}
_POINTS = ("share", "net")


def _missing(value) -> bool:
    return value is None or bool(pd.isna(value))


def display_value(value, kind: str):
    """The number as shown: shares and net scores x 100, means as they are; None if missing.

    >>> display_value(0.25, "share"), display_value(2.5, "mean"), display_value(None, "net")
    (25.0, 2.5, None)
    """
    if _missing(value):
        return None
    return float(value) * 100 if kind in _POINTS else float(value)


def format_value(value, kind: str) -> str:
    """``"45%"`` for a share, ``"+12"`` for a net score, ``"6.27"`` for a mean;
    ``""`` if missing."""
    shown = display_value(value, kind)
    if shown is None:
        return ""
    if kind == "share":
        return f"{shown:.0f}%"
    if kind == "net":
        return f"{shown:+.0f}"
    return f"{shown:.{MEAN_DECIMALS}f}"


def format_interval(low, high, kind: str) -> str:
    """``"42 to 48%"``; ``""`` when either end is missing.

    >>> format_interval(0.42, 0.48, "share"), format_interval(None, 0.5, "share")
    ('42 to 48%', '')
    """
    if _missing(low) or _missing(high):
        return ""
    return f"{format_value(low, kind).removesuffix(UNITS[kind])} to {format_value(high, kind)}"


def change_text(change, kind: str, *, significant: bool = False) -> str:
    """A change since the previous wave: ``"+3 pts"`` (shares, nets) or ``"+0.12"`` (means),
    marked ``▲``/``▼`` when significant; ``""`` when there is none.

    >>> change_text(-0.052, "net"), change_text(0.123, "mean", significant=True)
    ('-5 pts', '▲ +0.12')
    >>> change_text(None, "mean")
    ''
    """
    shown = display_value(change, kind)
    if shown is None:
        return ""
    text = f"{shown:+.0f} pts" if kind in _POINTS else f"{shown:+.{MEAN_DECIMALS}f}"
    if significant:
        text = ("▲ " if shown > 0 else "▼ ") + text
    return text


def why_hidden(row) -> str:
    """Why a row is hidden: its ``suppression`` (``""`` when shown, or for rows
    without the column).

    >>> why_hidden({"suppression": "complementary"}), why_hidden({"estimate": 0.4})
    ('complementary', '')
    """
    reason = row.get("suppression", "")
    return reason if isinstance(reason, str) else ""


def hidden_label(rule: SmallBaseRule, suppression: str = "") -> str:
    """What stands in a suppressed cell: the rule's label (``"n<50"``) for a small
    base, :data:`COMPLEMENTARY_LABEL` for a cell hidden to protect one.

    >>> hidden_label(SmallBaseRule(), "small base"), hidden_label(SmallBaseRule(), "complementary")
    ('n<50', '[c]')
    """
    return COMPLEMENTARY_LABEL if suppression == COMPLEMENTARY else rule.suppressed_label


def flag_text(flag: str, suppression: str = "") -> str:
    """What a row's base flag means, in words (a table's "Base" column); ``""`` for ok.

    >>> flag_text("suppressed", "complementary"), flag_text("low")
    ('hidden: would reveal a suppressed group', 'low base')
    """
    if flag == SUPPRESSED and suppression == COMPLEMENTARY:
        return COMPLEMENTARY_TEXT
    return FLAG_TEXT.get(flag, "")


def cell_text(value, kind: str, flag: str, rule: SmallBaseRule, suppression: str = "") -> str:
    """What a table cell shows: :func:`hidden_label` when suppressed, the value (with
    :data:`LOW_MARK` on a low base) otherwise, ``""`` when there is no value."""
    if flag == SUPPRESSED:
        return hidden_label(rule, suppression)
    text = format_value(value, kind)
    return text + LOW_MARK if text and flag == LOW else text


def shown_value(value, kind: str):
    """A number exactly as shown (per cent for shares and net scores, to
    :data:`SHOWN_DECIMALS` of each kind): what a view's CSV and its chart's data
    hold, so that nothing more precise is published than a reader sees; None
    if missing.

    >>> shown_value(0.45678, "share"), shown_value(-0.1234, "net"), shown_value(2.34567, "mean")
    (46.0, -12.0, 2.35)
    """
    shown = display_value(value, kind)
    return None if shown is None else round(shown, SHOWN_DECIMALS[kind])


def excel_format(kind: str, *, change: bool = False) -> str:
    """The workbook number format of a value (or a change) of ``kind``.

    Cells hold the fractions themselves; Excel scales by 100 only with its
    ``%`` sign, so shares show ``45%``, nets and changes in points ``+12%``.

    >>> excel_format("share"), excel_format("net"), excel_format("share", change=True)
    ('0%', '+0%;-0%;0%', '+0%;-0%;0%')
    >>> excel_format("mean"), excel_format("mean", change=True)
    ('0.00', '+0.00;-0.00;0.00')
    """
    if kind == "share" and not change:
        return "0%"
    if kind in _POINTS:
        return "+0%;-0%;0%"
    number = "0." + "0" * MEAN_DECIMALS
    return f"+{number};-{number};{number}" if change else number


def conf_text(conf_level: float) -> str:
    """``"95%"`` for a confidence level of 0.95.

    >>> conf_text(0.95), conf_text(0.9)
    ('95%', '90%')
    """
    return f"{conf_level * 100:g}%"


def visible(rows: pd.DataFrame) -> pd.DataFrame:
    """A copy of cube rows with every estimate-derived value and the bases of a
    suppressed row blanked.

    The cube hides them already (:mod:`surveytools.indicators.disclosure`);
    blanking again where rows are drawn means no output shows a hidden number
    or base even from rows that skipped the cube.  Rows with no flag (gaps in
    an aligned frame) are left as they are.

    >>> rows = pd.DataFrame({"estimate": [0.5, 0.6], "n": [20, 900],
    ...                      "base_flag": ["suppressed", "ok"]})
    >>> visible(rows)[["estimate", "n"]].values.tolist()
    [[nan, nan], [0.6, 900.0]]
    """
    hidden = (rows["base_flag"] == SUPPRESSED).to_numpy()
    return blank(blank(rows, hidden), hidden, columns=BASE_COLUMNS)
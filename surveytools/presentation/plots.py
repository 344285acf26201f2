"""Charts of indicator-cube rows: trends, group comparisons, heatmaps.

Every chart function takes rows of an indicator cube (``IndicatorCube.frame`` or
``IndicatorCube.select(...)``) and returns a :class:`plotly.graph_objects.Figure`
without showing it; :func:`message_chart` stands in for a chart when a view
has nothing to draw, saying why.  Trends draw series breaks: no line joins
the waves on either side of one, and a dashed line labelled with the reason
stands between them.  Nothing here imports widgets, so the same figures serve
notebooks, the Voila dashboards and the static export.

Suppression is enforced here as well as in the cube: rows go through
:func:`surveytools.presentation.formatting.visible` (the one blanking), a
row whose ``base_flag`` is ``"suppressed"`` is drawn as a gap labelled with
the small-base rule's label (``"n<50"``, or ``"[c]"`` for a group hidden to
protect a small one), and no estimate or base of that row reaches any trace,
hover text, annotation or subtitle, even if the row still carries numbers.
Low bases get open markers / hatched bars and a "low base" note.  Values are
formatted by :mod:`surveytools.presentation.formatting`, and the traces hold
them as shown (:func:`~surveytools.presentation.formatting.shown_value`).

Examples
--------
>>> import pandas as pd
>>> rows = pd.DataFrame({
...     "wave": ["2023", "2024"], "indicator": "trust_nhs", "indicator_label": "Trust the NHS",
...     "question": "How much do you trust the NHS?", "kind": "share", "breakdown": "total",
...     "breakdown_label": "All adults", "group": "all", "group_label": "All adults",
...     "group_order": 0, "estimate": [0.61, 0.64], "ci_low": [0.58, 0.61],
...     "ci_high": [0.64, 0.67], "n": [1500, 1600], "base_flag": "ok", "letter": "A", "letters": ""})
>>> fig = trend_chart(rows)
>>> fig.layout.title.text
'Trust the NHS'
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go

from ..core.smallbase import DEFAULT_RULE, LOW, SUPPRESSED, SmallBaseRule
from ..indicators.disclosure import COMPLEMENTARY
from .formatting import (CI_LABELS, COMPLEMENTARY_TEXT, LOW_MARK, UNITS, cell_text, conf_text,
                         format_interval, format_value, hidden_label, shown_value, visible,
                         why_hidden)

#: Okabe-Ito colours (colour-blind safe), yellow last: it is faint on white.
PALETTE = (
    "#0072B2", "#E69F00", "#009E73", "#CC79A7",
    "#56B4E9", "#D55E00", "#000000", "#F0E442",
)
_DASHES = ("solid", "dash", "dot", "dashdot")
#: Sequential colour scale for heatmaps, readable with every common colour-vision deficiency.
HEATMAP_SCALE = "Cividis"
FONT = dict(family="Arial, Helvetica, sans-serif", size=14, color="#1a1a1a")

_AXIS_TITLES = {
    "share": "Per cent",
    "net": "Net score (% positive minus % negative)",
    "mean": "Mean score",
}


def base_range(frame: pd.DataFrame) -> str:
    """``"Base: n = 812 to 1,950"`` over the rows (unweighted respondents)."""
    n = frame["n"].dropna()
    if n.empty:
        return "Base: none"
    lo, hi = int(n.min()), int(n.max())
    return f"Base: n = {lo:,}" if lo == hi else f"Base: n = {lo:,} to {hi:,}"


def _kind(frame: pd.DataFrame) -> str:
    kinds = pd.unique(frame["kind"])
    return str(kinds[0]) if len(kinds) == 1 else "mixed"


def _first(frame: pd.DataFrame, column: str, default: str = "") -> str:
    if column not in frame.columns or frame.empty:
        return default
    values = frame[column].dropna()
    return str(values.iloc[0]) if not values.empty else default


def _hover(row, kind: str, rule: SmallBaseRule, name: str, conf_level: float) -> str:
    head = f"<b>{name}</b>, {row['wave']}"
    if row["base_flag"] == SUPPRESSED:
        return f"{head}<br>{_hidden_text(rule, why_hidden(row))}"
    text = f"{head}<br>{format_value(row['estimate'], kind)}"
    interval = format_interval(row.get("ci_low"), row.get("ci_high"), kind)
    if interval:
        text += f" ({conf_text(conf_level)} CI {interval})"
    text += f"<br>n = {int(row['n']):,}"
    if row["base_flag"] == LOW:
        text += " (low base)"
    letters = row.get("letters") or ""
    if isinstance(letters, str) and letters:
        text += f"<br>Significantly higher than {', '.join(letters)}"
    return text


def _intervals(rows: pd.DataFrame, conf_level: float) -> str:
    """``"95% confidence intervals"``, with the shares' method when the rows name one
    (``ci_method``; net scores and means use estimate ± t·se)."""
    methods = set(rows["ci_method"].dropna()) & set(CI_LABELS) if "ci_method" in rows else set()
    method = f" ({CI_LABELS[methods.pop()]})" if len(methods) == 1 else ""
    return f"{conf_text(conf_level)} confidence intervals{method}"


def _notes(rule: SmallBaseRule, *extra: str) -> str:
    return "<br>".join((rule.describe(), *extra))


#: A small explicit template: plotly's named templates are large and slow to copy.
TEMPLATE = {"layout": {
    "font": FONT, "colorway": list(PALETTE), "paper_bgcolor": "white", "plot_bgcolor": "white",
    "hoverlabel": {"bgcolor": "white", "font": {"size": 13}},
    "xaxis": {"gridcolor": "#e5e5e5", "linecolor": "#7f7f7f", "ticks": "", "automargin": True},
    "yaxis": {"gridcolor": "#e5e5e5", "linecolor": "#7f7f7f", "zerolinecolor": "#7f7f7f",
              "automargin": True},
}}


def _figure(traces: list[dict], annotations: list[dict], *, title: str, subtitle: str, note: str,
            kind: str, **layout) -> go.Figure:
    """The figure from plain trace and layout dicts (tests validate what this skips).

    Every figure sets the same top-level layout keys: a live ``FigureWidget``
    given one figure's layout after another's (the dashboards' one update
    path) relayouts only the keys it is given, so none may be left behind.
    """
    note_box = {"text": note, "xref": "paper", "yref": "paper", "x": 0, "y": 0, "yshift": -165,
                "xanchor": "left", "yanchor": "top", "showarrow": False, "align": "left",
                "font": {"size": 11}}
    spec = {
        "template": TEMPLATE,
        "title": {"text": title, "subtitle": {"text": subtitle}, "x": 0.01, "xanchor": "left"},
        "height": 620,
        "margin": {"l": 70, "r": 30, "t": 120, "b": 225},
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0},
        "annotations": [*annotations, note_box] if note else annotations,
        "shapes": [], "showlegend": False, "hovermode": "closest", "barmode": "group",
        "bargap": 0.25, "plot_bgcolor": "white", "xaxis": {}, "yaxis": {},
        **layout,
    }
    if kind in _AXIS_TITLES:
        spec["yaxis"] = {"title": {"text": _AXIS_TITLES[kind]}, "ticksuffix": UNITS[kind],
                         "zeroline": kind == "net", **spec["yaxis"]}
    return go.Figure({"data": traces, "layout": spec}, _validate=False)


def _subtitle(frame: pd.DataFrame, question: str | None) -> str:
    wording = question if question is not None else _first(frame, "question")
    return f"{wording}<br><span style='font-size:12px'>{base_range(frame)}</span>"


def _ordered_groups(frame: pd.DataFrame) -> list[tuple[str, str]]:
    cols = ["group", "group_label", "group_order"]
    groups = frame[cols].drop_duplicates("group").sort_values("group_order")
    return list(zip(groups["group"].astype(str), groups["group_label"].astype(str)))


def _gap_label(*, x, rule: SmallBaseRule, reason: str, hover: str, colour: str, step: int) -> dict:
    """The annotation that stands in a suppressed estimate's place (paper height, no value)."""
    return {"x": x, "y": 0.02 + 0.07 * step, "xref": "x", "yref": "paper",
            "text": hidden_label(rule, reason),
            "hovertext": hover, "showarrow": False, "font": {"color": "#1a1a1a", "size": 12},
            "bgcolor": "rgba(255,255,255,0.9)", "bordercolor": colour, "borderwidth": 1.5}


def _hidden_text(rule: SmallBaseRule, reason: str) -> str:
    """Why a cell has no value, in words (after its label)."""
    if reason == COMPLEMENTARY:
        return f"{hidden_label(rule, reason)}: {COMPLEMENTARY_TEXT}"
    return f"{rule.suppressed_label}: base too small, estimate suppressed"


def _suppressed_hover(label: str, wave: str, rule: SmallBaseRule, reason: str = "") -> str:
    if reason == COMPLEMENTARY:
        return f"{label}, {wave}: {COMPLEMENTARY_TEXT}"
    return f"{label}, {wave}: base under {rule.suppress_below}, estimate suppressed"


def _reasons(frame: pd.DataFrame) -> list[str]:
    return [why_hidden(row) for _, row in frame.iterrows()]


# -- charts ------------------------------------------------------------------
def trend_chart(frame: pd.DataFrame, *, waves: Sequence[str] | None = None, title: str | None = None,
          question: str | None = None, small_base: SmallBaseRule = DEFAULT_RULE,
          conf_level: float = 0.95, breaks: Mapping[str, str] | None = None) -> go.Figure:
    """One indicator over waves, one line per group, with confidence bands.

    Across a series break no line or band joins the waves on either side: a
    vertical dashed line stands between them, labelled with the reason.

    Parameters
    ----------
    frame : pandas.DataFrame
        Cube rows of one indicator and one breakdown (any number of waves).
    waves : sequence of str, optional
        Wave order on the x axis (default: order of appearance).
    title, question : str, optional
        Default to the rows' ``indicator_label`` and ``question``.
    small_base : SmallBaseRule
        Gives the gap label (``"n<50"``) and the note under the chart.
    conf_level : float
        The intervals' confidence level (the cube's), named in notes and hovers.
    breaks : mapping, optional
        Wave -> why it is not comparable with the wave before it on the axis
        (:func:`surveytools.presentation.caveats.series_breaks`).

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"wave": ["2023", "2024"], "kind": "share", "group": "all",
    ...     "group_label": "All", "group_order": 0, "estimate": [0.5, None],
    ...     "ci_low": [0.45, None], "ci_high": [0.55, None], "n": [800, 30],
    ...     "base_flag": ["ok", "suppressed"], "indicator_label": "X", "question": "Q?"})
    >>> [a.text for a in trend_chart(rows).layout.annotations if a.text == "n<50"]
    ['n<50']
    """
    rows = visible(frame)
    kind = _kind(rows)
    groups = _ordered_groups(rows)
    order = list(waves) if waves is not None else list(pd.unique(rows["wave"].astype(str)))
    breaks = {wave: why for wave, why in (breaks or {}).items() if wave in order[1:]}
    starts = [0, *sorted(order.index(wave) for wave in breaks), len(order)]
    traces, annotations = [], []
    gap_steps: dict[str, int] = {}
    for i, (group, label) in enumerate(groups):
        colour = PALETTE[i % len(PALETTE)]
        g = _aligned(rows[rows["group"].astype(str) == group], "wave", order)
        for first, end in zip(starts, starts[1:]):  # one line per stretch between breaks
            traces += _trend_traces(g.iloc[first:end], group=group, label=label, kind=kind,
                                    rule=small_base, conf_level=conf_level, style=i,
                                    legend=first == 0)
        for wave, flag, reason in zip(order, g["base_flag"], _reasons(g)):
            if flag == SUPPRESSED:
                step = gap_steps.get(wave, 0)
                gap_steps[wave] = step + 1
                annotations.append(_gap_label(
                    x=wave, rule=small_base, reason=reason, colour=colour, step=step,
                    hover=_suppressed_hover(label, wave, small_base, reason)))
    annotations += [_break_label(order.index(wave), why) for wave, why in breaks.items()]
    lone = 1 in {end - first for first, end in zip(starts, starts[1:])}
    note = (f"Shaded bands{' (whiskers on a lone wave)' if lone else ''}: "
            f"{_intervals(rows, conf_level)}. Open markers: low base."
            + (" Dashed line: a series break; no change is tested across it." if breaks else ""))
    return _figure(
        traces, annotations, title=title or _first(rows, "indicator_label"),
        subtitle=_subtitle(rows, question), kind=kind, note=_notes(small_base, note),
        xaxis={"type": "category", "categoryorder": "array", "categoryarray": order,
               "title": {"text": "Wave"}},
        shapes=[_break_line(order.index(wave)) for wave in breaks],
        showlegend=len(groups) > 1,
    )


def _trend_traces(g: pd.DataFrame, *, group: str, label: str, kind: str, rule: SmallBaseRule,
                  conf_level: float, style: int, legend: bool) -> list[dict]:
    """The band and the line of one group over consecutive comparable waves (rows ``g``)."""
    colour = PALETTE[style % len(PALETTE)]
    x = list(g["wave"])
    line = {
        "type": "scatter", "x": x, "y": [shown_value(v, kind) for v in g["estimate"]],
        "name": label, "legendgroup": group, "showlegend": legend,
        "mode": "lines+markers", "connectgaps": False,
        # past the palette's eight colours, lines differ by dash as well
        "line": {"color": colour, "width": 2.5,
                 "dash": _DASHES[style // len(PALETTE) % len(_DASHES)]},
        "marker": {"color": colour, "size": 10, "line": {"width": 2, "color": colour},
                   "symbol": ["circle-open" if f == LOW else "circle" for f in g["base_flag"]]},
        "hovertext": [_hover(r, kind, rule, label, conf_level) if _shown(r) else None
                      for _, r in g.iterrows()],
        "hoverinfo": "text",
    }
    if len(g) == 1:  # a lone wave has no band to draw: whiskers show its interval
        line["error_y"] = _whiskers(g, kind, colour)
        return [line]
    band = {"type": "scatter", "x": x, "mode": "lines", "line": {"width": 0},
            "hoverinfo": "skip", "showlegend": False, "legendgroup": group, "connectgaps": False}
    return [
        {**band, "y": [shown_value(v, kind) for v in g["ci_low"]]},
        {**band, "y": [shown_value(v, kind) for v in g["ci_high"]], "fill": "tonexty",
         "fillcolor": _rgba(colour, 0.15)},
        line,
    ]


def _whiskers(rows: pd.DataFrame, kind: str, colour: str) -> dict:
    """Confidence-interval whiskers of ``rows`` (none where a row has no interval)."""
    return {"type": "data", "symmetric": False, "color": colour, "thickness": 1.5, "width": 5,
            "array": [_diff(h, e, kind) for h, e in zip(rows["ci_high"], rows["estimate"])],
            "arrayminus": [_diff(e, lo, kind) for e, lo in zip(rows["estimate"], rows["ci_low"])]}


def _break_line(position: int) -> dict:
    """The dashed vertical line between the wave at ``position`` and the one before it."""
    return {"type": "line", "xref": "x", "yref": "paper", "x0": position - 0.5,
            "x1": position - 0.5, "y0": 0, "y1": 1, "name": "series break",
            "line": {"color": "#444444", "width": 2, "dash": "dash"}}


def _break_label(position: int, why: str) -> dict:
    """The label of a series break: what it is and why, at the top of its line."""
    return {"x": position - 0.5, "y": 1, "xref": "x", "yref": "paper", "yanchor": "top",
            "text": "<b>Series break</b><br>" + _wrap(why[:1].upper() + why[1:], 32),
            "name": "series break", "showarrow": False, "align": "center",
            "font": {"size": 11, "color": "#1a1a1a"}, "bgcolor": "rgba(255,255,255,0.9)",
            "bordercolor": "#444444", "borderwidth": 1}


def group_chart(frame: pd.DataFrame, *, title: str | None = None, question: str | None = None,
                small_base: SmallBaseRule = DEFAULT_RULE, conf_level: float = 0.95) -> go.Figure:
    """Groups side by side (one bar per group and wave) with confidence-interval whiskers.

    Each group's axis label carries its letter; a bar's label carries the
    letters of the groups it is significantly higher than (same wave).

    Parameters
    ----------
    frame : pandas.DataFrame
        Cube rows of one indicator and one breakdown (one or a few waves).
    title, question : str, optional
        Default to the rows' ``indicator_label`` and ``question``.
    small_base : SmallBaseRule
        Gives the gap label and the note under the chart.
    conf_level : float
        The intervals' confidence level (the cube's), named in notes and hovers.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"wave": "2024", "kind": "share", "group": ["1", "2"],
    ...     "group_label": ["Men", "Women"], "group_order": [1, 2], "estimate": [0.4, 0.5],
    ...     "ci_low": [0.35, 0.45], "ci_high": [0.45, 0.55], "n": [600, 700],
    ...     "base_flag": "ok", "letter": ["A", "B"], "letters": ["", "A"],
    ...     "indicator_label": "X", "question": "Q?"})
    >>> list(group_chart(rows).data[0].x)
    ['Men (A)', 'Women (B)']
    """
    rows = visible(frame)
    kind = _kind(rows)
    groups = _ordered_groups(rows)
    letter_of = {}
    if "letter" in rows.columns:
        letter_of = dict(zip(rows["group"].astype(str), rows["letter"].fillna("").astype(str)))
    ticks = [_wrap(f"{label} ({letter_of[g]})" if letter_of.get(g) else label) for g, label in groups]
    waves = list(pd.unique(rows["wave"].astype(str)))
    traces, annotations = [], []
    bargap = 0.25
    for i, wave in enumerate(waves):
        colour = PALETTE[i % len(PALETTE)]
        w = _aligned(rows[rows["wave"].astype(str) == wave], "group", [g for g, _ in groups])
        traces.append({
            "type": "bar", "x": ticks, "y": [shown_value(v, kind) for v in w["estimate"]],
            "name": wave, "text": [_bar_text(r, kind, small_base) for _, r in w.iterrows()],
            "textposition": "outside", "cliponaxis": False,
            "marker": {"color": colour, "pattern": {
                "shape": ["/" if f == LOW else "" for f in w["base_flag"]],
                "fillmode": "overlay", "fgcolor": "white", "solidity": 0.3}},
            "error_y": _whiskers(w, kind, "#333333"),
            "hovertext": [_hover(r, kind, small_base, label, conf_level) if _shown(r) else None
                          for (_, r), (_, label) in zip(w.iterrows(), groups)],
            "hoverinfo": "text",
        })
        # the centre of this wave's bar within each group: categories sit at 0, 1, 2, ...
        offset = (1 - bargap) * ((i + 0.5) / len(waves) - 0.5)
        for position, (flag, reason, (_, label)) in enumerate(zip(w["base_flag"], _reasons(w),
                                                                  groups)):
            if flag == SUPPRESSED:
                annotations.append(_gap_label(
                    x=position + offset, rule=small_base, reason=reason, colour=colour, step=0,
                    hover=_suppressed_hover(label, wave, small_base, reason)))
    return _figure(
        traces, annotations, title=(title or _first(rows, "indicator_label")) + f" ({', '.join(waves)})",
        subtitle=_subtitle(rows, question), kind=kind,
        note=_notes(small_base, f"Whiskers: {_intervals(rows, conf_level)}. "
                                f"Hatched bars and {LOW_MARK}: low base.",
                    "Letters on a bar: the groups it is significantly higher than (same wave)."),
        bargap=bargap, showlegend=len(waves) > 1,
        xaxis={"type": "category", "categoryorder": "array", "categoryarray": ticks},
    )


def heatmap_chart(frame: pd.DataFrame, *, title: str | None = None, row_labels: Mapping[str, str] | None = None,
            small_base: SmallBaseRule = DEFAULT_RULE) -> go.Figure:
    """Indicators (rows) by groups (columns) for one wave and one breakdown.

    Shares and net scores are shown x 100; suppressed cells are empty and
    labelled ``"n<50"``; low-base cells carry an asterisk.

    Parameters
    ----------
    frame : pandas.DataFrame
        Cube rows of one wave and one breakdown, indicators of one kind.
    title : str, optional
    row_labels : mapping, optional
        Indicator name -> row label (e.g. the catalogue's short labels);
        default: the rows' ``indicator_label``.
    small_base : SmallBaseRule

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"wave": "2024", "kind": "share", "indicator": ["a", "a"],
    ...     "indicator_label": "A", "group": ["1", "2"], "group_label": ["Men", "Women"],
    ...     "group_order": [1, 2], "estimate": [0.4, None], "n": [600, 20],
    ...     "base_flag": ["ok", "suppressed"]})
    >>> list(heatmap_chart(rows).data[0].text[0])
    ['40%', 'n<50']
    """
    rows = visible(frame)
    kind = _kind(rows)
    groups = _ordered_groups(rows)
    labels = [label for _, label in groups]
    indicators = rows[["indicator", "indicator_label"]].drop_duplicates("indicator")
    indicators = indicators.assign(indicator_label=_row_labels(indicators, row_labels or {}))
    z, text, hover, annotations = [], [], [], []
    for ind, ind_label in zip(indicators["indicator"], indicators["indicator_label"]):
        r = _aligned(rows[rows["indicator"] == ind], "group", [g for g, _ in groups])
        z_row, text_row, hover_row = [], [], []
        for (_, row), label in zip(r.iterrows(), labels):
            flag, reason = row["base_flag"], why_hidden(row)
            text_row.append(cell_text(row["estimate"], row["kind"], flag, small_base, reason))
            if flag == SUPPRESSED:  # a cell without a value shows no text: label the gap
                z_row.append(None)
                hover_row.append(f"{ind_label}<br>"
                                 f"{_suppressed_hover(label, row['wave'], small_base, reason)}")
                annotations.append({"x": label, "y": ind_label,
                                    "text": hidden_label(small_base, reason),
                                    "hovertext": hover_row[-1], "showarrow": False,
                                    "font": {"size": 12, "color": "#1a1a1a"}})
            elif not _shown(row):  # no row for this cell
                z_row.append(None)
                hover_row.append(None)
            else:
                z_row.append(shown_value(row["estimate"], row["kind"]))
                hover_row.append(f"{ind_label}<br>{label}, {row['wave']}: "
                                 f"{format_value(row['estimate'], row['kind'])}<br>"
                                 f"n = {int(row['n']):,}" + (" (low base)" if flag == LOW else ""))
        z.append(z_row)
        text.append(text_row)
        hover.append(hover_row)
    waves = ", ".join(pd.unique(rows["wave"].astype(str)))
    trace = {"type": "heatmap", "z": z, "x": labels, "y": list(indicators["indicator_label"]),
             "text": text, "texttemplate": "%{text}", "hovertext": hover, "hoverinfo": "text",
             "colorscale": HEATMAP_SCALE, "xgap": 2, "ygap": 2,
             "colorbar": {"title": {"text": _AXIS_TITLES.get(kind, "")},
                          "ticksuffix": UNITS.get(kind, "")}}
    return _figure(
        [trace], annotations, kind="heatmap",
        title=title or f"By {_first(rows, 'breakdown_label', 'group').lower()} ({waves})",
        subtitle=base_range(rows), note=_notes(small_base, f"{LOW_MARK} low base."),
        yaxis={"autorange": "reversed", "type": "category", "automargin": True},
        xaxis={"type": "category", "side": "top"},
        plot_bgcolor="#e6e6e6", height=max(420, 60 * len(indicators) + 320),
    )


def message_chart(text: str, *, title: str, subtitle: str = "") -> go.Figure:
    """A chart with nothing to draw: its title and, in its place, why (``text``).

    The annotation is named ``"nothing to show"`` so that tests and pages can find it.

    >>> fig = message_chart("Nobody in wave 2019 was asked this question.", title="X")
    >>> [a.text for a in fig.layout.annotations if a.name == "nothing to show"]
    ['Nobody in wave 2019 was asked this question.']
    """
    message = {"text": _wrap(text, 80), "name": "nothing to show", "xref": "paper",
               "yref": "paper", "x": 0.5, "y": 0.5, "showarrow": False, "align": "center",
               "font": {"size": 16, "color": "#8a4b00"}}
    return _figure([], [message], title=title, subtitle=subtitle, note="", kind="message",
                   height=360, margin={"l": 70, "r": 30, "t": 120, "b": 40},
                   xaxis={"visible": False}, yaxis={"visible": False})


# -- helpers -----------------------------------------------------------------
def _row_labels(indicators: pd.DataFrame, wanted: Mapping[str, str]) -> list[str]:
    """One distinct label per heatmap row (a category axis merges equal labels): ``wanted``'s
    where no other row has it, else the indicator's own label (numbered if even that
    repeats), wrapped.

    >>> rows = pd.DataFrame({"indicator": ["a", "b", "c"], "indicator_label": ["Q? Yes", "Q? No", "R"]})
    >>> _row_labels(rows, {"a": "Q?", "b": "Q?", "c": "R short"})
    ['Q? Yes', 'Q? No', 'R short']
    """
    full = list(indicators["indicator_label"])
    labels = [wanted.get(name, label) for name, label in zip(indicators["indicator"], full)]
    shared = Counter(labels)
    labels = [own if shared[label] > 1 else label for label, own in zip(labels, full)]
    seen: Counter = Counter()
    out = []
    for label in labels:
        seen[label] += 1
        out.append(_wrap(label if seen[label] == 1 else f"{label} ({seen[label]})", 48))
    return out


def _aligned(rows: pd.DataFrame, column: str, order: list[str]) -> pd.DataFrame:
    """One row per value of ``order`` (all-missing where ``rows`` has none), ``column`` filled in."""
    out = rows.set_index(rows[column].astype(str).to_numpy()).reindex(order)
    out[column] = order
    return out


def _wrap(label: str, width: int = 22) -> str:
    """A long axis label broken into lines (plotly does not wrap)."""
    lines, line = [], ""
    for word in label.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "<br>".join([*lines, line])


def _diff(a, b, kind: str):
    if any(v is None or pd.isna(v) for v in (a, b)):
        return None
    return shown_value(a, kind) - shown_value(b, kind)


def _shown(row) -> bool:
    return pd.notna(row["base_flag"]) and row["base_flag"] != SUPPRESSED


def _bar_text(row, kind: str, rule: SmallBaseRule) -> str:
    if not _shown(row):
        return ""  # the gap's label says why
    letters = row.get("letters") or ""
    marks = f"<sup>{letters}</sup>" if isinstance(letters, str) and letters else ""
    return cell_text(row["estimate"], kind, row["base_flag"], rule) + marks


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"

"""Charts of real estimates: suppressed values never reach a figure.

The rows are built from real ``Estimate`` objects of the example tracker,
*without* suppression (``to_frame(suppress=False)``), and flagged with a rule
that suppresses bases under 100.  So the true values of the suppressed groups
are in the rows handed to the chart functions, and the tests check that none
of them reaches any trace (x, y, z, text, hovertext, customdata, error bars)
or annotation.  Every figure is also validated by plotly.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from surveytools.presentation import plots
from surveytools.core.smallbase import SmallBaseRule

STRICT = SmallBaseRule(suppress_below=100, flag_below=200)
OKABE_ITO = {"#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"}


# tracker: tests/conftest.py
def cube_rows(est, *, wave, indicator, label, kind, breakdown) -> pd.DataFrame:
    """Cube-shaped rows of one Estimate, unsuppressed, flagged by the strict rule."""
    table = est.to_frame(suppress=False, labels=True)
    by = est.by[0] if est.by else None
    groups = table[by].astype(int).astype(str) if by else pd.Series(["all"] * len(table))
    group_labels = table[f"{by}_label"] if by else pd.Series(["All adults"] * len(table))
    return pd.DataFrame({
        "wave": wave, "indicator": indicator, "indicator_label": label,
        "question": est.meta.label(est.variable), "kind": kind, "breakdown": breakdown,
        "breakdown_label": breakdown.title(), "group": groups.to_numpy(),
        "group_label": group_labels.to_numpy(), "group_order": np.arange(len(table)),
        "estimate": table["estimate"].to_numpy(), "se": table["se"].to_numpy(),
        "ci_low": table["ci_low"].to_numpy(), "ci_high": table["ci_high"].to_numpy(),
        "n": table["n"].to_numpy(), "base_flag": STRICT.flags(table["n"].to_numpy()),
        "letter": [chr(65 + i) for i in range(len(table))], "letters": "",
    })


@pytest.fixture(scope="module")
def ethnic_trust(tracker):
    """trust_nhs 7-10 by ethnic group in two waves: some groups under 100 respondents."""
    parts = [cube_rows(tracker[w].proportion("trust_nhs", value=[7, 8, 9, 10], by="ethnicity"),
                       wave=w, indicator="trust_nhs_high", label="Trust the NHS (7-10)",
                       kind="share", breakdown="ethnicity") for w in ("2023", "2024")]
    rows = pd.concat(parts, ignore_index=True)
    assert (rows["base_flag"] == "suppressed").any() and rows["estimate"].notna().all()
    return rows


@pytest.fixture(scope="module")
def ethnic_awareness(tracker):
    """A mean (AI awareness, 1-4) by ethnic group: shown on its scale, not in per cent."""
    est = tracker["2024"].mean("ai_awareness", by="ethnicity")
    return cube_rows(est, wave="2024", indicator="ai_awareness_mean", label="AI awareness",
                     kind="mean", breakdown="ethnicity")


def hidden_values(rows: pd.DataFrame) -> list[float]:
    """The true numbers of the suppressed rows, as a chart could show them."""
    hidden = rows[rows["base_flag"] == "suppressed"]
    values = []
    for column in ("estimate", "ci_low", "ci_high"):
        for v in hidden[column]:
            values += [v, v * 100, round(v * 100), round(v * 100, 1), round(v, 1), round(v, 2)]
    return values


def numbers_in(value) -> list[float]:
    """Every number held in a trace property (numbers, or numbers written in strings)."""
    out = []
    stack = [value]
    while stack:
        item = stack.pop()
        if item is None:
            continue
        if isinstance(item, str):
            out += [float(m) for m in re.findall(r"\d+(?:\.\d+)?", item.replace(",", ""))]
        elif isinstance(item, (int, float, np.number)) and not isinstance(item, bool):
            out.append(float(item))
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, np.ndarray)):
            stack.extend(item)
    return out


def suppressed_positions(fig: go.Figure, rows: pd.DataFrame):
    """(trace, index) of every point that stands for a suppressed row."""
    hidden_labels = set(rows.loc[rows["base_flag"] == "suppressed", "group_label"])
    for trace in fig.data:
        if trace.type == "bar":
            wave_rows = rows[rows["wave"] == trace.name]
            for i, label in enumerate(wave_rows["group_label"]):
                if label in hidden_labels and wave_rows.iloc[i]["base_flag"] == "suppressed":
                    yield trace, i
        elif trace.type == "scatter" and trace.name is not None:
            group_rows = rows[rows["group_label"] == trace.name].reset_index(drop=True)
            for i, flag in enumerate(group_rows["base_flag"]):
                if flag == "suppressed":
                    yield trace, i


def point_values(trace, i) -> list[float]:
    out = []
    for key in ("x", "y", "text", "hovertext", "customdata"):
        values = getattr(trace, key, None)
        if values is not None and not isinstance(values, str):
            out += numbers_in(values[i])
    for key in ("error_y", "error_x"):
        err = getattr(trace, key, None)
        if err is not None:
            for part in ("array", "arrayminus"):
                values = err[part]
                if values is not None:
                    out += numbers_in(values[i])
    return out


def assert_no_hidden_value(fig, rows):
    hidden = hidden_values(rows)
    positions = list(suppressed_positions(fig, rows))
    assert positions, "the chart has no point for the suppressed rows"
    for trace, i in positions:
        assert trace.y[i] is None
        shown = point_values(trace, i)
        for value in hidden:
            assert not any(np.isclose(value, s, rtol=0, atol=1e-9) for s in shown), (trace.name, i)
    for annotation in fig.layout.annotations:
        if annotation.text == STRICT.suppressed_label:
            assert not re.search(r"\d+(\.\d+)?%", annotation.hovertext or "")


def test_trend_hides_suppressed_values(ethnic_trust):
    fig = plots.trend_chart(ethnic_trust, small_base=STRICT)
    go.Figure(fig.to_dict())  # a valid plotly figure
    assert_no_hidden_value(fig, ethnic_trust)
    gaps = [a for a in fig.layout.annotations if a.text == "n<100"]
    assert len(gaps) == (ethnic_trust["base_flag"] == "suppressed").sum()


def test_group_chart_hides_suppressed_values(ethnic_trust):
    fig = plots.group_chart(ethnic_trust, small_base=STRICT)
    go.Figure(fig.to_dict())
    assert_no_hidden_value(fig, ethnic_trust)
    for trace in fig.data:
        wave_rows = ethnic_trust[ethnic_trust["wave"] == trace.name]
        for text, flag in zip(trace.text, wave_rows["base_flag"]):
            assert (text == "") == (flag == "suppressed")


def test_heatmap_hides_suppressed_values(ethnic_trust):
    rows = ethnic_trust[ethnic_trust["wave"] == "2024"]
    fig = plots.heatmap_chart(rows, small_base=STRICT)
    go.Figure(fig.to_dict())
    heat = fig.data[0]
    hidden = hidden_values(rows)
    for j, flag in enumerate(rows["base_flag"]):
        if flag == "suppressed":
            assert heat.z[0][j] is None and heat.text[0][j] == "n<100"
            shown = numbers_in(heat.hovertext[0][j])
            assert not any(np.isclose(v, s) for v in hidden for s in shown)
        else:
            assert heat.z[0][j] == round(rows["estimate"].iloc[j] * 100)  # as shown


def test_shares_are_percentages_with_ci(ethnic_trust):
    fig = plots.group_chart(ethnic_trust, small_base=STRICT)
    bar = fig.data[0]
    rows = ethnic_trust[ethnic_trust["wave"] == bar.name]
    for i, (_, row) in enumerate(rows.iterrows()):
        if row["base_flag"] == "suppressed":
            continue
        assert bar.y[i] == round(100 * row["estimate"])  # the chart holds what it shows
        assert bar.error_y.array[i] == round(100 * row["ci_high"]) - round(100 * row["estimate"])
        assert bar.error_y.arrayminus[i] == round(100 * row["estimate"]) - round(100 * row["ci_low"])
        assert bar.text[i].startswith(f"{100 * row['estimate']:.0f}%")
    assert fig.layout.yaxis.ticksuffix == "%"


def test_means_stay_on_their_scale(ethnic_awareness):
    fig = plots.group_chart(ethnic_awareness, small_base=STRICT)
    shown = [y for y in fig.data[0].y if y is not None]
    assert shown and all(1 <= y <= 4 for y in shown)
    assert fig.layout.yaxis.ticksuffix == ""


def test_low_bases_are_marked(ethnic_trust):
    fig = plots.trend_chart(ethnic_trust, small_base=STRICT)
    for trace in fig.data:
        if trace.mode != "lines+markers":
            continue
        flags = ethnic_trust.loc[ethnic_trust["group_label"] == trace.name, "base_flag"].tolist()
        for symbol, flag, hover in zip(trace.marker.symbol, flags, trace.hovertext):
            assert (symbol == "circle-open") == (flag == "low")
            if flag == "low":
                assert "low base" in hover
    bars = plots.group_chart(ethnic_trust, small_base=STRICT).data[0]
    flags = ethnic_trust.loc[ethnic_trust["wave"] == bars.name, "base_flag"].tolist()
    assert [s == "/" for s in bars.marker.pattern.shape] == [f == "low" for f in flags]


def test_titles_wording_base_and_rule(ethnic_trust, tracker):
    fig = plots.trend_chart(ethnic_trust, small_base=STRICT)
    assert fig.layout.title.text == "Trust the NHS (7-10)"
    wording = tracker["2024"].meta.label("trust_nhs")
    assert wording in fig.layout.title.subtitle.text
    n = ethnic_trust.loc[ethnic_trust["base_flag"] != "suppressed", "n"]  # hidden bases: not shown
    assert f"Base: n = {n.min():,} to {n.max():,}" in fig.layout.title.subtitle.text
    notes = [a.text for a in fig.layout.annotations if a.text.startswith("Estimates on")]
    assert notes and STRICT.describe() in notes[0]


def test_letters_on_axis_and_bars(ethnic_trust):
    rows = ethnic_trust[ethnic_trust["wave"] == "2024"].copy()
    shown = rows.index[rows["base_flag"] != "suppressed"]
    rows.loc[shown[0], "letters"] = "BC"
    fig = plots.group_chart(rows, small_base=STRICT)
    bar = fig.data[0]
    assert bar.x[0].endswith("(A)")
    position = list(rows.index).index(shown[0])
    assert bar.text[position].endswith("<sup>BC</sup>")


def test_palette_is_colour_blind_safe(ethnic_trust):
    assert set(plots.PALETTE) <= OKABE_ITO
    fig = plots.trend_chart(ethnic_trust, small_base=STRICT)
    lines = {t.line.color for t in fig.data if t.mode == "lines+markers"}
    assert lines <= OKABE_ITO and len(lines) == ethnic_trust["group"].nunique()
    heat = go.Figure(plots.heatmap_chart(ethnic_trust[ethnic_trust["wave"] == "2024"],
                                   small_base=STRICT).to_dict()).data[0]
    import plotly.colors

    cividis = [c.replace(" ", "") for c in plotly.colors.sequential.Cividis]
    assert [c.replace(" ", "") for _, c in heat.colorscale] == cividis


def test_charts_format_through_formatting(ethnic_awareness):
    """Means show the one decimals rule in bars and hovers (as in tables and dashboards)."""
    fig = plots.group_chart(ethnic_awareness, small_base=STRICT, conf_level=0.9)
    bar = fig.data[0]
    for text, hover, (_, row) in zip(bar.text, bar.hovertext, ethnic_awareness.iterrows()):
        if row["base_flag"] != "suppressed":
            assert text.startswith(f"{row['estimate']:.2f}")
            assert "90% CI" in hover
    assert any("90% confidence intervals" in (a.text or "") for a in fig.layout.annotations)


def test_more_groups_than_colours_differ_by_dash(tracker):
    est = tracker["2024"].proportion("trust_nhs", value=[7, 8, 9, 10], by="region")
    rows = cube_rows(est, wave="2024", indicator="trust_nhs_high", label="Trust the NHS",
                     kind="share", breakdown="region")
    lines = [t.line for t in plots.trend_chart(rows, small_base=STRICT).data if t.mode == "lines+markers"]
    assert len(lines) == 12
    assert len({(line.color, line.dash) for line in lines}) == 12


# -- series breaks, empty views, a live widget's relayout ----------------------------------
def test_a_series_break_splits_the_trend_and_is_labelled(ethnic_trust):
    why = "not comparable (mode of interview changed)"
    fig = plots.trend_chart(ethnic_trust, small_base=STRICT, breaks={"2024": why})
    go.Figure(fig.to_dict())
    lines = [t for t in fig.data if t.mode == "lines+markers"]
    assert all(len(t.x) == 1 for t in fig.data)  # nothing joins 2023 and 2024
    groups = ethnic_trust["group_label"].nunique()
    assert len(lines) == 2 * groups and sum(bool(t.showlegend) for t in lines) == groups
    assert [(s.type, s.x0, s.x1, s.line.dash) for s in fig.layout.shapes] == [("line", 0.5, 0.5, "dash")]
    label = [a for a in fig.layout.annotations if a.name == "series break"]
    assert len(label) == 1 and label[0].x == 0.5
    assert label[0].text.replace("<br>", " ") == "<b>Series break</b> Not comparable (mode of interview changed)"
    for trace in lines:  # a lone wave shows its interval as whiskers, never a hidden value
        row = ethnic_trust[(ethnic_trust["group_label"] == trace.name)
                           & (ethnic_trust["wave"] == trace.x[0])].iloc[0]
        if row["base_flag"] == "suppressed":
            assert trace.y[0] is None and trace.error_y.array[0] is None
            assert not numbers_in(trace.hovertext)
        else:
            assert trace.error_y.array[0] == round(100 * row["ci_high"]) - round(100 * row["estimate"])
    assert "Dashed line: a series break" in fig.layout.annotations[-1].text


def test_no_break_no_line_and_breaks_outside_the_axis_are_ignored(ethnic_trust):
    fig = plots.trend_chart(ethnic_trust, small_base=STRICT, breaks={"2023": "first wave shown"})
    assert not fig.layout.shapes and not [a for a in fig.layout.annotations if a.name == "series break"]
    assert {len(t.x) for t in fig.data} == {2}


def test_message_chart_says_why_and_draws_nothing():
    fig = plots.message_chart("Nobody in wave 2019 was asked this question (q1).", title="Q1")
    go.Figure(fig.to_dict())
    assert not fig.data and fig.layout.title.text == "Q1"
    assert [a.text for a in fig.layout.annotations] == ["Nobody in wave 2019 was asked this question (q1)."]
    assert fig.layout.xaxis.visible is False and fig.layout.yaxis.visible is False


def test_every_chart_sets_the_same_layout_keys(ethnic_trust):
    """A live FigureWidget relayouts only the keys it is given: one chart's layout must
    overwrite every key another chart set (shapes, legend, background...)."""
    rows = ethnic_trust[ethnic_trust["wave"] == "2024"]
    figures = [plots.trend_chart(ethnic_trust, small_base=STRICT, breaks={"2024": "x"}),
               plots.group_chart(rows, small_base=STRICT), plots.heatmap_chart(rows, small_base=STRICT),
               plots.message_chart("Nothing.", title="T")]
    keys = [set(f.to_plotly_json()["layout"]) for f in figures]
    assert all(k == keys[0] for k in keys), [k ^ keys[0] for k in keys]


def test_heatmap_rows_stay_distinct_when_short_labels_repeat(ethnic_trust):
    rows = ethnic_trust[ethnic_trust["wave"] == "2024"]
    two = pd.concat([rows, rows.assign(indicator="trust_nhs_low", indicator_label="Trust the NHS (0-3)")])
    fig = plots.heatmap_chart(two, small_base=STRICT,
                              row_labels={"trust_nhs_high": "Trust the NHS", "trust_nhs_low": "Trust the NHS"})
    assert list(fig.data[0].y) == ["Trust the NHS (7-10)", "Trust the NHS (0-3)"]

"""The dashboard apps without a browser: controls -> view -> chart + table.

The apps run on the example tracker's waves through a manifest with a
stricter small-base rule and a few indicators and breakdowns (see
``tests/browser/fixtures.py``), so that suppressed groups exist.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import re

import numpy as np
import pandas as pd
import pytest

import surveytools as st
from surveytools.indicators.cube import cube
from surveytools.indicators.store import CubeCache
from surveytools.presentation import dashboard as d
from surveytools.presentation.views import View

LABEL = "n<100"


# manifest (the strict example tracker): tests/conftest.py
@pytest.fixture(scope="module")
def cubes(manifest):
    return CubeCache.from_manifest(manifest)


@pytest.fixture()
def trust(cubes):
    return d.TrustApp(cubes, query="")


def figure_state(app):
    return app.figure.to_json()


def csv_rows(app) -> list[dict]:
    href = re.search(r'href="data:text/csv;charset=utf-8;base64,([^"]+)"', app.links.value).group(1)
    return list(csv.DictReader(io.StringIO(base64.b64decode(href).decode("utf-8"))))


def html_rows(app) -> list[list[str]]:
    return [[html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", row)] for row in
            re.findall(r"<tr data-flag=\"\w+\">(.*?)</tr>", app.table.value)]


# -- every control redraws chart and table -----------------------------------
@pytest.mark.parametrize("control,value", [
    ("indicator", "trust_govt_high"), ("breakdown", "ethnicity"), ("waves", ("2022", "2024")),
    ("ci", "wald"), ("chart", "groups"),
])
def test_each_control_updates_view_figure_and_table(trust, control, value):
    before_figure, before_table = figure_state(trust), trust.table.value
    before_csv = trust.links.value
    trust.controls[control].value = value
    assert getattr(trust.view, "waves" if control == "waves" else control) == value
    assert figure_state(trust) != before_figure
    if control in ("indicator", "breakdown", "waves"):
        assert trust.table.value != before_table
    if control != "chart":
        assert trust.links.value != before_csv  # the CSV and the link follow the view


def test_ci_control_moves_intervals_only(trust):
    before = trust.cubes("logit").select(indicator=trust.view.indicator, breakdown="total")
    trust.controls["ci"].value = "beta"
    after = trust.cubes("beta").select(indicator=trust.view.indicator, breakdown="total")
    np.testing.assert_array_equal(before["estimate"], after["estimate"])
    assert not np.allclose(before["ci_low"], after["ci_low"])
    assert "Korn-Graubard" in trust.notes.value and "beta method" in trust.notes.value
    assert trust.cubes("beta").ci == "beta" and trust.cubes.first.ci == "logit"


def test_overview_controls(cubes):
    app = d.OverviewApp(cubes, query="")
    assert app.figure.data[0].type == "heatmap"
    for control, value in [("breakdown", "nation"), ("wave", "2023"), ("topic", "AI|mean"),
                           ("ci", "wilson")]:
        before = figure_state(app), app.table.value, app.notes.value
        app.controls[control].value = value
        after = figure_state(app), app.table.value, app.notes.value
        assert after != before, control
    assert app.view.waves == ("2023",) and app.view.topic == "AI|mean"
    assert [r["indicator"] for r in csv_rows(app)] == ["ai_awareness_mean"]


def test_acceptability_offers_its_topics_only(cubes):
    app = d.AcceptabilityApp(cubes, query="")
    offered = {value for _, value in app.controls["indicator"].options}
    topics = {i.name: i.topic for i in cubes("logit").catalogue}
    assert offered and {topics[name] for name in offered} <= set(d.AcceptabilityApp.topics)
    assert "trust_nhs_high" not in offered


# -- suppression ---------------------------------------------------------------
def test_suppressed_cells_show_no_number(trust):
    trust.set_view(breakdown="ethnicity", chart="groups")
    rows = html_rows(trust)
    flags = re.findall(r'<tr data-flag="(\w+)">', trust.table.value)
    suppressed = [r for r, f in zip(rows, flags) if f == "suppressed"]
    assert suppressed and len(suppressed) < len(rows)
    for wave, group, estimate, ci, change, letters, n, note in suppressed:
        assert estimate == LABEL and not re.search(r"\d", ci + change + letters)
        assert note == "too small: suppressed" and int(n.replace(",", "")) < 100
    for bar in trust.figure.data:  # one bar trace per wave, one bar per group in table order
        wave = [(r, f) for r, f in zip(rows, flags) if r[0] == bar.name]
        assert len(wave) == len(bar.y)
        assert [y is None for y in bar.y] == [f == "suppressed" for _, f in wave]
    labels = [a for a in trust.figure.layout.annotations if a.text == LABEL]
    assert len(labels) == len(suppressed)


def test_csv_is_the_table_with_suppression(trust):
    trust.set_view(breakdown="ethnicity", waves=("2023", "2024"))
    records = csv_rows(trust)
    table = trust.last_table
    assert len(records) == len(table)
    cube_rows = trust.cubes(trust.view.ci).select(indicator=trust.view.indicator,
                                                  breakdown="ethnicity", waves=["2023", "2024"])
    for record, (_, row) in zip(records, cube_rows.iterrows()):
        assert record["group_label"] == row["group_label"] and record["wave"] == row["wave"]
        assert int(record["n"]) == row["n"]
        if row["base_flag"] == "suppressed":
            assert record["estimate"] == record["ci_low"] == record["ci_high"] == record["change"] == ""
            assert record["note"] == LABEL
        else:
            assert float(record["estimate"]) == pytest.approx(100 * row["estimate"], abs=0.005)
            assert float(record["ci_low"]) == pytest.approx(100 * row["ci_low"], abs=0.005)
    assert re.search(r'download="trust_nhs_high_ethnicity_2024\.csv"', trust.links.value)


# -- deep links ------------------------------------------------------------------
def test_deep_link_opens_view(cubes):
    app = d.TrustApp(cubes, query="indicator=trust_nhs&breakdown=age&wave=2024&ci=beta&chart=groups")
    assert app.view == View(indicator="trust_nhs_high", breakdown="age", waves=("2024",), ci="beta",
                            chart="groups")
    assert app.controls["indicator"].value == "trust_nhs_high"
    assert app.controls["breakdown"].value == "age"
    assert app.controls["waves"].value == ("2024",)
    assert app.controls["ci"].value == "beta"
    assert [t.type for t in app.figure.data] == ["bar"]
    assert {row[0] for row in html_rows(app)} == {"2024"}
    assert not app.messages


def test_deep_link_from_voila_environment(cubes, monkeypatch):
    monkeypatch.setenv("QUERY_STRING", "breakdown=nation&chart=groups")
    monkeypatch.setenv("VOILA_REQUEST_URL", "http://host:8866/voila/render/trust.ipynb?breakdown=nation")
    app = d.TrustApp(cubes)
    assert app.view.breakdown == "nation" and app.view.chart == "groups"
    link = re.search(r'class="st-link" href="([^"]+)"', app.links.value).group(1)
    assert link.startswith("/voila/render/trust.ipynb?indicator=trust_nhs_high&amp;breakdown=nation")
    reopened = d.TrustApp(cubes, query=link.split("?", 1)[1].replace("&amp;", "&"))
    assert reopened.view == app.view


def test_bad_deep_link_says_so_and_shows_default(cubes):
    app = d.TrustApp(cubes, query="indicator=nope&ci=probit&wave=1999")
    assert app.view == d.TrustApp(cubes, query="").view
    assert len(app.messages) == 3 and "nope" in app.status.value and "probit" in app.status.value
    assert "Traceback" not in app.status.value


def test_question_asked_in_later_waves_only(cubes):
    app = d.AcceptabilityApp(cubes, query="indicator=accept_exams_share&wave=2021,2022")
    assert "was not asked" in app.status.value or "no estimates" in app.status.value
    app.controls["waves"].value = ("2023", "2024")
    assert "no estimates" not in app.status.value
    assert [t.x for t in app.figure.data if t.mode == "lines+markers"][0] == ("2023", "2024")


# -- cubes by CI method ------------------------------------------------------------
@pytest.mark.parametrize("ci", ["beta", "wilson", "wald"])
def test_reinterval_equals_a_cube_built_for_that_method(manifest, cubes, ci):
    tracker = st.read_waves(manifest)
    built = cube(tracker, ci=ci)
    direct, derived = built.frame, cubes(ci).frame
    pd.testing.assert_frame_equal(derived.drop(columns=["ci_low", "ci_high"]),
                                  direct.drop(columns=["ci_low", "ci_high"]))
    np.testing.assert_allclose(derived["ci_low"], direct["ci_low"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(derived["ci_high"], direct["ci_high"], rtol=1e-10, atol=1e-12)
    assert cubes(ci).method_note == built.method_note


def test_unknown_ci_method_is_rejected(cubes):
    with pytest.raises(st.DataError, match="confidence interval method"):
        cubes("probit")


def test_app_takes_its_defaults_from_the_cube(cubes):
    app = d.TrustApp(cubes, query="")
    assert app.view.ci == cubes.first.ci
    assert f"{round(cubes.first.conf_level * 100)}% confidence intervals" in app.widget.children[0].value
    assert "95% CI" in app.last_table.columns

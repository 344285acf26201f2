"""The dashboard apps without a browser: controls -> view -> chart + table.

The apps run on the example tracker's waves through a manifest with a
stricter small-base rule and a few indicators and breakdowns (see
``tests/browser/fixtures.py``), so that suppressed groups exist; and on a
tracker that is not the example's, scaffolded by ``surveytools init`` from two
BSA-style waves (a series break, a question asked in the second wave only,
topics the example does not have), where every value of every control must
show a chart or say why there is nothing to show.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import itertools
import re

import numpy as np
import pandas as pd
import pytest

import surveytools as st
from surveytools.indicators.catalogue import IndicatorCatalogue
from surveytools.indicators.cube import cube
from surveytools.indicators.store import CubeCache
from surveytools.presentation import dashboard as d
from surveytools.presentation.views import View

from browser.fixtures import write_scaffolded_tracker

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


def explanation(app) -> str | None:
    """The sentence the chart shows instead of a chart (None when it draws one)."""
    texts = [a.text.replace("<br>", " ") for a in app.figure.layout.annotations
             if a.name == "nothing to show"]
    return texts[0] if texts else None


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
    reasons = {"too small: suppressed": LABEL, "hidden: would reveal a suppressed group": "[c]"}
    for wave, group, estimate, ci, change, letters, n, note in suppressed:
        # the estimate and the base are hidden alike: "n<100" for a small base, "[c]"
        # for a group hidden so that it cannot give the small one away
        assert estimate == n == reasons[note] and not re.search(r"\d", ci + change + letters)
    assert {row[-1] for row in suppressed} == set(reasons)  # the strict rule shows both
    for bar in trust.figure.data:  # one bar trace per wave, one bar per group in table order
        wave = [(r, f) for r, f in zip(rows, flags) if r[0] == bar.name]
        assert len(wave) == len(bar.y)
        assert [y is None for y in bar.y] == [f == "suppressed" for _, f in wave]
    labels = [a for a in trust.figure.layout.annotations if a.text in (LABEL, "[c]")]
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
        if row["base_flag"] == "suppressed":
            assert record["estimate"] == record["ci_low"] == record["ci_high"] == record["change"] == ""
            assert record["n"] == "" and record["suppression"] == row["suppression"]
            assert record["note"] == {"small base": LABEL, "complementary": "[c]"}[row["suppression"]]
        else:
            assert int(record["n"]) == row["n"]
            # as shown: whole per cent
            assert float(record["estimate"]) == round(100 * row["estimate"])
            assert float(record["ci_low"]) == round(100 * row["ci_low"])
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
    assert explanation(app) == ("Nobody in waves 2021 and 2022 was asked this question "
                                "(accept_exams). It was asked in 2023 and 2024.")
    assert not app.figure.data and app.table.value == "" and "st-download" not in app.links.value
    app.controls["waves"].value = ("2023", "2024")
    assert explanation(app) is None
    assert [t.x for t in app.figure.data if t.mode == "lines+markers"][0] == ("2023", "2024")
    app.controls["waves"].value = ("2022", "2023", "2024")  # the chart says which wave did not ask
    assert "Not asked in wave 2022." in app.notes.value


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


# -- any catalogue: a scaffolded tracker whose topics are not the example's ---------------
BREAK = ("not comparable (mode of interview changed from Face-to-face interview (CAPI) (2019) "
         "to Web (CAWI) and Telephone (CATI))")


@pytest.fixture(scope="module")
def scaffolded(tmp_path_factory):
    """The cubes of the scaffolded two-wave tracker: at the scaffold's small-base rule
    (``"default"``) and at one that suppresses every region and telephone respondents
    (``"strict"``: bases under 200)."""
    folder = tmp_path_factory.mktemp("scaffolded")
    return {rule: CubeCache.from_manifest(write_scaffolded_tracker(folder / rule,
                                                                   suppress_below=below))
            for rule, below in (("default", None), ("strict", 200))}


def control_values(control) -> list:
    """Every value a control can take (every subset of a multiple selection)."""
    values = [o[1] if isinstance(o, tuple) else o for o in control.options]
    if isinstance(control.value, tuple):
        return [combo for r in range(len(values), -1, -1)
                for combo in itertools.combinations(values, r)]
    return values


def test_pages_follow_the_catalogue(scaffolded, cubes):
    mine = scaffolded["default"].first
    assert [(p.app, p.topic, p.stem) for p in d.pages(mine)] == [
        (d.OverviewApp, "", "overview"), (d.TopicApp, "Other questions", "topic-other-questions")]
    lead, links = d.OverviewApp.links(mine)
    assert lead == "Topics:" and [(label, d.live_href(page, params)) for label, page, params
                                  in links] == [("Other questions", "topic.ipynb?topic=Other+questions")]
    example = cubes.first
    assert [p.app.name for p in d.pages(example)] == ["overview", "trust", "acceptability"]
    hrefs = {label: d.live_href(page, params) for label, page, params in d.OverviewApp.links(example)[1]}
    assert hrefs["Trust to use data"] == "trust.ipynb?indicator=trust_nhs_high"
    assert hrefs["AI"].startswith("acceptability.ipynb?indicator=ai_")


def test_titles_come_from_the_manifest(scaffolded, cubes):
    overview = d.OverviewApp(scaffolded["default"], query="")
    head = overview.widget.children[0].value
    assert "<p class='st-tracker'>bsa</p>" in head and "Overview" in head
    assert 'href="topic.ipynb?topic=Other+questions"' in head
    assert "data and AI" not in head + overview.table.value
    topic = d.TopicApp(scaffolded["default"], query="")
    assert "<h2 class='st-title'>Other questions</h2>" in topic.widget.children[0].value
    example = d.OverviewApp(cubes, query="").widget.children[0].value
    assert html.escape(cubes.first.name) in example and html.escape(cubes.first.description) in example


@pytest.mark.parametrize("rule", ["default", "strict"])
@pytest.mark.parametrize("app_class", d.APPS, ids=lambda a: a.name)
def test_every_control_value_shows_a_chart_or_says_why(scaffolded, app_class, rule):
    app = app_class(scaffolded[rule], query="")
    seen = 0
    for name, control in app.controls.items():
        for value in control_values(control):
            control.value = value
            seen += 1
            assert "st-error" not in app.status.value and not app.messages, (name, value)
            why = explanation(app)
            assert bool(app.figure.data) != bool(why), (name, value)
            if why:
                assert why.endswith(".") and len(why) > 30, why
            else:
                assert app.table.value.count("<tr data-flag") > 0, (name, value)
    assert seen >= 8


@pytest.mark.slow
def test_every_view_of_a_topic_page_renders(scaffolded):
    """Every indicator x breakdown x choice of waves x chart (the strict rule)."""
    mine = scaffolded["strict"].first
    kinds = set()
    for ind, breakdown, waves, chart in itertools.product(
            d.TopicApp.indicators(mine, "Other questions"), ("total", *mine.breakdowns.names),
            ((), ("2019",), ("2023",), ("2019", "2023")), ("trend", "groups")):
        view = View(indicator=ind.name, breakdown=breakdown, waves=waves, chart=chart,
                    topic=ind.topic)
        shown = d.TopicApp.render(mine, view)
        texts = [a.text for a in shown.figure.layout.annotations if a.name == "nothing to show"]
        if shown.empty:
            assert not shown.figure.data and texts == [plot_text(shown.empty.text)], view
            kinds.add(shown.empty.kind)
        else:
            assert shown.figure.data and not texts and len(shown.table), view
    assert kinds == {"no wave", "not asked", "suppressed"}


def plot_text(text: str) -> str:
    from surveytools.presentation.plots import _wrap

    return _wrap(text, 80)


def test_explanations_say_why_in_words(scaffolded):
    cubes = scaffolded["strict"]
    app = d.TopicApp(cubes, query="indicator=AIuse_yes&wave=2019")
    assert explanation(app) == "Nobody in wave 2019 was asked this question (AIuse). It was asked in 2023."
    app.set_view(waves=("2019", "2023"), breakdown="region")
    assert explanation(app) == ("Every group of this breakdown is suppressed in wave 2023 (fewer "
                                "than 200 respondents in each). Choose a breakdown with larger "
                                "groups, or all adults.")
    rows = html_rows(app)  # the table still lists the groups and their bases
    assert rows and all(r[2] == "n<200" for r in rows)
    app.set_view(waves=())
    assert explanation(app) == "No wave is chosen: choose at least one wave."
    trust = d.TrustApp(cubes, query="indicator=TrstNHS_high")
    assert trust.messages and "TrstNHS_high" in trust.status.value  # not on this page: rejected
    assert explanation(trust).startswith("This tracker has no indicators on the topics of this "
                                         "page (Trust to use data, Trust to keep data secure)")


def test_a_breakdown_without_groups_in_a_wave_says_so(scaffolded):
    mine = scaffolded["default"].first
    frame = mine.frame
    gone = mine.replace(frame=frame[~((frame["breakdown"] == "mode") & (frame["wave"] == "2019"))])
    shown = d.TopicApp.render(gone, View(indicator="TrstNHS_high", breakdown="mode",
                                         waves=("2019",), topic="Other questions"))
    assert shown.empty.kind == "no groups"
    assert shown.empty.text.startswith("Nobody in wave 2019 is in a group of the breakdown "
                                       "“Mode of interview”")


def test_an_empty_catalogue_reaches_no_error(scaffolded):
    mine = scaffolded["default"].first
    empty = mine.replace(catalogue=IndicatorCatalogue(()), frame=mine.frame.iloc[:0])
    cubes = CubeCache(empty, empty.with_ci)
    for app_class in d.APPS:
        app = app_class(cubes, query="")
        for name, control in app.controls.items():
            for value in control_values(control):
                control.value = value
                assert "st-error" not in app.status.value and explanation(app), (app_class, name)
    assert [p.app for p in d.pages(empty)] == [d.OverviewApp]


def test_series_break_in_chart_table_csv_and_notes(scaffolded):
    app = d.TopicApp(scaffolded["default"], query="indicator=TrstNHS_high&breakdown=age")
    assert [(s.type, s.x0, s.line.dash) for s in app.figure.layout.shapes] == [("line", 0.5, "dash")]
    label = [a.text for a in app.figure.layout.annotations if a.name == "series break"]
    assert len(label) == 1 and BREAK[0].upper() + BREAK[1:] == label[0].split("<br>", 1)[1].replace("<br>", " ")
    for trace in app.figure.data:  # no line or band joins 2019 and 2023
        assert len(set(trace.x)) == 1, trace.x
    changes = {(r[0], r[4]) for r in html_rows(app)}
    assert changes == {("2019", ""), ("2023", BREAK)}
    records = csv_rows(app)
    assert {r["change_note"] for r in records if r["wave"] == "2023"} == {BREAK}
    assert all(r["change"] == "" for r in records)
    assert f"Series break before 2023: {html.escape(BREAK)}" in app.notes.value
    app.set_view(waves=("2023",))
    assert not app.figure.layout.shapes
    app.set_view(waves=("2019", "2023"), indicator="AIuse_yes")  # asked in 2023 only: no break
    assert not app.figure.layout.shapes


def test_topic_page_deep_links(scaffolded, cubes):
    mine = scaffolded["default"]
    app = d.TopicApp(mine, query="topic=Other+questions&indicator=AIuse&breakdown=mode&wave=2023"
                                 "&chart=groups")
    assert app.view == View(indicator="AIuse_yes", breakdown="mode", waves=("2023",),
                            chart="groups", topic="Other questions")
    link = re.search(r'class="st-link" href="([^"]+)"', app.links.value).group(1)
    query = html.unescape(link.split("?", 1)[1])
    assert query.startswith("topic=Other+questions&indicator=AIuse_yes")
    assert d.TopicApp(mine, query=query).view == app.view
    wrong = d.TopicApp(mine, query="topic=Nope&breakdown=age")
    assert wrong.view.topic == "Other questions" and wrong.view.breakdown == "age"
    assert "topic “Nope”" in wrong.status.value
    ai = d.TopicApp(cubes, query="topic=AI")  # any topic of the example, too
    assert {v for _, v in ai.controls["indicator"].options} == {
        i.name for i in cubes.first.catalogue if i.topic == "AI"}


def test_indicators_without_a_topic_get_a_page(scaffolded):
    mine = scaffolded["default"].first
    untitled = mine.replace(catalogue=IndicatorCatalogue(tuple(
        ind.replace(topic="") for ind in mine.catalogue)))
    assert [(p.app, p.topic) for p in d.pages(untitled)][1:] == [(d.TopicApp, d.UNTITLED)]
    app = d.TopicApp(CubeCache(untitled, untitled.with_ci), query="")
    assert app.view.topic == d.UNTITLED and len(app.controls["indicator"].options) == 8
    assert explanation(app) is None and app.figure.data

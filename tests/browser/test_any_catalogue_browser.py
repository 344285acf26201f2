"""The dashboards on a tracker that is not the example's, in headless Chromium.

The tracker is scaffolded by ``surveytools init`` from two BSA-style waves
(``fixtures.write_scaffolded_tracker``): its one topic is "Other questions",
2023 is a series break (a change of mode), one question is asked in 2023
only, and its small-base rule (bases under 200) suppresses every region.  A
real Voila server serves it as managers would get it.  Every control of
every dashboard is driven through every value in Chromium: each view shows a
chart, or says in words why there is nothing to show, and never error text.
The static export of the same tracker works from ``file://``.
"""

from __future__ import annotations

import itertools
from urllib.parse import quote

import pytest

from surveytools.presentation.export import export_site

from .helpers import (CHART, TABLE, assert_chart_or_reason, assert_clean, change_view,
                      chart_message, open_view, selected_label, table_rows)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BREAK = "not comparable (mode of interview changed from Face-to-face interview (CAPI) (2019)"


def option_labels(page, name: str) -> list[str]:
    return page.eval_on_selector(f".st-control-{name} select",
                                 "s => Array.from(s.options).map(o => o.textContent)")


def every_value(page, name: str):
    """Actions that move control ``name`` through every value it does not have now."""
    control = f".st-control-{name}"
    if page.locator(f"{control} select[multiple]").count():
        labels = option_labels(page, name)
        for subset in sorted((list(c) for r in range(len(labels) + 1)
                              for c in itertools.combinations(labels, r)), key=len, reverse=True):
            if ",".join(subset) != selected_label(page, name).replace(" ", "\xa0"):
                yield subset, lambda s=subset: page.select_option(f"{control} select", label=s)
    elif page.locator(f"{control} select").count():
        for label in option_labels(page, name):
            if label.replace("\xa0", " ") != selected_label(page, name):
                yield label, lambda v=label: page.select_option(f"{control} select", label=v)
    else:  # toggle buttons: the chosen one is marked mod-active
        for text in page.eval_on_selector_all(f"{control} button", "bs => bs.map(b => b.textContent)"):
            button = page.locator(f"{control} button:has-text('{text}')")
            if "mod-active" not in (button.get_attribute("class") or ""):
                yield text, lambda b=button: b.click()


def drive_every_control(page) -> dict:
    """Every value of every control, in turn; returns what each view said it could not show."""
    controls = page.eval_on_selector_all(
        ".st-app [class*='st-control-']",
        "els => els.map(e => Array.from(e.classList).find(c => c.startsWith('st-control-')))")
    reasons = {}
    for control in dict.fromkeys(c.removeprefix("st-control-") for c in controls):
        for value, action in list(every_value(page, control)):
            change_view(page, action)
            assert_clean(page)
            reason = assert_chart_or_reason(page)
            if reason is None:
                assert page.locator(TABLE).is_visible() and table_rows(page), (control, value)
            else:
                reasons[(control, str(value))] = reason
    return reasons


@pytest.mark.parametrize("name", ["overview", "topic", "trust", "acceptability"])
def test_every_control_shows_a_chart_or_says_why(context, scaffolded_voila_url, artifacts, name):
    page = context.new_page()
    open_view(page, f"{scaffolded_voila_url}/voila/render/{name}.ipynb")
    assert_clean(page)
    assert page.locator(".st-tracker").inner_text().strip().lower() == "bsa"
    reasons = drive_every_control(page)
    said = " ".join(reasons.values())
    if name == "topic":
        assert "Nobody in wave 2019 was asked this question (AIuse). It was asked in 2023." in said
        assert "Every group of this breakdown is suppressed" in said
        assert "No wave is chosen" in said
    elif name == "overview":
        assert "Every group of this breakdown is suppressed in wave" in said
    else:  # a page for topics this catalogue does not have: it says so whatever the controls
        assert len(reasons) >= 8 and all("has no indicators on the topics of this page" in r
                                         for r in reasons.values())
    page.screenshot(path=str(artifacts / f"scaffolded_{name}_driven.png"), full_page=True)
    page.close()


def test_overview_links_every_topic_to_its_page(context, scaffolded_voila_url, artifacts):
    page = context.new_page()
    open_view(page, f"{scaffolded_voila_url}/voila/render/overview.ipynb")
    assert page.locator(".st-title").inner_text() == "Overview"
    assert "data and AI" not in page.inner_text("body")
    links = page.eval_on_selector_all(".st-links a", "as => as.map(a => [a.textContent, a.getAttribute('href')])")
    assert links == [["Other questions", "topic.ipynb?topic=Other+questions"]]
    page.screenshot(path=str(artifacts / "scaffolded_overview.png"), full_page=True)
    page.click(".st-links a")
    page.wait_for_url("**/topic.ipynb?topic=Other+questions")
    page.wait_for_selector(f"{CHART} .main-svg", state="visible")
    assert page.locator(".st-title").inner_text() == "Other questions"
    assert_clean(page)
    page.close()


def test_trend_draws_the_series_break(context, scaffolded_voila_url, artifacts):
    page = context.new_page()
    open_view(page, f"{scaffolded_voila_url}/voila/render/topic.ipynb"
                    f"?topic={quote('Other questions')}&indicator=TrstNHS_high&breakdown=age")
    drawn = page.evaluate("""() => { const el = document.querySelector('.js-plotly-plot');
        return {shapes: (el.layout.shapes || []).map(s => [s.x0, s.line.dash]),
                label: (el.layout.annotations || []).filter(a => a.name === 'series break')
                           .map(a => a.text.replaceAll('<br>', ' ')),
                spans: el.data.map(t => new Set(t.x).size)}; }""")
    assert drawn["shapes"] == [[0.5, "dash"]]
    assert len(drawn["label"]) == 1 and "Not comparable (mode of interview changed" in drawn["label"][0]
    assert set(drawn["spans"]) == {1}  # no line joins 2019 and 2023
    # the dashed line is drawn on screen, not only in the figure
    assert page.locator(f"{CHART} .shapelayer path").count() >= 1
    changes = {r["Wave"]: r["Change since previous wave"] for r in table_rows(page)}
    assert changes["2019"] == "" and changes["2023"].startswith(BREAK)
    assert "Series break before 2023" in page.inner_text(".st-note")
    page.screenshot(path=str(artifacts / "scaffolded_break.png"), full_page=True)
    assert_clean(page)
    page.close()


def test_deep_links_on_any_catalogue(context, scaffolded_voila_url, artifacts):
    page = context.new_page()
    open_view(page, f"{scaffolded_voila_url}/voila/render/topic.ipynb"
                    "?topic=Other+questions&indicator=AIuse&wave=2019&chart=groups")
    assert chart_message(page) == ("Nobody in wave 2019 was asked this question (AIuse). "
                                   "It was asked in 2023.")
    assert not page.locator(TABLE).count()
    link = page.get_attribute("a.st-link", "href")
    assert "topic=Other+questions&indicator=AIuse_yes" in link and "wave=2019" in link
    page.screenshot(path=str(artifacts / "scaffolded_not_asked.png"), full_page=True)
    # a value the dashboard does not have: the default view, and a note saying so
    open_view(page, f"{scaffolded_voila_url}/voila/render/topic.ipynb?topic=Nope&breakdown=region")
    assert "“Nope”" in page.inner_text(".st-message")
    assert page.locator(".st-title").inner_text() == "Other questions"
    assert chart_message(page).startswith("Every group of this breakdown is suppressed")
    assert_clean(page)
    page.close()


def test_export_of_any_catalogue_from_file_urls(context, scaffolded_manifest, tmp_path, artifacts):
    written = export_site(scaffolded_manifest, tmp_path / "site")
    site = written.index.parent
    assert written.empty and all(why.text for _, _, why in written.empty)
    page = context.new_page()
    page.goto((site / "index.html").as_uri())
    assert page.eval_on_selector_all("a", "as => as.map(a => a.getAttribute('href'))") == [
        "overview.html", "topic-other-questions.html"]
    page.click("text=Other questions")
    page.wait_for_selector(f"{CHART} .main-svg", state="visible")
    page.select_option("#breakdown", "region")
    page.wait_for_function("""() => (document.querySelector('.js-plotly-plot').layout.annotations || [])
                                      .some(a => a.name === 'nothing to show')""")
    assert chart_message(page).startswith("Every group of this breakdown is suppressed")
    assert page.locator("#st-download-part").is_visible()  # the bases are still listed
    assert all(r["Estimate"] == "n<200" for r in table_rows(page))
    page.screenshot(path=str(artifacts / "scaffolded_export.png"), full_page=True)
    assert_clean(page)
    page.close()

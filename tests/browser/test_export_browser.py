"""The static export opened in headless Chromium from file:// (no server, no network)."""

from __future__ import annotations

import pytest

from surveytools.presentation.export import export_site

from .helpers import (HIDDEN_JS, assert_clean, assert_suppressed_rows_blank, change_and_wait, chart_state,
                      table_rows)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def site(strict_manifest, tmp_path_factory):
    return export_site(strict_manifest, tmp_path_factory.mktemp("site")).index.parent


def open_file(page, path):
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(path.as_uri())
    page.wait_for_selector(".js-plotly-plot .main-svg", state="visible")
    return requests


def test_export_works_from_file_urls(context, site, artifacts):
    page = context.new_page()
    requests = open_file(page, site / "trust.html")
    change_and_wait(page, lambda: page.select_option("#breakdown", "ethnicity"))
    rows = table_rows(page)
    assert assert_suppressed_rows_blank(rows) > 0
    labels = page.evaluate("""() => document.querySelector('.js-plotly-plot').layout.annotations
                                       .filter(a => """ + HIDDEN_JS + """.includes(a.text)).length""")
    assert labels == sum(r["flag"] == "suppressed" for r in rows)
    change_and_wait(page, lambda: page.select_option("#chart", "groups"))
    assert '"bar"' in chart_state(page)
    assert "breakdown=ethnicity" in page.url and "chart=groups" in page.url
    page.screenshot(path=str(artifacts / "export_trust.png"), full_page=True)
    # the URL reopens the view
    page.goto(page.url)
    page.reload()
    page.wait_for_selector(".js-plotly-plot .main-svg", state="visible")
    assert page.eval_on_selector("#breakdown", "s => s.value") == "ethnicity"
    assert_clean(page)
    assert all(url.startswith(("file:", "data:")) for url in requests), requests
    page.close()


def test_export_index_and_overview(context, site, artifacts):
    page = context.new_page()
    page.goto((site / "index.html").as_uri())
    links = page.eval_on_selector_all("a", "as => as.map(a => a.getAttribute('href'))")
    assert links == ["overview.html", "trust.html", "acceptability.html"]
    page.click("text=Overview")
    page.wait_for_selector(".js-plotly-plot .main-svg", state="visible")
    change_and_wait(page, lambda: page.select_option("#breakdown", "nation"), table=False)
    assert "heatmap" in chart_state(page)
    page.screenshot(path=str(artifacts / "export_overview.png"), full_page=True)
    assert_clean(page)
    page.close()

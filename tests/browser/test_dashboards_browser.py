"""The Voila dashboards in headless Chromium against a real Voila server.

What a manager sees: each dashboard renders its chart and table, every
control redraws both, suppressed cells show "n<100" (the test rule) and no number, no error
text or source code reaches the page, raw data files are not served, deep
links open their view, and the CSV download holds the table's rows.
"""

from __future__ import annotations

import csv
import http.client
import io
import re
from urllib.parse import urlsplit

import pytest

from .helpers import (HIDDEN, HIDDEN_JS, assert_clean, assert_suppressed_rows_blank,
                      change_and_wait, chart_state, open_dashboard, select, selected_label,
                      table_rows)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DASHBOARDS = ("overview", "trust", "acceptability")


@pytest.fixture(scope="module")
def trust(context, voila_url):
    page = context.new_page()
    open_dashboard(page, f"{voila_url}/voila/render/trust.ipynb")
    yield page
    page.close()


@pytest.mark.parametrize("name", DASHBOARDS)
def test_dashboard_renders_without_errors_or_source(context, voila_url, artifacts, name):
    page = context.new_page()
    open_dashboard(page, f"{voila_url}/voila/render/{name}.ipynb")
    assert page.locator(".st-title").inner_text().strip()
    assert len(table_rows(page)) > 0
    assert "n<100" in page.inner_text(".st-note")  # the small-base rule beside the table
    assert_clean(page)
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)
    page.close()


def test_every_control_updates_chart_and_table(trust, artifacts):
    page = trust
    change_and_wait(page, lambda: select(page, "indicator",
                                         "Trust their local council to use data about them (7-10 on 0-10)"))
    assert "council" in chart_state(page)
    change_and_wait(page, lambda: select(page, "breakdown", "Age"))
    assert {"18-34", "35-54", "55+"} <= {r["Group"].split(" (")[0] for r in table_rows(page)}
    change_and_wait(page, lambda: page.select_option(".st-control-waves select",
                                                     label=["2023", "2024"]))
    assert {r["Wave"] for r in table_rows(page)} == {"2023", "2024"}
    before = table_rows(page)
    # the chart and the notes name the method; the bands and the table's ends, shown to
    # whole per cent, may not move
    select(page, "ci", "Wilson")
    page.wait_for_function("""() => { const el = document.querySelector('.js-plotly-plot');
        return el && el.layout && (el.layout.annotations || []).some(
            a => (a.text || '').includes('(Wilson)')); }""")
    page.wait_for_function("() => document.querySelector('.st-note').innerText.includes('Wilson')")
    assert [r["Estimate"] for r in table_rows(page)] == [r["Estimate"] for r in before]
    change_and_wait(page, lambda: page.click(".st-control-chart button:has-text('Compare groups')"),
                    table=False)
    assert '"bar"' in chart_state(page)
    page.screenshot(path=str(artifacts / "trust_controls.png"), full_page=True)
    assert_clean(page)


def test_suppressed_cells_show_no_number(trust, artifacts):
    page = trust
    if selected_label(page, "breakdown") != "Ethnic group":
        change_and_wait(page, lambda: select(page, "breakdown", "Ethnic group"))
    rows = table_rows(page)
    assert assert_suppressed_rows_blank(rows) > 0, "expected suppressed groups in this view"
    # the chart labels every suppressed group's gap and draws nothing there
    labels = page.evaluate("""() => document.querySelector('.js-plotly-plot').layout.annotations
                                       .filter(a => """ + HIDDEN_JS + """.includes(a.text)).length""")
    assert labels == sum(r["flag"] == "suppressed" for r in rows)
    page.screenshot(path=str(artifacts / "trust_suppressed.png"), full_page=True)


def test_csv_download_holds_the_table(trust, tmp_path):
    page = trust
    with page.expect_download() as info:
        page.click("a.st-download")
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    records = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    shown = table_rows(page)
    assert len(records) == len(shown) > 0
    for record, row in zip(records, shown):
        if row["flag"] == "suppressed":
            assert record["estimate"] == record["ci_low"] == record["ci_high"] == record["n"] == ""
            assert record["note"] == row["Estimate"] == HIDDEN[row["Base"]]
        else:
            assert record["n"] == row["Base (n)"].replace(",", "")
            shown_number = float(re.match(r"[-+]?\d+(\.\d+)?", row["Estimate"]).group())
            assert float(record["estimate"]) == shown_number  # the CSV holds what is shown


def test_deep_link_opens_the_view(context, voila_url, artifacts):
    page = context.new_page()
    open_dashboard(page, f"{voila_url}/voila/render/trust.ipynb"
                         "?indicator=trust_nhs&breakdown=age&wave=2024&ci=beta&chart=groups")
    assert selected_label(page, "indicator").startswith("Trust the NHS")
    assert selected_label(page, "breakdown") == "Age"
    assert selected_label(page, "waves") == "2024"
    assert selected_label(page, "ci") == "Korn-Graubard (beta)"
    assert {r["Wave"] for r in table_rows(page)} == {"2024"}
    assert '"bar"' in chart_state(page)
    link = page.get_attribute("a.st-link", "href")
    assert "indicator=trust_nhs_high" in link and "ci=beta" in link and "wave=2024" in link
    page.screenshot(path=str(artifacts / "trust_deep_link.png"), full_page=True)
    # the shown link reopens the same view
    open_dashboard(page, f"{voila_url}{link}")
    assert selected_label(page, "ci") == "Korn-Graubard (beta)"
    page.close()


def test_overview_controls_update_heatmap_and_table(context, voila_url, artifacts):
    page = context.new_page()
    open_dashboard(page, f"{voila_url}/voila/render/overview.ipynb")
    assert '"heatmap"' in chart_state(page)
    # the headline table is for all adults: a breakdown changes the heatmap only
    change_and_wait(page, lambda: select(page, "breakdown", "Age"), table=False)
    assert "by age" in chart_state(page)
    change_and_wait(page, lambda: select(page, "topic", "Acceptability"))
    waves = page.eval_on_selector(".st-control-wave select",
                                  "s => Array.from(s.options).map(o => o.textContent)")
    change_and_wait(page, lambda: select(page, "wave", waves[-2]))
    assert {r["Wave"] for r in table_rows(page)} == {waves[-2]}
    select(page, "ci", "Wald")
    page.wait_for_function("() => document.querySelector('.st-note').innerText.includes('Wald')")
    assert_suppressed_rows_blank(table_rows(page))
    page.screenshot(path=str(artifacts / "overview_controls.png"), full_page=True)
    assert_clean(page)
    page.close()


DATA_PATHS = (
    "/voila/files/wave2021.sav",
    "/voila/files/../data/tracker/wave2021.sav",
    "/voila/files/%2E%2E/data/tracker/wave2021.sav",
    "/voila/files/..%2Fdata%2Ftracker%2Fwave2024.csv",
    "/voila/files/data/tracker/wave2024.csv",
    "/voila/files/trust.ipynb",
    "/voila/files/voila.json",
    "/voila/static/../../data/tracker/wave2021.sav",
    "/voila/api/contents/../data/tracker/wave2024.csv",
    "/voila/render/../data/tracker/wave2021.sav",
    "/data/tracker/wave2021.sav",
    "/voila/tree/../data/tracker/wave2024.csv",
)


def get_raw(voila_url: str, path: str, redirects: int = 3):
    """GET ``path`` as written (no client-side normalisation of ".."), following redirects."""
    url = urlsplit(voila_url)
    for _ in range(redirects + 1):
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        conn.close()
        if response.status not in (301, 302, 303, 307, 308):
            return response.status, body
        path = urlsplit(response.getheader("Location")).path
    raise AssertionError(f"too many redirects for {path}")


@pytest.mark.parametrize("path", DATA_PATHS)
def test_raw_data_files_are_not_served(voila_url, path):
    status, body = get_raw(voila_url, path)
    assert status in (403, 404), (path, status)
    assert b"$FL2" not in body and b"resp_id" not in body


def test_notebook_contents_are_not_served(voila_url):
    status, body = get_raw(voila_url, "/voila/api/contents/trust.ipynb?content=1")
    text = body.decode("utf-8", "replace")
    assert "from_manifest" not in text and "import" not in text
    assert re.search(r'"content":\s*null', text) or status in (403, 404)

"""What the browser tests do on a dashboard page (kept out of the tests for reuse)."""

from __future__ import annotations

import re

from playwright.sync_api import Page

CHART = ".js-plotly-plot"
TABLE = ".st-table"
#: Text that must never reach a manager's page.
ERROR_TEXT = ("Traceback", "There was an error when executing", "Exception", "SurveyError",
              "st-error")
SOURCE_TEXT = ("import surveytools", "from surveytools", ".from_manifest(", "QUERY_STRING")


def open_dashboard(page: Page, url: str) -> None:
    """Load a dashboard and wait until its chart and table are drawn."""
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector(f"{CHART} .main-svg", state="visible")
    page.wait_for_selector(TABLE, state="visible")


def chart_state(page: Page) -> str:
    """The drawn figure's traces and title, as one string (changes when the chart does)."""
    return page.evaluate(
        """() => { const el = document.querySelector('.js-plotly-plot');
               return JSON.stringify([el.layout.title && el.layout.title.text,
                   el.data.map(t => [t.type, t.name, t.x, t.y, t.z])]); }""")


def table_text(page: Page) -> str:
    return page.inner_text(TABLE)


def change_and_wait(page: Page, action, *, table: bool = True) -> None:
    """Run ``action`` and wait until the chart (and, if ``table``, the table) has changed."""
    before_chart, before_table = chart_state(page), table_text(page)
    action()
    page.wait_for_function(
        """([chart, table]) => { const el = document.querySelector('.js-plotly-plot');
             const t = document.querySelector('.st-table');
             if (!el || !el.data || !el.data.length || !t) return false;  // mid-redraw
             const now = JSON.stringify([el.layout.title && el.layout.title.text,
                 el.data.map(tr => [tr.type, tr.name, tr.x, tr.y, tr.z])]);
             return now !== chart && (table === null || t.innerText !== table); }""",
        arg=[before_chart, before_table if table else None])


def select(page: Page, control: str, label) -> None:
    page.select_option(f".st-control-{control} select", label=label)


def selected_label(page: Page, control: str) -> str:
    return page.eval_on_selector(f".st-control-{control} select",
                                 "s => Array.from(s.selectedOptions).map(o => o.textContent).join(',')"
                                 ).replace("\xa0", " ")  # ipywidgets writes labels with nbsp


def table_rows(page: Page) -> list[dict]:
    """The table as a list of {header: cell text} with the row's base flag under ``flag``."""
    return page.evaluate(
        """() => { const t = document.querySelector('.st-table');
              const heads = Array.from(t.querySelectorAll('th')).map(h => h.innerText.trim());
              return Array.from(t.querySelectorAll('tbody tr')).map(tr => {
                  const row = {flag: tr.dataset.flag};
                  Array.from(tr.querySelectorAll('td')).forEach((td, i) => row[heads[i]] = td.innerText.trim());
                  return row; }); }""")


#: What a hidden row shows, by what its "Base" column says: the test rule's label for a
#: small base, "[c]" for a group hidden so that the small one cannot be worked out.
HIDDEN = {"too small: suppressed": "n<100", "hidden: would reveal a suppressed group": "[c]"}
#: The chart's labels of hidden cells, as a JavaScript array.
HIDDEN_JS = "['n<100', '[c]']"


def assert_suppressed_rows_blank(rows: list[dict]) -> int:
    """Every suppressed row shows its label, in the estimate and the base, and no number;
    returns how many there were."""
    suppressed = [r for r in rows if r["flag"] == "suppressed"]
    for row in suppressed:
        assert row["Estimate"] == row["Base (n)"] == HIDDEN[row["Base"]], row
        for column in ("95% CI", "Change since previous wave", "Significantly higher than"):
            assert not re.search(r"\d", row.get(column, "")), row
    return len(suppressed)


def assert_clean(page: Page) -> None:
    """No error text, traceback or source code anywhere in the page."""
    content = page.content()
    for text in ERROR_TEXT + SOURCE_TEXT:
        assert text not in content, f"{text!r} is on the page"


# -- views that may have nothing to show ---------------------------------------------------
def chart_message(page: Page) -> str | None:
    """The sentence a chart shows instead of a chart (None when it draws one)."""
    return page.evaluate(
        """() => { const el = document.querySelector('.js-plotly-plot');
               const a = ((el.layout && el.layout.annotations) || [])
                   .find(a => a.name === 'nothing to show');
               return a ? a.text.replaceAll('<br>', ' ') : null; }""")


def open_view(page: Page, url: str) -> None:
    """Load a dashboard and wait until its chart, or the sentence saying why there is none,
    is drawn (a view with nothing to show has no table)."""
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector(f"{CHART} .main-svg", state="visible")
    page.wait_for_selector("a.st-link", state="attached")


def view_link(page: Page) -> str:
    return page.get_attribute("a.st-link", "href")


def change_view(page: Page, action) -> None:
    """Run ``action`` (a control change) and wait until the page shows the new view: its
    link names it, and the chart has traces or says why it has none."""
    before = view_link(page)
    action()
    page.wait_for_function(
        """(before) => { const a = document.querySelector('a.st-link');
             const el = document.querySelector('.js-plotly-plot');
             if (!a || a.getAttribute('href') === before || !el || !el.layout) return false;
             const said = (el.layout.annotations || []).some(x => x.name === 'nothing to show');
             return (el.data && el.data.length > 0) !== said; }""", arg=before)


def assert_chart_or_reason(page: Page) -> str | None:
    """The chart is visible and either draws something or says why not; returns the reason."""
    assert page.locator(f"{CHART} .main-svg").first.is_visible()
    reason = chart_message(page)
    if reason is None:
        assert page.evaluate("() => document.querySelector('.js-plotly-plot').data.length") > 0
    else:
        assert reason.endswith(".") and len(reason) > 30, reason
    return reason

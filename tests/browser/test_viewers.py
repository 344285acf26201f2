"""Viewers in headless Chromium on ``surveytools serve``: several at once, leaving, kernels dying.

The server is ``python -m surveytools.presentation.serve`` (not a bare
``voila``) on the strict example tracker, on a free localhost port, with the
project's ``dashboards/voila.json`` (a copy of the folder, so that the idle
timeouts are short enough to watch).  Every wait is on a condition with a
generous bound (a loaded 2-core machine is slow, not broken).
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time
from pathlib import Path

import pytest

from .conftest import ROOT
from .helpers import CHART, ERROR_TEXT, TABLE, select, selected_label

sys.path.insert(0, str(ROOT / "benchmarks"))
import bench_viewers as bv  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: Bounds for one page under load (kernel fork, notebook, widgets, plotly drawing).
PAGE_MS = 300_000
#: One pre-heated kernel per dashboard, refilled at once.  A page that has not connected is
#: culled after two minutes (not sooner: on a loaded machine Chromium may take that long
#: between a page's HTML and its websocket, and the page would rightly say it stopped).
SETTINGS = {"VoilaConfiguration": {"preheat_kernel": True, "default_pool_size": 1},
            "VoilaKernelManager": {"fill_delay": 0.5, "refill_spacing": 0.2},
            "DashboardKernelManager": {"disconnect_grace": 2, "unconnected_timeout": 120,
                                       "cull_interval": 2}}


@pytest.fixture(scope="module")
def served(tmp_path_factory, manifest, artifacts):
    """The server, its pid, its log and its notebooks.  The log is the server's own (another
    session may run these tests at the same time) and is copied to the artifacts folder."""
    proc, base, log, folder = bv.serve_copy(tmp_path_factory.mktemp("viewers"), manifest,
                                            SETTINGS, timeout=240)
    try:
        yield base, proc.pid, log, sorted(p.name for p in folder.glob("*.ipynb"))
    finally:
        bv.stop_server(proc)
        shutil.copy(log, artifacts / "serve-viewers.log")


def pool_ready(pid: int, log: Path, notebooks) -> bool:
    """One kernel per dashboard, each a pool kernel that the server's log says is ready
    (the viewers of the test before freed, the pool refilled)."""
    return bv.wait_for_pool(pid, log, notebooks, 240)


def new_page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(PAGE_MS)
    return context, context.new_page()


def other_option(page, control: str) -> str:
    current = selected_label(page, control)
    labels = page.eval_on_selector_all(f".st-control-{control} select option",
                                       "os => os.map(o => o.textContent.replace(/\\u00a0/g, ' '))")
    return next(label for label in labels if label != current)


def test_concurrent_viewers_are_served_and_their_kernels_freed(browser, served, artifacts):
    base, pid, log, notebooks = served
    assert pool_ready(pid, log, notebooks)
    dashboards = ["trust", "overview", "acceptability", "trust"]
    opened = []
    bundle_requests = []
    for name in dashboards:  # all pages asked for before any is awaited: they load together
        context, page = new_page(browser)
        page.on("request", lambda r: "plotly-widget." in r.url and bundle_requests.append(r.url))
        page.goto(f"{base}/voila/render/{name}.ipynb", wait_until="commit")
        opened.append((context, page))
    for _, page in opened:
        page.wait_for_selector(f"{CHART} .main-svg", state="visible")
        page.wait_for_selector(TABLE, state="visible")
    assert bv.count_kernels(pid) >= len(dashboards)
    assert bundle_requests, "plotly's widget code is loaded from the server as a file"
    for (_, page), name in zip(opened, dashboards):
        label = other_option(page, "breakdown")
        before = page.inner_text("body")
        select(page, "breakdown", label)
        try:
            page.wait_for_function("before => document.body.innerText !== before", arg=before)
        except Exception:
            page.screenshot(path=str(artifacts / f"viewers-unchanged-{name}.png"))
            raise
        assert selected_label(page, "breakdown") == label
        body = page.inner_text("body")
        assert not any(text in body for text in ERROR_TEXT)
    opened[0][1].screenshot(path=str(artifacts / "viewers-concurrent.png"))
    for context, _ in opened:
        context.close()
    assert pool_ready(pid, log, notebooks)  # the viewers' kernels freed, the pool refilled


def page_kernel(page) -> str:
    return page.evaluate("() => JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId")


def test_closing_a_tab_frees_its_kernel_through_the_pages_beacon(browser, served):
    base, pid, log, notebooks = served
    assert pool_ready(pid, log, notebooks)
    context, page = new_page(browser)
    page.goto(f"{base}/voila/render/trust.ipynb", wait_until="domcontentloaded")
    page.wait_for_selector(f"{CHART} .main-svg", state="visible")
    kernel_id = page_kernel(page)
    assert bv.kernel_process(pid, kernel_id) is not None
    page.close(run_before_unload=True)
    deadline = time.monotonic() + 120
    while bv.kernel_process(pid, kernel_id) is not None and time.monotonic() < deadline:
        time.sleep(0.5)
    assert bv.kernel_process(pid, kernel_id) is None
    context.close()
    text = log.read_text()
    assert "Page closed: shutting down kernel" in text  # the beacon, with its _xsrf, was accepted
    assert "'_xsrf' argument missing" not in text


def test_a_page_whose_kernel_died_says_so_and_offers_a_way_back(browser, served, artifacts):
    base, pid, log, notebooks = served
    assert pool_ready(pid, log, notebooks)
    context, page = new_page(browser)
    page.goto(f"{base}/voila/render/overview.ipynb", wait_until="domcontentloaded")
    page.wait_for_selector(f"{CHART} .main-svg", state="visible")
    kernel = bv.kernel_process(pid, page_kernel(page))
    os.kill(kernel.pid, signal.SIGKILL)
    page.wait_for_selector(".st-kernel-lost", state="visible", timeout=120_000)
    message = page.inner_text(".st-kernel-lost")
    assert "stopped" in message and "Reload the dashboard" in message
    assert not any(text in message for text in ERROR_TEXT)
    page.screenshot(path=str(artifacts / "viewers-kernel-lost.png"))
    page.click(".st-kernel-reload")
    page.wait_for_selector(f"{CHART} .main-svg", state="visible")
    assert page.query_selector(".st-kernel-lost") is None
    context.close()
    assert pool_ready(pid, log, notebooks)

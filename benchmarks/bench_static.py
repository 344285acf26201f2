"""Benchmark: many concurrent viewers of the static dashboards (``surveytools serve --static``).

The static site (``surveytools export-dashboard``) holds every view of the
dashboards as data in its pages: a control change redraws in the browser,
with no request and no kernel.  What one server has to do per viewer is
send a page and the plotly bundle, so this is the way to serve audiences
larger than one live dashboard server holds (``bench_viewers.py``).

Two parts, both on 127.0.0.1:

1. **Server**: N viewers arrive at once (round robin over the pages); each
   fetches its page and the plotly bundle the page loads, as a browser
   with an empty cache does.  ``fetch_s``: seconds until both have arrived;
   errors are any status but 200 or a body shorter than the file.  Memory:
   the server process's RSS at its peak.
2. **Browser**: one headless Chromium opens each page from the server and
   measures ``first_chart_s`` (navigation until the chart is drawn) and
   ``control_ms`` (a breakdown change until the chart shows the new view),
   ``--changes`` times.  That work is done by each viewer's own browser,
   not by the server, so it does not grow with N.

The first chart for a viewer is then at most ``fetch_s + first_chart_s``.

Usage::

    .venv/bin/python benchmarks/bench_static.py --viewers 20 50

Writes ``benchmarks/results/static-<N>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import bench_viewers as bv  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
PAGES = ("trust.html", "acceptability.html", "overview.html")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def percentiles(values) -> dict:
    values = np.asarray(values, dtype=float)
    if not len(values):
        return {"p50": None, "p95": None, "max": None}
    return {"p50": round(float(np.percentile(values, 50)), 4),
            "p95": round(float(np.percentile(values, 95)), 4), "max": round(float(values.max()), 4)}


def rss_mb(pid: int) -> float:
    """Resident memory of the server's process tree, in MB."""
    return round(sum(p.memory_info().rss for p in bv.server_tree(pid)) / 2**20, 1)


def bundle_of(page: Path) -> str:
    """The plotly bundle a page loads (``<script src="...">``)."""
    return re.search(r'<script src="([^"]+\.js)"', page.read_text(encoding="utf-8")).group(1)


async def one_viewer(base: str, page: str, bundle: str, sizes: dict) -> dict:
    from tornado.httpclient import AsyncHTTPClient, HTTPClientError

    client = AsyncHTTPClient(max_clients=1000)
    start = time.perf_counter()
    try:
        for path in (page, bundle):
            response = await client.fetch(f"{base}/{path}", request_timeout=120)
            if response.code != 200 or len(response.body) != sizes[path]:
                return {"fetch_s": None, "error": f"{path}: {response.code}, {len(response.body)} bytes"}
    except (HTTPClientError, OSError) as error:
        return {"fetch_s": None, "error": f"{type(error).__name__}: {error}"}
    return {"fetch_s": time.perf_counter() - start, "error": None}


async def viewers(base: str, n: int, bundle: str, sizes: dict) -> list[dict]:
    from tornado.httpclient import AsyncHTTPClient

    AsyncHTTPClient.configure(None, max_clients=max(10, n))
    return await asyncio.gather(*(one_viewer(base, PAGES[i % len(PAGES)], bundle, sizes)
                                  for i in range(n)))


def browser_times(base: str, changes: int) -> dict:
    """First chart and control changes of each page in one headless Chromium."""
    from playwright.sync_api import sync_playwright

    first, control = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for page_name in PAGES:
            context = browser.new_context(viewport={"width": 1280, "height": 1000})
            page = context.new_page()
            start = time.perf_counter()
            page.goto(f"{base}/{page_name}")
            page.wait_for_selector(".js-plotly-plot .main-svg", state="visible", timeout=120_000)
            first.append(time.perf_counter() - start)
            options = page.eval_on_selector_all("#breakdown option", "os => os.map(o => o.value)")
            for i in range(changes):
                before = page.evaluate("() => JSON.stringify(document.querySelector('.js-plotly-plot').data.map(t => [t.name, t.y, t.z]))")
                target = options[(i + 1) % len(options)]
                if target == page.eval_on_selector("#breakdown", "s => s.value"):
                    continue
                start = time.perf_counter()
                page.select_option("#breakdown", target)
                page.wait_for_function(
                    "(before) => { const el = document.querySelector('.js-plotly-plot');"
                    " return el && el.data && JSON.stringify(el.data.map(t => [t.name, t.y, t.z])) !== before; }",
                    arg=before, timeout=60_000)
                control.append((time.perf_counter() - start) * 1000)
            context.close()
        browser.close()
    return {"first_chart_s": percentiles(first), "control_ms": percentiles(control),
            "changes": len(control)}


def run(args, n: int, site: Path, export_s: float) -> dict:
    port = bv.free_port()
    log = Path(tempfile.mkdtemp()) / "serve-static.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log.open("w") as handle:
        proc = subprocess.Popen(
            [sys.executable, "-m", "surveytools.presentation.serve", args.manifest,
             "--static", str(site), f"--port={port}"],
            cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        bv.wait_until_up(base + "/", proc, timeout=300)
        bundle = bundle_of(site / PAGES[0])
        sizes = {path: (site / path).stat().st_size for path in (*PAGES, bundle)}
        rss_before = rss_mb(proc.pid)
        wall = time.perf_counter()
        results = asyncio.run(viewers(base, n, bundle, sizes))
        wall = time.perf_counter() - wall
        rss_after = rss_mb(proc.pid)
        browser = browser_times(base, args.changes)
    finally:
        bv.stop_server(proc)
    fetched = [r["fetch_s"] for r in results if r["fetch_s"] is not None]
    return {
        "viewers": n, "errors": sum(r["error"] is not None for r in results),
        "error_examples": [r["error"] for r in results if r["error"]][:5],
        "fetch_s": percentiles(fetched), "wall_s": round(wall, 2),
        "bytes_per_viewer": sizes[PAGES[0]] + sizes[bundle],
        "browser": browser,
        "first_chart_bound_p95_s": (round(percentiles(fetched)["p95"] + browser["first_chart_s"]["p95"], 3)
                                    if fetched else None),
        "server_rss_mb": {"before": rss_before, "after": rss_after},
        "export_s": round(export_s, 1), "kernels": 0,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_1min": round(os.getloadavg()[0], 2)},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", default=str(bv.MANIFEST))
    parser.add_argument("--viewers", type=int, nargs="+", default=[20, 50])
    parser.add_argument("--changes", type=int, default=10)
    args = parser.parse_args(argv)

    from surveytools.presentation.export import export_site

    site = Path(tempfile.mkdtemp()) / "site"
    start = time.perf_counter()
    export_site(args.manifest, site)
    export_s = time.perf_counter() - start
    for n in args.viewers:
        result = run(args, n, site, export_s)
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / f"static-{n}.json").write_text(json.dumps(result, indent=1) + "\n")
        print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

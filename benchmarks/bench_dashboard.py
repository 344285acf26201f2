"""Benchmark: dashboard start-up and the server-side time of a control change.

On the example tracker (``data/tracker/waves.toml``):

* ``startup_cold_s``: App construction with an empty cube cache (read the
  waves, build and store the indicator cube, draw the first view);
* ``startup_warm_s``: App construction when the cube is stored (what a Voila
  kernel does after ``python -m surveytools.indicators.store``);
* ``kernel_first_render_s``: a fresh Python process that imports the
  dashboard and builds the app from the cache, as a Voila kernel does
  (median of a few processes);
* ``update_ms``: server-side time of a control change (view -> figure +
  table + CSV + notes pushed to the widgets), median and p95 over many changes
  cycling through every control of every app (target < 150 ms);
* ``browser_first_chart_s`` (``--browser``): a real Voila server and headless
  Chromium: from navigation to the plotly chart being visible, per dashboard
  (first and second visit of each page, ``--settle`` seconds after the server
  started, so that Voila has pre-heated a kernel per dashboard).

Writes ``benchmarks/results/dashboard.json``.  Usage::

    .venv/bin/python benchmarks/bench_dashboard.py [--changes 300] [--browser]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "data" / "tracker" / "waves.toml"
RESULTS = Path(__file__).resolve().parent / "results" / "dashboard.json"

KERNEL = """
import time, os
start = time.perf_counter()
os.environ["VOILA_REQUEST_URL"] = "http://127.0.0.1/voila/render/trust.ipynb"
from surveytools.presentation.dashboard import TrustApp
TrustApp.from_manifest({manifest!r}, query="")
print(time.perf_counter() - start)
"""


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def startup(cache_dir: str | None) -> float:
    from surveytools.presentation.dashboard import TrustApp

    previous = os.environ.get("SURVEYTOOLS_CACHE_DIR")
    if cache_dir is not None:
        os.environ["SURVEYTOOLS_CACHE_DIR"] = cache_dir
    try:
        seconds, _ = timed(lambda: TrustApp.from_manifest(MANIFEST, query=""))
    finally:
        if cache_dir is not None:
            if previous is None:
                del os.environ["SURVEYTOOLS_CACHE_DIR"]
            else:
                os.environ["SURVEYTOOLS_CACHE_DIR"] = previous
    return seconds


def kernel_starts(runs: int) -> list[float]:
    code = KERNEL.format(manifest=str(MANIFEST))
    return [float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                 text=True).stdout.strip().splitlines()[-1]) for _ in range(runs)]


def control_values(app) -> list[tuple[str, object]]:
    """(control, value) pairs that cycle every control through some of its options."""
    pairs = []
    for name, control in app.controls.items():
        if name == "waves":
            waves = list(control.options)
            choices = [tuple(waves), tuple(waves[-2:]), tuple(waves[:1] + waves[-1:])]
        else:
            values = [o[1] if isinstance(o, tuple) else o for o in control.options]
            choices = values[:4] if len(values) > 1 else []
        pairs += [(name, v) for v in choices if v != control.value][:3]
    return pairs


def update_times(changes: int) -> list[float]:
    from surveytools.indicators.store import CubeCache
    from surveytools.presentation.dashboard import APPS

    cubes = CubeCache.from_manifest(MANIFEST)
    times = []
    for app_class in APPS:
        app = app_class(cubes, query="")
        for name, value in itertools.islice(itertools.cycle(control_values(app)), changes // len(APPS)):
            if app.controls[name].value == value:
                continue
            seconds, _ = timed(lambda: setattr(app.controls[name], "value", value))
            times.append(seconds)
    return times


def browser_first_chart(settle: float) -> dict:
    sys.path.insert(0, str(ROOT / "tests"))
    from bench_viewers import free_port, stop_server, wait_until_up
    from browser.conftest import CHROMIUM, CHROMIUM_ARGS, start_voila
    from playwright.sync_api import sync_playwright

    port = free_port()
    log = Path(tempfile.mkdtemp()) / "voila.log"
    proc = start_voila(port, log, MANIFEST)
    out = {}
    try:
        wait_until_up(f"http://127.0.0.1:{port}/", proc, timeout=60, log=log)
        time.sleep(settle)  # lets Voila pre-heat its kernels (dashboards/voila.json)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            for visit in ("first", "second"):
                for name in ("overview", "trust", "acceptability"):
                    start = time.perf_counter()
                    page.goto(f"http://127.0.0.1:{port}/voila/render/{name}.ipynb")
                    page.wait_for_selector(".js-plotly-plot .main-svg", state="visible", timeout=180_000)
                    out[f"{name}_{visit}_visit"] = round(time.perf_counter() - start, 2)
            browser.close()
    finally:
        stop_server(proc)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=300)
    parser.add_argument("--kernels", type=int, default=3)
    parser.add_argument("--browser", action="store_true")
    parser.add_argument("--settle", type=float, default=30,
                        help="seconds between server start and the first visit")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as empty_cache:
        cold = startup(empty_cache)
    startup(None)  # fills the user cache if needed
    warm = startup(None)
    kernels = kernel_starts(args.kernels)
    updates = update_times(args.changes)
    ordered = sorted(updates)
    result = {
        "manifest": str(MANIFEST.relative_to(ROOT)),
        "startup_cold_s": round(cold, 2),
        "startup_warm_s": round(warm, 3),
        "kernel_first_render_s": {"median": round(statistics.median(kernels), 2),
                                  "runs": [round(k, 2) for k in kernels]},
        "update_ms": {"changes": len(updates),
                      "median": round(1000 * statistics.median(updates), 1),
                      "p95": round(1000 * ordered[int(0.95 * (len(ordered) - 1))], 1),
                      "max": round(1000 * ordered[-1], 1), "target": 150},
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "load_average_1min": round(os.getloadavg()[0], 2)},
    }
    if args.browser:
        result["browser_first_chart_s"] = {"settle_s": args.settle, **browser_first_chart(args.settle)}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

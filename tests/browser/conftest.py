"""Fixtures of the browser tests: real Voila servers and headless Chromium.

A server runs the project's dashboards as served to managers: from the
``dashboards/`` folder (so Voila reads ``dashboards/voila.json``), on a free
localhost port, for one manifest (``$SURVEYTOOLS_MANIFEST``).  ``voila_url``
serves the example tracker's waves through a manifest with a stricter
small-base rule (see ``fixtures.py``), so that suppression shows;
``scaffolded_voila_url`` serves a tracker that is not the example's,
scaffolded by ``surveytools init`` (``fixtures.write_scaffolded_tracker``).
Each cube is built (and cached) before its server starts, as ``make serve``
should do, so each page load measures the dashboard, not the estimation.
Chromium is the system's (``/usr/bin/chromium``); no browser is ever
downloaded.  Screenshots go to ``tests/artifacts/``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from .fixtures import write_scaffolded_tracker, write_strict_tracker

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_viewers import free_port, stop_server, wait_until_up  # noqa: E402  (one set of server helpers)

DASHBOARDS = ROOT / "dashboards"
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
#: Time for a page: kernel start, reading the waves, building the cube, drawing.
PAGE_TIMEOUT_MS = 240_000  # generous: a busy 2-core machine is slow, not broken


def start_voila(port: int, log: Path, manifest: Path) -> subprocess.Popen:
    """``voila .`` in dashboards/ (as ``make serve`` should run it), logging to ``log``."""
    voila = Path(sys.executable).with_name("voila")
    handle = log.open("w")
    return subprocess.Popen(
        [str(voila), ".", f"--port={port}", "--no-browser", "--Voila.ip=127.0.0.1"],
        cwd=DASHBOARDS, stdout=handle, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "SURVEYTOOLS_MANIFEST": str(manifest)},
        start_new_session=True,
    )


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def strict_manifest(tmp_path_factory) -> Path:
    from surveytools.indicators.store import warm

    manifest = write_strict_tracker(tmp_path_factory.mktemp("tracker"))
    warm(manifest)
    return manifest


@contextmanager
def serving(manifest: Path, log: Path):
    """A Voila server on ``manifest`` while the block runs; yields its base URL."""
    port = free_port()
    proc = start_voila(port, log, manifest)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url + "/", proc, timeout=60, log=log)
        yield url
    finally:
        stop_server(proc)


@pytest.fixture(scope="session")
def voila_url(artifacts, strict_manifest):
    with serving(strict_manifest, artifacts / "voila.log") as url:
        yield url


@pytest.fixture(scope="session")
def scaffolded_manifest(tmp_path_factory) -> Path:
    """The scaffolded two-wave tracker, with bases under 200 suppressed (every region)."""
    from surveytools.indicators.store import warm

    manifest = write_scaffolded_tracker(tmp_path_factory.mktemp("scaffolded"), suppress_below=200)
    warm(manifest)
    return manifest


@pytest.fixture(scope="module")
def scaffolded_voila_url(artifacts, scaffolded_manifest):
    with serving(scaffolded_manifest, artifacts / "voila_scaffolded.log") as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make system-deps)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def context(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    ctx.set_default_timeout(PAGE_TIMEOUT_MS)
    yield ctx
    ctx.close()

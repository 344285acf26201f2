"""Fixtures shared by the test modules.

Read-only data are built once per session: a ``Tracker`` and the
``IndicatorCube`` are immutable, and the strict manifest's folder is only
read (caches go to the surveytools cache directory, not beside it).  A test
that needs to change one of them makes a copy (``.replace(...)``) or builds
its own in ``tmp_path``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: The bundled example tracker (four waves, 2021-2024; see data/README.md).
TRACKER_MANIFEST = ROOT / "data" / "tracker" / "waves.toml"


@pytest.fixture(scope="session")
def tracker():
    """The example tracker, read through its manifest."""
    import surveytools as st

    return st.read_waves(TRACKER_MANIFEST)


@pytest.fixture(scope="session")
def cube(tracker):
    """The production indicator cube of the example tracker (the manifest's small-base
    rule, logit intervals, BH-adjusted letters)."""
    import surveytools as st

    return st.cube(tracker)


@pytest.fixture(scope="session")
def manifest(tmp_path_factory):
    """The example tracker's waves through a manifest that suppresses bases under 100
    and flags under 200, with a few indicators and breakdowns (tests/browser/fixtures.py)."""
    from browser.fixtures import FEW_BREAKDOWNS, FEW_INDICATORS, write_strict_tracker

    return write_strict_tracker(tmp_path_factory.mktemp("strict_tracker"),
                                indicators=FEW_INDICATORS, breakdowns=FEW_BREAKDOWNS)

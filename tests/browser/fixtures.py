"""Trackers the dashboard tests run on.

:func:`write_strict_tracker`: a copy of the example tracker's manifest with a
stricter small-base rule.  The example waves have no group under 50
respondents, so at the default rule nothing is suppressed.  To see
suppression in charts, tables, downloads and exports, the tests use the same
wave files through a manifest that suppresses bases under 100 and flags bases
under 200 (ethnic groups, Wales, Northern Ireland and some regions fall
below).  Optionally the catalogue and the breakdowns are cut to a few
entries, so that the cube is quick to build.

:func:`write_scaffolded_tracker`: a tracker that is not the example's, as a
user would make it: two BSA-style waves (``tests/fixtures/realworld.py``,
``two_surveys``: a mode change makes 2023 a series break, one question is
reworded, one is asked in 2023 only) scaffolded by ``surveytools init``.  Its
catalogue has none of the example's topics.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TRACKER = ROOT / "data" / "tracker"
SUPPRESS_BELOW, FLAG_BELOW = 100, 200
#: A few indicators covering each kind, a renamed question (trust_govt) and one
#: first asked in 2023 (accept_exams).
FEW_INDICATORS = ("trust_nhs_high", "trust_govt_high", "secure_nhs_trust", "accept_exams_share",
                  "accept_exams_net", "accept_facial_net", "ai_awareness_mean", "ai_use_month_yes")
FEW_BREAKDOWNS = ("age", "ethnicity", "nation")


def _blocks(text: str, table: str, keep) -> str:
    head, *blocks = re.split(rf"^\[\[{table}\]\]$", text, flags=re.M)
    kept = [b for b in blocks if re.search(r'^name = "([^"]+)"', b, re.M).group(1) in keep]
    assert len(kept) == len(keep), f"some of {keep} are not in the {table} file"
    return head + "".join(f"[[{table}]]{b}" for b in kept)


def write_strict_tracker(folder: Path, *, indicators=None, breakdowns=None) -> Path:
    """Write ``waves.toml`` (+ catalogue and breakdowns) into ``folder``; return the manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = (TRACKER / "waves.toml").read_text(encoding="utf-8")
    manifest = re.sub(r"suppress_below = \d+", f"suppress_below = {SUPPRESS_BELOW}", manifest)
    manifest = re.sub(r"flag_below = \d+", f"flag_below = {FLAG_BELOW}", manifest)
    manifest = re.sub(r'^(file|codebook) = "([^"]+)"',
                      lambda m: f'{m.group(1)} = "{(TRACKER / m.group(2)).as_posix()}"', manifest,
                      flags=re.M)
    assert f"suppress_below = {SUPPRESS_BELOW}" in manifest
    (folder / "waves.toml").write_text(manifest, encoding="utf-8")
    catalogue = (TRACKER / "indicators.toml").read_text(encoding="utf-8")
    groups = (TRACKER / "breakdowns.toml").read_text(encoding="utf-8")
    if indicators is not None:
        catalogue = _blocks(catalogue, "indicator", indicators)
    if breakdowns is not None:
        groups = _blocks(groups, "breakdown", breakdowns)
    (folder / "indicators.toml").write_text(catalogue, encoding="utf-8")
    (folder / "breakdowns.toml").write_text(groups, encoding="utf-8")
    return folder / "waves.toml"


def write_scaffolded_tracker(folder: Path, *, suppress_below: int | None = None) -> Path:
    """Write the two-wave fixture files into ``folder/in`` and scaffold a tracker from them
    into ``folder/tracker``; return its manifest.

    ``suppress_below`` (with ``flag_below`` twice that) replaces the scaffold's small-base
    rule: at 200 every group of the region breakdown, and telephone respondents, are
    suppressed.
    """
    from fixtures import realworld

    from surveytools.scaffold import scaffold_tracker

    paths, _ = realworld.two_surveys(folder / "in")
    scaffold_tracker(list(paths), folder / "tracker")
    manifest = folder / "tracker" / "waves.toml"
    if suppress_below is not None:
        text = manifest.read_text(encoding="utf-8")
        text = re.sub(r"^suppress_below = \d+", f"suppress_below = {suppress_below}", text, flags=re.M)
        text = re.sub(r"^flag_below = \d+", f"flag_below = {2 * suppress_below}", text, flags=re.M)
        assert f"suppress_below = {suppress_below}" in text
        manifest.write_text(text, encoding="utf-8")
    return manifest

"""Benchmark: the indicator cube of the example tracker.

Times (median of a few runs, the waves already read):

* ``cube_full``: every indicator x breakdown x wave with significance
  letters (pairwise tests + Benjamini-Hochberg) and wave changes, as
  :func:`surveytools.cube` builds it (target < 2 s);
* ``cube_estimates``: the same estimates without letters or changes
  (issue 3's "full indicator cube", target < 1 s).

Writes ``benchmarks/results/cube.json``.  Usage:
``python benchmarks/bench_cube.py [--runs 5]``

The variance kernels multiply small matrices; on a busy machine OpenBLAS's
threads can make that several times slower, so the JSON records
``OPENBLAS_NUM_THREADS`` (run with ``OPENBLAS_NUM_THREADS=1`` to compare).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import surveytools as st
from surveytools.indicators.cells import TOTAL, asked, estimate, stacked_cells

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "data" / "tracker" / "waves.toml"
RESULTS = Path(__file__).resolve().parent / "results" / "cube.json"


def estimates_only(tracker, catalogue, breakdowns) -> int:
    """Every indicator x group x wave estimate, nothing derived; returns how many."""
    count = 0
    for wave in tracker.names:
        survey = stacked_cells(tracker[wave], catalogue, (TOTAL, *breakdowns))
        for indicator in catalogue:
            if asked(survey, indicator.question):
                count += len(estimate(survey, indicator).table)
    return count


def timed(function, runs: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    tracker = st.read_waves(MANIFEST)
    full = st.cube(tracker)  # warm-up, and the checked catalogue/breakdowns
    catalogue, breakdowns = full.catalogue, full.breakdowns
    n_estimates = estimates_only(tracker, catalogue, breakdowns)

    median_full, runs_full = timed(lambda: st.cube(tracker), args.runs)
    median_est, runs_est = timed(lambda: estimates_only(tracker, catalogue, breakdowns),
                                 args.runs)
    result = {
        "benchmark": "cube",
        "manifest": str(MANIFEST.relative_to(ROOT)),
        "waves": len(tracker),
        "respondents": sum(len(tracker[w]) for w in tracker.names),
        "indicators": len(catalogue),
        "breakdowns": len(breakdowns) + 1,
        "estimates": n_estimates,
        "cube_rows": len(full.frame),
        "runs": args.runs,
        "cube_full_seconds": round(median_full, 4),
        "cube_full_target_seconds": 2.0,
        "cube_estimates_seconds": round(median_est, 4),
        "cube_estimates_target_seconds": 1.0,
        "all_runs": {"cube_full": [round(t, 4) for t in runs_full],
                     "cube_estimates": [round(t, 4) for t in runs_est]},
        "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
        "cpus": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{'measure':<16} {'median s':>9} {'target s':>9}")
    print(f"{'cube_full':<16} {median_full:>9.3f} {2.0:>9.1f}")
    print(f"{'cube_estimates':<16} {median_est:>9.3f} {1.0:>9.1f}")
    print(f"{n_estimates} estimates, {len(full.frame)} cube rows -> {RESULTS}")


if __name__ == "__main__":
    main()

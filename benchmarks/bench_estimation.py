"""Benchmark: domain proportions with SEs, surveytools vs R's survey package.

1,000,000 respondents, 200 strata, 2,000 PSUs (10 per stratum), 8 domains.
Python: ``survey.proportion("y", value=1, by="g")``; R:
``svyby(~y, ~g, design, svymean)`` timed with ``system.time`` inside one R
session (the data are generated once here and handed to R as CSV; reading
it is not timed).  Reported: (a) estimation only, (b) design set-up counted
on both sides (Survey construction + preparation vs ``svydesign()``).
Medians of a few runs.  Writes ``benchmarks/results/estimation.json``.

Run from the repository root::

    .venv/bin/python benchmarks/bench_estimation.py [--runs 3] [--n 1000000]
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import surveytools as st

RESULTS = Path(__file__).parent / "results" / "estimation.json"

R_SCRIPT = r"""
suppressMessages(library(survey))
args <- commandArgs(TRUE)
df <- read.csv(args[1])
runs <- as.integer(args[2])
setup <- estimation <- numeric(runs)
for (i in seq_len(runs)) {
  setup[i] <- system.time(d <- svydesign(id = ~psu, strata = ~stratum, weights = ~w,
                                         nest = TRUE, data = df))[["elapsed"]]
  estimation[i] <- system.time(r <- svyby(~y, ~g, d, svymean))[["elapsed"]]
}
cat(sprintf("%.6f", median(setup)), sprintf("%.6f", median(estimation)), "\n")
write.csv(data.frame(g = r$g, estimate = r$y, se = SE(r)), args[3], row.names = FALSE)
"""


def make_data(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_strata, psus_per_stratum = 200, 10
    psu = rng.integers(0, n_strata * psus_per_stratum, n)
    effect = rng.normal(0, 0.3, n_strata * psus_per_stratum)
    g = rng.integers(1, 9, n)
    logit = -0.5 + 0.1 * g + effect[psu]
    return pd.DataFrame({
        "stratum": psu // psus_per_stratum,
        "psu": psu,
        "w": rng.uniform(0.5, 3.0, n).round(4),
        "g": g,
        "y": (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int),
    })


def time_python(data: pd.DataFrame, runs: int) -> tuple[float, float, pd.DataFrame]:
    design = st.Design(weight="w", strata="stratum", psu="psu")
    setup, estimation = [], []
    for _ in range(runs):
        start = time.perf_counter()
        survey = st.Survey(data, design)
        survey.sample.prepared  # noqa: B018 (preparation is part of the set-up)
        setup.append(time.perf_counter() - start)
        start = time.perf_counter()
        est = survey.proportion("y", value=1, by="g", ci="logit")
        estimation.append(time.perf_counter() - start)
    return float(np.median(setup)), float(np.median(estimation)), est.table


def time_r(data: pd.DataFrame, runs: int) -> tuple[float, float, pd.DataFrame]:
    with tempfile.TemporaryDirectory() as tmp:
        csv, script, out = Path(tmp, "data.csv"), Path(tmp, "bench.R"), Path(tmp, "r.csv")
        data.to_csv(csv, index=False)
        script.write_text(R_SCRIPT)
        result = subprocess.run(["Rscript", str(script), str(csv), str(runs), str(out)],
                                capture_output=True, text=True, check=True)
        setup, estimation = map(float, result.stdout.split())
        return setup, estimation, pd.read_csv(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    data = make_data(args.n)
    py_setup, py_est, table = time_python(data, args.runs)
    r_setup, r_est, r_table = time_r(data, args.runs)
    agree = float(np.max(np.abs(table["se"].to_numpy() / r_table["se"].to_numpy() - 1)))
    result = {
        "n": args.n, "strata": 200, "psus": 2000, "domains": 8, "runs": args.runs,
        "python_seconds": {"setup": py_setup, "estimation": py_est},
        "r_seconds": {"setup": r_setup, "estimation": r_est},
        "speedup_estimation": r_est / py_est,
        "speedup_with_setup": (r_setup + r_est) / (py_setup + py_est),
        "max_relative_se_difference_vs_r": agree,
        "python": platform.python_version(), "machine": platform.machine(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{'':24}{'python s':>10}{'R s':>10}{'R / python':>12}")
    print(f"{'(a) estimation only':24}{py_est:10.4f}{r_est:10.3f}{r_est / py_est:12.1f}")
    total_py, total_r = py_setup + py_est, r_setup + r_est
    print(f"{'(b) with design set-up':24}{total_py:10.4f}{total_r:10.3f}{total_r / total_py:12.1f}")
    print(f"SEs agree with R to {agree:.1e} (relative); written to {RESULTS}")


if __name__ == "__main__":
    main()

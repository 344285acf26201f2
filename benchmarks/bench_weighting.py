"""Benchmark: raking, surveytools vs R's ``survey::rake``.

Two jobs, each timed in Python (``st.rake``) and in R (``rake()`` timed with
``system.time`` inside one R session; reading the CSV is not timed):

* the example tracker's 4 waves (``data/tracker``), each raked from a design
  weight of 1 to the 5 margins of ``targets.toml`` (respondents who answered
  "Prefer not to say" to gender, ethnicity or education are left out: the
  targets have no cell for them);
* a synthetic sample of 1,000,000 rows raked to 4 margins (age band 7,
  gender 2, region 12, education 5 categories).

Both sides converge tightly: Python to a relative deviation of 1e-10 from
every target, R with ``control = list(maxit = 100, epsilon = 1e-10)``
(changes below 1e-10 of the weighted total).  Medians of ``--runs`` runs.
Writes ``benchmarks/results/weighting.json``.

Run from the repository root::

    .venv/bin/python benchmarks/bench_weighting.py [--runs 3] [--n 1000000]
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
from surveytools.weighting.targets import read_targets

ROOT = Path(__file__).resolve().parents[1]
TRACKER = ROOT / "data" / "tracker"
RESULTS = Path(__file__).parent / "results" / "weighting.json"
PREFER_NOT_TO_SAY = ["gender", "ethnicity", "education"]

R_SCRIPT = r"""
suppressMessages(library(survey))
args <- commandArgs(TRUE)
runs <- as.integer(args[1])
times <- c()
for (job in args[-1]) {
  df <- read.csv(paste0(job, ".csv"))
  pops <- lapply(strsplit(readLines(paste0(job, ".margins")), " "), function(vars) {
    p <- read.csv(paste0(job, ".", paste(vars, collapse = "_"), ".csv")); p })
  margins <- lapply(strsplit(readLines(paste0(job, ".margins")), " "),
                    function(vars) as.formula(paste("~", paste(vars, collapse = " + "))))
  d <- svydesign(ids = ~1, weights = ~w, data = df)
  elapsed <- numeric(runs)
  for (i in seq_len(runs))
    elapsed[i] <- system.time(r <- rake(d, margins, pops,
                                        control = list(maxit = 100, epsilon = 1e-10)))[["elapsed"]]
  times <- c(times, median(elapsed))
  write.csv(data.frame(w = weights(r)), paste0(job, ".out.csv"), row.names = FALSE)
}
cat(sprintf("%.6f", times), "\n")
"""


def tracker_jobs() -> dict[str, tuple[pd.DataFrame, dict]]:
    waves = st.read_waves(TRACKER / "waves.toml")
    targets = read_targets(TRACKER / "targets.toml")
    jobs = {}
    for name in waves.names:
        data = waves[name].data
        keep = ~(data[PREFER_NOT_TO_SAY] == 9).any(axis=1)
        columns = sorted({c for key in targets for c in ((key,) if isinstance(key, str) else key)})
        jobs[f"tracker {name}"] = (data.loc[keep, columns].astype(int).assign(w=1.0)
                                   .reset_index(drop=True), targets)
    return jobs


def synthetic_job(n: int, seed: int = 7) -> tuple[pd.DataFrame, dict]:
    rng = np.random.default_rng(seed)
    sizes = {"age_band": 7, "gender": 2, "region": 12, "education": 5}
    data = pd.DataFrame({v: rng.choice(np.arange(1, k + 1), n, p=rng.dirichlet(np.full(k, 3.0)))
                         for v, k in sizes.items()}).assign(w=rng.uniform(0.5, 2.0, n))
    population = 50_000_000
    margins = {v: dict(zip(range(1, k + 1), population * rng.dirichlet(np.full(k, 5.0))))
               for v, k in sizes.items()}
    return data, margins


def time_python(data: pd.DataFrame, margins: dict, runs: int) -> tuple[float, st.Survey]:
    survey = st.Survey(data, st.Design(weight="w"))
    elapsed = []
    for _ in range(runs):
        start = time.perf_counter()
        raked = st.rake(survey, margins)
        elapsed.append(time.perf_counter() - start)
    return float(np.median(elapsed)), raked


def write_for_r(folder: Path, job: str, data: pd.DataFrame, margins: dict) -> None:
    data.to_csv(folder / f"{job}.csv", index=False)
    lines = []
    for key, totals in margins.items():
        variables = (key,) if isinstance(key, str) else tuple(key)
        cells = [tuple(int(c) for c in (k if isinstance(k, tuple) else (k,))) for k in totals]
        frame = pd.DataFrame(cells, columns=list(variables)).assign(Freq=list(totals.values()))
        frame.to_csv(folder / f"{job}.{'_'.join(variables)}.csv", index=False)
        lines.append(" ".join(variables))
    (folder / f"{job}.margins").write_text("\n".join(lines) + "\n")


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--n", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    jobs = {**tracker_jobs(), f"synthetic {args.n:,}": synthetic_job(args.n)}
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        names = {}
        for i, (label, (data, margins)) in enumerate(jobs.items()):
            names[label] = f"job{i}"
            write_for_r(folder, names[label], data, margins)
        script = folder / "rake.R"
        script.write_text(R_SCRIPT)
        r_out = subprocess.run(["Rscript", str(script), str(args.runs), *names.values()],
                               cwd=folder, capture_output=True, text=True, check=True)
        r_times = [float(t) for t in r_out.stdout.split()]
        for (label, (data, margins)), r_time in zip(jobs.items(), r_times):
            py_time, raked = time_python(data, margins, args.runs)
            report = raked.meta.notes["raking"]
            r_weights = pd.read_csv(folder / f"{names[label]}.out.csv")["w"].to_numpy()
            results.append({
                "job": label, "rows": len(data), "margins": len(margins),
                "python_seconds": round(py_time, 4), "r_seconds": round(r_time, 4),
                "speedup": round(r_time / py_time, 1), "python_iterations": report.iterations,
                "max_relative_weight_difference_vs_r": float(np.max(np.abs(
                    raked.weights.to_numpy() / r_weights - 1))),
                "kish_deff": round(report.kish_deff, 4)})
            print(f"{label:>22}: {len(data):>9,} rows  python {py_time:8.3f} s  "
                  f"R {r_time:8.3f} s  ({r_time / py_time:6.1f}x)  "
                  f"max |w/w_R - 1| = {results[-1]['max_relative_weight_difference_vs_r']:.1e}")
    out = {"benchmark": "raking (st.rake vs survey::rake)", "runs": args.runs,
           "python": platform.python_version(), "machine": platform.machine(),
           "r": subprocess.run(["Rscript", "-e", "cat(R.version.string, "
                                "as.character(packageVersion('survey')))"],
                               capture_output=True, text=True).stdout.strip(),
           "results": results}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    return out


if __name__ == "__main__":
    main()

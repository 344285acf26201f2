"""Benchmark: from a raw 580-variable SPSS file to the first workbook, with no TOML by hand.

Writes the BSA-style fixture (``tests/fixtures/realworld.py``: 3,000
respondents, 580 variables) into a temporary folder, then times, as a user
runs them (each a fresh ``surveytools`` process, an empty cube store):

* ``init``: ``surveytools init bsa_style.sav --out tracker`` (manifest,
  catalogue, breakdowns);
* ``tables``: ``surveytools tables tracker/waves.toml --out tables.xlsx``
  (reads the file, builds the cube, writes the workbook);
* ``raw_to_workbook``: the two together, the number to quote;
* ``tables_csv_from_store``: a second ``tables`` run (a CSV), whose cube
  comes from the store.

Each is recorded as wall time and as CPU time (user + system of the
process, which a busy machine inflates less).  Writes
``benchmarks/results/end_to_end.json``.  Usage:
``python benchmarks/bench_end_to_end.py``.  Run with ``OPENBLAS_NUM_THREADS=1``
on a quiet machine: the JSON records the load average.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results" / "end_to_end.json"
SCRIPT = Path(sys.executable).parent / "surveytools"


def timed(*args: str, env: dict) -> tuple[float, float]:
    """Wall and CPU seconds of one ``surveytools`` run."""
    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    start, start_cpu = time.perf_counter(), cpu()
    done = subprocess.run([str(SCRIPT), *args], env=env, capture_output=True, text=True)
    seconds, cpu_seconds = time.perf_counter() - start, cpu() - start_cpu
    if done.returncode:
        raise SystemExit(f"surveytools {' '.join(args)} failed:\n{done.stderr}")
    return seconds, cpu_seconds


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from tests.fixtures.realworld import bsa_style

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        path, truth = bsa_style(folder)
        env = {**os.environ, "SURVEYTOOLS_CACHE_DIR": str(folder / "cache")}
        tracker = folder / "tracker"
        init = timed("init", str(path), "--out", str(tracker), env=env)
        tables = timed("tables", str(tracker / "waves.toml"), "--out",
                       str(folder / "tables.xlsx"), env=env)
        again = timed("tables", str(tracker / "waves.toml"), "--out", str(folder / "tables.csv"),
                      env=env)
        indicators = (tracker / "indicators.toml").read_text().count("[[indicator]]")
        breakdowns = (tracker / "breakdowns.toml").read_text().count("[[breakdown]]")
    runs = {"init": init, "tables_xlsx": tables,
            "raw_to_workbook": tuple(a + b for a, b in zip(init, tables)),
            "tables_csv_from_store": again}
    result = {
        "benchmark": "end_to_end",
        "file": "tests/fixtures/realworld.py bsa_style", "respondents": truth["n"],
        "variables": truth["n_vars"], "indicators": indicators, "breakdowns": breakdowns,
        **{f"{name}_seconds": round(wall, 2) for name, (wall, _) in runs.items()},
        **{f"{name}_cpu_seconds": round(used, 2) for name, (_, used) in runs.items()},
        "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
        "cpus": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 2),
        "python": platform.python_version(), "machine": platform.machine(),
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{'measure':<24} {'wall s':>8} {'cpu s':>8}")
    for name in runs:
        print(f"{name:<24} {result[f'{name}_seconds']:>8.1f} "
              f"{result[f'{name}_cpu_seconds']:>8.1f}")
    print(f"{indicators} indicators x {breakdowns} breakdowns -> {RESULTS}")


if __name__ == "__main__":
    main()

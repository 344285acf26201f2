"""Benchmark: reading waves, with and without the parsed-file cache.

(a) The 4 example waves through ``data/tracker/waves.toml``, each run in a
    fresh Python process (``import surveytools`` not timed; the lazy imports
    of pyreadstat and pyarrow are): ``cold`` with an empty cache folder
    (target < 2 s) and ``warm`` from the cache (target < 0.3 s).
(b) A generated 1,000,000-row x 60-column ``.sav`` (about 480 MB, written
    once into ``--workdir``, never into the repository), in one process:
    ``pyreadstat.read_sav`` with its defaults against ``read_wave`` with the
    cache off and with the cache being written (target ratio <= 1.3; both
    include the structure check of :mod:`surveytools.loading.savcheck`,
    also timed alone), a warm ``read_wave`` (the entry's checksums
    verified), and the cost of hashing the file (SHA-256) with and without
    the remembered stat.
(c) The same data bytecode-compressed and as a ZLIB .zsav, where the
    structure check decodes every compressed code: pyreadstat, the check
    alone and ``read_wave`` without the cache (``--skip-compressed`` skips).

Each time is the minimum over ``--runs`` runs (the machine is shared; the
minimum is the least disturbed run).  Prints a table and writes
``benchmarks/results/io.json``.

Usage: ``python benchmarks/bench_io.py [--runs 3] [--workdir DIR] [--skip-big]
[--skip-compressed]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "data" / "tracker" / "waves.toml"
RESULTS = Path(__file__).resolve().parent / "results" / "io.json"
ROWS, COLUMNS = 1_000_000, 60

TRACKER_RUN = """
import json, sys, time
import surveytools as st
start = time.perf_counter()
tracker = st.read_waves(sys.argv[1])
print(json.dumps({"seconds": time.perf_counter() - start,
                  "respondents": sum(len(w) for w in tracker)}))
"""


def tracker_times(runs: int) -> dict:
    """Cold and warm read_waves of the example tracker, each in a new process."""
    cold, warm = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "SURVEYTOOLS_CACHE_DIR": cache}
            for times in (cold, warm):
                done = subprocess.run([sys.executable, "-c", TRACKER_RUN, str(MANIFEST)],
                                      env=env, capture_output=True, text=True, check=True,
                                      cwd=ROOT)
                result = json.loads(done.stdout)
                times.append(result["seconds"])
    return {"cold_s": min(cold), "warm_s": min(warm), "cold_runs": cold, "warm_runs": warm,
            "respondents": result["respondents"], "target_cold_s": 2.0, "target_warm_s": 0.3}


#: The variants of the big file: name suffix and pyreadstat.write_sav options.
VARIANTS = {"sav": ("", {}), "bytecode": ("_bytecode", {"row_compress": True}),
            "zsav": ("_zlib", {"compress": True})}


def big_sav(workdir: Path, variant: str = "sav") -> Path:
    """The 1M x 60 file: survey-like codes 1-5 with 8 = "Don't know" (user-missing).

    ``variant``: ``sav`` (uncompressed, the file the 1.3x budget is about),
    ``bytecode`` (SPSS row compression) or ``zsav`` (ZLIB).
    """
    import numpy as np
    import pandas as pd
    import pyreadstat

    suffix, options = VARIANTS[variant]
    path = workdir / f"big_{ROWS}x{COLUMNS}{suffix}.{'zsav' if variant == 'zsav' else 'sav'}"
    if path.exists():
        return path
    rng = np.random.default_rng(1)
    data = {"resp_id": np.arange(1.0, ROWS + 1), "weight": rng.gamma(4.0, 0.25, ROWS)}
    for j in range(COLUMNS - 2):
        data[f"q{j:02d}"] = rng.choice([1.0, 2.0, 3.0, 4.0, 5.0, 8.0], ROWS)
    frame = pd.DataFrame(data)
    questions = list(frame.columns[2:])
    temporary = path.with_name(path.name + ".tmp")
    pyreadstat.write_sav(
        frame, temporary, column_labels={c: f"Question {c}" for c in frame},
        variable_value_labels={c: {1: "Very low", 5: "Very high", 8: "Don't know"}
                               for c in questions},
        missing_ranges={c: [8] for c in questions}, **options)
    temporary.rename(path)
    return path


def big_file_times(path: Path, runs: int) -> dict:
    """The uncompressed big file: pyreadstat against read_wave (structure check
    included) with the cache off, being written and warm (verified)."""
    import pyreadstat

    import surveytools as st
    from surveytools.loading import cache
    from surveytools.loading.savcheck import check_sav

    design = st.Design(weight="weight")
    times: dict[str, list[float]] = {k: [] for k in (
        "pyreadstat_read_sav", "check_sav", "read_wave_no_cache", "read_wave_writing_cache",
        "read_wave_warm_cache", "sha256_hash", "remembered_hash")}

    def clock(name, function):
        start = time.perf_counter()
        function()
        times[name].append(time.perf_counter() - start)

    for _ in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            os.environ[cache.ENV_VAR] = folder
            clock("pyreadstat_read_sav", lambda: pyreadstat.read_sav(path))
            clock("check_sav", lambda: check_sav(path))
            clock("read_wave_no_cache", lambda: st.read_wave(path, design=design, cache=False))
            clock("read_wave_writing_cache", lambda: st.read_wave(path, design=design))
            clock("read_wave_warm_cache", lambda: st.read_wave(path, design=design))
        with tempfile.TemporaryDirectory() as folder:
            os.environ[cache.ENV_VAR] = folder
            clock("sha256_hash", lambda: cache.file_digest(path))
            clock("remembered_hash", lambda: cache.file_digest(path))
    best = {f"{k}_s": min(v) for k, v in times.items()}
    base = best["pyreadstat_read_sav_s"]
    return {
        **best,
        "ratio_no_cache": best["read_wave_no_cache_s"] / base,
        "ratio_writing_cache": best["read_wave_writing_cache_s"] / base,
        "check_share": best["check_sav_s"] / base,
        "target_ratio": 1.3,
        "file_mb": path.stat().st_size / 1e6,
        "hash_mb_per_s": path.stat().st_size / 1e6 / best["sha256_hash_s"],
        "runs": times,
    }


def compressed_times(path: Path, runs: int) -> dict:
    """A compressed big file: the structure check decodes every compressed code
    (and inflates every ZLIB block), so its cost is measured here."""
    import pyreadstat

    import surveytools as st
    from surveytools.loading.savcheck import check_sav

    design = st.Design(weight="weight")
    times: dict[str, list[float]] = {"pyreadstat_read_sav": [], "check_sav": [],
                                     "read_wave_no_cache": []}
    for _ in range(runs):
        for name, function in (
                ("pyreadstat_read_sav", lambda: pyreadstat.read_sav(path)),
                ("check_sav", lambda: check_sav(path)),
                ("read_wave_no_cache", lambda: st.read_wave(path, design=design, cache=False))):
            start = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - start)
    best = {f"{k}_s": min(v) for k, v in times.items()}
    return {**best, "ratio_no_cache": best["read_wave_no_cache_s"] / best[
        "pyreadstat_read_sav_s"], "file_mb": path.stat().st_size / 1e6, "runs": times}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", type=Path,
                        default=Path(tempfile.gettempdir()) / "surveytools-bench")
    parser.add_argument("--skip-big", action="store_true", help="only part (a)")
    parser.add_argument("--skip-compressed", action="store_true",
                        help="not the bytecode and ZLIB variants of the big file")
    args = parser.parse_args()

    results = {"python": platform.python_version(), "machine": platform.machine(),
               "cpus": os.cpu_count(), "runs": args.runs,
               "example_tracker": tracker_times(args.runs)}
    tracker = results["example_tracker"]
    print(f"{'measure':<44}{'seconds':>10}{'target':>10}")
    print(f"{'example tracker, cold (4 waves)':<44}{tracker['cold_s']:>10.3f}{'< 2':>10}")
    print(f"{'example tracker, warm cache':<44}{tracker['warm_s']:>10.3f}{'< 0.3':>10}")
    if not args.skip_big:
        args.workdir.mkdir(parents=True, exist_ok=True)
        big = results["big_sav"] = big_file_times(big_sav(args.workdir), args.runs)
        print(f"-- {ROWS:,} rows x {COLUMNS} columns, {big['file_mb']:.0f} MB .sav (uncompressed)")
        for name, target in (("pyreadstat_read_sav", ""), ("check_sav", ""),
                             ("read_wave_no_cache", "<= 1.3x"),
                             ("read_wave_writing_cache", "<= 1.3x"),
                             ("read_wave_warm_cache", ""), ("sha256_hash", ""),
                             ("remembered_hash", "")):
            print(f"{name:<44}{big[name + '_s']:>10.3f}{target:>10}")
        print(f"{'ratio read_wave / read_sav (no cache)':<44}{big['ratio_no_cache']:>10.2f}")
        print(f"{'ratio read_wave / read_sav (writing cache)':<44}"
              f"{big['ratio_writing_cache']:>10.2f}")
        print(f"{'SHA-256 MB/s':<44}{big['hash_mb_per_s']:>10.0f}")
        if not args.skip_compressed:
            for variant in ("bytecode", "zsav"):
                found = results[f"big_{variant}"] = compressed_times(
                    big_sav(args.workdir, variant), max(1, min(args.runs, 2)))
                print(f"-- the same data, {variant} ({found['file_mb']:.0f} MB)")
                for name in ("pyreadstat_read_sav", "check_sav", "read_wave_no_cache"):
                    print(f"{name:<44}{found[name + '_s']:>10.3f}")
                print(f"{'ratio read_wave / read_sav (no cache)':<44}"
                      f"{found['ratio_no_cache']:>10.2f}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

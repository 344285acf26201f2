"""Run every benchmark script in this folder, one after the other.

Each ``bench_*.py`` prints a table and writes ``results/<name>.json``.
Benchmarks that compare against R need ``Rscript`` with the ``survey``
package (``apt-get install r-base-core r-cran-survey``); without it they
report Python timings only.

Usage: ``python benchmarks/run_all.py [name ...]`` (e.g. ``estimation io``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(names: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if names:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in names]
    failed = []
    for script in scripts:
        print(f"\n=== {script.name}", flush=True)
        if subprocess.run([sys.executable, str(script)], cwd=HERE.parent).returncode:
            failed.append(script.name)
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

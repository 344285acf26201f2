"""``python -m surveytools.datasets``: regenerate the bundled example data.

Examples
--------
From the repository root::

    python -m surveytools.datasets                   # rewrite data/
    python -m surveytools.datasets --out /tmp/data   # write elsewhere, same files
"""

from __future__ import annotations

import argparse
import sys
import time

from .bundle import DATA_DIR, write_examples
from .population import DEFAULT_SEED


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m surveytools.datasets",
        description="Regenerate the synthetic example tracker and council survey.")
    parser.add_argument("--out", default=str(DATA_DIR),
                        help="folder to write into (default: the repository's data/)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help=f"random seed (default: {DEFAULT_SEED}, the bundled data)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    paths = write_examples(args.out, seed=args.seed)
    for path in paths.values():
        print(path)
    print(f"wrote {len(paths)} files in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The ``surveytools`` command line.

Subcommands::

    surveytools tables MANIFEST --out tables.xlsx [--format csv] [--wave 2024]
    surveytools export-dashboard MANIFEST --out DIR

Bad input (a manifest that cannot be read, an output path that cannot be
written) prints one clear message and exits with code 2, without a traceback.
Both commands take the tracker's cube from the cube store
(:mod:`surveytools.indicators.store`), so a second run does not estimate again.

Examples
--------
>>> main(["tables", "no/such/waves.toml", "--out", "x.xlsx"])  # doctest: +SKIP
surveytools: error: no/such/waves.toml: ...
2
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .core.errors import FileFormatError, SurveyError
from .indicators.significance import CORRECTIONS
from .presentation.export import export_site
from .presentation.tables import FORMATS, write_tables

EXIT_BAD_INPUT = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="surveytools",
        description="Weighted tables and dashboards from a tracker manifest.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    tables = commands.add_parser(
        "tables", help="write published-style weighted tables of a tracker",
        description="Write the weighted tables (one sheet per question, groups with "
                    "significance letters, bases, notes) of a tracker manifest.")
    tables.add_argument("manifest", metavar="MANIFEST", help="the tracker manifest (waves.toml)")
    tables.add_argument("--out", required=True, help="the .xlsx or .csv file to write")
    tables.add_argument("--format", choices=FORMATS, default=None,
                        help="default: from the --out suffix (xlsx unless it ends in .csv)")
    tables.add_argument("--wave", default=None,
                        help="wave label to tabulate (xlsx default: the latest; csv: every wave)")
    tables.add_argument("--correction", choices=CORRECTIONS, default=CORRECTIONS[0],
                        help=f"multiple-comparison correction of the letters "
                             f"(default: {CORRECTIONS[0]})")
    tables.set_defaults(handler=_tables)

    export = commands.add_parser(
        "export-dashboard", help="export the dashboard of a tracker as a static site",
        description="Export the tracker's dashboard as static files in DIR.")
    export.add_argument("manifest", metavar="MANIFEST", help="the tracker manifest (waves.toml)")
    export.add_argument("--out", required=True, help="the folder to write")
    export.set_defaults(handler=_export_dashboard)
    return parser


def _check_manifest(path: str) -> Path:
    manifest = Path(path)
    if not manifest.is_file():
        raise FileFormatError("manifest not found", file=manifest,
                              expected="a tracker manifest (.toml)", found="no such file",
                              hint="check the path, e.g. data/tracker/waves.toml")
    return manifest


def _tables(args) -> None:
    manifest = _check_manifest(args.manifest)
    out = Path(args.out)
    fmt = args.format or ("csv" if out.suffix.lower() == ".csv" else "xlsx")
    if not out.parent.is_dir():
        raise FileFormatError("the output folder does not exist", file=out,
                              expected="an existing folder", found=str(out.parent),
                              hint="create the folder first or choose another --out")
    written = write_tables(manifest, out, format=fmt, wave=args.wave, correction=args.correction)
    print(f"wrote {written}")


def _export_dashboard(args) -> None:
    written = export_site(_check_manifest(args.manifest), Path(args.out))
    print(f"wrote {written}")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 2 bad input)."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        args.handler(args)
    except SurveyError as err:
        print(f"surveytools: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as err:
        print(f"surveytools: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0


if __name__ == "__main__":
    sys.exit(main())

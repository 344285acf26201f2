"""The ``surveytools`` command line.

Subcommands::

    surveytools init FILE [FILE ...] --out DIR [--dry-run] [--force]
    surveytools tables MANIFEST --out tables.xlsx [--format csv] [--wave 2024]
                       [--catalogue PATH] [--breakdowns PATH] [--allow-undeclared]
    surveytools serve MANIFEST [--port 8866] [--allow-undeclared] [--open-browser]
    surveytools export-dashboard MANIFEST --out DIR [--allow-undeclared]

Bad input (a manifest that cannot be read, an output path that cannot be
written) prints one clear message and exits with code 2, without a traceback.
``init`` scaffolds the manifest, catalogue and breakdowns from the files
(:mod:`surveytools.scaffold`).  The publishing commands take the tracker's
cube from the cube store (:mod:`surveytools.indicators.store`), so a second
run does not estimate again, and refuse (exit code 2, listing the codes and
the manifest lines that declare them) while codes that look like non-answers
are counted as answers, unless ``--allow-undeclared``.

Examples
--------
>>> main(["tables", "no/such/waves.toml", "--out", "x.xlsx"])  # doctest: +SKIP
surveytools: error: no/such/waves.toml: ...
2
"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import contextmanager
from pathlib import Path

from .core.errors import FileFormatError, SurveyError
from .indicators.significance import CORRECTIONS
from .indicators.store import ALLOW_UNDECLARED_ENV
from .presentation.export import export_site
from .presentation.serve import serve
from .presentation.tables import FORMATS, write_tables
from .scaffold import print_summary, scaffold_tracker

EXIT_BAD_INPUT = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="surveytools",
        description="Weighted tables and dashboards from a tracker manifest.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = commands.add_parser(
        "init", help="scaffold a tracker's manifest, catalogue and breakdowns from its files",
        description="Read the files' metadata and write waves.toml, indicators.toml, "
                    "breakdowns.toml and README.md into DIR, every choice commented.")
    init.add_argument("files", metavar="FILE", nargs="+",
                      help="one survey file per wave (.sav, .zsav, .csv with codebook, .dta, "
                           ".por, .parquet)")
    init.add_argument("--out", required=True, help="the folder to write (created if needed)")
    init.add_argument("--dry-run", action="store_true",
                      help="print what was found and write nothing")
    init.add_argument("--force", action="store_true", help="overwrite existing files in --out")
    init.set_defaults(handler=_init)

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
    tables.add_argument("--catalogue", default=None, metavar="PATH",
                        help="indicator catalogue (default: [tracker] catalogue of the "
                             "manifest, else indicators.toml beside it, else a full tab book "
                             "of every labelled question)")
    tables.add_argument("--breakdowns", default=None, metavar="PATH",
                        help="breakdowns file (default: [tracker] breakdowns of the manifest, "
                             "else breakdowns.toml beside it, else the total only)")
    _allow_undeclared(tables)
    tables.set_defaults(handler=_tables)

    served = commands.add_parser(
        "serve", help="serve the dashboards of a tracker with Voila (safe settings)",
        description="Build the tracker's indicator cube, then serve its dashboards with "
                    "Voila on 127.0.0.1 until interrupted.")
    served.add_argument("manifest", metavar="MANIFEST", help="the tracker manifest (waves.toml)")
    served.add_argument("--port", type=int, default=8866, help="the port (default: 8866)")
    served.add_argument("--open-browser", action="store_true",
                        help="open the dashboards in a browser")
    _allow_undeclared(served)
    served.set_defaults(handler=_serve)

    export = commands.add_parser(
        "export-dashboard", help="export the dashboard of a tracker as a static site",
        description="Export the tracker's dashboard as static files in DIR.")
    export.add_argument("manifest", metavar="MANIFEST", help="the tracker manifest (waves.toml)")
    export.add_argument("--out", required=True, help="the folder to write")
    _allow_undeclared(export)
    export.set_defaults(handler=_export_dashboard)
    return parser


def _allow_undeclared(command) -> None:
    command.add_argument("--allow-undeclared", action="store_true",
                         help="publish even though codes that look like non-answers are counted "
                              "as answers (the notes list them); default: refuse and print the "
                              "manifest lines that declare them")


@contextmanager
def _allowing(allow: bool):
    """``$SURVEYTOOLS_ALLOW_UNDECLARED=1`` while the block runs when ``allow`` (it reaches
    every cube the store builds, also in the dashboards' kernels); restored after."""
    before = os.environ.get(ALLOW_UNDECLARED_ENV)
    if allow:
        os.environ[ALLOW_UNDECLARED_ENV] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(ALLOW_UNDECLARED_ENV, None)
        else:
            os.environ[ALLOW_UNDECLARED_ENV] = before


def _check_manifest(path: str) -> Path:
    manifest = Path(path)
    if not manifest.is_file():
        raise FileFormatError("manifest not found", file=manifest,
                              expected="a tracker manifest (.toml)", found="no such file",
                              hint="check the path, e.g. data/tracker/waves.toml")
    return manifest


def _init(args) -> None:
    print_summary(scaffold_tracker(args.files, Path(args.out), dry_run=args.dry_run, force=args.force))


def _tables(args) -> None:
    manifest = _check_manifest(args.manifest)
    out = Path(args.out)
    fmt = args.format or ("csv" if out.suffix.lower() == ".csv" else "xlsx")
    if not out.parent.is_dir():
        raise FileFormatError("the output folder does not exist", file=out,
                              expected="an existing folder", found=str(out.parent),
                              hint="create the folder first or choose another --out")
    with _allowing(args.allow_undeclared):
        written = write_tables(manifest, out, format=fmt, wave=args.wave,
                               correction=args.correction, catalogue=args.catalogue,
                               breakdowns=args.breakdowns)
    print(f"wrote {written}")


def _serve(args) -> int:
    with _allowing(args.allow_undeclared):  # the dashboards' kernels inherit it
        return serve(_check_manifest(args.manifest), port=args.port,
                     allow_undeclared=args.allow_undeclared, open_browser=args.open_browser)


def _export_dashboard(args) -> None:
    with _allowing(args.allow_undeclared):
        written = export_site(_check_manifest(args.manifest), Path(args.out))
    print(f"wrote {written}")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 2 bad input)."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        code = args.handler(args)
    except SurveyError as err:
        print(f"surveytools: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as err:
        print(f"surveytools: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return code or 0


if __name__ == "__main__":
    sys.exit(main())

"""The Voila dashboards as App classes: controls -> view -> ``update()`` -> chart + table.

A dashboard notebook only builds an app and displays it::

    from surveytools.dashboard import TrustApp
    TrustApp.from_manifest()

Every app has ONE update path: a control change makes a new :class:`View`
(frozen), and :meth:`App.update` draws the chart (a plotly ``FigureWidget``),
the table with bases, the CSV download, the link to the view and the notes
from that view alone.  The figures come from :mod:`surveytools.plots`, so the
small-base rule applies to the dashboards exactly as to every other output.

Deep links: Voila passes the page's query string to the kernel as the
``QUERY_STRING`` environment variable, so
``trust.ipynb?indicator=trust_nhs_high&breakdown=age&wave=2024&ci=beta``
opens that view.  An indicator may also be named by its question
(``indicator=trust_nhs``).

Examples
--------
>>> parse_query("indicator=trust_nhs&wave=2023,2024&ci=beta")
{'indicator': 'trust_nhs', 'wave': ('2023', '2024'), 'ci': 'beta'}
"""

from __future__ import annotations

import base64
import dataclasses
import html
import os
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pandas as pd
import plotly.graph_objects as go

from . import plots
from ..core.errors import ManifestError, SurveyError
from ..core.smallbase import LOW, SUPPRESSED

CI_METHODS = {
    "logit": "Logit",
    "beta": "Korn-Graubard (beta)",
    "wilson": "Wilson",
    "wald": "Wald",
}
CHARTS = {"trend": "Trend over waves", "groups": "Compare groups"}
MANIFEST_ENV = "SURVEYTOOLS_MANIFEST"
DEFAULT_MANIFEST = Path("data") / "tracker" / "waves.toml"
_QUERY_KEYS = {"indicator", "breakdown", "wave", "ci", "chart", "topic"}


# -- deep links ------------------------------------------------------------
def parse_query(query: str | None) -> dict:
    """The view parameters of a URL query string (unknown keys are dropped).

    ``wave`` may be repeated or comma-separated and is returned as a tuple.

    Examples
    --------
    >>> parse_query("?breakdown=age&wave=2021&wave=2024&x=1")
    {'breakdown': 'age', 'wave': ('2021', '2024')}
    """
    params: dict = {}
    for key, value in parse_qsl((query or "").lstrip("?"), keep_blank_values=False):
        if key not in _QUERY_KEYS:
            continue
        if key == "wave":
            params["wave"] = params.get("wave", ()) + tuple(v for v in value.split(",") if v)
        else:
            params[key] = value
    return params


@dataclass(frozen=True)
class View:
    """What a dashboard shows: the values of its controls.

    Examples
    --------
    >>> v = View(indicator="trust_nhs_high", waves=("2024",))
    >>> v.replace(ci="beta").query(("indicator", "wave", "ci"))
    'indicator=trust_nhs_high&wave=2024&ci=beta'
    >>> v.ci
    'logit'
    """

    indicator: str = ""
    breakdown: str = "total"
    waves: tuple[str, ...] = ()
    ci: str = "logit"
    chart: str = "trend"
    topic: str = ""

    def replace(self, **changes) -> "View":
        return dataclasses.replace(self, **changes)

    def query(self, keys: Sequence[str]) -> str:
        """The URL query string that reopens this view (``keys`` in that order)."""
        values = {"indicator": self.indicator, "breakdown": self.breakdown,
                  "wave": ",".join(self.waves), "ci": self.ci, "chart": self.chart,
                  "topic": self.topic}
        return urlencode([(key, values[key]) for key in keys], safe=",|")


# -- cubes by CI method ----------------------------------------------------
class CubeCache:
    """Indicator cubes of one tracker, one per CI method, each made on first use.

    Only the shares' interval ends depend on the CI method, so once the
    default (logit) cube exists, another method's cube is that cube with
    the intervals recomputed (:meth:`IndicatorCube.with_ci`): milliseconds instead of
    estimating everything again.  ``build`` is used instead when the cube is
    needed for the first time, or when ``with_ci`` would not be exact.

    Parameters
    ----------
    build : callable
        ``build(ci) -> IndicatorCube``.
    reintervals : bool
        Whether other methods may be derived from the first cube.
    notes : dict, optional
        CI method -> method note, for derived cubes.

    Examples
    --------
    >>> calls = []
    >>> cubes = CubeCache(lambda ci: calls.append(ci) or ci.upper(), reintervals=False)
    >>> cubes("beta"), cubes("beta"), calls
    ('BETA', 'BETA', ['beta'])
    """

    def __init__(self, build: Callable[[str], object], *, reintervals: bool = False,
                 notes: dict | None = None) -> None:
        self._build = build
        self._reintervals = reintervals
        self._notes = dict(notes or {})
        self._cubes: dict[str, object] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_manifest(cls, manifest: str | os.PathLike) -> "CubeCache":
        """Cubes of the tracker a manifest describes (catalogue and breakdowns beside it).

        The logit cube is kept on disk (see :mod:`surveytools.cache`), keyed by
        the content of every input file and of the surveytools code, so a
        dashboard starts in about a second once any process has built it.
        """
        manifest = Path(manifest)
        key = cube_key(manifest)
        stored = load_cube(key, manifest)
        if stored is not None:
            base, notes, exact = stored
        else:
            base, notes, exact = _build_and_store(manifest, key)
        cubes = cls(lambda ci: _build_cube(manifest, ci), reintervals=exact, notes=notes)
        cubes._cubes["logit"] = base
        return cubes

    def __call__(self, ci: str):
        if ci not in CI_METHODS:
            raise ManifestError("unknown confidence-interval method", expected=", ".join(CI_METHODS),
                                found=ci, hint="pick one of the listed methods")
        with self._lock:
            if ci not in self._cubes:
                if self._reintervals and self._cubes:
                    first = next(iter(self._cubes.values()))
                    self._cubes[ci] = first.with_ci(ci, note=self._notes.get(ci))
                else:
                    self._cubes[ci] = self._build(ci)
            return self._cubes[ci]


def _build_cube(manifest: Path, ci: str):
    from ..indicators.cube import cube
    from ..waves.tracker import read_waves

    return cube(read_waves(manifest), ci=ci)


def _build_and_store(manifest: Path, key: str):
    from ..core.design import Design
    from ..indicators.cube import cube, method_note
    from ..waves.tracker import read_waves

    tracker = read_waves(manifest)
    base = cube(tracker, ci="logit")
    notes = {ci: method_note(base.catalogue, tracker, base.small_base, correction="bh", alpha=0.05,
                             ci=ci, conf_level=0.95, shared=bool(tracker.shared_respondents))
             for ci in CI_METHODS}
    exact = all(isinstance(tracker[w].design, Design) and bool((tracker[w].weights > 0).all())
                for w in tracker.names)
    store_cube(key, base, notes, exact)
    return base, notes, exact


# -- the cube on disk --------------------------------------------------------
def cube_key(manifest: Path) -> str:
    """A key that changes with the manifest, the files it names, the catalogue,
    the breakdowns and the code that computes the cube (not the dashboard's)."""
    import tomllib

    from ..loading import cache

    folder = manifest.parent
    spec = tomllib.loads(manifest.read_text(encoding="utf-8"))
    files = [manifest, folder / "indicators.toml", folder / "breakdowns.toml"]
    for wave in spec.get("waves", []):
        files += [folder / wave[k] for k in ("file", "codebook") if k in wave]
    return cache.entry_key(
        kind="indicator-cube",
        inputs=[cache.file_digest(f) for f in files if f.is_file()],
        code=[cache.file_digest(f) for f in _cube_code()],
    )


#: Presentation modules: they draw a cube, they do not compute it.
_PRESENTATION = ("dashboard.py", "plots.py", "export.py")


def _cube_code() -> list[Path]:
    """The package's source files, but for the presentation modules."""
    package = Path(__file__).parent
    return sorted(p for p in package.rglob("*.py")
                  if p.parent != package or p.name not in _PRESENTATION)


def store_cube(key: str, cube, notes: dict, exact: bool) -> None:
    """Write ``cube`` (frame as Parquet, the rest as JSON) to the surveytools cache."""
    import json
    import tempfile
    import warnings

    from ..loading import cache
    from ..core.errors import SurveyWarning

    folder = cache.cache_dir()
    meta = {
        "catalogue": dataclasses.asdict(cube.catalogue), "breakdowns": dataclasses.asdict(cube.breakdowns),
        "small_base": dataclasses.asdict(cube.small_base), "method_note": cube.method_note,
        "waves": list(cube.waves), "sources": {k: str(v) for k, v in cube.sources.items()},
        "notes": notes, "exact": exact,
    }
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp", delete=False) as handle:
            temporary = Path(handle.name)
        try:
            cube.frame.to_parquet(temporary, index=False)
            os.replace(temporary, folder / f"{key}.cube.parquet")
        finally:
            temporary.unlink(missing_ok=True)
        (folder / f"{key}.cube.json").write_text(json.dumps(meta), encoding="utf-8")
    except OSError as error:  # the cache only saves time
        warnings.warn(f"could not store the indicator cube in {folder}: {error}", SurveyWarning,
                      stacklevel=2)


def load_cube(key: str, manifest: Path):
    """``(cube, notes, exact)`` stored under ``key``, or None (absent or unreadable).

    The key covers file contents, not places: the catalogue and breakdown
    files are named as they are beside ``manifest``.
    """
    import json

    from ..loading import cache
    from ..indicators.catalogue import Breakdown, Breakdowns, Group, Indicator, IndicatorCatalogue
    from ..indicators.cube import IndicatorCube
    from ..core.smallbase import SmallBaseRule

    folder = cache.cache_dir()
    try:
        meta = json.loads((folder / f"{key}.cube.json").read_text(encoding="utf-8"))
        frame = pd.read_parquet(folder / f"{key}.cube.parquet")
    except (OSError, ValueError):
        return None
    def here(stored: str | None) -> str | None:
        return None if stored is None else str(manifest.parent / Path(stored).name)

    catalogue = IndicatorCatalogue(tuple(Indicator(**i) for i in meta["catalogue"]["indicators"]),
                                   file=here(meta["catalogue"]["file"]))
    breakdowns = Breakdowns(tuple(
        Breakdown(**{**b, "groups": tuple(Group(**g) for g in b["groups"])})
        for b in meta["breakdowns"]["breakdowns"]), file=here(meta["breakdowns"]["file"]))
    cube = IndicatorCube(frame=frame, catalogue=catalogue, breakdowns=breakdowns,
                         small_base=SmallBaseRule(**meta["small_base"]),
                         method_note=meta["method_note"], waves=tuple(meta["waves"]),
                         sources=meta["sources"])
    return cube, meta["notes"], meta["exact"]


def warm(manifest: str | os.PathLike | None = None) -> float:
    """Build and store the cube of ``manifest`` if needed (run before serving); seconds taken.

    Examples
    --------
    ``python -m surveytools.dashboard data/tracker/waves.toml``
    """
    import time

    start = time.perf_counter()
    CubeCache.from_manifest(manifest or find_manifest())
    return time.perf_counter() - start


def find_manifest(start: str | os.PathLike | None = None) -> Path:
    """``$SURVEYTOOLS_MANIFEST``, or ``data/tracker/waves.toml`` in ``start`` or a parent folder."""
    configured = os.environ.get(MANIFEST_ENV)
    if configured:
        return Path(configured)
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / DEFAULT_MANIFEST).is_file():
            return folder / DEFAULT_MANIFEST
    raise ManifestError("no tracker manifest found", file=here / DEFAULT_MANIFEST,
                        expected=f"{DEFAULT_MANIFEST} in this folder or a parent", found="none",
                        hint=f"set {MANIFEST_ENV}=/path/to/waves.toml")


# -- tables ----------------------------------------------------------------
def _change_text(row, kind: str) -> str:
    change = row.get("change")
    if change is None or pd.isna(change):
        return ""
    shown = plots.display_value(change, kind)
    unit = " pts" if kind in ("share", "net") else ""
    text = f"{shown:+.0f}{unit}" if kind in ("share", "net") else f"{shown:+.1f}"
    if bool(row.get("change_significant")):
        text = ("▲ " if shown > 0 else "▼ ") + text
    return text


def view_table(rows: pd.DataFrame, *, small_base, label_column: str = "group_label") -> pd.DataFrame:
    """The table people read: formatted values, bases and flags; suppressed cells say ``"n<50"``.

    Parameters
    ----------
    rows : DataFrame
        Cube rows.
    small_base : SmallBaseRule
    label_column : str
        The column naming each row (``group_label``, or ``indicator_label`` in the overview).
    """
    rows = plots.visible(rows)
    records = []
    for _, row in rows.iterrows():
        kind, flag = row["kind"], row["base_flag"]
        hidden = flag == SUPPRESSED
        name = str(row[label_column])
        if label_column == "group_label" and isinstance(row.get("letter"), str) and row["letter"]:
            name += f" ({row['letter']})"
        records.append({
            "Wave": str(row["wave"]),
            "Group" if label_column == "group_label" else "Indicator": name,
            "Estimate": small_base.suppressed_label if hidden
            else plots.format_value(row["estimate"], kind) + ("*" if flag == LOW else ""),
            "95% CI": "" if hidden else plots.format_interval(row["ci_low"], row["ci_high"], kind),
            "Change since previous wave": "" if hidden else _change_text(row, kind),
            "Significantly higher than": "" if hidden else (row.get("letters") or ""),
            "Base (n)": f"{int(row['n']):,}" if pd.notna(row["n"]) else "",
            "Base": {SUPPRESSED: "too small: suppressed", LOW: "low base"}.get(flag, ""),
        })
    return pd.DataFrame.from_records(records)


def csv_frame(rows: pd.DataFrame, *, small_base) -> pd.DataFrame:
    """The rows of a view for download: numbers as shown (per cent for shares), suppression applied."""
    rows = plots.visible(rows)
    out = pd.DataFrame({
        "wave": rows["wave"].astype(str), "indicator": rows["indicator"],
        "indicator_label": rows["indicator_label"], "breakdown": rows["breakdown"],
        "group": rows["group"].astype(str), "group_label": rows["group_label"],
        "unit": rows["kind"].map({"share": "per cent", "net": "net score x 100", "mean": "mean score"}),
    })
    for column in ("estimate", "ci_low", "ci_high", "change"):
        out[column] = [None if v is None else round(v, 2) for v in
                       (plots.display_value(v, k) for v, k in zip(rows[column], rows["kind"]))]
    out["change_significant"] = rows["change_significant"].astype(object).where(
        rows["base_flag"] != SUPPRESSED, None)
    out["letters"] = rows["letters"].fillna("")
    out["n"] = rows["n"]
    out["base_flag"] = rows["base_flag"]
    out["note"] = rows["base_flag"].map({SUPPRESSED: small_base.suppressed_label, LOW: "low base"}).fillna("")
    out["ci_method"] = rows["ci_method"]
    return out.reset_index(drop=True)


def table_html(table: pd.DataFrame) -> str:
    """An HTML table; rows carry ``data-flag`` (the base flag) for styling and tests."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = []
    for _, row in table.iterrows():
        flag = {"too small: suppressed": SUPPRESSED, "low base": LOW}.get(row.get("Base", ""), "ok")
        cells = "".join(f"<td>{html.escape(str(v))}</td>" for v in row)
        body.append(f'<tr data-flag="{flag}">{cells}</tr>')
    return (f"<style>{TABLE_CSS}</style><table class='st-table'><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


TABLE_CSS = """
.st-table{border-collapse:collapse;font:14px Arial,Helvetica,sans-serif;margin:8px 0}
.st-table th{background:#0072B2;color:#fff;text-align:left;padding:6px 10px}
.st-table td{border-bottom:1px solid #ddd;padding:5px 10px}
.st-table tr[data-flag=low] td{background:#fff4d6}
.st-table tr[data-flag=suppressed] td{background:#eeeeee;color:#555}
a.st-download,a.st-link{color:#0072B2;text-decoration:underline}
a.st-download{font-weight:bold}
.st-message{color:#8a4b00}
"""


def csv_link(frame: pd.DataFrame, filename: str) -> str:
    """An ``<a download>`` link whose ``data:`` URI holds the frame as CSV."""
    payload = base64.b64encode(frame.to_csv(index=False).encode("utf-8")).decode("ascii")
    return (f'<a class="st-download" download="{html.escape(filename)}" '
            f'href="data:text/csv;charset=utf-8;base64,{payload}">Download CSV of this table</a>')


# -- the apps ----------------------------------------------------------------
_VOILA_ENV = ("VOILA_REQUEST_URL", "VOILA_PREHEAT", "VOILA_KERNEL_ID")


def _in_voila() -> bool:
    return any(name in os.environ for name in _VOILA_ENV)


def _skip_iri_grammar() -> None:
    """Spare a Voila kernel 2-3 s of start-up.

    plotly's ``FigureWidget`` imports nbformat, hence jsonschema, whose optional
    IRI format check compiles a grammar (``rfc3987_syntax``) on import.  No
    dashboard validates IRIs, so in a Voila kernel, before jsonschema is
    loaded, that optional module is marked absent.
    """
    if _in_voila() and "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)


def _wait_for_request() -> None:
    """In a pre-heated Voila kernel, wait for the page request (it sets ``$QUERY_STRING``).

    With ``preheat_kernel`` Voila runs the notebook before anyone asks for
    it; everything up to here (imports, the cube) is then done in advance.
    """
    if os.environ.get("VOILA_PREHEAT") == "True":
        from voila.utils import wait_for_request

        wait_for_request()


@dataclass(frozen=True)
class Rendered:
    """What one view shows: the chart, the table rows behind table and CSV, and the notes."""

    figure: go.Figure
    rows: pd.DataFrame
    table: pd.DataFrame
    csv: pd.DataFrame
    note: str


class App:
    """Base dashboard: controls -> :class:`View` -> :meth:`update` -> chart + table.

    Parameters
    ----------
    cubes : CubeCache
        The cubes by CI method; the default method's cube is built here.
    query : str, optional
        A URL query string (default: ``$QUERY_STRING``, set by Voila).

    Subclasses set :attr:`title`, :attr:`intro`, :attr:`topics`,
    :attr:`controls_shown` and implement :meth:`rows` and :meth:`figure_for`.
    What a view shows is computed by the class method :meth:`render`, so the
    static export (:mod:`surveytools.export`) draws exactly what the app draws.

    Examples
    --------
    In a notebook::

        app = TrustApp.from_manifest("data/tracker/waves.toml")
        app.controls["breakdown"].value = "age"   # the chart and the table redraw
        app                                       # shows the dashboard
    """

    name = "app"
    title = "Survey dashboard"
    intro = ""
    #: Indicator topics this app offers (empty: every topic).
    topics: tuple[str, ...] = ()
    controls_shown: tuple[str, ...] = ("indicator", "breakdown", "waves", "ci", "chart")
    #: The cube column that names a table row.
    label_column = "group_label"

    def __init__(self, cubes: CubeCache, *, query: str | None = None) -> None:
        import ipywidgets as w

        self.cubes = cubes
        self.messages: list[str] = []
        base = cubes("logit")
        self.waves = tuple(base.waves)
        self.view = self._start_view(base, parse_query(
            os.environ.get("QUERY_STRING", "") if query is None else query))
        self.controls = self._controls(w, base)
        # The first figure goes in at construction: changes made before the
        # browser shows the widget would not reach it.
        _skip_iri_grammar()
        try:
            first = self.render(self.cubes(self.view.ci), self.view).figure
        except SurveyError:
            first = go.Figure()  # update() below says what is wrong
        self.figure = go.FigureWidget(first, _validate=False)
        self.status = w.HTML(layout=w.Layout(min_height="0"))
        self.table = w.HTML()
        self.links = w.HTML()
        self.notes = w.HTML()
        header = w.HTML(f"<h2 class='st-title'>{html.escape(self.title)}</h2>"
                        f"<p class='st-intro'>{html.escape(self.intro)}</p>")
        self.widget = w.VBox([header, w.HBox([self.controls[name] for name in self.controls_shown],
                                             layout=w.Layout(flex_flow="row wrap")),
                              self.status, self.figure, self.table, self.links, self.notes])
        self.widget.add_class("st-app")
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.update()

    @classmethod
    def from_manifest(cls, manifest: str | os.PathLike | None = None, **kwargs) -> "App":
        """The app on the tracker of ``manifest`` (default: :func:`find_manifest`)."""
        cubes = CubeCache.from_manifest(manifest or find_manifest())
        _skip_iri_grammar()
        go.FigureWidget  # noqa: B018 - imports plotly's widget before a pre-heated kernel waits
        _wait_for_request()
        return cls(cubes, **kwargs)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    # -- what the app offers -------------------------------------------------------
    @classmethod
    def indicators(cls, cube) -> list:
        return [ind for ind in cube.catalogue if not cls.topics or ind.topic in cls.topics]

    @classmethod
    def topic_options(cls, cube) -> list[tuple[str, str]]:
        return []

    @classmethod
    def default_view(cls, cube) -> View:
        names = [ind.name for ind in cls.indicators(cube)]
        topics = cls.topic_options(cube)
        waves = tuple(cube.waves) if "waves" in cls.controls_shown else tuple(cube.waves[-1:])
        return View(indicator=names[0] if names else "", waves=waves,
                    topic=topics[0][1] if topics else "")

    # -- state -----------------------------------------------------------------
    def _start_view(self, base, params: dict) -> View:
        view = self.default_view(base)
        if "indicator" in params:
            wanted = params["indicator"]
            names = [ind.name for ind in self.indicators(base)]
            by_question = [ind.name for ind in self.indicators(base) if ind.question == wanted]
            if wanted in names:
                view = view.replace(indicator=wanted)
            elif by_question:
                view = view.replace(indicator=by_question[0])
            else:
                self._reject("indicator", wanted)
        checks = {
            "breakdown": ("total", *base.breakdowns.names),
            "ci": tuple(CI_METHODS),
            "chart": tuple(CHARTS),
            "topic": tuple(v for _, v in self.topic_options(base)),
        }
        for key, allowed in checks.items():
            if key in params:
                if params[key] in allowed:
                    view = view.replace(**{key: params[key]})
                else:
                    self._reject(key, params[key])
        if "wave" in params:
            waves = tuple(v for v in self.waves if v in params["wave"])
            unknown = [v for v in params["wave"] if v not in self.waves]
            if unknown:
                self._reject("wave", ",".join(unknown))
            if waves:
                view = view.replace(waves=waves if "waves" in self.controls_shown else waves[-1:])
        return view

    def _reject(self, key: str, value: str) -> None:
        self.messages.append(f"The link asked for {key} “{value}”, which this dashboard does not have; "
                             "showing the default instead.")

    def _controls(self, w, base) -> dict:
        v = self.view
        style = {"description_width": "initial"}
        makers = {
            "indicator": lambda: w.Dropdown(
                options=[(ind.label, ind.name) for ind in self.indicators(base)], value=v.indicator,
                description="Indicator", layout=w.Layout(width="640px"), style=style),
            "breakdown": lambda: w.Dropdown(
                options=[("Total (all adults)", "total")] + [(b.label, b.name) for b in base.breakdowns],
                value=v.breakdown, description="Breakdown", style=style),
            "waves": lambda: w.SelectMultiple(options=list(self.waves), value=v.waves,
                                              rows=len(self.waves), description="Waves", style=style),
            "wave": lambda: w.Dropdown(options=list(self.waves), value=v.waves[-1], description="Wave",
                                       style=style),
            "ci": lambda: w.Dropdown(options=[(label, key) for key, label in CI_METHODS.items()],
                                     value=v.ci, description="Confidence interval", style=style,
                                     layout=w.Layout(width="340px")),
            "chart": lambda: w.ToggleButtons(options=[(label, key) for key, label in CHARTS.items()],
                                             value=v.chart, description="Chart", style=style),
            "topic": lambda: w.Dropdown(options=self.topic_options(base), value=v.topic,
                                        description="Topic", layout=w.Layout(width="420px"),
                                        style=style),
        }
        controls = {name: makers[name]() for name in self.controls_shown}
        for name, control in controls.items():
            control.add_class(f"st-control-{name}")
        return controls

    def _on_change(self, change) -> None:
        name = next(n for n, c in self.controls.items() if c is change["owner"])
        value = change["new"]
        if name == "waves":
            value = tuple(v for v in self.waves if v in value)
            if not value:  # nothing selected: keep the previous view
                return
            self.view = self.view.replace(waves=value)
        elif name == "wave":
            self.view = self.view.replace(waves=(value,))
        else:
            self.view = self.view.replace(**{name: value})
        self.messages = []
        self.update()

    def set_view(self, **changes) -> None:
        """Move the controls to a view (the controls' observers call :meth:`update`)."""
        for name, value in changes.items():
            self.controls[name].value = value

    # -- the one update path ---------------------------------------------------
    def update(self) -> None:
        """Redraw chart, table, CSV link, view link and notes from :attr:`view`."""
        try:
            shown = self.render(self.cubes(self.view.ci), self.view)
        except SurveyError as err:
            self.status.value = f"<p class='st-error'>{html.escape(err.message)}</p>"
            return
        with self.figure.batch_update():
            self.figure.data = []
            self.figure.add_traces(list(shown.figure.data))
            self.figure.layout = shown.figure.layout
        self.table.value = table_html(shown.table)
        self.links.value = csv_link(shown.csv, self.filename(self.view)) + " · " + self._link_html()
        self.notes.value = shown.note
        self.status.value = "".join(f"<p class='st-message'>{html.escape(m)}</p>" for m in self.messages)
        self.last_table = shown.table

    @classmethod
    def render(cls, cube, view: View) -> Rendered:
        """Chart, table, CSV rows and notes of ``view`` (``cube`` is the view's CI method's)."""
        rows = cls.rows(cube, view)
        figure = cls.figure_for(cube, view, rows)
        table_rows = cls.table_rows(cube, view, rows)
        note = (f"<p class='st-note'>{html.escape(cube.small_base.describe())} "
                f"Confidence intervals: {html.escape(CI_METHODS[view.ci])}.</p>"
                f"<p class='st-note'>{html.escape(cube.method_note)}</p>")
        return Rendered(figure=figure, rows=table_rows,
                        table=view_table(table_rows, small_base=cube.small_base,
                                         label_column=cls.label_column),
                        csv=csv_frame(table_rows, small_base=cube.small_base), note=note)

    @classmethod
    def rows(cls, cube, view: View) -> pd.DataFrame:
        raise NotImplementedError

    @classmethod
    def figure_for(cls, cube, view: View, rows: pd.DataFrame) -> go.Figure:
        raise NotImplementedError

    @classmethod
    def table_rows(cls, cube, view: View, rows: pd.DataFrame) -> pd.DataFrame:
        """The cube rows behind the table and the CSV (default: the chart's rows)."""
        return rows

    def query(self) -> str:
        keys = ["wave" if name in ("waves", "wave") else name for name in self.controls_shown]
        return self.view.query(keys)

    @staticmethod
    def filename(view: View) -> str:
        parts = [view.topic or view.indicator, view.breakdown, *view.waves[-1:]]
        return "_".join(p.replace("|", "-").replace(" ", "-") for p in parts if p) + ".csv"

    def _link_html(self) -> str:
        url = urlsplit(os.environ.get("VOILA_REQUEST_URL", ""))
        href = f"{url.path}?{self.query()}" if url.path else f"?{self.query()}"
        return (f'Link to this view: <a class="st-link" href="{html.escape(href)}" target="_top">'
                f"{html.escape(href)}</a>")


class _IndicatorApp(App):
    """One indicator by one breakdown: a trend or a group comparison, and its table."""

    @classmethod
    def rows(cls, cube, view: View) -> pd.DataFrame:
        return cube.select(indicator=view.indicator, breakdown=view.breakdown, waves=list(view.waves))

    @classmethod
    def figure_for(cls, cube, view: View, rows: pd.DataFrame) -> go.Figure:
        if rows.empty:
            raise ManifestError("no estimates for this view: the question was not asked in these waves",
                                expected="an indicator asked in the waves",
                                found=f"{view.indicator} in {', '.join(view.waves)}",
                                hint="pick other waves")
        wording = cube.catalogue[view.indicator].wording or None
        if view.chart == "groups":
            return plots.compare_groups(rows, question=wording, small_base=cube.small_base)
        return plots.trend(rows, waves=[w for w in view.waves if w in set(rows["wave"])],
                           question=wording, small_base=cube.small_base)


class TrustApp(_IndicatorApp):
    """Trust in organisations to use and to keep data about people."""

    name = "trust"
    title = "Trust in organisations"
    intro = ("How many people trust organisations to use data about them, and to keep it secure, "
             "by group and over time. Weighted estimates with 95% confidence intervals.")
    topics = ("Trust to use data", "Trust to keep data secure")


class AcceptabilityApp(_IndicatorApp):
    """How acceptable people find uses of data and AI, and their views of AI."""

    name = "acceptability"
    title = "Acceptability of data and AI uses"
    intro = ("How acceptable people find specific uses of data and AI, and their awareness and "
             "use of AI, by group and over time. Weighted estimates with 95% confidence intervals.")
    topics = ("Acceptability", "Acceptability (net)", "AI")


_KIND_NAMES = {"share": "shares", "net": "net scores", "mean": "mean scores"}


class OverviewApp(App):
    """Headline indicators in one wave with their change, and a heatmap of a topic by a breakdown."""

    name = "overview"
    title = "Overview: public attitudes to data and AI"
    intro = ("Headline figures for all adults in the chosen wave with the change since the previous "
             "wave, and how groups differ across a topic's indicators.")
    controls_shown = ("topic", "breakdown", "wave", "ci")
    label_column = "indicator_label"

    @classmethod
    def topic_options(cls, cube) -> list[tuple[str, str]]:
        """(label, value) per topic and kind: a heatmap shows numbers of one kind."""
        pairs = list(dict.fromkeys((ind.topic, ind.kind) for ind in cube.catalogue))
        kinds_of = {t: [k for tt, k in pairs if tt == t] for t, _ in pairs}
        return [(t if len(kinds_of[t]) == 1 else f"{t} ({_KIND_NAMES[k]})", f"{t}|{k}")
                for t, k in pairs]

    @staticmethod
    def _topic_indicators(cube, view: View) -> list[str]:
        topic, kind = view.topic.split("|")
        return [ind.name for ind in cube.catalogue if ind.topic == topic and ind.kind == kind]

    @classmethod
    def rows(cls, cube, view: View) -> pd.DataFrame:
        frame = cube.select(breakdown=view.breakdown, waves=list(view.waves))
        return frame[frame["indicator"].isin(cls._topic_indicators(cube, view))]

    @classmethod
    def figure_for(cls, cube, view: View, rows: pd.DataFrame) -> go.Figure:
        if rows.empty:
            raise ManifestError("no estimates for this topic in this wave", found=view.waves[-1],
                                expected="a topic asked in the wave", hint="pick another wave")
        topic = {value: label for label, value in cls.topic_options(cube)}[view.topic]
        by = "all adults" if view.breakdown == "total" else cube.breakdowns[view.breakdown].label
        return plots.heatmap(rows, small_base=cube.small_base,
                             title=f"{topic} by {by.lower()} ({view.waves[-1]})",
                             row_labels={ind.name: ind.short_label for ind in cube.catalogue})

    @classmethod
    def table_rows(cls, cube, view: View, rows: pd.DataFrame) -> pd.DataFrame:
        total = cube.select(breakdown="total", waves=list(view.waves))
        return total[total["indicator"].isin(cls._topic_indicators(cube, view))]


APPS = (OverviewApp, TrustApp, AcceptabilityApp)

if __name__ == "__main__":  # python -m surveytools.dashboard [MANIFEST]: build the cube cache
    import sys

    print(f"indicator cube ready in {warm(sys.argv[1] if len(sys.argv) > 1 else None):.1f} s")

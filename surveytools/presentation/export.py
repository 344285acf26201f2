"""A static HTML site of the dashboards: no kernel, no server, no network.

:func:`export_site` writes one page per dashboard page of the cube
(:func:`surveytools.presentation.dashboard.pages`: the overview, the
topic-specific pages the catalogue has something for, a generic page per
other topic) and an index.  Each page holds every view it offers with the
default CI method (each indicator x breakdown, as a trend over every wave and
as a group comparison in the latest wave; each overview topic x breakdown in
the latest wave), drawn through the same
:meth:`surveytools.presentation.dashboard.App.render` the live apps use, so
the small-base rule, the explanations of empty views and the series breaks
are exactly theirs.  A view with nothing to show says why in its chart; the
returned :class:`SiteExport` counts those views, and its text is the summary
``surveytools export-dashboard`` prints.  The cube comes from the cube store
(:mod:`surveytools.indicators.store`); every file is written atomically.  A
page's selects switch among its precomputed views client-side; ``plotly.js``
is copied into the site once.  The site works from ``file://`` and from any
web server; the view is kept in the URL's ``#`` part so links reopen it.

Examples
--------
From Python, or ``surveytools export-dashboard MANIFEST --out DIR``::

    from surveytools.presentation.export import export_site
    written = export_site("data/tracker/waves.toml", "site")   # written.index: site/index.html
    print(written)        # the index, pages and views, and the views with nothing to show
"""

from __future__ import annotations

import html
import json
import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from ..core.files import atomic_write
from ..indicators.store import cached_cube
from .caveats import KINDS, Empty
from .dashboard import Page, pages
from .formatting import CI_LABELS
from .views import CHARTS, TABLE_CSS, View, table_html

PLOTLY_JS = "plotly.min.js"


@dataclass(frozen=True)
class SiteExport:
    """What :func:`export_site` wrote.

    Attributes
    ----------
    index : Path
        The site's ``index.html``.
    pages : tuple of str
        The dashboard pages' file names.
    views : int
        How many views the pages hold.
    empty : tuple of (str, str, Empty)
        Each view with nothing to show: its page's file, its key
        (``indicator=...&breakdown=...``) and why.
    """

    index: Path
    pages: tuple[str, ...]
    views: int
    empty: tuple[tuple[str, str, Empty], ...]

    def __str__(self) -> str:
        """The summary: the index, the pages and views, how many say why they are empty."""
        text = f"{self.index} ({len(self.pages)} pages, {self.views} views"
        if not self.empty:
            return text + ")"
        kinds = Counter(why.kind for _, _, why in self.empty)
        return (text + f"; {len(self.empty)} with nothing to show, each saying why: "
                + ", ".join(f"{n} {KINDS[kind]}" for kind, n in kinds.items()) + ")")


def export_site(manifest: str | os.PathLike, out_dir: str | os.PathLike) -> SiteExport:
    """Write the static site of the dashboards on ``manifest`` into ``out_dir``.

    Parameters
    ----------
    manifest : str or path
        The tracker manifest (catalogue and breakdowns beside it).
    out_dir : str or path
        Created if needed; files of an earlier export are overwritten.

    Returns
    -------
    SiteExport
        The index, the pages, and the views with nothing to show (each says why).
    """
    from plotly.offline import get_plotlyjs

    out = Path(out_dir)
    cube = cached_cube(manifest)
    atomic_write(out / PLOTLY_JS, get_plotlyjs())
    found = pages(cube)
    count, empty = 0, []
    for page in found:
        views, controls = _views(page, cube)
        count += len(views)
        empty += [(f"{page.stem}.html", key, why) for key, (_, why) in views.items() if why]
        atomic_write(out / f"{page.stem}.html",
                     _page(page, cube, {key: shown for key, (shown, _) in views.items()}, controls))
    index = atomic_write(out / "index.html", _index(found, cube))
    return SiteExport(index=index, pages=tuple(f"{page.stem}.html" for page in found),
                      views=count, empty=tuple(empty))


def file_href(page: Page, params: Mapping[str, str]) -> str:
    """The link from one exported page to another, opened on a view (``#`` part)."""
    return f"{page.stem}.html" + (f"#{urlencode(params, safe=',|')}" if params else "")


def _views(page: Page, cube) -> tuple[dict, dict]:
    """Every view of ``page`` (JSON-ready parts, and why it is empty or None) by key,
    and the selects that reach them."""
    app = page.app
    latest = (cube.waves[-1],)
    breakdowns = [("Total (all adults)", "total")] + [(b.label, b.name) for b in cube.breakdowns]
    if "topic" in app.controls_shown:
        controls = {"topic": app.topic_options(cube) or [("No topics", "")],
                    "breakdown": breakdowns}
        combos = [{"topic": t, "breakdown": b, "waves": latest}
                  for _, t in controls["topic"] for _, b in breakdowns]
    else:
        controls = {"indicator": [(ind.label, ind.name) for ind in app.indicators(cube, page.topic)]
                    or [("No indicators on this page's topics", "")],
                    "breakdown": breakdowns, "chart": [(label, key) for key, label in CHARTS.items()]}
        combos = [{"indicator": i, "breakdown": b, "chart": c, "topic": page.topic,
                   "waves": tuple(cube.waves) if c == "trend" else latest}
                  for _, i in controls["indicator"] for _, b in breakdowns for _, c in controls["chart"]]
    views = {}
    for combo in combos:
        view = View(**combo)
        shown = app.render(cube, view)
        key = "&".join(f"{name}={combo[name]}" for name in controls)
        views[key] = ({
            "figure": json.loads(shown.figure.to_json()),
            "table": table_html(shown.table),
            "csv": shown.csv.to_csv(index=False) if len(shown.csv) else "",
            "filename": app.filename(view),
            "note": shown.note,
        }, shown.empty)
    return views, controls


def _script_json(value) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(value, separators=(",", ":")).replace("</", "<\\/")


def _page(page: Page, cube, views: dict, controls: dict) -> str:
    app = page.app
    view = app.default_view(cube, page.topic or None)
    title = app.title_for(cube, view)
    tracker = cube.name
    selects = "".join(
        f'<label>{html.escape(name.title())} <select id="{name}" class="st-control-{name}">'
        + "".join(f'<option value="{html.escape(value)}">{html.escape(label)}</option>'
                  for label, value in options)
        + "</select></label> "
        for name, options in controls.items())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(f"{title}: {tracker}" if tracker else title)}</title>
<script src="{PLOTLY_JS}"></script>
<style>{PAGE_CSS}{TABLE_CSS}</style></head>
<body><p><a href="index.html">All dashboards</a></p>
{app.header(cube, view, file_href)}
<form class="st-controls">{selects}</form>
<div id="st-chart" class="st-chart"></div>
<div id="st-table"></div>
<p><span id="st-download-part"><a id="st-download" class="st-download" href="#">Download CSV of
this table</a> · </span><a id="st-link" class="st-link" href="#">Link to this view</a></p>
<div id="st-notes">{next(iter(views.values()))["note"]}</div>
<p class="st-note">Wave shown in group comparisons and the overview: {html.escape(cube.waves[-1])}.</p>
<script id="views" type="application/json">{_script_json(views)}</script>
<script>{PAGE_JS}</script>
</body></html>
"""


def _index(found: list[Page], cube) -> str:
    items = []
    for page in found:
        view = page.app.default_view(cube, page.topic or None)
        items.append(f'<li><a href="{page.stem}.html">{html.escape(page.app.title_for(cube, view))}'
                     f"</a>: {html.escape(page.app.intro_for(cube, view))}</li>")
    name = cube.name or "Dashboards"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(name)}</title>
<style>{PAGE_CSS}</style></head>
<body><h1>{html.escape(name)}</h1>
<p>Waves: {html.escape(", ".join(cube.waves))}. A static copy of the dashboards: every view was
computed in advance with the {html.escape(CI_LABELS[cube.ci])} confidence-interval method.</p>
<ul class="st-index">{"".join(items)}</ul>
<p class="st-note">{html.escape(cube.small_base.describe())}</p>
<p class="st-note">{html.escape(cube.method_note)}</p>
</body></html>
"""


PAGE_CSS = """
body{font:15px Arial,Helvetica,sans-serif;color:#1a1a1a;margin:24px;max-width:1300px}
.st-controls label{margin-right:14px;display:inline-block;margin-bottom:8px}
.st-controls select{font-size:14px;padding:3px;max-width:620px}
.st-note{font-size:13px;color:#333}
.st-index li{margin:8px 0}
"""

# Reads the selects, shows the matching precomputed view, keeps it in location.hash.
# Every combination of the selects' options was computed, so every key has a view.
PAGE_JS = """
const views = JSON.parse(document.getElementById('views').textContent);
const selects = Array.from(document.querySelectorAll('.st-controls select'));
function key() { return selects.map(s => s.id + '=' + s.value).join('&'); }
function fromHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  selects.forEach(s => { const v = params.get(s.id);
    if (v !== null && Array.from(s.options).some(o => o.value === v)) s.value = v; });
}
function show() {
  const view = views[key()];
  history.replaceState(null, '', '#' + key());
  document.getElementById('st-link').href = '#' + key();
  Plotly.react(document.getElementById('st-chart'), view.figure.data, view.figure.layout,
               {responsive: true, displaylogo: false});
  document.getElementById('st-table').innerHTML = view.table;
  document.getElementById('st-notes').innerHTML = view.note;
  document.getElementById('st-download-part').hidden = !view.csv;
  const link = document.getElementById('st-download');
  link.href = 'data:text/csv;charset=utf-8,' + encodeURIComponent(view.csv);
  link.download = view.filename;
}
selects.forEach(s => s.addEventListener('change', show));
window.addEventListener('hashchange', () => { fromHash(); show(); });
fromHash(); show();
"""

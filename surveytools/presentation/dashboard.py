"""The Voila dashboards as App classes: controls -> view -> ``update()`` -> chart + table.

This module owns the apps and the pages a cube has.  A dashboard notebook
builds one app and shows it::

    import surveytools as st
    st.TrustApp.from_manifest()

Every app has ONE update path: a control change makes a new :class:`View`
(frozen, :mod:`surveytools.presentation.views`), and :meth:`App.update` draws
the chart (a plotly ``FigureWidget`` from :mod:`surveytools.presentation.plots`),
the table with bases, the CSV download, the link to the view and the notes
from that view alone.  The cubes come from the cube store
(:class:`surveytools.indicators.store.CubeCache`), with their method
parameters (interval method, confidence level, correction) and method note; the
small-base rule applies to the dashboards exactly as to every other output.

Any catalogue works.  :func:`pages` lists the pages of a cube: the overview,
which links every topic to the page that shows it; a topic-specific page
(:class:`TrustApp`, :class:`AcceptabilityApp`) only when the catalogue has its
topics and they were asked; and the generic :class:`TopicApp`
(``topic.ipynb?topic=...``) for every other topic.  Page heads carry the
tracker's name and description from its manifest.  No control reaches an
error: a view with nothing to show draws a chart that says why (the question
was not asked in the chosen waves, the breakdown has no groups there, every
group is suppressed: :mod:`surveytools.presentation.caveats`), and trends draw
series breaks.

Deep links: Voila passes the page's query string to the kernel
(:mod:`surveytools.presentation.voila`), so
``trust.ipynb?indicator=trust_nhs_high&breakdown=age&wave=2024&ci=beta``
opens that view.  An indicator may also be named by its question
(``indicator=trust_nhs``).  A value the dashboard does not have falls back
to the default, with a note saying so.

Examples
--------
>>> TrustApp.controls_shown
('indicator', 'breakdown', 'waves', 'ci', 'chart')
>>> [app.name for app in APPS]
['overview', 'trust', 'acceptability', 'topic']
>>> live_href(Page(TopicApp, "Health services", "topic-health-services"), {"breakdown": "age"})
'topic.ipynb?topic=Health+services&breakdown=age'
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

import pandas as pd
import plotly.graph_objects as go

from ..core.errors import SurveyError
from ..estimation.intervals import CI_METHODS
from ..indicators.store import CubeCache, find_manifest
from . import plots
from .caveats import Empty, asked_waves, notes, series_breaks, why_empty
from .formatting import CI_LABELS, conf_text
from .views import (CHARTS, TABLE_CSS, View, csv_frame, csv_link, header_html, note_html,
                    parse_query, table_html, view_table)
from .voila import query_string, skip_iri_grammar, view_href, wait_for_request

__all__ = ["App", "TrustApp", "AcceptabilityApp", "TopicApp", "OverviewApp", "APPS", "Rendered",
           "Page", "pages", "live_href"]

#: The topic of catalogue entries that name none.
UNTITLED = "Indicators without a topic"


@dataclass(frozen=True)
class Rendered:
    """What one view shows: the chart, the table rows behind table and CSV, the notes,
    and why there is nothing to show (None when there is something)."""

    figure: go.Figure
    rows: pd.DataFrame
    table: pd.DataFrame
    csv: pd.DataFrame
    note: str
    empty: Empty | None = None


@dataclass(frozen=True)
class Page:
    """A dashboard page of a cube: an app, with its topic for :class:`TopicApp`;
    ``stem`` names the page's file in the static export."""

    app: type
    topic: str = ""
    stem: str = ""


#: ``href(page, params)``: the address of a page opened on a view.
Href = Callable[[Page, Mapping[str, str]], str]


def live_href(page: Page, params: Mapping[str, str]) -> str:
    """The link from one Voila page to another (the notebooks sit side by side)."""
    query = urlencode({**({"topic": page.topic} if page.topic else {}), **params}, safe=",|")
    return f"{page.app.name}.ipynb" + (f"?{query}" if query else "")


def topic_of(indicator) -> str:
    """An indicator's topic (:data:`UNTITLED` when the catalogue names none)."""
    return indicator.topic or UNTITLED


def topic_names(cube) -> list[str]:
    """The catalogue's topics, in catalogue order."""
    return list(dict.fromkeys(topic_of(ind) for ind in cube.catalogue))


class App:
    """Base dashboard: controls -> :class:`View` -> :meth:`update` -> chart + table.

    Parameters
    ----------
    cubes : CubeCache
        The cubes by CI method (``cubes.first`` gives the defaults).
    query : str, optional
        A URL query string (default: ``$QUERY_STRING``, set by Voila).

    Subclasses set :attr:`title`, :attr:`intro` (``{conf}`` stands for the
    cube's confidence level, see :meth:`intro_for`), :attr:`topics`,
    :attr:`controls_shown` and implement :meth:`rows`, :meth:`shown_indicators`
    and :meth:`figure_for`.  What a view shows is computed by the class method
    :meth:`render`, so the static export (:mod:`surveytools.presentation.export`)
    draws exactly what the app draws.

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
    #: View keys a link names besides the controls' (fixed for the page, e.g. its topic).
    query_keys: tuple[str, ...] = ()
    #: The cube column that names a table row.
    label_column = "group_label"

    def __init__(self, cubes: CubeCache, *, query: str | None = None) -> None:
        import ipywidgets as w

        self.cubes = cubes
        self.messages: list[str] = []
        base = cubes.first
        self.waves = tuple(base.waves)
        self.view = self._start_view(base, parse_query(query_string(query)))
        self.controls = self._controls(w, base)
        # The first figure goes in at construction: changes made before the
        # browser shows the widget would not reach it.
        skip_iri_grammar()
        try:
            first = self.render(self.cubes(self.view.ci), self.view).figure
        except SurveyError:
            first = go.Figure()  # update() below says what is wrong
        self.figure = go.FigureWidget(first, _validate=False)
        self.status = w.HTML(layout=w.Layout(min_height="0"))
        self.table = w.HTML()
        self.links = w.HTML()
        self.notes = w.HTML()
        header = w.HTML(f"<style>{TABLE_CSS}</style>{self.header(base, self.view, live_href)}")
        self.widget = w.VBox([header, w.HBox([self.controls[name] for name in self.controls_shown],
                                             layout=w.Layout(flex_flow="row wrap")),
                              self.status, self.figure, self.table, self.links, self.notes])
        self.widget.add_class("st-app")
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.update()

    @classmethod
    def from_manifest(cls, manifest=None, **kwargs) -> "App":
        """The app on the tracker of ``manifest`` (default:
        :func:`surveytools.indicators.store.find_manifest`)."""
        cubes = CubeCache.from_manifest(manifest or find_manifest())
        skip_iri_grammar()
        go.FigureWidget  # noqa: B018 - imports plotly's widget before a pre-heated kernel waits
        wait_for_request()
        return cls(cubes, **kwargs)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    # -- what the app offers -------------------------------------------------------
    @classmethod
    def title_for(cls, cube, view: View) -> str:
        """The page's title."""
        return cls.title

    @classmethod
    def intro_for(cls, cube, view: View) -> str:
        """The app's introduction, with the cube's confidence level."""
        return cls.intro.format(conf=conf_text(cube.conf_level))

    @classmethod
    def links(cls, cube) -> tuple[str, list[tuple[str, Page, dict]]]:
        """Links in the page's head: a lead-in and (label, page, view parameters) triples."""
        return "", [("Overview of all topics", Page(OverviewApp, stem=OverviewApp.name), {})]

    @classmethod
    def header(cls, cube, view: View, href: Href) -> str:
        """The page's head: tracker name, title, introduction, links made by ``href``."""
        lead, links = cls.links(cube)
        return header_html(tracker=cube.name, title=cls.title_for(cube, view),
                           intro=cls.intro_for(cube, view), lead=lead,
                           links=[(label, href(page, params)) for label, page, params in links])

    @classmethod
    def indicators(cls, cube, topic: str = "") -> list:
        """The indicators the app offers (:attr:`topics`; ``topic`` matters to :class:`TopicApp`)."""
        return [ind for ind in cube.catalogue if not cls.topics or ind.topic in cls.topics]

    @classmethod
    def available(cls, cube) -> bool:
        """Whether the cube asked any indicator of the app's topics (a page of its own)."""
        return bool(asked_waves(cube, [ind.name for ind in cls.indicators(cube)]))

    @classmethod
    def topic_options(cls, cube) -> list[tuple[str, str]]:
        return []

    @classmethod
    def default_view(cls, cube, topic: str | None = None) -> View:
        """The view a page opens on (on ``topic``, default the first it offers)."""
        topics = [value for _, value in cls.topic_options(cube)]
        topic = topic if topic is not None else (topics[0] if topics else "")
        names = [ind.name for ind in cls.indicators(cube, topic)]
        waves = tuple(cube.waves) if "waves" in cls.controls_shown else tuple(cube.waves[-1:])
        return View(indicator=names[0] if names else "", waves=waves, ci=cube.ci, topic=topic)

    # -- state -----------------------------------------------------------------
    def _start_view(self, base, params: dict) -> View:
        topic = params.get("topic")
        if topic is not None and topic not in {v for _, v in self.topic_options(base)}:
            self._reject("topic", topic)
            topic = None
        view = self.default_view(base, topic)
        if "indicator" in params:
            wanted = params["indicator"]
            offered = self.indicators(base, view.topic)
            by_question = [ind.name for ind in offered if ind.question == wanted]
            if wanted in [ind.name for ind in offered]:
                view = view.replace(indicator=wanted)
            elif by_question:
                view = view.replace(indicator=by_question[0])
            else:
                self._reject("indicator", wanted)
        checks = {
            "breakdown": ("total", *base.breakdowns.names),
            "ci": CI_METHODS,
            "chart": tuple(CHARTS),
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
                options=[(ind.label, ind.name) for ind in self.indicators(base, v.topic)]
                or [("No indicators on this page's topics", "")], value=v.indicator,
                description="Indicator", layout=w.Layout(width="640px"), style=style),
            "breakdown": lambda: w.Dropdown(
                options=[("Total (all adults)", "total")] + [(b.label, b.name) for b in base.breakdowns],
                value=v.breakdown, description="Breakdown", style=style),
            "waves": lambda: w.SelectMultiple(options=list(self.waves), value=v.waves,
                                              rows=len(self.waves), description="Waves", style=style),
            "wave": lambda: w.Dropdown(options=list(self.waves), value=v.waves[-1], description="Wave",
                                       style=style),
            "ci": lambda: w.Dropdown(options=[(label, key) for key, label in CI_LABELS.items()],
                                     value=v.ci, description="Confidence interval", style=style,
                                     layout=w.Layout(width="340px")),
            "chart": lambda: w.ToggleButtons(options=[(label, key) for key, label in CHARTS.items()],
                                             value=v.chart, description="Chart", style=style),
            "topic": lambda: w.Dropdown(options=self.topic_options(base) or [("No topics", "")],
                                        value=v.topic, description="Topic",
                                        layout=w.Layout(width="420px"), style=style),
        }
        controls = {name: makers[name]() for name in self.controls_shown}
        for name, control in controls.items():
            control.add_class(f"st-control-{name}")
        return controls

    def _on_change(self, change) -> None:
        name = next(n for n, c in self.controls.items() if c is change["owner"])
        value = change["new"]
        if name == "waves":  # none chosen: the view says to choose one
            self.view = self.view.replace(waves=tuple(v for v in self.waves if v in value))
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
        download = csv_link(shown.csv, self.filename(self.view)) if len(shown.csv) else ""
        self.links.value = " · ".join(filter(None, (download, self._link_html())))
        self.notes.value = shown.note
        self.status.value = "".join(f"<p class='st-message'>{html.escape(m)}</p>" for m in self.messages)
        self.last_table = shown.table

    @classmethod
    def render(cls, cube, view: View) -> Rendered:
        """Chart, table, CSV rows and notes of ``view`` (``cube`` is the view's CI method's)."""
        rows = cls.rows(cube, view)
        names = cls.shown_indicators(cube, view)
        missing = (f"This tracker has no indicators on the topics of this page "
                   f"({', '.join(cls.topics)}); the overview lists the topics it has."
                   if cls.topics else "This tracker's catalogue has no indicators.")
        empty = why_empty(cube, rows, indicators=names, breakdown=view.breakdown,
                          waves=view.waves, missing=missing)
        breaks = series_breaks(cube, names, view.waves)
        figure = (plots.message_chart(empty.text, title=cls.chart_title(cube, view)) if empty
                  else cls.figure_for(cube, view, rows, breaks))
        table_rows = cls.table_rows(cube, view, rows)
        return Rendered(figure=figure, rows=table_rows,
                        table=view_table(table_rows, small_base=cube.small_base,
                                         conf_level=cube.conf_level, label_column=cls.label_column),
                        csv=csv_frame(table_rows, small_base=cube.small_base),
                        note=note_html(cube, *notes(cube, indicators=names, waves=view.waves,
                                                    breaks=breaks)),
                        empty=empty)

    @classmethod
    def rows(cls, cube, view: View) -> pd.DataFrame:
        raise NotImplementedError

    @classmethod
    def shown_indicators(cls, cube, view: View) -> list[str]:
        """The indicators the view's chart shows."""
        raise NotImplementedError

    @classmethod
    def chart_title(cls, cube, view: View) -> str:
        """The title of the view's chart (also when it has nothing to draw)."""
        return cls.title_for(cube, view)

    @classmethod
    def figure_for(cls, cube, view: View, rows: pd.DataFrame, breaks: dict) -> go.Figure:
        raise NotImplementedError

    @classmethod
    def table_rows(cls, cube, view: View, rows: pd.DataFrame) -> pd.DataFrame:
        """The cube rows behind the table and the CSV (default: the chart's rows)."""
        return rows

    def query(self) -> str:
        keys = [*self.query_keys,
                *("wave" if name in ("waves", "wave") else name for name in self.controls_shown)]
        return self.view.query(keys)

    @classmethod
    def filename(cls, view: View) -> str:
        """The CSV's file name: what the view shows, its breakdown and latest wave."""
        parts = [view.topic if "topic" in cls.controls_shown else view.indicator,
                 view.breakdown, *view.waves[-1:]]
        return "_".join(re.sub(r"[|\s/\\]+", "-", p) for p in parts if p) + ".csv"

    def _link_html(self) -> str:
        href = view_href(self.query())
        return (f'Link to this view: <a class="st-link" href="{html.escape(href)}" target="_top">'
                f"{html.escape(href)}</a>")


class _IndicatorApp(App):
    """One indicator by one breakdown: a trend or a group comparison, and its table."""

    @classmethod
    def rows(cls, cube, view: View) -> pd.DataFrame:
        return cube.select(indicator=view.indicator, breakdown=view.breakdown, waves=list(view.waves))

    @classmethod
    def shown_indicators(cls, cube, view: View) -> list[str]:
        return [view.indicator] if view.indicator else []

    @classmethod
    def chart_title(cls, cube, view: View) -> str:
        return cube.catalogue[view.indicator].label if view.indicator else cls.title_for(cube, view)

    @classmethod
    def figure_for(cls, cube, view: View, rows: pd.DataFrame, breaks: dict) -> go.Figure:
        wording = cube.catalogue[view.indicator].wording or None
        if view.chart == "groups":
            return plots.group_chart(rows, question=wording, small_base=cube.small_base,
                                     conf_level=cube.conf_level)
        asked = set(rows["wave"])
        return plots.trend_chart(rows, waves=[w for w in view.waves if w in asked],
                                 question=wording, small_base=cube.small_base,
                                 conf_level=cube.conf_level, breaks=breaks)


class TrustApp(_IndicatorApp):
    """Trust in organisations to use and to keep data about people."""

    name = "trust"
    title = "Trust in organisations"
    intro = ("How many people trust organisations to use data about them, and to keep it secure, "
             "by group and over time. Weighted estimates with {conf} confidence intervals.")
    topics = ("Trust to use data", "Trust to keep data secure")


class AcceptabilityApp(_IndicatorApp):
    """How acceptable people find uses of data and AI, and their views of AI."""

    name = "acceptability"
    title = "Acceptability of data and AI uses"
    intro = ("How acceptable people find specific uses of data and AI, and their awareness and "
             "use of AI, by group and over time. Weighted estimates with {conf} confidence intervals.")
    topics = ("Acceptability", "Acceptability (net)", "AI")


class TopicApp(_IndicatorApp):
    """The indicators of one topic of any catalogue: ``topic.ipynb?topic=...``.

    The topic comes from the page's query string (default: the catalogue's
    first topic) and titles the page; a link to a view names it.
    """

    name = "topic"
    intro = ("The indicators of this topic by group and over time. Weighted estimates with "
             "{conf} confidence intervals.")
    query_keys = ("topic",)

    @classmethod
    def title_for(cls, cube, view: View) -> str:
        return view.topic or "Topics"

    @classmethod
    def indicators(cls, cube, topic: str = "") -> list:
        return [ind for ind in cube.catalogue if topic_of(ind) == topic]

    @classmethod
    def topic_options(cls, cube) -> list[tuple[str, str]]:
        return [(topic, topic) for topic in topic_names(cube)]


_KIND_NAMES = {"share": "shares", "net": "net scores", "mean": "mean scores"}


class OverviewApp(App):
    """Headline indicators in one wave with their change, a heatmap of a topic by a breakdown,
    and a link to every topic's page."""

    name = "overview"
    title = "Overview"
    intro = ("Headline figures for all adults in the chosen wave with the change since the previous "
             "wave, and how groups differ across a topic's indicators.")
    controls_shown = ("topic", "breakdown", "wave", "ci")
    label_column = "indicator_label"

    @classmethod
    def intro_for(cls, cube, view: View) -> str:
        """The tracker's description (from its manifest), then what the overview shows."""
        return " ".join(filter(None, (cube.description, cls.intro)))

    @classmethod
    def links(cls, cube) -> tuple[str, list[tuple[str, Page, dict]]]:
        return "Topics:", topic_links(cube)

    @classmethod
    def topic_options(cls, cube) -> list[tuple[str, str]]:
        """(label, value) per topic and kind: a heatmap shows numbers of one kind."""
        pairs = list(dict.fromkeys((topic_of(ind), ind.kind) for ind in cube.catalogue))
        kinds_of = {t: [k for tt, k in pairs if tt == t] for t, _ in pairs}
        return [(t if len(kinds_of[t]) == 1 else f"{t} ({_KIND_NAMES[k]})", f"{t}|{k}")
                for t, k in pairs]

    @classmethod
    def shown_indicators(cls, cube, view: View) -> list[str]:
        if not view.topic:
            return []
        topic, kind = view.topic.rsplit("|", 1)
        return [ind.name for ind in cube.catalogue if topic_of(ind) == topic and ind.kind == kind]

    @classmethod
    def rows(cls, cube, view: View) -> pd.DataFrame:
        frame = cube.select(breakdown=view.breakdown, waves=list(view.waves))
        return frame[frame["indicator"].isin(cls.shown_indicators(cube, view))]

    @classmethod
    def chart_title(cls, cube, view: View) -> str:
        if not view.topic:
            return cls.title_for(cube, view)
        topic = dict((value, label) for label, value in cls.topic_options(cube))[view.topic]
        by = "all adults" if view.breakdown == "total" else cube.breakdowns[view.breakdown].label
        return f"{topic} by {by.lower()} ({view.waves[-1]})"

    @classmethod
    def figure_for(cls, cube, view: View, rows: pd.DataFrame, breaks: dict) -> go.Figure:
        return plots.heatmap_chart(rows, small_base=cube.small_base,
                                   title=cls.chart_title(cube, view),
                                   row_labels={ind.name: ind.short_label for ind in cube.catalogue})

    @classmethod
    def table_rows(cls, cube, view: View, rows: pd.DataFrame) -> pd.DataFrame:
        total = cube.select(breakdown="total", waves=list(view.waves))
        return total[total["indicator"].isin(cls.shown_indicators(cube, view))]


APPS = (OverviewApp, TrustApp, AcceptabilityApp, TopicApp)


def pages(cube) -> list[Page]:
    """The pages of a cube: the overview, each topic-specific app the cube has something
    for (:meth:`App.available`), and a :class:`TopicApp` page per other topic."""
    specific = [app for app in APPS if app.topics and app.available(cube)]
    covered = {topic for app in specific for topic in app.topics}
    found = [Page(OverviewApp, stem=OverviewApp.name), *(Page(app, stem=app.name) for app in specific)]
    for topic in topic_names(cube):
        if topic not in covered:
            stem = "topic-" + (re.sub(r"[^a-z0-9]+", "-", topic.lower()).strip("-") or "untitled")
            taken = {page.stem for page in found}
            stem = next(s for s in (stem, *(f"{stem}-{i}" for i in range(2, len(found) + 2)))
                        if s not in taken)
            found.append(Page(TopicApp, topic, stem))
    return found


def topic_links(cube) -> list[tuple[str, Page, dict]]:
    """Each topic, the page that shows it and the view parameters that open it there."""
    found = pages(cube)
    links = []
    for topic in topic_names(cube):
        page = next(p for p in found if p.topic == topic or topic in p.app.topics)
        first = [ind.name for ind in page.app.indicators(cube, topic) if topic_of(ind) == topic]
        links.append((topic, page, {"indicator": first[0]} if not page.topic else {}))
    return links

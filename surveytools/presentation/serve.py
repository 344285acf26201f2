"""Serve the dashboards of any tracker with Voila, safely: ``surveytools serve MANIFEST``.

:func:`serve` builds the tracker's indicator cube (the store,
:mod:`surveytools.indicators.store`), then runs Voila on the ``dashboards/``
folder with settings it applies itself, whatever ``voila.json`` files lie
around, until it is interrupted.  The kernels find the tracker through
``$SURVEYTOOLS_MANIFEST``.

What a viewer costs, and how it is bounded
------------------------------------------
Voila runs one kernel per page view.  Here:

* **Kernels are forked, not started.**  A *kernel fork server* (one process,
  started with the server) imports everything a dashboard kernel needs
  (IPython, ipykernel, widgets, plotly, pandas, surveytools), builds every
  dashboard once, and then forks a kernel per page view
  (:class:`ForkProvisioner`).  A kernel is ready in about 0.1 s instead of
  2-4 s of imports, and shares the imported code and data with the fork
  server page by page (copy on write): about 50 MB of its own instead of
  ~250 MB.  Where forking is not possible (another kernel spec, no fork
  server) a kernel is started the ordinary way.
* **A pre-heated pool per dashboard** (``default_pool_size`` in
  ``surveytools_serve.json``): forked kernels that have already run the
  notebook up to the page's request (imports, the tracker's cube), so a
  page only builds its app.  Unlike Voila's own pool, a page never waits
  for a pool kernel that is still starting (it forks its own at once), and
  refills are spaced out after ``fill_delay`` so that they do not compete
  with the pages being served (:func:`_pooled`).
* **Every kernel is freed**: a few seconds after the last websocket of its
  page closes (a closed tab; the page's own shutdown beacon, which now
  carries its ``_xsrf`` token, frees it at once), after
  ``unconnected_timeout`` if no page ever connects (a plain request, a
  crawler), after ``cull_idle_timeout`` without any activity even when
  connected (a tab left open), and at once when it dies (no restart: the
  page would not work with a fresh kernel).
* **At most** ``max_kernels`` kernels (pool included; default: half the
  memory available at start, ``kernel_budget_mb`` each): beyond it a page
  request gets a plain "busy, retrying" page (HTTP 503 with
  ``Retry-After``) that reloads itself, so memory stays bounded whatever
  the traffic.
* **Kernels are reached over IPC sockets** in the server's private folder
  (no TCP ports to race for or to reach from other local users).
* **Plotly's widget code is a file, not a message**: a ``FigureWidget``
  sends its 5 MB JavaScript bundle as widget state to every page, through
  the kernel, the server and the websocket; here the kernels send a small
  module that imports the bundle from this server
  (``/voila/surveytools/plotly-widget.<hash>.js``), which browsers cache.
* **Templates are compiled once** per server, not once per page view
  (:func:`_share_compiled_templates`).

What the browser may send
-------------------------
Viewers send widget messages only (Voila's message type allow-list).
Nothing sends them a traceback or a server path: ``error`` messages and
``stderr`` streams from a kernel are dropped on their way to the websocket
(:class:`SafeKernelConnection`) and logged on the server instead, a
message that cannot be read is dropped (and a binary frame is checked
before jupyter_server reads it: 16 bytes claiming 10^17 parts used to
freeze the whole server), cell errors show a plain sentence,
the page's ``template`` and ``theme`` parameters are ignored (an unknown
template used to hang the request and leak a kernel), and every route
answers a plain page or 404 rather than 500 (``/logout``,
``/voila/templates/``, unknown paths).  A page whose kernel is gone (idle,
died, server restarted) says so and offers a link back.

Settings
--------
:data:`SAFE_SETTINGS` are applied over any configuration file.  The
serving settings (pool sizes, ``DashboardKernelManager``'s ``max_kernels``,
``unconnected_timeout``, ``disconnect_grace``, ``cull_idle_timeout`` ...)
are read from ``surveytools_serve.json`` (:data:`SERVE_CONFIG`) beside
``voila.json`` in the dashboards folder, then on the Jupyter config path;
plain ``voila`` reads only ``voila.json``.

Examples
--------
>>> sorted(SAFE_SETTINGS["VoilaConfiguration"])[:3]
['allow_template_override', 'allow_theme_override', 'file_allowlist']
>>> serve("data/tracker/waves.toml", port=8866)          # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import datetime as dt
import functools
import gc
import inspect
import hashlib
import html
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

__all__ = ["serve", "serve_static", "main", "SAFE_SETTINGS", "dashboards_folder",
           "DashboardKernelManager"]

log = logging.getLogger("surveytools.serve")

#: Environment variable naming the dashboards folder (default: ``dashboards/`` of the checkout).
DASHBOARDS_ENV = "SURVEYTOOLS_DASHBOARDS"
#: Environment variable telling kernels where the plotly widget bundle is served.
WIDGET_BUNDLE_ENV = "SURVEYTOOLS_WIDGET_BUNDLE"
_PACKAGE = Path(__file__).resolve().parents[1]
_THIS = "surveytools.presentation.serve"

#: The file (``.json`` or ``.py``, beside ``voila.json``) of the serving settings:
#: pre-heated pool sizes, kernel limits and timeouts.  Plain ``voila`` does not read it.
SERVE_CONFIG = "surveytools_serve"

#: Shown instead of a failed cell's error (which a viewer never sees).
CELL_ERROR = ("This part of the dashboard could not be shown. Reload the page; if it happens "
              "again, tell the team that runs the dashboards.")

#: Settings applied over every configuration file: what keeps the server safe.
SAFE_SETTINGS: dict = {
    "VoilaConfiguration": {
        "strip_sources": True,
        "show_tracebacks": False,
        "file_allowlist": [],
        "file_denylist": [".*"],
        "http_header_envs": [],
        "allow_template_override": "NO",
        "allow_theme_override": "NO",
        "template": "lab",
        "progressive_rendering": False,
        "prelaunch_hook": None,
        "multi_kernel_manager_class": f"{_THIS}.DashboardKernelManager",
    },
    "VoilaExecutor": {"show_tracebacks": False, "cell_error_instruction": CELL_ERROR},
    "Voila": {
        "kernel_websocket_connection_class": f"{_THIS}.SafeKernelConnection",
        "port_retries": 0,
        "autoreload": False,
    },
    "MappingKernelManager": {"allow_tracebacks": False, "cull_busy": False},
    "KernelManager": {"transport": "ipc"},
    # a dead dashboard kernel is not restarted: a fresh kernel would not
    # have run the notebook, and the page could not work with it.
    "KernelRestarter": {"restart_limit": 0},
}

#: Arguments every dashboard kernel starts with: output written below C level
#: (warnings of C libraries, subprocesses) goes to the server's log, not to
#: the page; no command history is written; plotly's widget code is loaded
#: from this server and the widgets' comm targets are registered
#: (:func:`surveytools.presentation.voila.prepare_kernel`).
KERNEL_ARGS = ["--IPKernelApp.capture_fd_output=False", "--HistoryManager.enabled=False",
               "--IPKernelApp.exec_lines=__import__('surveytools.presentation.voila', "
               "fromlist=['_']).prepare_kernel()"]


# -- where things are --------------------------------------------------------------------
def dashboards_folder() -> Path:
    """The dashboards: ``$SURVEYTOOLS_DASHBOARDS``, else ``dashboards/`` beside the package
    (a checkout), else ``./dashboards``.

    Raises
    ------
    ManifestError
        No folder with dashboard notebooks there.
    """
    from ..core.errors import ManifestError

    configured = os.environ.get(DASHBOARDS_ENV)
    candidates = [Path(configured)] if configured else [_PACKAGE.parent / "dashboards",
                                                        Path.cwd() / "dashboards"]
    for folder in candidates:
        if folder.is_dir() and any(folder.glob("*.ipynb")):
            return folder.resolve()
    raise ManifestError("no dashboards folder found", file=candidates[0],
                        expected="a folder of Voila notebooks (dashboards/*.ipynb)", found="none",
                        hint=f"set {DASHBOARDS_ENV}=/path/to/dashboards")


def widget_bundle() -> tuple[Path, str] | None:
    """plotly's widget bundle and its content hash (None if plotly has none)."""
    try:
        import plotly
    except ImportError:  # pragma: no cover - plotly is a dependency
        return None
    path = Path(plotly.__file__).parent / "package_data" / "widgetbundle.js"
    if not path.is_file():
        return None
    return path, hashlib.sha256(path.read_bytes()).hexdigest()[:16]


# -- the Voila application --------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _voila_classes():
    """The Voila subclasses, built on first use (Voila is imported only to serve)."""
    import tornado.web
    from jupyter_server.base.handlers import JupyterHandler
    from tornado.web import HTTPError
    import voila.app as voila_app
    from voila.app import Voila
    from voila.request_info_handler import RequestInfoSocketHandler
    from voila.shutdown_kernel_handler import VoilaShutdownKernelHandler
    from voila.static_file_handler import TemplateStaticFileHandler
    from voila.tornado.handler import TornadoVoilaHandler

    _share_compiled_templates()

    class PlainHandler(JupyterHandler):
        """A short plain page, with no detail of the server."""

        status = 404
        title = "Not found"
        text = "There is no page here."

        def prepare(self):  # noqa: D401 - tornado hook
            # no authentication or XSRF: this page reveals nothing and changes nothing
            pass

        def check_xsrf_cookie(self):
            pass

        def _plain(self):
            self.set_status(self.status)
            self.set_header("Content-Type", "text/html; charset=UTF-8")
            self.set_header("Cache-Control", "no-store")
            self.finish(_plain_page(self.title, self.text, home=self.base_url))

        def get(self, *args, **kwargs):
            self._plain()

        post = put = delete = patch = get

        def head(self, *args, **kwargs):
            self.set_status(self.status)
            self.finish()

        def write_error(self, status_code, **kwargs):
            self.set_status(status_code)
            self.finish(_plain_page("Error", "Something went wrong.", home=self.base_url))

    class NotFoundHandler(PlainHandler):
        pass

    class LogoutHandler(PlainHandler):
        status = 200
        title = "Signed out"
        text = "You are signed out of the dashboards."

        def get(self, *args, **kwargs):
            provider = self.settings.get("identity_provider")
            if provider is not None and getattr(provider, "auth_enabled", False):
                with contextlib.suppress(Exception):
                    provider.clear_login_cookie(self)
            self._plain()

        post = get

    class TemplateFiles(TemplateStaticFileHandler):
        """Voila's template files, with 404 (not 500) for a path that is not ``<template>/static/<file>``."""

        def parse_url_path(self, path):
            parts = path.split("/", 2)
            if len(parts) != 3 or parts[1] != "static" or not parts[0] or not parts[2]:
                raise HTTPError(404)
            return super().parse_url_path(path)

        @classmethod
        def get_absolute_path(cls, root, path):
            parts = os.path.normpath(path).split(os.path.sep, 2)
            if len(parts) != 3 or parts[1] != "static":
                raise HTTPError(404)
            return super().get_absolute_path(root, path)

        def write_error(self, status_code, **kwargs):
            self.set_status(status_code)
            self.finish(_plain_page("Not found" if status_code == 404 else "Error",
                                    "There is no file here.", home="/"))

    class WidgetBundle(tornado.web.StaticFileHandler):
        """plotly's widget bundle at a content-hashed address, cached for a year."""

        def initialize(self, path, digest):
            self._digest = digest
            super().initialize(path=str(Path(path).parent))

        async def get(self, digest, include_body=True):
            if digest != self._digest:
                raise HTTPError(404)
            return await super().get("widgetbundle.js", include_body)

        def set_extra_headers(self, path):
            self.set_header("Content-Type", "text/javascript; charset=UTF-8")
            self.set_header("Cache-Control", "public, max-age=31536000, immutable")

        def write_error(self, status_code, **kwargs):
            self.set_status(status_code)
            self.finish(_plain_page("Not found", "There is no file here.", home="/"))

    class ShutdownHandler(VoilaShutdownKernelHandler):
        """The page's beacon when it closes: frees its kernel (404 for no such kernel)."""

        @tornado.web.authenticated
        async def post(self, kernel_id):
            if kernel_id not in self.kernel_manager:
                raise HTTPError(404)
            await self.kernel_manager.viewer_left(kernel_id)
            self.set_status(204)
            self.finish()

    class RequestInfo(RequestInfoSocketHandler):
        """Where a pre-heated kernel waits for its page's request: one connection per kernel
        of this server (Voila's handler let any connection replace, or on closing remove,
        another kernel's)."""

        def open(self, kernel_id):
            waiters = RequestInfoSocketHandler._waiters
            if kernel_id not in self.settings["kernel_manager"] or kernel_id in waiters:
                self.close()
                return
            waiters[kernel_id] = self
            payload = RequestInfoSocketHandler._cache.pop(kernel_id, None)
            if payload is not None:
                self.write_message(payload)

        def on_close(self):
            waiters = RequestInfoSocketHandler._waiters
            for kernel_id, waiter in list(waiters.items()):
                if waiter is self:
                    del waiters[kernel_id]

    class DashboardPage(TornadoVoilaHandler):
        """A dashboard page: admitted only when a kernel may start; no template or theme
        from the query; the ``_xsrf`` cookie the page's shutdown beacon sends back; a
        message and a way back when the page's kernel is gone."""

        @tornado.web.authenticated
        async def get(self, path=None):
            for key in ("template", "theme"):
                self.request.arguments.pop(key, None)
                self.request.query_arguments.pop(key, None)
            manager = self.kernel_manager
            if not manager.admit():
                retry = manager.retry_after
                self.set_status(503)
                self.set_header("Retry-After", str(retry))
                self.set_header("Cache-Control", "no-store")
                self.finish(_plain_page(
                    "Busy", "The dashboards are busy just now. This page will try again in a few "
                    "seconds.", home=self.base_url, refresh=retry))
                return
            try:
                self.xsrf_token  # noqa: B018 - sets the _xsrf cookie
                first = True
                async for chunk in self.get_generator(path=path):
                    if first and "<head" in chunk:
                        chunk = _HEAD.sub(lambda m: m.group(0) + _kernel_watch(self.base_url), chunk, 1)
                        first = False
                    self.write(chunk)
                    self.flush()
            finally:
                manager.release()

    class SafeVoila(Voila):
        """Voila with :data:`SAFE_SETTINGS` over every configuration file and safe routes."""

        def load_config_file(self, *args, **kwargs):
            super().load_config_file(*args, **kwargs)
            from traitlets.config import Config

            # the serving settings (pool sizes, timeouts) beside voila.json, which plain
            # ``voila`` does not read, then the safe settings over everything
            super().load_config_file(SERVE_CONFIG, path=self.config_file_paths)
            self.update_config(Config(SAFE_SETTINGS))

        def stop(self):
            """Stop the kernels at once: a dashboard kernel has nothing to save, and one
            waiting for its page would only log errors while shutting down politely."""
            from jupyter_core.utils import run_sync

            shutil.rmtree(self.connection_dir, ignore_errors=True)
            run_sync(self.kernel_manager.shutdown_all)(now=True)

        def init_settings(self):
            factory = voila_app.voila_kernel_manager_factory
            voila_app.voila_kernel_manager_factory = _pooled(factory)
            try:
                settings = super().init_settings()
            finally:
                voila_app.voila_kernel_manager_factory = factory
            settings["default_handler_class"] = NotFoundHandler
            settings["serve_traceback"] = False
            return settings

        def init_handlers(self):
            handlers = []
            auth = bool(getattr(self.identity_provider, "auth_enabled", False))
            for pattern, handler, *rest in super().init_handlers():
                handler = {TemplateStaticFileHandler: TemplateFiles,
                           VoilaShutdownKernelHandler: ShutdownHandler,
                           RequestInfoSocketHandler: RequestInfo,
                           TornadoVoilaHandler: DashboardPage}.get(handler, handler)
                if pattern.rstrip("/").endswith("/logout") or (
                        pattern.rstrip("/").endswith("/login") and not auth):
                    continue
                handlers.append((pattern, handler, *rest))
            base = self.server_url or self.base_url
            extra = [(base + "logout", LogoutHandler)]
            if not auth:
                extra.append((base + "login", NotFoundHandler))
            bundle = widget_bundle()
            if bundle is not None:
                extra.append((base + r"voila/surveytools/plotly-widget\.([0-9a-f]+)\.js", WidgetBundle,
                              {"path": str(bundle[0]), "digest": bundle[1]}))
            return extra + handlers

    return SafeVoila


_HEAD = re.compile(r"<head\b[^>]*>", re.IGNORECASE)


def _pooled(factory):
    """Voila's kernel manager factory, with a pool that holds under a burst of viewers.

    Voila's pre-heated pool hands a page the *oldest* kernel of the pool,
    even one still starting, and refills one second after each use: under a
    burst, pages queue behind refills.  Here a page gets a pool kernel only
    if one is ready (else a kernel of its own is forked at once), refills
    are spaced (``refill_spacing``) after ``fill_delay`` so that they do not
    compete with the pages being served, a kernel taken from the pool counts
    as active from that moment (not culled before its page connects), and
    no refill goes beyond ``max_kernels``.
    """
    from jupyter_server._tz import utcnow
    from traitlets import Float

    def pooled_factory(base_class, preheat_kernel, default_pool_size, page_config_hook=None):
        cls = factory(base_class, preheat_kernel, default_pool_size, page_config_hook=page_config_hook)
        if not preheat_kernel:
            return cls

        class DashboardKernelPool(cls):
            refill_spacing = Float(1.0, config=True, help=(
                "Seconds between two refills of the pre-heated pools."))

            @staticmethod
            def _ready(task) -> bool:
                return task.done() and not task.cancelled() and task.exception() is None

            def _pool(self, notebook_name):
                """The pool of a notebook, without the kernels that failed to start or died."""
                pool = self._pools.setdefault(notebook_name, [])
                pool[:] = [t for t in pool if not t.done() or (
                    self._ready(t) and t.result().get("kernel_id") in self._kernels)]
                return pool

            def get_pool_size(self, notebook_name: str) -> int:
                return sum(self._ready(t) for t in self._pool(notebook_name))

            async def get_rendered_notebook(self, notebook_name, extra_kernel_env_variables={}, **kw):
                pool = self._pool(notebook_name)
                ready = next((t for t in pool if self._ready(t)), None)
                if ready is not None:
                    pool.remove(ready)
                    pool.insert(0, ready)
                    kernel_id = ready.result()["kernel_id"]
                    if kernel_id in self._kernels:  # active from now on
                        self._kernels[kernel_id].last_activity = utcnow()
                return await super().get_rendered_notebook(notebook_name, extra_kernel_env_variables, **kw)

            def fill_if_needed(self, delay=None, notebook_name=None, extra_kernel_env_variables={},
                               **kwargs):
                if getattr(self, "_limit", None) is not None:
                    pending = sum(not t.done() for pool in self._pools.values() for t in pool)
                    if len(self) + self._admitted + pending >= self._limit:
                        self.log.info("Not refilling the pool of %s: at most %d kernels",
                                      notebook_name, self._limit)
                        return
                if delay is None:  # a refill after a page took a kernel
                    loop = asyncio.get_event_loop()
                    now = loop.time()
                    start = max(now + self.fill_delay, getattr(self, "_next_fill", 0.0))
                    self._next_fill = start + self.refill_spacing
                    delay = start - now
                self._pool(notebook_name)
                return super().fill_if_needed(delay, notebook_name, extra_kernel_env_variables, **kwargs)

        return DashboardKernelPool

    return pooled_factory


def _share_compiled_templates() -> None:
    """Compile Voila's page templates once per server, not once per page view.

    Voila renders each page with a new exporter, hence a new Jinja
    environment that compiles the whole template tree again (about a
    dozen templates, a large part of the server's work per page).  Jinja's
    bytecode cache, shared here by every exporter environment of the same
    kind, keeps the compiled code keyed by template name and source checksum.
    """
    import jinja2
    from voila.exporter import VoilaExporter

    if getattr(VoilaExporter, "_surveytools_shared_templates", False):
        return

    class MemoryBytecodeCache(jinja2.BytecodeCache):
        def __init__(self) -> None:
            self.store: dict[str, bytes] = {}

        def load_bytecode(self, bucket) -> None:
            code = self.store.get(bucket.key)
            if code is not None:
                bucket.bytecode_from_string(code)

        def dump_bytecode(self, bucket) -> None:
            self.store[bucket.key] = bucket.bytecode_to_string()

    caches: dict = {}
    create = VoilaExporter._create_environment

    def create_environment(self):
        environment = create(self)
        kind = (environment.is_async, tuple(sorted(environment.extensions)))
        environment.bytecode_cache = caches.setdefault(kind, MemoryBytecodeCache())
        return environment

    VoilaExporter._create_environment = create_environment
    VoilaExporter._surveytools_shared_templates = True


def _plain_page(title: str, text: str, *, home: str = "/", refresh: int | None = None) -> str:
    meta = f'<meta http-equiv="refresh" content="{int(refresh)}">' if refresh else ""
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>{meta}"
            f"<title>{html.escape(title)}</title>"
            "<style>body{font-family:sans-serif;max-width:36em;margin:4em auto;padding:0 1em;"
            "line-height:1.5;color:#222}</style></head>"
            f"<body><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>"
            f"<p><a href='{html.escape(home, quote=True)}'>Back to the dashboards</a></p></body></html>")


_KERNEL_WATCH = """<script>(function () {
  // surveytools: tell the viewer when this page's kernel is gone, and offer a way back.
  var base = %(base)s, shown = false, leaving = false, kernelId = null;
  function kernel() {
    if (kernelId) return kernelId;
    try { kernelId = JSON.parse(document.getElementById("jupyter-config-data").textContent).kernelId; }
    catch (e) { kernelId = null; }
    return kernelId;
  }
  function show(text) {
    if (shown || leaving) return;
    shown = true;
    var box = document.createElement("div");
    box.className = "st-kernel-lost";
    box.setAttribute("role", "alert");
    box.style.cssText = "position:fixed;top:0;left:0;right:0;z-index:10000;padding:1em 1.5em;" +
      "background:#fff4ce;border-bottom:2px solid #c19c00;font:16px/1.5 sans-serif;color:#222";
    var p = document.createElement("p");
    p.style.margin = "0";
    p.textContent = text + " ";
    var a = document.createElement("a");
    a.className = "st-kernel-reload";
    a.href = window.location.href;
    a.textContent = "Reload the dashboard";
    p.appendChild(a);
    box.appendChild(p);
    (document.body || document.documentElement).appendChild(box);
  }
  function check() {
    var id = kernel();
    if (!id || shown || leaving) return;
    fetch(base + "api/kernels/" + id, {credentials: "same-origin", cache: "no-store"}).then(function (r) {
      if (r.status === 404) show(%(stopped)s);
      else if (r.ok) r.json().then(function (m) { if (m.execution_state === "dead") show(%(stopped)s); });
    }, function () { show(%(unreachable)s); });
  }
  window.addEventListener("pagehide", function () { leaving = true; });
  window.addEventListener("beforeunload", function () { leaving = true; });
  var Native = window.WebSocket;
  function Watched(url, protocols) {
    var ws = protocols === undefined ? new Native(url) : new Native(url, protocols);
    if (/\\/api\\/kernels\\/[^\\/]+\\/channels/.test(String(url))) {
      ws.addEventListener("close", function () { setTimeout(check, 500); });
    }
    return ws;
  }
  Watched.prototype = Native.prototype;
  ["CONNECTING", "OPEN", "CLOSING", "CLOSED"].forEach(function (k) { Watched[k] = Native[k]; });
  window.WebSocket = Watched;
  setInterval(function () { if (!document.hidden) check(); }, 20000);
})();</script>"""


def _kernel_watch(base_url: str) -> str:
    return _KERNEL_WATCH % {
        "base": json.dumps(base_url if base_url.endswith("/") else base_url + "/"),
        "stopped": json.dumps("This dashboard has stopped: it was left unused for a while, "
                              "or the server restarted or ran into a problem."),
        "unreachable": json.dumps("The dashboard server cannot be reached just now."),
    }


# -- kernels: admission, freeing, culling ------------------------------------------------
@functools.lru_cache(maxsize=None)
def _kernel_manager_classes():
    from jupyter_client.provisioning import LocalProvisioner
    from jupyter_server.services.kernels.kernelmanager import (AsyncMappingKernelManager,
                                                               ServerKernelManager)
    from tornado.ioloop import IOLoop
    from traitlets import Bool, Float, Integer, default

    class ForkProvisioner(LocalProvisioner):
        """Starts the kernel as a fork of the kernel fork server (see :class:`KernelForkServer`),
        or the ordinary way when that is not possible."""

        async def launch_kernel(self, cmd, **kwargs):
            server = KernelForkServer.current
            argv = None if server is None else server.kernel_argv(cmd)
            if argv is not None:
                env = dict(kwargs.get("env") or os.environ)
                cwd = str(kwargs.get("cwd") or os.getcwd())
                try:
                    pid = await server.fork(argv, env=env, cwd=cwd)
                except (OSError, ForkError, asyncio.TimeoutError) as error:
                    self.log.warning("kernel fork failed (%s); starting the kernel the ordinary way",
                                     error)
                else:
                    self.process = ForkedKernel(pid)
                    self.pid = self.pgid = pid
                    self.cwd = cwd
                    return self.connection_info
            return await super().launch_kernel(cmd, **kwargs)

    class DashboardKernel(ServerKernelManager):
        """One dashboard kernel: forked when possible, started with :data:`KERNEL_ARGS`."""

        async def _async_pre_start_kernel(self, **kw):
            kw["extra_arguments"] = [*kw.get("extra_arguments", []), *KERNEL_ARGS]
            if self.provisioner is None and getattr(self.parent, "fork_kernels", False):
                self.kernel_id = self.kernel_id or kw.pop("kernel_id", None) or _uuid()
                kw.pop("kernel_id", None)
                self.provisioner = ForkProvisioner(kernel_id=self.kernel_id,
                                                   kernel_spec=self.kernel_spec, parent=self)
            return await super()._async_pre_start_kernel(**kw)

    class DashboardKernelManager(AsyncMappingKernelManager):
        """Voila's kernels, bounded in number and freed when nobody uses them.

        A kernel is shut down ``disconnect_grace`` seconds after the last
        websocket of its page closed, ``unconnected_timeout`` seconds after
        its last activity if no page is connected, and ``cull_idle_timeout``
        seconds after its last activity even with a page connected.
        """

        max_kernels = Integer(0, config=True, help=(
            "Most kernels at once; a page asked for beyond it gets a 'busy, retrying' page. "
            "0: from the machine's memory (see kernel_budget_mb)."))
        kernel_budget_mb = Integer(160, config=True, help=(
            "Memory set aside per kernel when max_kernels is 0 (a forked kernel uses less; "
            "an ordinary one about 250 MB)."))
        unconnected_timeout = Float(60.0, config=True, help=(
            "Seconds of inactivity after which a kernel that no page is connected to is shut "
            "down (a plain request, a crawler, a page that never loaded)."))
        disconnect_grace = Float(5.0, config=True, help=(
            "Seconds after the last websocket of a kernel closed before it is shut down "
            "(a reconnecting page keeps it)."))
        fork_kernels = Bool(True, config=True, help=(
            "Fork kernels from a fork server that has imported the dashboards' code."))
        retry_after = Integer(5, config=True, help="Seconds a 'busy' page waits before retrying.")

        @default("kernel_manager_class")
        def _default_kernel_manager_class(self):
            return f"{_THIS}.DashboardKernel"

        @default("cull_idle_timeout")
        def _default_cull_idle_timeout(self):
            return 1200

        @default("cull_interval")
        def _default_cull_interval(self):
            return 10

        @default("cull_connected")
        def _default_cull_connected(self):
            return True

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self._admitted = 0
            self._grace: dict = {}
            self._limit = self.max_kernels or _kernels_for_memory(self.kernel_budget_mb)
            self.log.info("At most %d dashboard kernels at once.", self._limit)

        # admission ------------------------------------------------------------
        @property
        def limit(self) -> int:
            return self._limit

        def admit(self) -> bool:
            """Whether a new page may start a kernel now (then counted until :meth:`release`)."""
            if len(self) + self._admitted >= self._limit:
                self.log.warning("Busy: %d kernels and %d pages starting (at most %d)",
                                 len(self), self._admitted, self._limit)
                return False
            self._admitted += 1
            return True

        def release(self) -> None:
            self._admitted = max(0, self._admitted - 1)

        # freeing ----------------------------------------------------------------
        def notify_connect(self, kernel_id):
            super().notify_connect(kernel_id)
            handle = self._grace.pop(kernel_id, None)
            if handle is not None:
                IOLoop.current().remove_timeout(handle)

        def notify_disconnect(self, kernel_id):
            super().notify_disconnect(kernel_id)
            if kernel_id in self and self._kernel_connections.get(kernel_id, 0) <= 0:
                loop = IOLoop.current()
                old = self._grace.pop(kernel_id, None)
                if old is not None:
                    loop.remove_timeout(old)
                self._grace[kernel_id] = loop.call_later(
                    self.disconnect_grace, lambda: asyncio.ensure_future(self._free_if_unused(kernel_id)))

        async def _free_if_unused(self, kernel_id):
            self._grace.pop(kernel_id, None)
            if kernel_id in self and self._kernel_connections.get(kernel_id, 0) <= 0:
                self.log.info("Viewer left: shutting down kernel %s", kernel_id)
                await self._shutdown_quietly(kernel_id)

        async def viewer_left(self, kernel_id):
            """The page's beacon said it closed."""
            self.log.info("Page closed: shutting down kernel %s", kernel_id)
            await self._shutdown_quietly(kernel_id)

        async def _shutdown_quietly(self, kernel_id):
            with contextlib.suppress(KeyError, RuntimeError, Exception):
                if kernel_id in self:
                    await self.shutdown_kernel(kernel_id)

        async def shutdown_kernel(self, kernel_id, *args, **kwargs):
            handle = self._grace.pop(kernel_id, None)
            if handle is not None:
                IOLoop.current().remove_timeout(handle)
            try:
                return await super().shutdown_kernel(kernel_id, *args, **kwargs)
            finally:
                _close_websockets(kernel_id)

        def _handle_kernel_died(self, kernel_id):
            self.log.warning("Kernel %s died; its page says so.", kernel_id)
            super()._handle_kernel_died(kernel_id)
            _close_websockets(kernel_id)

        async def cull_kernel_if_idle(self, kernel_id):
            kernel = self._kernels.get(kernel_id)
            if kernel is None:
                return
            if getattr(kernel, "execution_state", None) == "dead":
                self.log.warning("Culling dead kernel %s", kernel_id)
                await self._shutdown_quietly(kernel_id)
                return
            last = getattr(kernel, "last_activity", None)
            if last is None:
                return
            idle = (dt.datetime.now(dt.timezone.utc) - last).total_seconds()
            connections = self._kernel_connections.get(kernel_id, 0)
            busy = getattr(kernel, "execution_state", "") == "busy"
            if connections <= 0 and (idle > 5 * self.unconnected_timeout
                                     or (idle > self.unconnected_timeout and not busy)):
                self.log.info("Culling kernel %s: no page connected for %d s", kernel_id, idle)
                await self._shutdown_quietly(kernel_id)
            elif self.cull_idle_timeout > 0 and idle > self.cull_idle_timeout and not busy:
                self.log.info("Culling kernel %s: idle for %d s", kernel_id, idle)
                await self._shutdown_quietly(kernel_id)

    return ForkProvisioner, DashboardKernel, DashboardKernelManager


def _uuid() -> str:
    import uuid

    return str(uuid.uuid4())


def _kernels_for_memory(budget_mb: int) -> int:
    """Kernels that fit in half the memory available now (at least 4, at most 200)."""
    available = 0
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    available = int(line.split()[1]) // 1024
    if not available:
        return 40
    return max(4, min(200, available // 2 // max(1, budget_mb)))


def _close_websockets(kernel_id: str) -> None:
    """Close the websockets of a kernel that is gone, so that its page notices at once."""
    try:
        from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection
    except ImportError:  # pragma: no cover
        return
    for connection in list(ZMQChannelsWebsocketConnection._open_sockets):
        if getattr(connection, "kernel_id", None) == kernel_id:
            with contextlib.suppress(Exception):
                connection.websocket_handler.close(4004, "kernel stopped")


_V1 = "v1.kernel.websocket.jupyter.org"
#: Most buffers a widget message from a page carries (ipywidgets sends a few at most).
_MAX_BUFFERS = 64


def _sane_frame(frame, v1: bool) -> bool:
    """Whether a websocket frame from a page is well formed enough to be parsed.

    v1 (binary): 8-byte part count n, n offsets, channel, header, parent header,
    metadata, content, buffers; the offsets must lie in the frame, in order.
    Legacy binary: 4-byte buffer count, offsets, JSON, buffers.  Legacy text
    (JSON) is parsed as it is.

    Examples
    --------
    >>> _sane_frame((10**17).to_bytes(8, "little") + bytes(8), v1=True)  # 10^17 parts claimed
    False
    >>> _sane_frame('{"header": {}}', v1=False)
    True
    """
    import struct

    if isinstance(frame, str):
        return not v1
    if not isinstance(frame, (bytes, bytearray, memoryview)):
        return False
    frame = bytes(frame)
    if v1:
        if len(frame) < 8:
            return False
        count = int.from_bytes(frame[:8], "little")
        if not 6 <= count <= 6 + _MAX_BUFFERS or 8 * (count + 1) > len(frame):
            return False
        offsets = [int.from_bytes(frame[8 * (i + 1):8 * (i + 2)], "little") for i in range(count)]
        return (offsets[0] == 8 * (count + 1) and offsets[-1] <= len(frame)
                and all(a <= b for a, b in zip(offsets, offsets[1:])))
    if len(frame) < 8:
        return False
    count = struct.unpack("!i", frame[:4])[0]
    if not 1 <= count <= 1 + _MAX_BUFFERS or 4 * (count + 1) > len(frame):
        return False
    offsets = struct.unpack("!" + "I" * count, frame[4:4 * (count + 1)])
    return (offsets[0] == 4 * (count + 1) and offsets[-1] <= len(frame)
            and all(a <= b for a, b in zip(offsets, offsets[1:])))


@functools.lru_cache(maxsize=None)
def _connection_class():
    from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection

    class SafeKernelConnection(ZMQChannelsWebsocketConnection):
        """The kernel websocket, minus what a viewer must not see: ``error`` messages
        (tracebacks) and ``stderr`` streams (warnings and tracebacks with server paths)
        are logged on the server and not sent."""

        def handle_incoming_message(self, incoming_msg):
            """A message from the page; one that cannot be read is logged and dropped
            (it used to end the connection with a traceback in the log), and a binary
            frame is checked before it is read: jupyter_server reads the part count of
            a frame as given, so 16 bytes claiming 10^17 parts froze the whole server."""
            if not _sane_frame(incoming_msg, self.subprotocol == _V1):
                self.log.warning("Malformed websocket frame from a viewer dropped (kernel %s)",
                                 self.kernel_id)
                return
            try:
                super().handle_incoming_message(incoming_msg)
            except Exception as error:  # noqa: BLE001 - whatever a page sends
                self.log.warning("Unreadable message from a viewer dropped (kernel %s): %s",
                                 self.kernel_id, type(error).__name__)

        def handle_outgoing_message(self, stream, outgoing_msg):
            try:
                _, parts = self.session.feed_identities(outgoing_msg)
                header = self.session.unpack(parts[1])
                msg_type = header.get("msg_type")
                if msg_type in ("error", "stream", "execute_input"):
                    content = self.session.unpack(parts[4])
                    if msg_type == "error":
                        self.log.warning("Not sent to the viewer (kernel %s): %s: %s", self.kernel_id,
                                         content.get("ename"), str(content.get("evalue"))[:300])
                        return
                    if msg_type == "execute_input" or content.get("name") == "stderr":
                        if msg_type == "stream":
                            self.log.info("Kernel %s stderr: %s", self.kernel_id,
                                          str(content.get("text", ""))[:1000].rstrip())
                        return
            except Exception:  # noqa: BLE001 - a message that cannot be read is not sent either
                self.log.warning("Unreadable kernel message not sent to the viewer (kernel %s)",
                                 self.kernel_id)
                return
            super().handle_outgoing_message(stream, outgoing_msg)

    return SafeKernelConnection


# -- the kernel fork server --------------------------------------------------------------
class ForkError(RuntimeError):
    """The fork server could not start a kernel."""


def _proc_start_time(pid: int) -> str | None:
    """Start time of a process (field 22 of /proc/PID/stat), None if gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("ascii", "replace")
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    if not fields or fields[0] in ("Z", "X"):
        return None
    return fields[19]


class ForkedKernel:
    """A kernel forked by the fork server, seen as a ``subprocess.Popen`` (it is not our child)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self.stdin = self.stdout = self.stderr = None
        self._started = _proc_start_time(pid)

    def poll(self) -> int | None:
        if self.returncode is None:
            started = _proc_start_time(self.pid)
            if started is None or started != self._started:
                self.returncode = 0
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class KernelForkServer:
    """A process that has imported what dashboard kernels need and forks them on request.

    Started by :func:`serve` (``KernelForkServer.current``); it dies with the
    server, and its kernels with it.  Requests go over a Unix socket in a
    private folder: one JSON line (kernel arguments, environment, folder),
    one JSON line back (the kernel's pid).
    """

    current: "KernelForkServer | None" = None

    def __init__(self, manifest: Path | None = None) -> None:
        self.manifest = manifest
        self.folder = Path(tempfile.mkdtemp(prefix="surveytools-fork-"))
        os.chmod(self.folder, 0o700)
        self.address = str(self.folder / "fork.sock")
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 180) -> bool:
        """Start and wait until it is ready; False (and a warning) if it is not."""
        env = dict(os.environ)
        self.process = subprocess.Popen(
            [sys.executable, "-Xfrozen_modules=off", "-c",
             f"from {_THIS} import _fork_server_main; _fork_server_main()",
             self.address, str(self.manifest or "")],
            stdin=subprocess.PIPE, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log.warning("the kernel fork server exited (%s); kernels start the ordinary way",
                            self.process.returncode)
                return False
            if os.path.exists(self.address):
                with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX) as s:
                    s.settimeout(5)
                    s.connect(self.address)
                    s.sendall(b'{"ping": true}\n')
                    if s.makefile().readline().strip() == '{"pong": true}':
                        KernelForkServer.current = self
                        return True
            time.sleep(0.2)
        log.warning("the kernel fork server was not ready within %d s; kernels start the "
                    "ordinary way", timeout)
        self.stop()
        return False

    def stop(self) -> None:
        if KernelForkServer.current is self:
            KernelForkServer.current = None
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)

    @staticmethod
    def kernel_argv(cmd: list[str]) -> list[str] | None:
        """The IPKernelApp arguments of a kernel command of this Python's ipykernel, else None."""
        try:
            module = cmd.index("-m")
        except ValueError:
            return None
        if module + 1 >= len(cmd) or cmd[module + 1] not in ("ipykernel_launcher", "ipykernel"):
            return None
        python = cmd[0]
        same = (os.path.realpath(shutil.which(python) or python) == os.path.realpath(sys.executable)
                or Path(python).parent == Path(sys.executable).parent)
        if not same or any(not a.startswith("-X") for a in cmd[1:module]):
            return None
        return cmd[module + 2:]

    async def fork(self, argv: list[str], *, env: dict, cwd: str, timeout: float = 30) -> int:
        reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(self.address), timeout)
        try:
            writer.write(json.dumps({"argv": argv, "env": env, "cwd": cwd}).encode() + b"\n")
            await writer.drain()
            reply = json.loads(await asyncio.wait_for(reader.readline(), timeout) or b"{}")
        finally:
            writer.close()
        if "pid" not in reply:
            raise ForkError(reply.get("error", "no answer"))
        return int(reply["pid"])


def _prctl_set(option: int, value) -> None:
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(option, value, 0, 0, 0)


_PR_SET_PDEATHSIG = 1
_PR_SET_NAME = 15


def _preload(manifest: str) -> None:
    """What every dashboard kernel would import and compute first, done once."""
    import ipykernel.ipkernel  # noqa: F401
    import ipykernel.kernelapp  # noqa: F401
    import ipywidgets  # noqa: F401
    import plotly.graph_objects as go

    go.FigureWidget  # noqa: B018 - plotly's lazy import of the widget
    from . import voila as voila_kernel

    voila_kernel.serve_widget_bundle()
    from . import dashboard  # (and the package root, which the notebooks import)

    with contextlib.suppress(Exception):
        import ipykernel.debugger  # noqa: F401 - imported by every kernel's start-up
    if not manifest:
        return
    with contextlib.suppress(Exception):
        from ..indicators.store import CubeCache

        cubes = CubeCache.from_manifest(manifest)
        try:  # builds each dashboard once (plotly's validators, widgets, lazy imports) ...
            for app in dashboard.APPS:
                app(cubes, query="")
        finally:  # ... and leaves no widget, and no comm manager, behind for the kernels
            ipywidgets.Widget.close_all()
            ipykernel.ipkernel._comm_manager = None


def _fork_server_main() -> None:  # pragma: no cover - runs in the fork server process
    """The fork server: preload, then fork a kernel per request until the server goes."""
    address, manifest = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else ""
    _prctl_set(_PR_SET_PDEATHSIG, signal.SIGTERM)
    _prctl_set(_PR_SET_NAME, b"st-forkserver")
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()
    try:
        _preload(manifest)
    except Exception:  # noqa: BLE001 - kernels then import for themselves
        traceback.print_exc()
    gc.collect()
    gc.freeze()  # objects shared with the kernels are not touched by their collector
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # kernels are reaped by the system
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(address)
    os.chmod(address, 0o600)
    listener.listen(64)
    listener.settimeout(2.0)
    while True:
        if os.getppid() != parent:
            os._exit(0)
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            continue
        except OSError:
            os._exit(0)
        with conn:
            conn.settimeout(10)
            try:
                request = json.loads(conn.makefile("rb").readline() or b"{}")
            except (OSError, ValueError):
                continue
            if request.get("ping"):
                with contextlib.suppress(OSError):
                    conn.sendall(b'{"pong": true}\n')
                continue
            try:
                pid = os.fork()
            except OSError as error:
                with contextlib.suppress(OSError):
                    conn.sendall(json.dumps({"error": str(error)}).encode() + b"\n")
                continue
            if pid == 0:
                listener.close()
                conn.close()
                _run_forked_kernel(request)  # never returns
            with contextlib.suppress(OSError):
                conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")


def _run_forked_kernel(request: dict) -> None:  # pragma: no cover - runs in a forked kernel
    code = 0
    try:
        os.setsid()
        _prctl_set(_PR_SET_PDEATHSIG, signal.SIGKILL)
        _prctl_set(_PR_SET_NAME, b"st-kernel")
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        import random

        random.seed()
        asyncio.set_event_loop_policy(None)
        os.chdir(request.get("cwd") or "/")
        env = {str(k): str(v) for k, v in (request.get("env") or {}).items()}
        env["JPY_PARENT_PID"] = str(os.getppid())
        os.environ.clear()
        os.environ.update(env)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        # (IPKernelApp read $JPY_PARENT_PID when the fork server imported it: say it again)
        argv = [str(a) for a in request.get("argv", [])] + [f"--IPKernelApp.parent_handle={os.getppid()}"]
        sys.argv = ["ipykernel_launcher", *argv]
        from ipykernel.kernelapp import IPKernelApp

        app = IPKernelApp.instance()
        app.initialize(argv)
        app.start()
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 0
    except BaseException:  # noqa: BLE001
        traceback.print_exc()
        code = 1
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


# -- serve -------------------------------------------------------------------------------
def _warm(manifest: Path, allow_undeclared: bool) -> float:
    """Build and store the tracker's cube (refusing undeclared non-answers is the store's part)."""
    from ..indicators import store

    start = time.perf_counter()
    if "allow_undeclared" in inspect.signature(store.warm).parameters:
        store.warm(manifest, allow_undeclared=allow_undeclared)
    else:
        store.warm(manifest)
    return time.perf_counter() - start


def serve(manifest: str | os.PathLike, *, port: int = 8866, allow_undeclared: bool = False,
          open_browser: bool = False) -> int:
    """Serve the dashboards on the tracker ``manifest`` describes, until interrupted.

    Builds (or finds in the store) the tracker's indicator cube, starts the
    kernel fork server, and runs Voila on the dashboards folder
    (:func:`dashboards_folder`) with :data:`SAFE_SETTINGS`, on 127.0.0.1 by
    default (``Voila.ip`` in ``voila.json`` changes it).

    Parameters
    ----------
    manifest : str or path
        The tracker manifest (``waves.toml``).
    port : int
        The port (it must be free).
    allow_undeclared : bool
        Serve even if the store finds codes that look like undeclared non-answers.
    open_browser : bool
        Open the dashboards in a browser.

    Returns
    -------
    int
        0 when stopped by an interrupt or SIGTERM; 2 for bad input (the manifest,
        the dashboards folder); 1 if the server could not start (the port taken).
    """
    from ..core.errors import SurveyError

    manifest = Path(manifest).expanduser().resolve()
    try:
        if not manifest.is_file():
            from ..core.errors import FileFormatError

            raise FileFormatError("manifest not found", file=manifest, expected="a tracker manifest (.toml)",
                                  found="no such file", hint="check the path, e.g. data/tracker/waves.toml")
        folder = dashboards_folder()
        seconds = _warm(manifest, allow_undeclared)
    except SurveyError as error:
        print(f"surveytools serve: error: {error}", file=sys.stderr)
        return 2
    print(f"surveytools serve: indicator cube ready in {seconds:.1f} s", file=sys.stderr, flush=True)
    os.environ["SURVEYTOOLS_MANIFEST"] = str(manifest)
    if allow_undeclared:  # the kernels' cubes, as the one just built
        from ..indicators import store

        os.environ[getattr(store, "ALLOW_UNDECLARED_ENV", "SURVEYTOOLS_ALLOW_UNDECLARED")] = "1"
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    bundle = widget_bundle()
    if bundle is not None:
        os.environ[WIDGET_BUNDLE_ENV] = f"voila/surveytools/plotly-widget.{bundle[1]}.js"

    from traitlets.config import Config

    defaults = Config({"Voila": {"ip": "127.0.0.1", "open_browser": bool(open_browser),
                                 "config_file_paths": _config_paths(folder),
                                 "log_format": "[%(name)s %(asctime)s]%(highlevel)s %(message)s",
                                 "log_datefmt": "%Y-%m-%d %H:%M:%S"}})
    app = _voila_classes()(config=defaults)
    forks = None
    try:
        app.initialize([str(folder), f"--port={int(port)}"])
        os.environ.setdefault("VOILA_APP_IP", app.ip if app.ip not in ("", "0.0.0.0", "::")
                              else "127.0.0.1")  # where a pre-heated kernel asks for its request
        if not _port_free(app.ip, app.port):
            print(f"surveytools serve: error: port {app.port} on {app.ip or 'all addresses'} is in use; "
                  "choose another with --port", file=sys.stderr)
            return 1
        manager_config = app.config.get("DashboardKernelManager", {})
        # (Linux only: the fork server relies on prctl and /proc)
        if manager_config.get("fork_kernels", True) and sys.platform.startswith("linux"):
            forks = KernelForkServer(manifest)
            forks.start()
        app.start()
    except KeyboardInterrupt:
        pass
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 1
    finally:
        if forks is not None:
            forks.stop()
    return 0


def serve_static(site: str | os.PathLike, *, port: int = 8866, open_browser: bool = False,
                 ip: str = "127.0.0.1") -> int:
    """Serve an exported static site (``surveytools export-dashboard``) until interrupted.

    For audiences larger than one dashboard server holds: every view is a
    file, no kernel runs, one process serves thousands of viewers.  Files
    only from ``site`` (no listing, no path outside it), a plain 404, HTML
    revalidated and the rest cached for an hour.

    Returns
    -------
    int
        0 when interrupted or stopped by SIGTERM, 2 if ``site`` has no
        ``index.html``, 1 if the port is in use.
    """
    import tornado.ioloop
    import tornado.web

    folder = Path(site).expanduser().resolve()
    if not (folder / "index.html").is_file():
        print(f"surveytools serve: error: {folder}: no index.html; export the site first "
              "(surveytools export-dashboard MANIFEST --out DIR)", file=sys.stderr)
        return 2
    if not _port_free(ip, port):
        print(f"surveytools serve: error: port {port} on {ip} is in use; choose another with --port",
              file=sys.stderr)
        return 1

    class SiteFiles(tornado.web.StaticFileHandler):
        def set_extra_headers(self, path):
            self.set_header("X-Content-Type-Options", "nosniff")
            self.set_header("Cache-Control", "no-cache" if path.endswith(".html") or not path
                            else "public, max-age=3600")

        def write_error(self, status_code, **kwargs):
            self.set_status(status_code)
            self.finish(_plain_page("Not found" if status_code == 404 else "Error",
                                    "There is no page here.", home="/"))

        def head(self, path):
            return self.get(path, include_body=False)

    class Missing(tornado.web.RequestHandler):
        def prepare(self):
            raise tornado.web.HTTPError(404)

        def write_error(self, status_code, **kwargs):
            self.set_status(status_code)
            self.finish(_plain_page("Not found", "There is no page here.", home="/"))

    app = tornado.web.Application([(r"/(.*)", SiteFiles, {"path": str(folder), "default_filename": "index.html"})],
                                  default_handler_class=Missing, serve_traceback=False)
    server = app.listen(port, ip)
    url = f"http://{ip}:{port}/"
    print(f"surveytools serve: the static dashboards of {folder} at {url}", file=sys.stderr, flush=True)
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    loop = tornado.ioloop.IOLoop.current()
    loop.asyncio_loop.add_signal_handler(signal.SIGTERM, loop.stop)
    try:
        loop.start()
    except KeyboardInterrupt:
        pass
    finally:
        loop.asyncio_loop.remove_signal_handler(signal.SIGTERM)
        server.stop()
    return 0


def _port_free(ip: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in (ip or "") else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will
        try:
            probe.bind((ip or "", port))
        except OSError:
            return False
    return True


def _config_paths(folder: Path) -> list[str]:
    from jupyter_core.paths import jupyter_config_path

    return [str(folder), *jupyter_config_path()]


def main(argv: list[str] | None = None) -> int:
    """``python -m surveytools.presentation.serve MANIFEST [--port N] [--allow-undeclared]``."""
    parser = argparse.ArgumentParser(prog="python -m surveytools.presentation.serve",
                                     description="Serve the dashboards of a tracker with safe Voila settings.")
    parser.add_argument("manifest", metavar="MANIFEST", help="the tracker manifest (waves.toml)")
    parser.add_argument("--port", type=int, default=8866)
    parser.add_argument("--allow-undeclared", action="store_true",
                        help="serve even with codes that look like undeclared non-answers")
    parser.add_argument("--open-browser", action="store_true")
    parser.add_argument("--static", metavar="SITE", default=None,
                        help="serve the static site exported into SITE (kept up to date from "
                             "MANIFEST first) instead of live dashboards: no kernels")
    args = parser.parse_args(argv)
    if args.static:
        from ..core.errors import SurveyError
        from ..indicators import store
        from .export import export_site

        if args.allow_undeclared:
            os.environ[getattr(store, "ALLOW_UNDECLARED_ENV", "SURVEYTOOLS_ALLOW_UNDECLARED")] = "1"
        try:
            export_site(args.manifest, args.static)
        except SurveyError as error:
            print(f"surveytools serve: error: {error}", file=sys.stderr)
            return 2
        return serve_static(args.static, port=args.port, open_browser=args.open_browser)
    return serve(args.manifest, port=args.port, allow_undeclared=args.allow_undeclared,
                 open_browser=args.open_browser)


def __getattr__(name: str):
    """The Voila and Jupyter classes (``SafeVoila``, ``DashboardKernelManager`` ...), imported
    on first use so that importing this module does not import the server."""
    if name == "SafeVoila":
        return _voila_classes()
    if name in ("ForkProvisioner", "DashboardKernel", "DashboardKernelManager"):
        classes = dict(zip(("ForkProvisioner", "DashboardKernel", "DashboardKernelManager"),
                           _kernel_manager_classes()))
        globals().update(classes)
        return classes[name]
    if name == "SafeKernelConnection":
        cls = _connection_class()
        globals()["SafeKernelConnection"] = cls
        return cls
    raise AttributeError(name)


if __name__ == "__main__":
    # run the imported module, not this copy of it named __main__: the Voila
    # classes (found by their import path) must share its fork server
    import importlib

    sys.exit(importlib.import_module(__spec__.name).main())

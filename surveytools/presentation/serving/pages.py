"""What the dashboard server answers besides the dashboards themselves, and what it adds
to a dashboard page: every route a plain page or 404, never 500 or a server detail.

:func:`handler_classes` builds the request handlers that replace Voila's and
jupyter_server's (on first use: tornado and Voila are imported only to
serve); :mod:`~surveytools.presentation.serving.app` puts them on their
routes.  ``DashboardPage`` admits a page only when its kernel may start
(else a plain "busy, retrying" page, HTTP 503), ignores the page's
``template`` and ``theme`` parameters, sets the ``_xsrf`` cookie the page's
shutdown beacon sends back, and adds :func:`kernel_watch` to the page: a
script that tells the viewer when the page's kernel is gone and offers a
way back.  Plain pages (:func:`plain_page`) name nothing of the server;
Voila's own routes whose errors would be jupyter_server's error page get
them too (:func:`with_plain_errors`).

Examples
--------
>>> page = plain_page("Busy", "Back <soon>.", home="/", refresh=5)
>>> "Back &lt;soon&gt;." in page, 'content="5"' in page
(True, True)
"""

from __future__ import annotations

import contextlib
import functools
import html
import json
import os
import re
from pathlib import Path


def plain_page(title: str, text: str, *, home: str = "/", refresh: int | None = None) -> str:
    """A short HTML page: a title, a sentence, a link back; reloaded after ``refresh`` seconds."""
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


def kernel_watch(base_url: str) -> str:
    """The script added to every dashboard page (see the module's description)."""
    return _KERNEL_WATCH % {
        "base": json.dumps(base_url if base_url.endswith("/") else base_url + "/"),
        "stopped": json.dumps("This dashboard has stopped: it was left unused for a while, "
                              "or the server restarted or ran into a problem."),
        "unreachable": json.dumps("The dashboard server cannot be reached just now."),
    }



_HEAD = re.compile(r"<head\b[^>]*>", re.IGNORECASE)


class PlainErrors:
    """An error of a request handler as a plain page (jupyter_server's error page needs
    settings Voila does not have: rendering it failed, logged a traceback and sent nothing)."""

    def write_error(self, status_code, **kwargs):
        self.set_status(status_code)
        self.finish(plain_page("Not found" if status_code == 404 else "Error",
                               "There is no page here.", home=self.base_url))


@functools.lru_cache(maxsize=None)
def with_plain_errors(cls):
    """``cls``, or a subclass of it with :class:`PlainErrors` if its errors would be
    jupyter_server's error page (Voila's file routes: ``/voila/labextensions/``,
    ``/voila/api/themes/`` ...)."""
    from jupyter_server.base.handlers import JupyterHandler

    if getattr(cls, "write_error", None) is not JupyterHandler.write_error:
        return cls
    return type(cls.__name__, (PlainErrors, cls), {"__doc__": cls.__doc__})


@functools.lru_cache(maxsize=None)
def handler_classes() -> dict:
    """The request handlers, by name: ``NotFoundHandler``, ``LogoutHandler``,
    ``TemplateFiles``, ``WidgetBundle``, ``ShutdownHandler``, ``RequestInfo``,
    ``KernelChannels``, ``DashboardPage``."""
    import tornado.web
    from jupyter_server.base.handlers import JupyterHandler
    from tornado.web import HTTPError
    from voila.request_info_handler import RequestInfoSocketHandler
    from voila.shutdown_kernel_handler import VoilaShutdownKernelHandler
    from voila.static_file_handler import TemplateStaticFileHandler
    from voila.tornado.handler import TornadoVoilaHandler
    from voila.tornado.kernel_websocket_handler import VoilaKernelWebsocketHandler

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
            self.finish(plain_page(self.title, self.text, home=self.base_url))

        def get(self, *args, **kwargs):
            self._plain()

        post = put = delete = patch = get

        def head(self, *args, **kwargs):
            self.set_status(self.status)
            self.finish()

        def write_error(self, status_code, **kwargs):
            self.set_status(status_code)
            self.finish(plain_page("Error", "Something went wrong.", home=self.base_url))

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
            self.finish(plain_page("Not found" if status_code == 404 else "Error",
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
            self.finish(plain_page("Not found", "There is no file here.", home="/"))

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
            admitted = manager.admit(path)
            if not admitted:
                retry = manager.retry_after
                self.set_status(503)
                self.set_header("Retry-After", str(retry))
                self.set_header("Cache-Control", "no-store")
                self.finish(plain_page(
                    "Busy", "The dashboards are busy just now. This page will try again in a few "
                    "seconds.", home=self.base_url, refresh=retry))
                return
            try:
                self.xsrf_token  # noqa: B018 - sets the _xsrf cookie
                first = True
                async for chunk in self.get_generator(path=path):
                    if first and "<head" in chunk:
                        chunk = _HEAD.sub(lambda m: m.group(0) + kernel_watch(self.base_url), chunk, 1)
                        first = False
                    self.write(chunk)
                    self.flush()
            finally:
                manager.release(admitted)

    class KernelChannels(PlainErrors, VoilaKernelWebsocketHandler):
        """The kernel websocket route, with a plain 404 when there is no such kernel."""

    return {cls.__name__: cls for cls in (NotFoundHandler, LogoutHandler, TemplateFiles, WidgetBundle,
                                          ShutdownHandler, RequestInfo, KernelChannels, DashboardPage)}

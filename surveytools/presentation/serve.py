"""Serve the dashboards of any tracker with Voila, safely: ``surveytools serve MANIFEST``.

:func:`serve` builds the tracker's indicator cube (the store,
:mod:`surveytools.indicators.store`), starts the kernel fork server, then
runs Voila on the ``dashboards/`` folder with settings it applies itself,
whatever ``voila.json`` files lie around, until it is interrupted.  The
kernels find the tracker through ``$SURVEYTOOLS_MANIFEST``.
:func:`serve_static` serves an exported static site instead (``--static``):
no kernels, for audiences larger than one server holds.

The server itself is in :mod:`surveytools.presentation.serving`: what a
viewer costs and how it is bounded (:mod:`~.serving.kernels`), what the
browser may send (:mod:`~.serving.websocket`), the routes and plain pages
(:mod:`~.serving.pages`), the kernel fork server (:mod:`~.serving.forks`),
the Voila application (:mod:`~.serving.app`) and the settings
(:mod:`~.serving.settings`).  The names of those modules that outside code
uses are also here (``SAFE_SETTINGS``, ``dashboards_folder``,
``DashboardKernelManager``, ``SafeVoila`` ...).

Examples
--------
>>> serve("data/tracker/waves.toml", port=8866)          # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import time
from pathlib import Path

from .serving.app import voila_class
from .serving.forks import KernelForkServer
from .serving.kernels import kernel_manager_classes
from .serving.pages import plain_page
from .serving.settings import (SAFE_SETTINGS, WIDGET_BUNDLE_ENV, config_paths, dashboards_folder,
                               widget_bundle)
from .serving.websocket import connection_class

__all__ = ["serve", "serve_static", "main", "SAFE_SETTINGS", "dashboards_folder",
           "DashboardKernelManager"]

# -- serve -------------------------------------------------------------------------------
def _warm(manifest: Path, allow_undeclared: bool) -> float:
    """Build and store the tracker's cube (refusing undeclared non-answers is the store's part)."""
    from ..indicators import store

    start = time.perf_counter()
    store.warm(manifest, allow_undeclared=allow_undeclared)
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
                                 "config_file_paths": config_paths(folder),
                                 "log_format": "[%(name)s %(asctime)s]%(highlevel)s %(message)s",
                                 "log_datefmt": "%Y-%m-%d %H:%M:%S"}})
    app = voila_class()(config=defaults)
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
            self.finish(plain_page("Not found" if status_code == 404 else "Error",
                                    "There is no page here.", home="/"))

        def head(self, path):
            return self.get(path, include_body=False)

    class Missing(tornado.web.RequestHandler):
        def prepare(self):
            raise tornado.web.HTTPError(404)

        def write_error(self, status_code, **kwargs):
            self.set_status(status_code)
            self.finish(plain_page("Not found", "There is no page here.", home="/"))

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
        return voila_class()
    names = ("ForkProvisioner", "DashboardKernel", "DashboardKernelManager")
    if name in names:
        classes = dict(zip(names, kernel_manager_classes()))
        globals().update(classes)
        return classes[name]
    if name == "SafeKernelConnection":
        cls = connection_class()
        globals()[name] = cls
        return cls
    raise AttributeError(name)


if __name__ == "__main__":
    sys.exit(main())

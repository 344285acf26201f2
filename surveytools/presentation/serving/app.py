"""The Voila application of ``surveytools serve``: Voila with the safe settings over
every configuration file, the serving settings read beside ``voila.json``, the kernel
pool of :mod:`~surveytools.presentation.serving.kernels`, and the routes of
:mod:`~surveytools.presentation.serving.pages` in place of Voila's.

:func:`voila_class` builds ``SafeVoila`` on first use (Voila is imported only
to serve).  Templates are compiled once per server, not once per page view
(:func:`share_compiled_templates`).
"""

from __future__ import annotations

import functools
import shutil

from .kernels import pooled
from .pages import handler_classes, with_plain_errors
from .settings import SAFE_SETTINGS, SERVE_CONFIG, widget_bundle


@functools.lru_cache(maxsize=None)
def voila_class():
    """``SafeVoila``: Voila with :data:`~.settings.SAFE_SETTINGS` and safe routes."""
    import voila.app as voila_app
    from voila.app import Voila
    from voila.request_info_handler import RequestInfoSocketHandler
    from voila.shutdown_kernel_handler import VoilaShutdownKernelHandler
    from voila.static_file_handler import TemplateStaticFileHandler
    from voila.tornado.handler import TornadoVoilaHandler
    from voila.tornado.kernel_websocket_handler import VoilaKernelWebsocketHandler

    share_compiled_templates()
    classes = handler_classes()
    replaced = {TemplateStaticFileHandler: classes["TemplateFiles"],
                VoilaShutdownKernelHandler: classes["ShutdownHandler"],
                RequestInfoSocketHandler: classes["RequestInfo"],
                VoilaKernelWebsocketHandler: classes["KernelChannels"],
                TornadoVoilaHandler: classes["DashboardPage"]}

    class SafeVoila(Voila):
        """Voila with the safe settings over every configuration file and safe routes."""

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
            voila_app.voila_kernel_manager_factory = pooled(factory)
            try:
                settings = super().init_settings()
            finally:
                voila_app.voila_kernel_manager_factory = factory
            settings["default_handler_class"] = classes["NotFoundHandler"]
            settings["serve_traceback"] = False
            return settings

        def init_handlers(self):
            handlers = []
            auth = bool(getattr(self.identity_provider, "auth_enabled", False))
            for pattern, handler, *rest in super().init_handlers():
                handler = replaced.get(handler) or with_plain_errors(handler)
                if pattern.rstrip("/").endswith("/logout") or (
                        pattern.rstrip("/").endswith("/login") and not auth):
                    continue
                handlers.append((pattern, handler, *rest))
            base = self.server_url or self.base_url
            extra = [(base + "logout", classes["LogoutHandler"])]
            if not auth:
                extra.append((base + "login", classes["NotFoundHandler"]))
            bundle = widget_bundle()
            if bundle is not None:
                extra.append((base + r"voila/surveytools/plotly-widget\.([0-9a-f]+)\.js", classes["WidgetBundle"],
                              {"path": str(bundle[0]), "digest": bundle[1]}))
            return extra + handlers

    return SafeVoila


def share_compiled_templates() -> None:
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

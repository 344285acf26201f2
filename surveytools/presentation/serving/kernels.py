"""Dashboard kernels: how they start, how many there may be, and when they are freed.

What a viewer costs, and how it is bounded
------------------------------------------
Voila runs one kernel per page view.  Here:

* **Kernels are forked, not started.**  A *kernel fork server* (one process,
  started with the server) imports everything a dashboard kernel needs
  (IPython, ipykernel, widgets, plotly, pandas, surveytools), builds every
  dashboard once, and then forks a kernel per page view
  (``ForkProvisioner``; the fork server is
  :mod:`~surveytools.presentation.serving.forks`).  A kernel is ready in
  about 0.1 s instead of 2-4 s of imports, and shares the imported code and
  data with the fork server page by page (copy on write): about 50 MB of
  its own instead of ~250 MB.  Where forking is not possible (another
  kernel spec, no fork server) a kernel is started the ordinary way.
* **A pre-heated pool per dashboard** (``default_pool_size`` in
  ``surveytools_serve.json``): forked kernels that have already run the
  notebook up to the page's request (imports, the tracker's cube), so a
  page only builds its app.  Unlike Voila's own pool, a page never waits
  for a pool kernel that is still starting (it forks its own at once), and
  refills are spaced out after ``fill_delay`` so that they do not compete
  with the pages being served (:func:`pooled`).
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
  the traffic.  A page that takes a ready pool kernel adds none and is
  always let in (else a pool as large as the limit would turn every page
  away); refills stop at the limit.
* **Kernels are reached over IPC sockets** in the server's private folder
  (no TCP ports to race for or to reach from other local users).
* **Plotly's widget code is a file, not a message**: a ``FigureWidget``
  sends its 5 MB JavaScript bundle as widget state to every page, through
  the kernel, the server and the websocket; here the kernels send a small
  module that imports the bundle from this server
  (``/voila/surveytools/plotly-widget.<hash>.js``,
  :mod:`~surveytools.presentation.serving.pages`), which browsers cache.
* **Templates are compiled once** per server, not once per page view
  (:func:`~surveytools.presentation.serving.app.share_compiled_templates`).

The classes are built on first use (:func:`kernel_manager_classes`; Voila
and jupyter_server are imported only to serve) and found by the import
path the settings give (``surveytools.presentation.serving.kernels.DashboardKernelManager``).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import os

from .forks import ForkedKernel, ForkError, KernelForkServer
from .settings import KERNEL_ARGS, KERNEL_CLASS
from .websocket import close_websockets


@functools.lru_cache(maxsize=None)
def kernel_manager_classes():
    """``ForkProvisioner``, ``DashboardKernel`` and ``DashboardKernelManager``."""
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
            return KERNEL_CLASS

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
            self._limit = self.max_kernels or kernels_for_memory(self.kernel_budget_mb)
            self.log.info("At most %d dashboard kernels at once.", self._limit)

        # admission ------------------------------------------------------------
        @property
        def limit(self) -> int:
            return self._limit

        def admit(self, notebook: str | None = None) -> str | None:
            """How a new page of ``notebook`` gets its kernel now, or None if it may not.

            ``"pool"``: a ready pre-heated kernel, which adds no kernel (the page takes
            it before anything else runs on the server's loop); ``"new"``: a kernel of
            its own, counted until :meth:`release`; None: :attr:`limit` kernels already.
            """
            pool_size = getattr(self, "get_pool_size", None)
            if notebook is not None and pool_size is not None and pool_size(notebook) > 0:
                return "pool"
            if len(self) + self._admitted >= self._limit:
                self.log.warning("Busy: %d kernels and %d pages starting (at most %d)",
                                 len(self), self._admitted, self._limit)
                return None
            self._admitted += 1
            return "new"

        def release(self, admitted: str | None = "new") -> None:
            """The page admitted as ``admitted`` has its kernel (or gave up)."""
            if admitted == "new":
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
                close_websockets(kernel_id)

        def _handle_kernel_died(self, kernel_id):
            self.log.warning("Kernel %s died; its page says so.", kernel_id)
            super()._handle_kernel_died(kernel_id)
            close_websockets(kernel_id)

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


def kernels_for_memory(budget_mb: int) -> int:
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



def pooled(factory):
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
                pool = self._pools.get(notebook_name)
                if pool is None:  # (no entry made for a name a page made up)
                    return []
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


def __getattr__(name: str):
    """The kernel classes, by the import path the settings give Voila."""
    names = ("ForkProvisioner", "DashboardKernel", "DashboardKernelManager")
    if name in names:
        classes = dict(zip(names, kernel_manager_classes()))
        globals().update(classes)
        return classes[name]
    raise AttributeError(name)

"""The kernel fork server: dashboard kernels forked from a process that has imported
(and built) everything they need, instead of started from scratch.

:class:`KernelForkServer` starts it (one process, beside the server) and
asks it for kernels over a Unix socket in a private folder;
:func:`fork_server_main` is the process: it imports IPython, ipykernel,
widgets, plotly, pandas and surveytools, builds every dashboard once
(:func:`preload`), then forks a kernel per request
(:func:`run_forked_kernel`).  A forked kernel is ready in about 0.1 s
instead of 2-4 s of imports and shares the fork server's memory page by
page (copy on write).  :class:`ForkedKernel` is how the server sees such a
kernel (it is not the server's child).  Linux only (``prctl``, ``/proc``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

log = logging.getLogger("surveytools.serve")


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
             f"from {__name__} import fork_server_main; fork_server_main()",
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


def preload(manifest: str) -> None:
    """What every dashboard kernel would import and compute first, done once."""
    import ipykernel.ipkernel  # noqa: F401
    import ipykernel.kernelapp  # noqa: F401
    import ipywidgets  # noqa: F401
    import plotly.graph_objects as go

    go.FigureWidget  # noqa: B018 - plotly's lazy import of the widget
    from .. import voila as voila_kernel

    voila_kernel.serve_widget_bundle()
    from .. import dashboard  # (and the package root, which the notebooks import)

    with contextlib.suppress(Exception):
        import ipykernel.debugger  # noqa: F401 - imported by every kernel's start-up
    if not manifest:
        return
    with contextlib.suppress(Exception):
        from ...indicators.store import CubeCache

        cubes = CubeCache.from_manifest(manifest)
        try:  # builds each dashboard once (plotly's validators, widgets, lazy imports) ...
            for app in dashboard.APPS:
                app(cubes, query="")
        finally:  # ... and leaves no widget, and no comm manager, behind for the kernels
            ipywidgets.Widget.close_all()
            ipykernel.ipkernel._comm_manager = None


def fork_server_main() -> None:  # pragma: no cover - runs in the fork server process
    """The fork server: preload, then fork a kernel per request until the server goes."""
    address, manifest = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else ""
    _prctl_set(_PR_SET_PDEATHSIG, signal.SIGTERM)
    _prctl_set(_PR_SET_NAME, b"st-forkserver")
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()
    try:
        preload(manifest)
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
                run_forked_kernel(request)  # never returns
            with contextlib.suppress(OSError):
                conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")


def run_forked_kernel(request: dict) -> None:  # pragma: no cover - runs in a forked kernel
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

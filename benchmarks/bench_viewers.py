"""Benchmark: many concurrent viewers of the Voila dashboards on one server.

Each viewer behaves as a browser tab does, over the same HTTP and websocket
routes, without drawing anything (so that 50 of them fit beside the server
on a 2-core machine):

1. ``GET /voila/render/<dashboard>.ipynb`` (round robin over the three
   dashboards); a "busy" answer (503) is retried after its ``Retry-After``;
2. opens the kernel websocket (``/api/kernels/<id>/channels``, the Jupyter
   kernel protocol in the browsers' ``v1.kernel.websocket.jupyter.org``
   framing; ``--protocol json`` for the older JSON one), asks for the widget states over the
   ``jupyter.widget.control`` comm as the widget manager does, and counts
   the **first chart** when the plotly figure's state (with its traces)
   has arrived: seconds from the GET;
3. makes ``--changes`` control changes (the breakdown dropdown, as a
   ``comm_msg`` ``update`` of its ``index``) with a pause between them:
   **control** time = from sending the change until the kernel is idle
   again, every redraw message (chart, table, notes) sent;
4. leaves as a closed tab does: the page's ``sendBeacon`` POST to
   ``/voila/api/shutdown/<id>`` (with the ``_xsrf`` cookie when the server
   set one, as the page's code sends it) and the websocket closed.

**Errors**: a page that is neither 200 nor "busy", a websocket that fails,
a kernel that dies, a chart or change that times out, and any ``error``
message, traceback or server path a viewer receives.  A viewer **never served**
got no chart within ``--viewer-timeout``.  Memory is sampled every second
over the server's process tree (RSS sum, and PSS every 5 s, which counts
pages shared between processes once) and as the machine's used memory;
kernels are counted as processes.  After the viewers leave, the kernels
still running are counted after ``--linger`` seconds; with ``--plain N``,
N page requests that never open a websocket follow, and the kernels they
leave are counted after ``--plain-wait`` seconds.

Everything runs on 127.0.0.1, with a bounded number of viewers, changes and
seconds (``--deadline``); the run is stopped if the machine's available
memory falls under ``--min-available-gb``.

Configurations (``--server``):

* ``before``: the configuration before ``surveytools serve``: ``voila``
  on ``dashboards/`` with the old ``voila.json`` (one pre-heated kernel per
  dashboard, no culling), as ``make serve`` ran it;
* ``after``: ``python -m surveytools.presentation.serve MANIFEST``;
* ``--url URL --server-pid PID``: a server already running.

Writes ``benchmarks/results/viewers-<label>-<N>.json``.  Usage::

    .venv/bin/python benchmarks/bench_viewers.py --server after --viewers 20 50
    .venv/bin/python benchmarks/bench_viewers.py --server before --viewers 20 --plain 10
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import re
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
DASHBOARDS_DIR = ROOT / "dashboards"
MANIFEST = ROOT / "data" / "tracker" / "waves.toml"
RESULTS = Path(__file__).resolve().parent / "results"
DASHBOARDS = ("overview", "trust", "acceptability")

#: ``dashboards/voila.json`` before ``surveytools serve`` (what ``make serve`` used).
BEFORE_SETTINGS = {
    "VoilaConfiguration": {
        "strip_sources": True, "show_tracebacks": False, "file_allowlist": [],
        "file_denylist": [".*"], "http_header_envs": [], "theme": "light",
        "preheat_kernel": True, "default_pool_size": 1,
    }
}

#: What a viewer must never receive (a traceback, a path on the server: the folder of
#: the checkout wherever it lies, home folders, system libraries).
LEAK_PATTERNS = re.compile(r"Traceback|File \"/|site-packages|" + re.escape(f"{ROOT.parent}/")
                           + r"|/home/|/usr/lib|\.py\", line")


# -- the Jupyter kernel protocol over the Voila websocket -------------------------------
class ViewerError(Exception):
    """Something a viewer would see as broken."""


def _now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat()


def kernel_message(msg_type: str, content: dict, *, session: str, channel: str = "shell",
                   metadata: dict | None = None) -> dict:
    """A Jupyter message as the websocket (legacy JSON protocol) carries it."""
    return {"header": {"msg_id": uuid.uuid4().hex, "username": "viewer", "session": session,
                       "msg_type": msg_type, "version": "5.3", "date": _now_iso()},
            "parent_header": {}, "metadata": metadata or {}, "content": content,
            "channel": channel, "buffers": []}


#: The kernel websocket protocol browsers speak (JupyterLab services, Voila's page).
V1 = "v1.kernel.websocket.jupyter.org"


def encode_v1(msg: dict) -> bytes:
    """A message as the ``v1.kernel.websocket.jupyter.org`` protocol frames it."""
    parts = [json.dumps(msg[k]).encode() for k in ("header", "parent_header", "metadata", "content")]
    parts += list(msg.get("buffers") or [])
    channel = msg.get("channel", "shell").encode()
    offsets = [8 * (1 + 1 + len(parts) + 1)]
    offsets.append(offsets[-1] + len(channel))
    for part in parts:
        offsets.append(offsets[-1] + len(part))
    return b"".join([len(offsets).to_bytes(8, "little"), *(o.to_bytes(8, "little") for o in offsets),
                     channel, *parts])


def decode_v1(frame: bytes) -> dict:
    count = int.from_bytes(frame[:8], "little")
    offsets = [int.from_bytes(frame[8 * (i + 1):8 * (i + 2)], "little") for i in range(count)]
    channel = frame[offsets[0]:offsets[1]].decode()
    parts = [frame[a:b] for a, b in zip(offsets[1:], offsets[2:] + [len(frame)])]
    header, parent, metadata, content = (json.loads(p) if p else {} for p in parts[:4])
    return {"header": header, "parent_header": parent, "metadata": metadata, "content": content,
            "channel": channel, "buffers": parts[4:]}


def decode_frame(frame, protocol: str = "json") -> dict:
    """A websocket frame: v1 (binary), or the legacy protocol (JSON text, or binary with buffers)."""
    if protocol == V1 and isinstance(frame, bytes):
        return decode_v1(frame)
    if isinstance(frame, str):
        return json.loads(frame)
    nbufs = struct.unpack("!I", frame[:4])[0]
    offsets = list(struct.unpack("!" + "I" * nbufs, frame[4:4 * (nbufs + 1)])) + [None]
    parts = [frame[a:b] for a, b in zip(offsets[:-1], offsets[1:])]
    msg = json.loads(parts[0].decode("utf-8"))
    msg["buffers"] = parts[1:]
    return msg


def leaked_text(msg: dict) -> str | None:
    """The text of a message a viewer should never get (an error, a traceback, a path), else None."""
    msg_type = msg.get("header", {}).get("msg_type") or msg.get("msg_type")
    content = msg.get("content") or {}
    if msg_type == "error":
        return "error: " + json.dumps(content)[:300]
    if msg_type in ("stream", "display_data", "execute_result", "comm_msg"):
        if content.get("data", {}).get("method") == "update_states":
            return None  # the widgets' code (plotly's bundle) is no message to a person
        text = json.dumps(content, default=str)
        if LEAK_PATTERNS.search(text):
            return f"{msg_type}: " + text[:300]
    return None


class Viewer:
    """One viewer of one dashboard: page, kernel websocket, widget states, changes, leaving.

    Parameters
    ----------
    base : str
        ``http://127.0.0.1:PORT``.
    dashboard : str
        ``trust``, ``overview`` or ``acceptability``.
    """

    def __init__(self, base: str, dashboard: str, *, query: str = "", protocol: str = V1) -> None:
        self.protocol = protocol
        self.base = base.rstrip("/")
        self.dashboard = dashboard
        self.query = query
        self.session = uuid.uuid4().hex
        self.cookies: dict[str, str] = {}
        self.kernel_id: str | None = None
        self.page: str = ""
        self.ws = None
        self.messages: list[dict] = []
        self.leaks: list[str] = []
        self.closed_by_server = False
        self.states: dict = {}
        self.figure_id: str | None = None
        self.controls: dict[str, str] = {}
        self.busy_retries = 0
        self._new = asyncio.Event()
        self._reader: asyncio.Task | None = None

    # -- HTTP ---------------------------------------------------------------------------
    def _cookie_header(self) -> dict:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}

    def _keep_cookies(self, response) -> None:
        for header in response.headers.get_list("Set-Cookie"):
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]

    async def fetch(self, path: str, *, method: str = "GET", body: str | None = None,
                    timeout: float = 120, headers: dict | None = None):
        """A request to the server (no exception on an HTTP error status)."""
        from tornado.httpclient import AsyncHTTPClient, HTTPRequest

        request = HTTPRequest(self.base + path, method=method, body=body, request_timeout=timeout,
                              connect_timeout=timeout, follow_redirects=False,
                              headers={**self._cookie_header(), **(headers or {})})
        response = await AsyncHTTPClient().fetch(request, raise_error=False)
        if response.code == 599:
            raise ViewerError(f"{path}: no answer ({response.error})")
        self._keep_cookies(response)
        return response

    async def open_page(self, *, deadline: float, timeout: float = 120) -> None:
        """GET the dashboard page (retrying while the server says it is busy)."""
        path = f"/voila/render/{self.dashboard}.ipynb" + (f"?{self.query}" if self.query else "")
        while True:
            response = await self.fetch(path, timeout=timeout)
            if response.code == 503 and time.monotonic() < deadline:
                self.busy_retries += 1
                await asyncio.sleep(float(response.headers.get("Retry-After", "2")) * random.uniform(0.5, 1.0))
                continue
            if response.code != 200:
                raise ViewerError(f"page answered {response.code}")
            self.page = response.body.decode("utf-8", "replace")
            match = re.search(r'"kernelId":\s*"([0-9a-f-]{36})"', self.page)
            if not match:
                raise ViewerError("no kernel id in the page")
            self.kernel_id = match.group(1)
            if LEAK_PATTERNS.search(self.page):
                self.leaks.append("page: " + LEAK_PATTERNS.search(self.page).group(0))
            return

    # -- websocket ----------------------------------------------------------------------
    async def connect(self, timeout: float = 120) -> None:
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        url = (self.base.replace("http", "ws", 1)
               + f"/api/kernels/{self.kernel_id}/channels?session_id={self.session}")
        request = HTTPRequest(url, headers=self._cookie_header(), connect_timeout=timeout,
                              request_timeout=timeout)
        try:
            self.ws = await websocket_connect(request, max_message_size=512 * 1024 * 1024,
                                              subprotocols=[V1] if self.protocol == V1 else None)
        except Exception as error:  # noqa: BLE001 - any failure is the viewer's error
            raise ViewerError(f"websocket: {error}") from error
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        while True:
            frame = await self.ws.read_message()
            if frame is None:
                self.closed_by_server = True
                self._new.set()
                return
            try:
                msg = decode_frame(frame, self.protocol)
            except Exception:  # noqa: BLE001
                continue
            leak = leaked_text(msg)
            if leak:
                self.leaks.append(leak)
            self.messages.append(msg)
            self._new.set()

    def send(self, msg: dict) -> dict:
        if self.protocol == V1:
            self.ws.write_message(encode_v1(msg), binary=True)
        else:
            self.ws.write_message(json.dumps(msg))
        return msg

    def send_raw(self, text: str | bytes) -> None:
        """Anything at all, as a hostile page could send it."""
        self.ws.write_message(text, binary=isinstance(text, bytes))

    async def wait_for(self, predicate, timeout: float, start: int = 0) -> dict:
        """The first message from index ``start`` on that satisfies ``predicate``."""
        deadline = time.monotonic() + timeout
        index = start
        while True:
            while index < len(self.messages):
                if predicate(self.messages[index]):
                    return self.messages[index]
                index += 1
            if self.closed_by_server:
                raise ViewerError("the server closed the websocket")
            left = deadline - time.monotonic()
            if left <= 0:
                raise ViewerError("timed out")
            self._new.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._new.wait(), left)

    def _reply_to(self, msg_id: str, msg_type: str | None = None):
        def match(m):
            return (m.get("parent_header", {}).get("msg_id") == msg_id
                    and (msg_type is None or m.get("header", {}).get("msg_type") == msg_type))
        return match

    def _idle_after(self, msg_id: str):
        def match(m):
            return (m.get("parent_header", {}).get("msg_id") == msg_id
                    and m.get("header", {}).get("msg_type") == "status"
                    and m.get("content", {}).get("execution_state") == "idle")
        return match

    async def load_widgets(self, timeout: float = 120) -> None:
        """What the widget manager does: kernel info, then every widget's state at once."""
        info = self.send(kernel_message("kernel_info_request", {}, session=self.session))
        await self.wait_for(self._reply_to(info["header"]["msg_id"], "kernel_info_reply"), timeout)
        comm_id = uuid.uuid4().hex
        self.send(kernel_message("comm_open", {"comm_id": comm_id, "target_name": "jupyter.widget.control",
                                               "data": {}}, session=self.session,
                                 metadata={"version": "1.0.0"}))
        self.send(kernel_message("comm_msg", {"comm_id": comm_id, "data": {"method": "request_states"}},
                                 session=self.session))
        reply = await self.wait_for(
            lambda m: (m.get("header", {}).get("msg_type") == "comm_msg"
                       and m["content"].get("comm_id") == comm_id
                       and m["content"].get("data", {}).get("method") == "update_states"), timeout)
        self.states = reply["content"]["data"]["states"]
        self.send(kernel_message("comm_close", {"comm_id": comm_id, "data": {}}, session=self.session))
        for model_id, model in self.states.items():
            state = model.get("state", {})
            if "_widget_data" in state or "_data" in state:
                self.figure_id = model_id
            if model.get("model_name") in ("DropdownModel", "ToggleButtonsModel", "SelectMultipleModel"):
                self.controls[str(state.get("description", model_id)).lower()] = model_id
        if self.figure_id is None:
            raise ViewerError("no chart among the widgets")
        state = self.states[self.figure_id]["state"]
        if not (state.get("_widget_data") or state.get("_data")):
            raise ViewerError("the chart has no data")

    def options(self, control: str) -> list[str]:
        return list(self.states[self.controls[control]]["state"].get("_options_labels", []))

    async def change(self, control: str, index, timeout: float = 60) -> tuple[float, float | None]:
        """Move a control (``index``, as the browser sends it); seconds until the kernel is
        idle again, and until the chart's first update (None if the chart did not change)."""
        start_index = len(self.messages)
        start = time.perf_counter()
        msg = self.send(kernel_message("comm_msg", {"comm_id": self.controls[control], "data": {
            "method": "update", "state": {"index": index}, "buffer_paths": []}}, session=self.session))
        msg_id = msg["header"]["msg_id"]
        await self.wait_for(self._idle_after(msg_id), timeout, start_index)
        idle = time.perf_counter() - start
        chart = None
        for m in self.messages[start_index:]:
            if (m.get("parent_header", {}).get("msg_id") == msg_id
                    and m.get("content", {}).get("comm_id") == self.figure_id):
                chart = idle  # upper bound; the arrival time is not kept per message
                break
        return idle, chart

    async def leave(self) -> int:
        """Close the tab: the page's beacon POST (with its ``_xsrf``), then the websocket."""
        status = 0
        if self.kernel_id:
            xsrf = self.cookies.get("_xsrf", "")
            with contextlib.suppress(ViewerError):
                response = await self.fetch(f"/voila/api/shutdown/{self.kernel_id}", method="POST",
                                            body=f"_xsrf={quote(xsrf)}", timeout=30,
                                            headers={"Content-Type": "application/x-www-form-urlencoded"})
                status = response.code
        self.close()
        return status

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()
            self.ws = None
        if self._reader is not None:
            self._reader.cancel()


# -- the server under test ---------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dashboards_copy(folder: Path, settings: dict | None = None) -> Path:
    """The dashboard notebooks and settings copied to ``folder``, the serving settings
    (``surveytools_serve.json``) updated by ``settings`` (``{"Section": {"trait": value}}``)."""
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    for notebook in DASHBOARDS_DIR.glob("*.ipynb"):
        shutil.copy(notebook, folder / notebook.name)
    shutil.copy(DASHBOARDS_DIR / "voila.json", folder / "voila.json")
    serving = DASHBOARDS_DIR / "surveytools_serve.json"
    config = json.loads(serving.read_text()) if serving.is_file() else {}
    for section, values in (settings or {}).items():
        config.setdefault(section, {}).update(values)
    (folder / "surveytools_serve.json").write_text(json.dumps(config, indent=2))
    return folder


def start_server(kind: str, port: int, log: Path, manifest: Path, extra: list[str] = (), *,
                 dashboards: Path | None = None) -> subprocess.Popen:
    """``before``: voila on the dashboards as ``make serve`` ran it; ``after``: ``surveytools
    serve`` (on ``dashboards`` if given, else the project's)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "SURVEYTOOLS_MANIFEST": str(manifest)}
    if dashboards is not None:
        env["SURVEYTOOLS_DASHBOARDS"] = str(dashboards)
    if kind == "before":
        config = Path(tempfile.mkdtemp(prefix="voila-before-"))
        (config / "voila.json").write_text(json.dumps(BEFORE_SETTINGS))
        cmd = [str(Path(sys.executable).with_name("voila")), str(DASHBOARDS_DIR), f"--port={port}",
               "--no-browser", "--Voila.ip=127.0.0.1", f"--Voila.config_file_paths=['{config}']",
               "--Voila.port_retries=0"]
    else:
        cmd = [sys.executable, "-m", "surveytools.presentation.serve", str(manifest), "--port", str(port)]
    cmd += list(extra)
    return subprocess.Popen(cmd, cwd=DASHBOARDS_DIR, stdout=log.open("w"), stderr=subprocess.STDOUT,
                            env=env, start_new_session=True)


def wait_until_up(url: str, proc: subprocess.Popen | None, timeout: float = 120,
                  log: Path | None = None) -> None:
    """Wait until ``url`` answers 200; a server that exits or does not answer within
    ``timeout`` is a RuntimeError (with the end of its ``log``, if given)."""
    import urllib.error
    import urllib.request

    def failed(what: str) -> RuntimeError:
        return RuntimeError(what + (f":\n{log.read_text()[-5000:]}" if log is not None else ""))

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise failed(f"the server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    raise failed(f"no answer at {url} within {timeout} s")


def serve_copy(folder: Path, manifest: Path, settings: dict | None = None, *,
               timeout: float = 120) -> tuple[subprocess.Popen, str, Path, Path]:
    """``surveytools serve`` on a copy of the dashboards in ``folder`` (serving
    ``settings`` applied, :func:`dashboards_copy`) on a free port, once it answers.

    Returns ``(proc, base URL, log, dashboards folder)``; the log, ``folder/serve.log``,
    is the server's own.  A server that does not come up is stopped, and the error
    carries the end of its log.
    """
    dashboards = dashboards_copy(folder / "dashboards", settings)
    port = free_port()
    log = folder / "serve.log"
    proc = start_server("after", port, log, manifest, dashboards=dashboards)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/", proc, timeout=timeout, log=log)
    except RuntimeError:
        stop_server(proc)
        raise
    return proc, base, log, dashboards


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# -- memory and kernels ------------------------------------------------------------------
def _mem_available() -> int:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


def _busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (``/proc/stat``)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    busy = fields[0] + fields[1] + fields[2] + sum(fields[5:8])
    return busy / os.sysconf("SC_CLK_TCK")


def _own_cpu() -> float:
    t = os.times()
    return t.user + t.system


def is_kernel(proc) -> bool:
    try:
        if proc.name() == "st-kernel":
            return True
        return any("ipykernel" in part for part in proc.cmdline())
    except Exception:  # noqa: BLE001 - gone
        return False


def server_tree(pid: int) -> list:
    import psutil

    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def count_kernels(pid: int) -> int:
    return sum(is_kernel(p) for p in server_tree(pid))


def kernel_processes(pid: int) -> list:
    return [p for p in server_tree(pid) if is_kernel(p)]


def pool_ready(log_text: str, notebooks) -> bool:
    """Whether, by the server's log, every notebook's pre-heated pool (of one kernel) holds a
    kernel that is ready: its pool was filled more often than a page took a kernel from it.

    ``Kernel pool of NB is filled`` is logged when the kernel has started and begun the
    notebook, ``Using pre-heated kernel: ID for NB`` when a page takes it.
    """
    for notebook in notebooks:
        filled = log_text.count(f"Kernel pool of {notebook} is filled")
        used = len(re.findall(rf"Using pre-heated kernel: \S+ for {re.escape(notebook)}\b", log_text))
        if filled <= used:
            return False
    return True


def wait_for_pool(pid: int, log: Path, notebooks, timeout: float) -> bool:
    """Wait until the server ``pid`` runs exactly one kernel per notebook and its log says each
    is a ready pool kernel (:func:`pool_ready`); False if that does not happen in ``timeout``."""
    notebooks = list(notebooks)
    deadline = time.monotonic() + timeout
    while True:
        if count_kernels(pid) == len(notebooks) and pool_ready(log.read_text(), notebooks):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)


def kernel_process(pid: int, kernel_id: str):
    """The process of kernel ``kernel_id`` of the server ``pid`` (its IPC sockets name it), or None."""
    for p in kernel_processes(pid):
        with contextlib.suppress(Exception):
            if any(kernel_id in (c.laddr or "") for c in p.net_connections(kind="unix")):
                return p
    return None


class Sampler(threading.Thread):
    """Memory of the server's process tree and of the machine, and the kernels, every second."""

    def __init__(self, pid: int, min_available: int, on_low_memory) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.min_available = min_available
        self.on_low_memory = on_low_memory
        self.stop = threading.Event()
        self.base_available = _mem_available()
        self.peak_rss = self.peak_pss = self.peak_used = 0
        self.peak_kernels = 0
        self.low_memory = False
        self.samples: list[tuple[float, int, int, int]] = []
        self.cpu: dict[int, float] = {}
        self.cpu_base: dict[int, float] = {}
        self.window: dict | None = None

    def open_window(self) -> None:
        """Start counting CPU seconds (server, kernels, this script, everything else)."""
        self.window = {"busy": _busy_seconds(), "self": _own_cpu(), "tree": self._tree_cpu()}

    def close_window(self) -> dict:
        busy, own, tree = _busy_seconds(), _own_cpu(), self._tree_cpu()
        w = self.window or {"busy": busy, "self": own, "tree": tree}
        server = tree["server"] - w["tree"]["server"]
        kernels = tree["others"] - w["tree"]["others"]
        clients = own - w["self"]
        return {"server_process": round(server, 1), "kernels_and_fork_server": round(kernels, 1),
                "bench_clients": round(clients, 1),
                "other_processes_on_the_machine": round(max(0.0, busy - w["busy"] - server - kernels - clients), 1)}

    def _tree_cpu(self) -> dict:
        self._sample_cpu(server_tree(self.pid))
        server = self.cpu.get(self.pid, 0.0)
        return {"server": server, "others": sum(v for k, v in self.cpu.items() if k != self.pid)}

    def _sample_cpu(self, procs) -> None:
        for p in procs:
            with contextlib.suppress(Exception):
                t = p.cpu_times()
                self.cpu[p.pid] = max(self.cpu.get(p.pid, 0.0), t.user + t.system)

    def run(self) -> None:
        start = time.monotonic()
        tick = 0
        while not self.stop.is_set():
            procs = server_tree(self.pid)
            self._sample_cpu(procs)
            rss = kernels = 0
            for p in procs:
                with contextlib.suppress(Exception):
                    rss += p.memory_info().rss
                    kernels += is_kernel(p)
            if tick % 5 == 0:
                pss = 0
                for p in procs:
                    with contextlib.suppress(Exception):
                        pss += p.memory_full_info().pss
                self.peak_pss = max(self.peak_pss, pss)
            available = _mem_available()
            used = self.base_available - available
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_used = max(self.peak_used, used)
            self.peak_kernels = max(self.peak_kernels, kernels)
            self.samples.append((round(time.monotonic() - start, 1), kernels, rss >> 20, used >> 20))
            if available < self.min_available and not self.low_memory:
                self.low_memory = True
                self.on_low_memory()
            tick += 1
            self.stop.wait(1.0)


# -- one run -----------------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def one_viewer(i: int, args, base: str, started: float) -> dict:
    dashboard = DASHBOARDS[i % len(DASHBOARDS)]
    result = {"viewer": i, "dashboard": dashboard, "first_chart_s": None, "controls_s": [],
              "errors": [], "leaks": [], "busy_retries": 0, "leave_status": None}
    await asyncio.sleep(args.ramp * i / max(1, args.n - 1) if args.ramp else 0)
    viewer = Viewer(base, dashboard, protocol=args.protocol)
    t0 = time.perf_counter()
    deadline = time.monotonic() + args.viewer_timeout
    try:
        await viewer.open_page(deadline=deadline, timeout=args.viewer_timeout)
        await viewer.connect(timeout=max(1, deadline - time.monotonic()))
        await viewer.load_widgets(timeout=max(1, deadline - time.monotonic()))
        result["first_chart_s"] = round(time.perf_counter() - t0, 3)
        labels = viewer.options("breakdown")
        for k in range(args.changes):
            await asyncio.sleep(random.uniform(0.5, 1.5) * args.think)
            idle, _ = await viewer.change("breakdown", (k + 1) % max(1, len(labels)),
                                          timeout=args.change_timeout)
            result["controls_s"].append(round(idle, 4))
        await asyncio.sleep(args.stay)
    except ViewerError as error:
        result["errors"].append(str(error))
    except Exception as error:  # noqa: BLE001 - counted, not raised
        result["errors"].append(f"{type(error).__name__}: {error}")
    finally:
        result["busy_retries"] = viewer.busy_retries
        result["leaks"] = viewer.leaks[:5]
        if viewer.closed_by_server and not result["errors"]:
            result["errors"].append("the server closed the websocket")
        with contextlib.suppress(Exception):
            result["leave_status"] = await viewer.leave()
    return result


async def plain_requests(base: str, n: int) -> list[int]:
    """Page requests that never open a websocket (a crawler, a script, a closed connection)."""
    async def one(i):
        viewer = Viewer(base, DASHBOARDS[i % len(DASHBOARDS)])
        try:
            response = await viewer.fetch(f"/voila/render/{viewer.dashboard}.ipynb", timeout=120)
            return response.code
        except ViewerError:
            return 599
    return list(await asyncio.gather(*(one(i) for i in range(n))))


def summarise(results: list[dict]) -> dict:
    firsts = [r["first_chart_s"] for r in results if r["first_chart_s"] is not None]
    controls = [c for r in results for c in r["controls_s"]]
    errors = [e for r in results for e in r["errors"]]
    leaks = [x for r in results for x in r["leaks"]]
    never = sum(r["first_chart_s"] is None for r in results)

    def ms(x):
        return None if x is None else round(1000 * x, 1)

    return {
        "viewers": len(results),
        "first_chart_s": {"p50": percentile(firsts, 0.5), "p95": percentile(firsts, 0.95),
                          "max": max(firsts) if firsts else None, "target_p95": 3.0},
        "control_ms": {"changes": len(controls), "p50": ms(percentile(controls, 0.5)),
                       "p95": ms(percentile(controls, 0.95)), "max": ms(max(controls) if controls else None),
                       "target_p95": 150},
        "errors": len(errors) + len(leaks),
        "error_samples": sorted(set(errors))[:8],
        "leaks_to_viewers": len(leaks),
        "leak_samples": sorted(set(leaks))[:5],
        "never_served": never,
        "busy_retries": sum(r["busy_retries"] for r in results),
        "leave_status": sorted({r["leave_status"] for r in results if r["leave_status"] is not None}),
    }


async def run_viewers(args, base: str) -> list[dict]:
    from tornado.httpclient import AsyncHTTPClient

    AsyncHTTPClient.configure(None, max_clients=max(20, 2 * args.n + 10))
    started = time.perf_counter()
    return list(await asyncio.gather(*(one_viewer(i, args, base, started) for i in range(args.n))))


def run(args, n: int) -> dict:
    args.n = n
    proc = None
    if args.url:
        base, pid = args.url.rstrip("/"), args.server_pid
    else:
        port = free_port()
        log = Path(tempfile.mkdtemp(prefix="bench-viewers-")) / f"{args.server}.log"
        folder = None
        if args.settings:
            folder = dashboards_copy(Path(tempfile.mkdtemp(prefix="bench-dashboards-")) / "dashboards",
                                     json.loads(args.settings))
        proc = start_server(args.server, port, log, Path(args.manifest), args.server_arg or [],
                            dashboards=folder)
        base, pid = f"http://127.0.0.1:{port}", proc.pid
        print(f"server ({args.server}) pid {pid}, log {log}", flush=True)
    sampler = None
    try:
        wait_until_up(base + "/", proc)
        time.sleep(args.settle)
        kernels_idle = count_kernels(pid) if pid else None
        if pid:
            sampler = Sampler(pid, int(args.min_available_gb * 2**30),
                              on_low_memory=lambda: proc and stop_server(proc))
            sampler.start()
        t = time.perf_counter()
        if sampler:
            sampler.open_window()
        load_start = os.getloadavg()[0]
        results = asyncio.run(asyncio.wait_for(run_viewers(args, base), args.deadline))
        wall = time.perf_counter() - t
        cpu = sampler.close_window() if sampler else None
        time.sleep(args.linger)
        kernels_after = count_kernels(pid) if pid else None
        plain = None
        if args.plain:
            before_plain = count_kernels(pid) if pid else None
            codes = asyncio.run(plain_requests(base, args.plain))
            timeline, start_plain = [], time.monotonic()
            while pid and time.monotonic() - start_plain < args.plain_wait:
                timeline.append(count_kernels(pid))
                time.sleep(1)
            plain = {"requests": args.plain, "statuses": sorted(set(codes)),
                     "kernels_before": before_plain,
                     "kernels_peak_after": max(timeline) if timeline else None,
                     f"kernels_{args.plain_wait:.0f}s_after": count_kernels(pid) if pid else None,
                     "kernels_every_10s": timeline[::10]}
        summary = summarise(results)
        summary.update({
            "server": args.server if not args.url else args.url,
            "settings": json.loads(args.settings) if args.settings else None,
            "wall_s": round(wall, 1), "ramp_s": args.ramp, "changes_per_viewer": args.changes,
            "think_s": args.think, "protocol": args.protocol,
            "kernels_before_viewers": kernels_idle,
            "kernels_peak": sampler.peak_kernels if sampler else None,
            f"kernels_{args.linger:.0f}s_after_viewers_left": kernels_after,
            "memory_peak_mb": None if sampler is None else {
                "server_tree_rss_sum": sampler.peak_rss >> 20, "server_tree_pss": sampler.peak_pss >> 20,
                "machine_used_increase": sampler.peak_used >> 20},
            "cpu_s_while_viewers_ran": cpu,
            "cpu_s_per_viewer": None if not cpu else round(
                (cpu["server_process"] + cpu["kernels_and_fork_server"]) / n, 2),
            "stopped_low_memory": bool(sampler and sampler.low_memory),
            "plain_requests": plain,
            "machine": {"cpus": os.cpu_count(), "load_average_1min_start": round(load_start, 2),
                        "load_average_1min_end": round(os.getloadavg()[0], 2)},
        })
        if args.keep_viewers:
            summary["per_viewer"] = results
        return summary
    finally:
        if sampler:
            sampler.stop.set()
        if proc is not None:
            stop_server(proc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=("before", "after"), default="after")
    parser.add_argument("--url", help="an already running server (no memory figures without --server-pid)")
    parser.add_argument("--server-pid", type=int)
    parser.add_argument("--server-arg", action="append", help="extra argument for the server command")
    parser.add_argument("--manifest", default=str(MANIFEST))
    parser.add_argument("--settings", help="after: JSON of serving settings to change, on a copy of "
                                           "the dashboards (e.g. '{\"VoilaConfiguration\": {\"default_pool_size\": 7}}')")
    parser.add_argument("--viewers", type=int, nargs="+", default=[20])
    parser.add_argument("--protocol", choices=(V1, "json"), default=V1,
                        help="kernel websocket protocol (default: the browsers' v1)")
    parser.add_argument("--ramp", type=float, default=0.0, help="seconds over which viewers arrive (0: at once)")
    parser.add_argument("--changes", type=int, default=5)
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds between changes")
    parser.add_argument("--stay", type=float, default=1.0, help="seconds a viewer stays after its changes")
    parser.add_argument("--settle", type=float, default=20.0, help="seconds between server start and viewers")
    parser.add_argument("--linger", type=float, default=30.0, help="seconds after the viewers left")
    parser.add_argument("--plain", type=int, default=0, help="page requests without a websocket")
    parser.add_argument("--plain-wait", type=float, default=90.0)
    parser.add_argument("--viewer-timeout", type=float, default=300.0)
    parser.add_argument("--change-timeout", type=float, default=60.0)
    parser.add_argument("--deadline", type=float, default=900.0, help="bound on one run's viewers")
    parser.add_argument("--min-available-gb", type=float, default=3.0)
    parser.add_argument("--label", default=None)
    parser.add_argument("--keep-viewers", action="store_true")
    args = parser.parse_args(argv)
    if any(n < 1 or n > 200 for n in args.viewers):
        parser.error("--viewers: 1 to 200")
    label = args.label or args.server
    RESULTS.mkdir(exist_ok=True)
    for n in args.viewers:
        summary = run(args, n)
        out = RESULTS / f"viewers-{label}-{n}.json"
        out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        print(json.dumps({k: v for k, v in summary.items() if k != "per_viewer"}, indent=2), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

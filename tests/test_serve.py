"""``surveytools serve``: the safe settings, the routes, what a viewer may send, and kernels.

The server tests start ``python -m surveytools.presentation.serve`` on a free
localhost port (on a copy of the dashboards whose ``voila.json`` shortens
the timeouts) and speak to it as a browser page does, with a hand-written
client of the Jupyter kernel protocol over the Voila websocket
(``benchmarks/bench_viewers.py``'s ``Viewer``): the page, the widget states,
control changes, then malformed and hostile messages.  Waits are on
conditions, with generous bounds, so that a loaded machine slows the tests
down without failing them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import re
import signal
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_viewers as bv  # noqa: E402

from surveytools.presentation import serve as serve_module  # noqa: E402
from surveytools.presentation.serving import pages, websocket  # noqa: E402

#: What no answer to a viewer may contain.
_CHECKOUT = re.escape(f"{ROOT.parent}/")  # the folder of the checkout, wherever it lies
LEAK = re.compile(r"Traceback|File \"|site-packages|\.py\b|" + _CHECKOUT
                  + r"|/home/|/tmp/|/usr/|/root/|Error:")
#: Server paths and tracebacks (the kernel's own description names ``.py`` files as its language's).
PATHS = re.compile(r"Traceback|File \"|site-packages|" + _CHECKOUT + r"|/home/|/tmp/|/usr/|/root/")
#: Generous bounds: a loaded 2-core machine is slow, not broken.
START_TIMEOUT = 240
WAIT = 90


# -- settings, without a server ----------------------------------------------------------
@pytest.fixture()
def hostile_config(tmp_path):
    """A voila.json that undoes every safe setting."""
    (tmp_path / "voila.json").write_text(json.dumps({
        "VoilaConfiguration": {"show_tracebacks": True, "strip_sources": False,
                               "file_allowlist": [".*"], "file_denylist": [],
                               "allow_template_override": "YES", "preheat_kernel": True,
                               "http_header_envs": ["Cookie"]},
        "VoilaExecutor": {"show_tracebacks": True},
        "MappingKernelManager": {"allow_tracebacks": True},
    }))
    return tmp_path


def _initialized(config_dir: Path):
    from traitlets.config import Config

    handler = signal.getsignal(signal.SIGTERM)
    app = serve_module.SafeVoila(config=Config({"Voila": {"config_file_paths": [str(config_dir)]}}))
    try:
        app.initialize([str(serve_module.dashboards_folder()), "--port=1"])  # starts no server
    finally:
        signal.signal(signal.SIGTERM, handler)  # Voila installs its own
    return app


def test_safe_settings_win_over_any_config_file(hostile_config):
    app = _initialized(hostile_config)
    conf = app.voila_configuration
    assert conf.show_tracebacks is False and conf.strip_sources is True
    assert conf.file_allowlist == [] and conf.file_denylist == [".*"]
    assert conf.allow_template_override == "NO" and conf.allow_theme_override == "NO"
    assert conf.http_header_envs == [] and conf.prelaunch_hook is None
    assert conf.multi_kernel_manager_class.__name__ == "DashboardKernelManager"
    assert app.config.VoilaExecutor.show_tracebacks is False
    assert app.config.MappingKernelManager.allow_tracebacks is False
    assert app.kernel_websocket_connection_class.__name__ == "SafeKernelConnection"


def test_the_project_settings_are_read(tmp_path):
    app = _initialized(serve_module.dashboards_folder())
    manager = app.config.DashboardKernelManager
    assert manager.unconnected_timeout > 0 and manager.disconnect_grace > 0
    assert manager.cull_idle_timeout > 0
    assert app.voila_configuration.preheat_kernel is True
    assert app.voila_configuration.default_pool_size >= 1  # from surveytools_serve.json


@pytest.mark.parametrize(("cmd", "expected"), [
    ([sys.executable, "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f", "c.json"], ["-f", "c.json"]),
    ([sys.executable, "-m", "ipykernel", "-f", "c.json", "--x=1"], ["-f", "c.json", "--x=1"]),
    (["/usr/bin/python3.9", "-m", "ipykernel_launcher", "-f", "c.json"], None),
    ([sys.executable, "-m", "other_kernel", "-f", "c.json"], None),
    (["R", "--slave", "-e", "IRkernel::main()", "--args", "c.json"], None),
])
def test_only_this_pythons_ipykernel_is_forked(cmd, expected):
    assert serve_module.KernelForkServer.kernel_argv(cmd) == expected


def test_plain_pages_and_the_page_script_name_nothing_of_the_server():
    page = pages.plain_page("Busy", "The dashboards are busy <now>.", home="/", refresh=5)
    assert "&lt;now&gt;" in page and 'http-equiv="refresh" content="5"' in page
    script = pages.kernel_watch("/")
    assert "st-kernel-lost" in script and "Reload the dashboard" in script
    assert not LEAK.search(page) and not LEAK.search(script)


def test_serve_rejects_a_missing_manifest_without_a_traceback(tmp_path, capsys):
    assert serve_module.serve(tmp_path / "nope.toml", port=bv.free_port()) == 2
    err = capsys.readouterr().err
    assert "nope.toml" in err and "Traceback" not in err


def test_the_widget_bundle_stub_is_small_and_points_at_the_server(monkeypatch):
    from surveytools.presentation import voila

    monkeypatch.setenv(voila.WIDGET_BUNDLE_ENV, "voila/surveytools/plotly-widget.0123456789abcdef.js")
    from plotly.basewidget import BaseFigureWidget

    before = BaseFigureWidget._esm
    try:
        assert voila.serve_widget_bundle() is True
        assert len(BaseFigureWidget._esm) < 1000
        assert "plotly-widget.0123456789abcdef.js" in BaseFigureWidget._esm
        monkeypatch.setenv(voila.WIDGET_BUNDLE_ENV, "https://elsewhere.example/x.js")
        BaseFigureWidget._esm = before
        assert voila.serve_widget_bundle() is False and BaseFigureWidget._esm is before
    finally:
        BaseFigureWidget._esm = before


def test_the_public_import_path_still_names_the_server():
    # (the settings name the classes by import path; outside code imports them from serve)
    from traitlets.utils.importstring import import_item

    conf = serve_module.SAFE_SETTINGS
    manager = import_item(conf["VoilaConfiguration"]["multi_kernel_manager_class"])
    assert manager is serve_module.DashboardKernelManager
    assert import_item(conf["Voila"]["kernel_websocket_connection_class"]) is serve_module.SafeKernelConnection
    assert serve_module.SafeVoila.__name__ == "SafeVoila"
    assert serve_module.KernelForkServer.current is None


@pytest.mark.parametrize("v1", [True, False])
def test_frames_that_claim_more_than_they_hold_are_refused(v1):
    msg = bv.kernel_message("comm_msg", {"comm_id": "x", "data": {}}, session="s")
    good = bv.encode_v1(msg) if v1 else json.dumps(msg)
    assert websocket.sane_frame(good, v1=v1)
    bad = [b"", b"\x00" * 7, (2**62).to_bytes(8, "little") + bytes(8), b"\x00\x00\x00\x09garbage",
           b"\x7f\xff\xff\xff" + bytes(12), b"\x05" + bytes(7) + b"\xff" * 40, None, 5]
    if v1:
        bad += ["text in v1", good[:-1], good[:8] + (10**6).to_bytes(8, "little") + good[16:]]
    for frame in bad:
        assert not websocket.sane_frame(frame, v1=v1), frame


# -- a real server -----------------------------------------------------------------------
class Server:
    def __init__(self, proc, base: str, log: Path) -> None:
        self.proc, self.base, self.log = proc, base, log

    @property
    def pid(self) -> int:
        return self.proc.pid

    def kernels(self) -> int:
        return bv.count_kernels(self.pid)

    def wait_for_kernels(self, predicate, timeout: float = WAIT) -> int:
        deadline = time.monotonic() + timeout
        while True:
            n = self.kernels()
            if predicate(n) or time.monotonic() > deadline:
                return n
            time.sleep(0.5)


ARTIFACTS = ROOT / "tests" / "artifacts"


def start(tmp_path: Path, manifest: Path, settings: dict) -> Server:
    """A server on a copy of the dashboards; its log is its own (another session's server may
    run beside it) and is copied to ``tests/artifacts/`` when it stops (:func:`stop`)."""
    proc, base, log, folder = bv.serve_copy(tmp_path, manifest, settings, timeout=START_TIMEOUT)
    srv = Server(proc, base, log)
    srv.folder = folder
    srv.notebooks = sorted(p.name for p in folder.glob("*.ipynb"))
    return srv


def stop(srv: Server, name: str) -> None:
    bv.stop_server(srv.proc)
    import shutil

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(srv.log, ARTIFACTS / f"serve-{name}.log")


#: No pre-heated pool (each page forks its kernel), short timeouts, at most 3 kernels.
FAST = {"VoilaConfiguration": {"preheat_kernel": False},
        "DashboardKernelManager": {"unconnected_timeout": 8, "disconnect_grace": 1, "cull_interval": 1,
                                   "max_kernels": 3, "retry_after": 1}}
#: One pre-heated kernel per dashboard, refilled half a second after use.
POOLED = {"VoilaConfiguration": {"preheat_kernel": True, "default_pool_size": 1},
          "VoilaKernelManager": {"fill_delay": 0.5, "refill_spacing": 0.2},
          "DashboardKernelManager": {"disconnect_grace": 1, "cull_interval": 1}}


@pytest.fixture(scope="module")
def server(tmp_path_factory, manifest):
    srv = start(tmp_path_factory.mktemp("serve"), manifest, FAST)
    yield srv
    stop(srv, "fast")


def run(coro, timeout: float = 4 * WAIT):
    async def bounded():
        from tornado.httpclient import AsyncHTTPClient

        AsyncHTTPClient.configure(None, max_clients=20)
        return await asyncio.wait_for(coro, timeout)
    # In a thread of its own: Playwright's sync API (the browser tests of the same
    # session) keeps an event loop running in the main thread.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, bounded()).result()


async def _viewer(base: str, dashboard: str = "trust", query: str = "", protocol: str = bv.V1) -> bv.Viewer:
    viewer = bv.Viewer(base, dashboard, query=query, protocol=protocol)
    await viewer.open_page(deadline=time.monotonic() + WAIT, timeout=WAIT)
    await viewer.connect(timeout=WAIT)
    await viewer.load_widgets(timeout=WAIT)
    return viewer


@pytest.mark.slow
def test_a_viewer_is_served_and_its_kernel_freed_when_the_page_closes(server):
    assert server.wait_for_kernels(lambda n: n == 0) == 0

    async def visit():
        viewer = await _viewer(server.base)
        assert viewer.cookies.get("_xsrf"), "the page sets the _xsrf cookie its beacon sends back"
        assert len(viewer.states[viewer.figure_id]["state"]["_esm"]) < 2000, "plotly's bundle is a file"
        options = viewer.options("breakdown")
        assert len(options) > 1
        idle, _ = await viewer.change("breakdown", 1, timeout=WAIT)
        assert viewer.leaks == []
        assert server.kernels() == 1
        return await viewer.leave()

    assert run(visit()) == 204
    assert server.wait_for_kernels(lambda n: n == 0) == 0


@pytest.mark.slow
def test_a_closed_websocket_frees_the_kernel_without_the_beacon(server):
    async def visit():
        viewer = await _viewer(server.base, "overview")
        viewer.close()

    run(visit())
    assert server.wait_for_kernels(lambda n: n == 0) == 0


@pytest.mark.slow
def test_pages_requested_without_a_websocket_are_culled(server):
    assert server.wait_for_kernels(lambda n: n == 0) == 0
    culled = server.log.read_text().count("no page connected for")
    codes = run(bv.plain_requests(server.base, 2))
    assert codes == [200, 200]
    assert server.wait_for_kernels(lambda n: n == 0) == 0
    deadline = time.monotonic() + WAIT  # (the log line may follow the process's exit)
    while server.log.read_text().count("no page connected for") < culled + 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert server.log.read_text().count("no page connected for") == culled + 2, \
        "both kernels were culled for want of a page"


@pytest.mark.slow
def test_beyond_max_kernels_a_plain_busy_page_that_retries(server):
    assert server.wait_for_kernels(lambda n: n == 0) == 0

    async def crowd():
        viewers = [await _viewer(server.base, d) for d in ("trust", "overview", "acceptability")]
        extra = bv.Viewer(server.base, "trust")
        busy = await extra.fetch("/voila/render/trust.ipynb", timeout=WAIT)
        for v in viewers:
            await v.leave()
        return busy

    busy = run(crowd())
    assert busy.code == 503
    assert busy.headers["Retry-After"] == "1"
    text = busy.body.decode()
    assert "busy" in text and 'http-equiv="refresh"' in text and not LEAK.search(text)
    assert server.wait_for_kernels(lambda n: n == 0) == 0

    async def again():
        viewer = await _viewer(server.base)
        return await viewer.leave()
    assert run(again()) == 204


#: Widget messages a hostile or broken page could send (comm_msg to real widgets
#: with out-of-range or mistyped states, unknown methods, unknown comms ...).
def _malformed(viewer: bv.Viewer) -> list:
    dropdown = viewer.controls["breakdown"]
    figure = viewer.figure_id
    s = viewer.session

    def comm_msg(comm_id, data):
        return bv.kernel_message("comm_msg", {"comm_id": comm_id, "data": data}, session=s)

    return [
        comm_msg(dropdown, {"method": "update", "state": {"index": 99}, "buffer_paths": []}),
        comm_msg(dropdown, {"method": "update", "state": {"index": -5}, "buffer_paths": []}),
        comm_msg(dropdown, {"method": "update", "state": {"index": "x"}, "buffer_paths": []}),
        comm_msg(dropdown, {"method": "update", "state": {"value": "no such"}, "buffer_paths": []}),
        comm_msg(dropdown, {"method": "update", "state": {"options": ["../../etc/passwd"]},
                            "buffer_paths": [["a", "b"]]}),
        comm_msg(dropdown, {"method": "update", "state": {"index": 1}, "buffer_paths": [["index"]]}),
        comm_msg(dropdown, {"method": "nope"}),
        comm_msg(dropdown, {"method": "request_state"}),
        comm_msg(dropdown, "not a dict"),
        comm_msg(figure, {"method": "update", "state": {"_js2py_restyle": {"restyle_data": 5}},
                          "buffer_paths": []}),
        comm_msg(figure, {"method": "update", "state": {"_js2py_relayout": "x"}, "buffer_paths": []}),
        comm_msg(figure, {"method": "custom", "content": {"type": "nope"}}),
        comm_msg("no-such-comm", {"method": "update", "state": {}}),
        bv.kernel_message("comm_open", {"comm_id": uuid.uuid4().hex, "target_name": "jupyter.widget",
                                        "data": {"state": {}}}, session=s),
        bv.kernel_message("comm_open", {"comm_id": uuid.uuid4().hex, "target_name": "nope", "data": {}},
                          session=s),
        bv.kernel_message("comm_open", {"comm_id": uuid.uuid4().hex, "target_name": "jupyter.widget.control",
                                        "data": {}}, session=s, metadata={"version": "99"}),
        bv.kernel_message("comm_close", {"comm_id": dropdown, "data": {}}, session=s),
        bv.kernel_message("comm_info_request", {"target_name": "jupyter.widget"}, session=s),
        bv.kernel_message("execute_request", {"code": "import os; print(os.getcwd())", "silent": False},
                          session=s),
        bv.kernel_message("inspect_request", {"code": "os", "cursor_pos": 2}, session=s),
        bv.kernel_message("history_request", {"hist_access_type": "tail", "n": 10}, session=s),
        bv.kernel_message("comm_msg", {"comm_id": dropdown}, session=s),
    ]


@pytest.mark.slow
@pytest.mark.parametrize("protocol", [bv.V1, "json"])
def test_malformed_widget_messages_send_no_traceback_or_path(server, protocol):
    async def attack():
        viewer = await _viewer(server.base, protocol=protocol)
        start = len(viewer.messages)
        for msg in _malformed(viewer):
            viewer.send(msg)
        for raw in ("not json", "{}", '{"header": 5, "channel": "shell"}', '{"channel": "nope"}',
                    json.dumps({"channel": "control", "header": {"msg_type": "shutdown_request"}}),
                    b"\x00\x00\x00\x09garbage", b"\x05" + b"\x00" * 7 + b"\xff" * 40, b""):
            viewer.send_raw(raw)
        # the attacked kernel has handled all of it (its shell messages are handled in
        # order, and what it publishes for one comes before the idle status of the next) ...
        info = viewer.send(bv.kernel_message("kernel_info_request", {}, session=viewer.session))
        await viewer.wait_for(viewer._idle_after(info["header"]["msg_id"]), WAIT, start)
        # ... another page is served and answers a proper change, other routes answer
        other = await _viewer(server.base, "overview")
        idle, _ = await other.change("breakdown", 1, timeout=WAIT)
        codes = []
        for method, path in ROUTES:
            body = "" if method in ("POST", "PUT", "PATCH") else None
            response = await other.fetch(path, method=method, body=body, timeout=WAIT)
            codes.append((method, path, response.code, response.body.decode("utf-8", "replace")))
        received = viewer.messages[start:] + other.messages
        await viewer.leave()
        await other.leave()
        return received, viewer.leaks + other.leaks, codes

    received, leaks, codes = run(attack())
    assert leaks == []
    for method, path, code, body in codes:
        assert code < 500 and not LEAK.search(body), (method, path, code, body[:300])
    for msg in received:
        assert msg["header"]["msg_type"] not in ("error", "execute_result", "execute_reply", "inspect_reply")
        if msg["header"]["msg_type"] == "stream":
            pytest.fail(f"a stream reached the viewer: {msg['content']}")
        pattern = PATHS if msg["header"]["msg_type"] == "kernel_info_reply" else LEAK
        assert not pattern.search(json.dumps(msg["content"], default=str)), msg
    log = server.log.read_text()
    assert "Not sent to the viewer" in log  # the errors are kept for whoever runs the server


@pytest.mark.slow
@pytest.mark.parametrize("protocol", [bv.V1, "json"])
def test_a_frame_claiming_a_huge_part_count_does_not_freeze_the_server(server, protocol):
    """jupyter_server reads the part count of a binary frame as given: 16 bytes claiming
    10^17 parts (v1) or 2^31 buffers (legacy) used to freeze or exhaust the whole server."""
    dropped = "Malformed websocket frame from a viewer dropped"

    async def attack():
        viewer = await _viewer(server.base, protocol=protocol)
        before = server.log.read_text().count(dropped)
        viewer.send_raw(b"\x00\x00\x00\x09garbage")
        viewer.send_raw(b"\x7f\xff\xff\xff" + b"\x00" * 12)
        viewer.send_raw((2**62).to_bytes(8, "little") + b"\x00" * 8)
        deadline = time.monotonic() + WAIT
        while server.log.read_text().count(dropped) < before + 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        assert server.log.read_text().count(dropped) == before + 3, "the three frames were dropped"
        start = time.monotonic()
        response = await viewer.fetch("/voila/tree/", timeout=WAIT)
        answered = time.monotonic() - start
        idle, _ = await viewer.change("breakdown", 1, timeout=WAIT)  # the connection still works
        await viewer.leave()
        return response.code, answered

    code, answered = run(attack())
    assert code == 200 and answered < WAIT / 2  # (a frozen server never answers)


ROUTES = [
    ("GET", "/logout"), ("POST", "/logout"), ("GET", "/login"), ("GET", "/voila/templates/"),
    ("GET", "/voila/templates/x"), ("GET", "/voila/templates/lab/x"), ("GET", "/voila/templates/lab/static/nope.js"),
    ("GET", "/voila/templates/lab/static/../../../../../../etc/passwd"), ("GET", "/nope"),
    ("GET", "/voila/nope"), ("GET", "/api"), ("GET", "/api/kernels"), ("GET", "/api/kernelspecs"),
    ("GET", "/api/kernels/00000000-0000-0000-0000-000000000000"),
    ("GET", "/api/kernels/00000000-0000-0000-0000-000000000000/channels"),
    ("DELETE", "/api/kernels/00000000-0000-0000-0000-000000000000"),
    ("POST", "/voila/api/shutdown/00000000-0000-0000-0000-000000000000"),
    ("POST", "/voila/api/shutdown/x"), ("GET", "/voila/api/shutdown/x"),
    ("GET", "/voila/query/00000000-0000-0000-0000-000000000000"),
    ("GET", "/voila/render/nope.ipynb"), ("GET", "/voila/render/"), ("GET", "/voila/render/voila.json"),
    ("GET", "/voila/render/%2e%2e/%2e%2e/etc/passwd"), ("GET", "/voila/render/..%2f..%2fREADME.md"),
    ("GET", "/voila/files/trust.ipynb"), ("GET", "/voila/files/../../data/tracker/waves.toml"),
    ("GET", "/voila/static/nope"), ("GET", "/voila/static/../../../etc/passwd"),
    ("GET", "/voila/api/themes/nope"), ("GET", "/voila/labextensions/nope"),
    ("GET", "/voila/tree/nope"), ("GET", "/voila/api/contents/nope"), ("GET", "/voila/api/contents/../.."),
    ("GET", "/voila/surveytools/plotly-widget.0000000000000000.js"),
    ("GET", "/voila/surveytools/nope"), ("PUT", "/"), ("GET", "/?x=%ff%fe"),
    ("HEAD", "/logout"), ("HEAD", "/nope"), ("HEAD", "/voila/templates/"), ("PATCH", "/nope"),
]


@pytest.mark.slow
def test_no_route_answers_500_or_shows_the_server(server):
    async def probe():
        viewer = bv.Viewer(server.base, "trust")
        out = []
        for method, path in ROUTES:
            body = "" if method in ("POST", "PUT", "PATCH") else None
            response = await viewer.fetch(path, method=method, body=body, timeout=WAIT)
            out.append((method, path, response.code, response.body.decode("utf-8", "replace")))
        return out

    for method, path, code, body in run(probe()):
        assert code < 500, (method, path, code, body[:300])
        assert not LEAK.search(body), (method, path, body[:300])
    # no handler failed, not even while writing its error (a 404 of jupyter_server's error
    # page went out empty and logged a traceback)
    assert "Uncaught exception" not in server.log.read_text()
    assert server.wait_for_kernels(lambda n: n == 0) == 0


@pytest.mark.slow
@pytest.mark.parametrize("protocol", [bv.V1, None])
def test_a_websocket_to_a_kernel_that_is_not_there_gets_a_plain_404(server, protocol):
    from tornado.httpclient import HTTPClientError, HTTPRequest
    from tornado.websocket import websocket_connect

    async def knock():
        url = (server.base.replace("http", "ws", 1)
               + "/api/kernels/00000000-0000-0000-0000-000000000000/channels?session_id=x")
        try:
            ws = await websocket_connect(HTTPRequest(url, request_timeout=WAIT),
                                         subprotocols=[protocol] if protocol else None)
        except HTTPClientError as error:
            return error.code, error.response.body.decode() if error.response else ""
        ws.close()
        return 101, ""

    code, body = run(knock())
    assert code == 404 and "There is no page here" in body and not LEAK.search(body)
    assert "Uncaught exception" not in server.log.read_text()


@pytest.mark.slow
def test_the_page_cannot_choose_template_or_theme(server):
    async def visit():
        out = []
        for query in ("template=nope", "theme=nope", "template=../../../etc", "template=reveal&theme=dark"):
            viewer = bv.Viewer(server.base, "trust", query=query)
            await viewer.open_page(deadline=time.monotonic() + WAIT, timeout=WAIT)
            out.append(viewer.page)
            await viewer.leave()
        return out

    for page in run(visit()):
        assert "jp-Notebook" in page and "theme-light" in page
    assert server.wait_for_kernels(lambda n: n == 0) == 0


@pytest.mark.slow
def test_the_widget_bundle_is_served_once_and_cached(server):
    digest = serve_module.widget_bundle()[1]

    async def get():
        viewer = bv.Viewer(server.base, "trust")
        return await viewer.fetch(f"/voila/surveytools/plotly-widget.{digest}.js", timeout=WAIT)

    response = run(get())
    assert response.code == 200 and len(response.body) > 1_000_000
    assert "immutable" in response.headers["Cache-Control"]


@pytest.mark.slow
def test_a_kernel_that_dies_is_removed_and_its_page_told(server):
    async def visit():
        viewer = await _viewer(server.base)
        [kernel] = bv.kernel_processes(server.pid)
        os.kill(kernel.pid, signal.SIGKILL)
        deadline = time.monotonic() + WAIT
        while not viewer.closed_by_server and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        gone = await viewer.fetch(f"/api/kernels/{viewer.kernel_id}", timeout=WAIT)
        viewer.close()
        return viewer.closed_by_server, gone.code

    closed, code = run(visit())
    assert closed, "the websocket of a dead kernel is closed, so the page can say so"
    assert code == 404
    log = server.log.read_text()
    assert "its page says so" in log and "dead callback" not in log  # (no traceback either)
    assert server.wait_for_kernels(lambda n: n == 0) == 0


@pytest.mark.slow
def test_serve_refuses_a_port_in_use(tmp_path, manifest):
    import socket
    import subprocess

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        env = {**os.environ, "SURVEYTOOLS_DASHBOARDS": str(bv.dashboards_copy(tmp_path / "d"))}
        done = subprocess.run([sys.executable, "-m", "surveytools.presentation.serve", str(manifest),
                               "--port", str(port)], capture_output=True, text=True, env=env,
                              timeout=START_TIMEOUT)
    assert done.returncode == 1
    assert f"port {port}" in done.stderr and "Traceback" not in done.stderr


# -- the pre-heated pool -----------------------------------------------------------------
@pytest.fixture(scope="module")
def pooled(tmp_path_factory, manifest):
    srv = start(tmp_path_factory.mktemp("pooled"), manifest, POOLED)
    srv.pool = len(srv.notebooks)
    yield srv
    stop(srv, "pooled")


def wait_for_pool(srv: Server) -> bool:
    """One kernel per dashboard, each a pool kernel that the log says is ready."""
    return bv.wait_for_pool(srv.pid, srv.log, srv.notebooks, START_TIMEOUT)


@pytest.mark.slow
def test_a_preheated_kernel_serves_a_deep_link_and_the_pool_refills(pooled):
    assert wait_for_pool(pooled), "the pool is full and ready before the page is asked for"

    async def visit():
        viewer = await _viewer(pooled.base, "trust", query="breakdown=age")
        breakdown = viewer.states[viewer.controls["breakdown"]]["state"]
        chosen = breakdown["_options_labels"][breakdown["index"]]
        idle, _ = await viewer.change("breakdown", 0, timeout=WAIT)
        await viewer.leave()
        return chosen, viewer.leaks, viewer.kernel_id

    chosen, leaks, kernel_id = run(visit())
    # a page takes a ready pool kernel when there is one (a fresh fork only when none is ready)
    assert f"Using pre-heated kernel: {kernel_id} for trust.ipynb" in pooled.log.read_text()
    assert "age" in chosen.lower(), "the pre-heated kernel got the page's query string"
    assert leaks == []
    assert wait_for_pool(pooled), "the pool refilled"


@pytest.mark.slow
def test_a_burst_beyond_the_pool_is_served_at_once_not_queued(pooled):
    async def burst():
        viewers = await asyncio.gather(*(_viewer(pooled.base, "overview") for _ in range(3)))
        for viewer in viewers:
            await viewer.leave()
        return [v.kernel_id for v in viewers]

    assert wait_for_pool(pooled)
    kernels = run(burst())
    assert len(set(kernels)) == 3
    assert wait_for_pool(pooled), "the viewers' kernels freed, the pool refilled"


@pytest.mark.slow
def test_at_the_kernel_limit_a_page_still_takes_a_ready_pool_kernel(tmp_path, manifest):
    """Pool kernels count towards ``max_kernels``; a page that takes one adds none, so it is
    let in (a pool as large as the limit used to turn every page away, for ever)."""
    notebooks = len(list(bv.DASHBOARDS_DIR.glob("*.ipynb")))
    settings = {**POOLED, "DashboardKernelManager": {**POOLED["DashboardKernelManager"],
                                                     "max_kernels": notebooks}}
    srv = start(tmp_path, manifest, settings)
    try:
        assert wait_for_pool(srv)

        async def visit():
            viewer = await _viewer(srv.base, "trust")
            busy = await bv.Viewer(srv.base, "trust").fetch("/voila/render/trust.ipynb", timeout=WAIT)
            status = await viewer.leave()
            return viewer.kernel_id, viewer.busy_retries, busy.code, status

        kernel_id, retries, busy, status = run(visit())
        log = srv.log.read_text()
        assert retries == 0 and f"Using pre-heated kernel: {kernel_id} for trust.ipynb" in log
        assert "Not refilling the pool of trust.ipynb" in log  # the limit holds ...
        assert busy == 503 and status == 204  # ... and a page that needs a new kernel waits
        deadline = time.monotonic() + WAIT  # and the viewer's kernel is freed
        while bv.kernel_process(srv.pid, kernel_id) is not None and time.monotonic() < deadline:
            time.sleep(0.5)
        assert bv.kernel_process(srv.pid, kernel_id) is None
    finally:
        stop(srv, "tight")


@pytest.mark.slow
def test_the_query_websocket_takes_no_stranger(pooled):
    from tornado.websocket import websocket_connect

    async def intrude():
        url = pooled.base.replace("http", "ws", 1) + "/voila/query/00000000-0000-0000-0000-000000000000"
        ws = await websocket_connect(url)
        closed = await asyncio.wait_for(ws.read_message(), WAIT)
        return closed

    assert run(intrude()) is None  # closed at once
    # and the pool still serves
    async def visit():
        viewer = await _viewer(pooled.base, "acceptability")
        return await viewer.leave()
    assert run(visit()) == 204


# -- the static site ---------------------------------------------------------------------
def test_the_static_site_is_served_with_no_kernel_and_nothing_outside_it(tmp_path):
    import subprocess
    import urllib.error
    import urllib.request

    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<html><body>index</body></html>")
    (site / "trust.html").write_text("<html><body>trust</body></html>")
    (tmp_path / "secret.txt").write_text("secret")
    port = bv.free_port()
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from surveytools.presentation.serve import "
                             f"serve_static; sys.exit(serve_static({str(site)!r}, port={port}))"],
                            stderr=subprocess.PIPE, text=True)
    try:
        bv.wait_until_up(f"http://127.0.0.1:{port}/", proc, timeout=60)

        def get(path):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as r:
                    return r.status, r.read().decode(), dict(r.headers)
            except urllib.error.HTTPError as error:
                return error.code, error.read().decode(), dict(error.headers)

        assert get("/")[:2] == (200, "<html><body>index</body></html>")
        status, body, headers = get("/trust.html")
        assert status == 200 and "trust" in body and headers["Cache-Control"] == "no-cache"
        for path in ("/nope.html", "/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt"):
            status, body, _ = get(path)
            assert status in (403, 404) and "secret" not in body and not LEAK.search(body), path
    finally:
        proc.terminate()
        assert proc.wait(30) == 0
    assert "Traceback" not in proc.stderr.read()


def test_the_static_site_must_exist(tmp_path):
    assert serve_module.serve_static(tmp_path, port=bv.free_port()) == 2

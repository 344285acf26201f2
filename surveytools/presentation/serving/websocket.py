"""The kernel websocket between a dashboard page and its kernel, minus what a viewer must
neither send nor see.

What the browser may send
-------------------------
Viewers send widget messages only (Voila's message type allow-list).
Nothing sends them a traceback or a server path: ``error`` messages and
``stderr`` streams from a kernel are dropped on their way to the websocket
(:class:`SafeKernelConnection`) and logged on the server instead, a
message that cannot be read is dropped (and a binary frame is checked
before jupyter_server reads it, :func:`sane_frame`: 16 bytes claiming 10^17
parts used to freeze the whole server), cell errors show a plain sentence
(:data:`~surveytools.presentation.serving.settings.CELL_ERROR`), the page's
``template`` and ``theme`` parameters are ignored (an unknown template used
to hang the request and leak a kernel), and every route answers a plain
page or 404 rather than 500 (``/logout``, ``/voila/templates/``, unknown
paths, a websocket to a kernel that is gone: the handlers of
:mod:`~surveytools.presentation.serving.pages`).  A page whose kernel is
gone (idle, died, server restarted) says so and offers a link back: its
websockets are closed (:func:`close_websockets`) and the page's script
(:func:`~surveytools.presentation.serving.pages.kernel_watch`) notices.

Two framings reach the server: ``v1.kernel.websocket.jupyter.org`` (binary,
what browsers speak) and the legacy one (JSON text, or binary with buffers).
"""

from __future__ import annotations

import contextlib
import functools
import struct

#: The kernel websocket protocol of browsers (JupyterLab services, Voila's page).
V1 = "v1.kernel.websocket.jupyter.org"
#: Most buffers a widget message from a page carries (ipywidgets sends a few at most).
MAX_BUFFERS = 64


def sane_frame(frame, v1: bool) -> bool:
    """Whether a websocket frame from a page is well formed enough to be parsed.

    v1 (binary): 8-byte part count n, n offsets, channel, header, parent header,
    metadata, content, buffers; the offsets must lie in the frame, in order.
    Legacy binary: 4-byte buffer count, offsets, JSON, buffers.  Legacy text
    (JSON) is parsed as it is.

    Examples
    --------
    >>> sane_frame((10**17).to_bytes(8, "little") + bytes(8), v1=True)  # 10^17 parts claimed
    False
    >>> sane_frame((2**31 - 1).to_bytes(4, "big") + bytes(12), v1=False)  # 2^31 buffers claimed
    False
    >>> sane_frame('{"header": {}}', v1=False), sane_frame('{"header": {}}', v1=True)
    (True, False)
    >>> parts = [b"shell", b"{}", b"{}", b"{}", b"{}"]
    >>> offsets = [8 * 7]
    >>> for part in parts:
    ...     offsets.append(offsets[-1] + len(part))
    >>> frame = b"".join([(6).to_bytes(8, "little"), *(o.to_bytes(8, "little") for o in offsets), *parts])
    >>> sane_frame(frame, v1=True), sane_frame(frame[:-1], v1=True)  # whole, cut short
    (True, False)
    """
    if isinstance(frame, str):
        return not v1
    if not isinstance(frame, (bytes, bytearray, memoryview)):
        return False
    frame = bytes(frame)
    if v1:
        if len(frame) < 8:
            return False
        count = int.from_bytes(frame[:8], "little")
        if not 6 <= count <= 6 + MAX_BUFFERS or 8 * (count + 1) > len(frame):
            return False
        offsets = [int.from_bytes(frame[8 * (i + 1):8 * (i + 2)], "little") for i in range(count)]
        return (offsets[0] == 8 * (count + 1) and offsets[-1] <= len(frame)
                and all(a <= b for a, b in zip(offsets, offsets[1:])))
    if len(frame) < 8:
        return False
    count = struct.unpack("!i", frame[:4])[0]
    if not 1 <= count <= 1 + MAX_BUFFERS or 4 * (count + 1) > len(frame):
        return False
    offsets = struct.unpack("!" + "I" * count, frame[4:4 * (count + 1)])
    return (offsets[0] == 4 * (count + 1) and offsets[-1] <= len(frame)
            and all(a <= b for a, b in zip(offsets, offsets[1:])))


def close_websockets(kernel_id: str) -> None:
    """Close the websockets of a kernel that is gone, so that its page notices at once."""
    try:
        from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection
    except ImportError:  # pragma: no cover
        return
    for connection in list(ZMQChannelsWebsocketConnection._open_sockets):
        if getattr(connection, "kernel_id", None) == kernel_id:
            with contextlib.suppress(Exception):
                connection.websocket_handler.close(4004, "kernel stopped")


@functools.lru_cache(maxsize=None)
def connection_class():
    """:class:`SafeKernelConnection`, built on first use (jupyter_server is imported only to serve)."""
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
            if not sane_frame(incoming_msg, self.subprotocol == V1):
                self.log.warning("Malformed websocket frame from a viewer dropped (kernel %s)",
                                 self.kernel_id)
                return
            try:
                super().handle_incoming_message(incoming_msg)
            except Exception as error:  # noqa: BLE001 - whatever a page sends
                self.log.warning("Unreadable message from a viewer dropped (kernel %s): %s",
                                 self.kernel_id, type(error).__name__)

        def on_restart_failed(self):
            """The kernel died (dead kernels are not restarted): tell the page if it is
            still there (its websocket is often closed first, which used to log a traceback)."""
            with contextlib.suppress(Exception):  # (the manager logs the death)
                self._send_status_message("dead")

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


def __getattr__(name: str):
    """``SafeKernelConnection``, by the import path the settings give Voila."""
    if name == "SafeKernelConnection":
        cls = connection_class()
        globals()[name] = cls
        return cls
    raise AttributeError(name)

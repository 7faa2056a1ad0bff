"""uvicorn's HTTP and WebSocket protocols with the bounds uvicorn has no setting for.

* **Headers in time.** A client that opens a connection and sends its request
  headers slowly, or never, holds the connection (and a file descriptor) for as long
  as it likes (slowloris): uvicorn times out only idle keep-alive connections. Here a
  request's headers must be complete within ``header_timeout_s`` of its first byte
  (of the connection, for the first request), else the connection is closed.
* **Responses nobody reads.** A response waits while the socket's buffers are
  full, so a client that sends requests (pipelined, or for a large response) and
  never reads held its connection, its handler and megabytes of kernel buffer
  forever (2.8 MB of send queue for 200 pipelined ``/openapi.json``). Here a
  response that cannot go on for ``send_timeout_s`` (the socket's buffers full all
  that time) aborts the connection, which frees them.
* **Slow stream clients.** What is buffered for a client is bounded
  (``send_buffer_bytes`` in this process and as the socket's kernel send buffer). A
  WebSocket send waits while that buffer is full, so a client that never reads holds its
  handler and the buffered data forever, and so does closing it (the close frame
  waits behind the data). Here a send that cannot start within ``send_timeout_s``
  drops the client: a close frame with :data:`WS_TOO_SLOW` is queued behind what is
  buffered (a client that reads again gets it) and the connection is aborted after
  ``close_grace_s`` whatever the client does, which frees the buffer. The handler
  sees a disconnect.

``deconfliction serve`` runs uvicorn with these classes (built by
:func:`protocol_classes` with the server's settings). They extend uvicorn's own
(httptools, websockets sans-I/O), whose versions are pinned in the lock; the tests
in ``tests/security/`` drive both through a real server.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import (
    WebSocketsSansIOProtocol,
)

log = logging.getLogger(__name__)

WS_TOO_SLOW: int = 4408  # 4000-4999 are for applications; 408 as in HTTP (timeout)


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """HTTP/1.1 whose request headers must arrive within ``header_timeout_s`` and
    whose responses must not stall for ``send_timeout_s``."""

    header_timeout_s: float = 10.0
    send_timeout_s: float = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the clock for the first request's headers."""
        super().connection_made(transport)
        self._header_timer: asyncio.TimerHandle | None = None
        self._send_timer: asyncio.TimerHandle | None = None
        self._start_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the clocks."""
        self._stop_header_timer()
        self._stop_send_timer()
        super().connection_lost(exc)

    def pause_writing(self) -> None:
        """The socket's buffers are full: what is sent waits, for
        ``send_timeout_s`` at most."""
        super().pause_writing()
        if getattr(self, "_send_timer", None) is None:
            self._send_timer = self.loop.call_later(
                self.send_timeout_s, self._send_too_slow
            )

    def resume_writing(self) -> None:
        """The client reads again: no more clock."""
        self._stop_send_timer()
        super().resume_writing()

    def _stop_send_timer(self) -> None:
        timer = getattr(self, "_send_timer", None)
        if timer is not None:
            timer.cancel()
            self._send_timer = None

    def _send_too_slow(self) -> None:
        self._send_timer = None
        if not self.transport.is_closing():
            log.warning(
                "client %s took nothing for %g s: connection aborted",
                f"{self.client[0]}:{self.client[1]}" if self.client else "?",
                self.send_timeout_s,
            )
        self.transport.abort()

    def on_message_begin(self) -> None:
        """A new request on the connection: its headers are due in time. Over TLS
        the client's certificate (a peer node's, federation) goes into the scope
        as the ASGI TLS extension has it: ``extensions.tls.client_cert_chain``."""
        super().on_message_begin()
        self._start_header_timer()
        ssl_object = self.transport.get_extra_info("ssl_object")
        if ssl_object is not None:
            der = ssl_object.getpeercert(binary_form=True)
            chain = [] if der is None else [ssl.DER_cert_to_PEM_cert(der)]
            self.scope["extensions"] = {"tls": {"client_cert_chain": chain}}

    def on_headers_complete(self) -> None:
        """The headers are in: no more clock for them."""
        self._stop_header_timer()
        super().on_headers_complete()

    def _start_header_timer(self) -> None:
        if getattr(self, "_header_timer", None) is None:
            self._header_timer = self.loop.call_later(
                self.header_timeout_s, self._headers_too_slow
            )

    def _stop_header_timer(self) -> None:
        timer = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            log.info(
                "request headers not complete in %g s: closed", self.header_timeout_s
            )
            self.transport.close()


class BoundedWebSocketProtocol(WebSocketsSansIOProtocol):
    """WebSockets whose clients must keep reading: see the module's docstring."""

    send_timeout_s: float = 10.0
    close_grace_s: float = 5.0
    send_buffer_bytes: int = 262_144

    def connection_made(self, transport: Any) -> None:
        """Bound what is buffered for the client, in this process and in the
        kernel (whose send buffer would otherwise grow to megabytes first)."""
        super().connection_made(transport)
        transport.set_write_buffer_limits(high=self.send_buffer_bytes)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.send_buffer_bytes)

    async def send(self, message: Any) -> None:
        """Send, or drop the client when it has not taken what it was sent before
        within ``send_timeout_s``.

        Raises:
            ClientDisconnected: when the client was dropped or is gone.
        """
        if (
            self.handshake_complete
            and not self.close_sent
            and message.get("type") in ("websocket.send", "websocket.close")
            and not self.writable.is_set()
        ):
            try:
                await asyncio.wait_for(self.writable.wait(), self.send_timeout_s)
            except TimeoutError:
                self._drop_slow_client()
                raise ClientDisconnected() from None
        await super().send(message)

    def _drop_slow_client(self) -> None:
        if self.transport.is_closing():
            return
        log.warning(
            "stream client %s took nothing for %g s: dropped (close code %d)",
            f"{self.client[0]}:{self.client[1]}" if self.client else "?",
            self.send_timeout_s,
            WS_TOO_SLOW,
        )
        self.queue.put_nowait({"type": "websocket.disconnect", "code": WS_TOO_SLOW})
        self.conn.send_close(WS_TOO_SLOW, "too slow: the client did not read")
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        self.stop_keepalive()
        self.loop.call_later(self.close_grace_s, self.transport.abort)


def protocol_classes(
    header_timeout_s: float,
    send_timeout_s: float,
    ws_send_timeout_s: float,
    ws_close_grace_s: float,
    ws_send_buffer_bytes: int,
) -> tuple[type[HeaderTimeoutProtocol], type[BoundedWebSocketProtocol]]:
    """The HTTP and WebSocket protocol classes for uvicorn, with these bounds."""

    class Http(HeaderTimeoutProtocol):
        pass

    class WebSocket(BoundedWebSocketProtocol):
        pass

    Http.header_timeout_s = header_timeout_s
    Http.send_timeout_s = send_timeout_s
    WebSocket.send_timeout_s = ws_send_timeout_s
    WebSocket.close_grace_s = ws_close_grace_s
    WebSocket.send_buffer_bytes = ws_send_buffer_bytes
    return Http, WebSocket

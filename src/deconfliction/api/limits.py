"""Request limits: body size and rate, as pure ASGI middlewares.

* **Body size.** A request body larger than the limit is refused with 413 (problem
  JSON): at once when its ``Content-Length`` says so, else as soon as the bytes
  received pass it (a chunked body), before any of it is parsed or stored. Track
  batches (``POST /v1/tracks``) have their own, larger limit.
* **Rate.** Each bearer token (each client address, for requests without one) has a
  token bucket: ``burst`` requests at once, refilled at ``rate_per_s``. A request
  that finds the bucket empty gets 429 (problem JSON) with ``Retry-After``, the
  whole seconds until a request will pass. Buckets are kept in this process for the
  most recent ``MAX_BUCKETS`` keys (a flood of made-up tokens cannot grow memory);
  several server processes each count their own share.

Both apply to every route, the stream's handshake included. The limits are server
settings (``config.Settings``), documented in docs/security.md ("Limits").
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from deconfliction.api.errors import PROBLEM_JSON

MAX_BUCKETS: int = 10_000  # keys remembered; the least recently used is forgotten
TRACKS_ROUTE: tuple[str, str] = ("POST", "/v1/tracks")


async def send_problem(
    send: Send, status: int, title: str, detail: str, headers: dict[str, str]
) -> None:
    body = json.dumps(
        {"type": "about:blank", "title": title, "status": status, "detail": detail}
    ).encode()
    raw_headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
        *((k.lower().encode(), v.encode()) for k, v in headers.items()),
    ]
    await send(
        {"type": "http.response.start", "status": status, "headers": raw_headers}
    )
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


class BodySizeLimit:
    """413 for a body over ``max_bytes`` (``tracks_max_bytes`` for track batches)."""

    def __init__(self, app: ASGIApp, max_bytes: int, tracks_max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.tracks_max_bytes = tracks_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a declared oversize body at once; count the bytes of the rest."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = (scope.get("method", ""), str(scope.get("path", "")).rstrip("/"))
        limit = self.tracks_max_bytes if route == TRACKS_ROUTE else self.max_bytes
        detail = f"the request body is larger than {limit} bytes"
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await send_problem(send, 413, "Content Too Large", detail, {})
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # An HTTPException passes FastAPI's body reading unchanged and
                    # becomes problem JSON in api/errors.py; a middleware inside
                    # this one that reads the body lets it through to here.
                    raise _TooLarge(413, "Content Too Large")
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if started:
                raise
            await send_problem(send, 413, "Content Too Large", detail, {})


class _TooLarge(HTTPException):
    """The body passed its limit while it was read."""


@dataclass(slots=True)
class _Bucket:
    tokens: float
    t_s: float


class TokenBuckets:
    """One token bucket per key: ``burst`` at once, refilled at ``rate_per_s``.

    >>> now = [0.0]
    >>> buckets = TokenBuckets(1.0, 2, clock=lambda: now[0])
    >>> [buckets.wait_s("a") for _ in range(3)]
    [0.0, 0.0, 1.0]
    >>> now[0] = 0.5
    >>> buckets.wait_s("a"), buckets.wait_s("b")
    (0.5, 0.0)
    """

    def __init__(
        self,
        rate_per_s: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_BUCKETS,
    ) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def wait_s(self, key: str) -> float:
        """Take a token for ``key``: 0 when there was one, else the seconds until
        there will be (nothing is taken then)."""
        now = self._clock()
        bucket = self._buckets.pop(key, None)
        if bucket is None:
            bucket = _Bucket(float(self.burst), now)
        bucket.tokens = min(
            float(self.burst), bucket.tokens + (now - bucket.t_s) * self.rate_per_s
        )
        bucket.t_s = now
        self._buckets[key] = bucket
        if len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate_per_s


class RateLimit:
    """429 with ``Retry-After`` for a token (or address) over its rate."""

    def __init__(self, app: ASGIApp, rate_per_s: float, burst: int) -> None:
        self.app = app
        self.buckets = TokenBuckets(rate_per_s, burst) if rate_per_s > 0 else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on if its key's bucket has a token."""
        if self.buckets is None or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        wait_s = self.buckets.wait_s(_key(scope))
        if wait_s <= 0.0:
            await self.app(scope, receive, send)
            return
        retry_after = str(max(1, math.ceil(wait_s)))
        if scope["type"] == "websocket":
            # Before the handshake: the client sees an HTTP 429 with Retry-After.
            await send(
                {
                    "type": "websocket.http.response.start",
                    "status": 429,
                    "headers": [(b"retry-after", retry_after.encode())],
                }
            )
            await send({"type": "websocket.http.response.body", "body": b""})
            return
        await send_problem(
            send,
            429,
            "Too Many Requests",
            f"more than {self.buckets.rate_per_s:g} requests a second; "
            f"retry after {retry_after} s",
            {"Retry-After": retry_after},
        )


def _key(scope: Scope) -> str:
    """The bucket of a request: its bearer token (hashed: no secret is kept in
    memory longer than the request), else its client address."""
    authorization = _header(scope, b"authorization")
    if authorization:
        return "token:" + hashlib.sha256(authorization).hexdigest()
    client = scope.get("client")
    return "addr:" + (str(client[0]) if client else "?")

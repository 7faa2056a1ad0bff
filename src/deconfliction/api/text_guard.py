"""Text the store cannot hold is refused before any route sees it (422).

Two kinds of "text" arrive in valid JSON and URLs but are not text:

* NUL (``\\u0000`` in JSON, ``%00`` in a URL): PostgreSQL cannot store it in a text
  column, so the statement failed with a 500, and with it whatever else the request
  held;
* a lone UTF-16 surrogate (``"\\ud800"`` in JSON): it cannot be encoded as UTF-8, so
  it failed on the way into the store, or, kept inside a JSON document, on every
  later read of it (a poisoned message).

A body holding either (as JSON escapes, or a raw NUL byte), and a URL holding
``%00``, get 422 problem JSON naming it (a TOML protocol cannot hold them
either). Track batches (``POST /v1/tracks``) are not refused whole: their rows are
checked one by one (``service.ingest``), so that the valid rows are kept.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from deconfliction.api.limits import TRACKS_ROUTE, send_problem

# A \u escape of a surrogate or of NUL, with the backslashes before it: an even
# number of them is escaped backslashes followed by plain text.
_ESCAPE = re.compile(rb"(\\+)u(00[0]{2}|[dD][89a-fA-F][0-9a-fA-F]{2})")
_NUL_IN_URL = re.compile(rb"%00")


def not_text_in_json(body: bytes) -> str | None:
    """What in a JSON document is not text, or None.

    >>> not_text_in_json(b'{"a": "\\\\ud83d\\\\ude00 ok"}') is None
    True
    >>> not_text_in_json(b'{"a": "\\\\ud800"}')
    'a lone surrogate (\\\\ud800)'
    >>> not_text_in_json(b'["\\\\\\\\ud800", "x\\\\u0000"]')
    'a NUL character (\\\\u0000)'
    """
    if b"\x00" in body:
        return "a NUL byte"
    pending_high: tuple[int, bytes] | None = None
    for match in _ESCAPE.finditer(body):
        backslashes, hex_digits = match.group(1), match.group(2)
        if len(backslashes) % 2 == 0:
            continue
        code = int(hex_digits, 16)
        if code == 0:
            return "a NUL character (\\u0000)"
        escape_start = match.end(1) - 1
        if code <= 0xDBFF:  # a high surrogate: a low one must follow at once
            if pending_high is not None:
                break
            pending_high = (match.end(), hex_digits)
            continue
        if pending_high is None or pending_high[0] != escape_start:
            return f"a lone surrogate (\\u{hex_digits.decode().lower()})"
        pending_high = None
    if pending_high is not None:
        return f"a lone surrogate (\\u{pending_high[1].decode().lower()})"
    return None


class TextGuard:
    """422 for NUL in a URL, and NUL or a lone surrogate in a JSON body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the URL; read and check the body (bounded by ``BodySizeLimit``,
        which runs first), then hand it on."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        raw_path = scope.get("raw_path") or str(scope.get("path", "")).encode()
        if _NUL_IN_URL.search(raw_path) or _NUL_IN_URL.search(
            scope.get("query_string", b"")
        ):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            await send_problem(
                send,
                422,
                "Unprocessable Content",
                "the URL holds a NUL character (%00)",
                {},
            )
            return
        route = (scope.get("method", ""), str(scope.get("path", "")).rstrip("/"))
        if scope["type"] != "http" or route == TRACKS_ROUTE:
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        body = b""
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        problem = not_text_in_json(body)
        if problem is not None:
            await send_problem(
                send,
                422,
                "Unprocessable Content",
                f"the body holds {problem}, which is not text",
                {},
            )
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

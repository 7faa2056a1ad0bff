"""Security headers on every HTTP response (a pure ASGI middleware).

The console and everything it loads come from this server, so the policy allows
'self' and nothing else: no CDN, no other origin, not even for a font. Exceptions,
each needed by a shipped part:

* ``worker-src blob:``: MapLibre GL JS starts its workers from a blob URL;
* ``img-src data: blob:``: the report map is embedded as a data URL, and the map
  canvas is exported as a blob;
* ``style-src 'unsafe-inline'``: the daily report is shown in a sandboxed frame
  (``srcdoc``, no scripts), which inherits this policy, and carries its style in
  the page itself. Scripts are never inline (``script-src 'self'``).

No page may be framed by another (``frame-ancestors 'none'`` and
``X-Frame-Options: DENY``), no referrer leaves the console, content types are not
sniffed, and responses of the API (``/v1/``), which hold a party's data, are never
cached (``Cache-Control: no-store``). Over TLS the browser is told to keep to HTTPS
(``Strict-Transport-Security``).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY: str = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "child-src 'self' blob:",
        "frame-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    ("x-content-type-options", "nosniff"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
)
HSTS_MAX_AGE_S: int = 31_536_000  # one year, the usual value for a server kept on TLS
API_PREFIX: str = "/v1/"


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every HTTP response that does not set them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers to the response's start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"
        api = str(scope.get("path", "")).startswith(API_PREFIX)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    headers.setdefault(name, value)
                if api:
                    headers.setdefault("cache-control", "no-store")
                if https:
                    headers.setdefault(
                        "strict-transport-security", f"max-age={HSTS_MAX_AGE_S}"
                    )
            await send(message)

        await self.app(scope, receive, send_with_headers)

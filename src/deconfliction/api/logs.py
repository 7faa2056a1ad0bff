"""The server's log never holds a secret.

Tokens travel in headers or in a stream's first message, never in a URL. A client
that still puts one in a URL (an old console, a hand-written script) would have it
written to the access log with the request line: this filter replaces the value of
every ``token``-like query parameter with ``[redacted]`` before any handler writes it.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

# Query parameters whose value is a secret, wherever they appear in a log line.
_SECRET_PARAM = re.compile(
    r"(?i)([?&;](?:token|access_token|ticket|key|password)=)[^&\s\"']*"
)
REDACTED: str = "[redacted]"


def redact(text: str) -> str:
    """``text`` with the values of secret query parameters replaced.

    >>> redact("GET /v1/stream?after=3&token=abc-DEF_1 HTTP/1.1")
    'GET /v1/stream?after=3&token=[redacted] HTTP/1.1'
    >>> redact("/v1/stream?after=3")
    '/v1/stream?after=3'
    """
    return _SECRET_PARAM.sub(rf"\g<1>{REDACTED}", text)


class RedactSecrets(logging.Filter):
    """Redacts secret query parameters in a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact(a) if isinstance(a, str) else a for a in record.args
            )
        elif isinstance(record.args, dict):
            record.args = {
                k: redact(v) if isinstance(v, str) else v
                for k, v in record.args.items()
            }
        return True


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's logging configuration with :class:`RedactSecrets` on every
    handler."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["secrets"] = {"()": f"{__name__}.RedactSecrets"}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("secrets")
    return config

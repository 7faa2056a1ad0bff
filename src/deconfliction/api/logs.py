"""The server's log: never a secret in it, as text or as JSON lines.

Tokens travel in headers or in a stream's first message, never in a URL. A client
that still puts one in a URL (an old console, a hand-written script) would have it
written to the access log with the request line: this filter replaces the value of
every ``token``-like query parameter with ``[redacted]`` before any handler writes it.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from datetime import UTC, datetime
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


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time`` (RFC 3339 UTC), ``level``, ``logger``,
    ``message``; an access line also has ``client``, ``method``, ``path``,
    ``status``; an error its ``exception`` (the traceback as text)."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        args = record.args
        if (
            record.name == "uvicorn.access"
            and isinstance(args, tuple)
            and len(args) == 5
        ):
            client, method, path, _version, status = args
            out.update(client=client, method=method, path=path, status=status)
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def uvicorn_log_config(log_format: str = "text") -> dict[str, Any]:
    """uvicorn's logging configuration with :class:`RedactSecrets` on every
    handler, the application's loggers (``deconfliction.*``, INFO and up) on the
    same handler, and every line as JSON when ``log_format`` is ``json``."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["secrets"] = {"()": f"{__name__}.RedactSecrets"}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("secrets")
    if log_format == "json":
        for name in ("default", "access"):
            config["formatters"][name] = {"()": f"{__name__}.JsonFormatter"}
    config["loggers"]["deconfliction"] = {
        "handlers": ["default"],
        "level": "INFO",
        "propagate": False,
    }
    return config

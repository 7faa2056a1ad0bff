"""Errors as ``application/problem+json`` (RFC 9457): the one place that maps domain
errors to HTTP status codes.

Store faults (the database unreachable, its disk full or failing, its lock held too
long, read-only) answer 503 with ``Retry-After`` and a ``reason`` such as
``store_unreachable``; they are logged one line per kind at most every
``service.store_health.LOG_EVERY_S``, without a traceback. Anything else unexpected
is a 500 and logged with its traceback.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from deconfliction.errors import (
    ConflictError,
    DeconflictionError,
    ForbiddenError,
    InputError,
    NotFoundError,
)
from deconfliction.service.store_health import StoreHealth
from deconfliction.store.faults import StoreFault

PROBLEM_JSON = "application/problem+json"


class Unauthorized(DeconflictionError):
    """No valid bearer token."""


def problem(
    status: int,
    title: str,
    detail: str,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if extra:
        body.update(extra)
    return JSONResponse(
        body, status_code=status, media_type=PROBLEM_JSON, headers=headers
    )


def _status_of(exc: DeconflictionError) -> tuple[int, str]:
    if isinstance(exc, Unauthorized):
        return 401, "Unauthorized"
    if isinstance(exc, NotFoundError):
        return 404, "Not Found"
    if isinstance(exc, ForbiddenError):
        return 403, "Forbidden"
    if isinstance(exc, ConflictError):
        return 409, "Conflict"
    if isinstance(exc, InputError):
        return 422, "Unprocessable Content"
    return 400, "Bad Request"


# What the store and its drivers raise; those that are not store faults are bugs.
STORE_ERRORS: tuple[type[Exception], ...] = (
    sa_exc.DBAPIError,
    sa_exc.TimeoutError,
    sqlite3.Error,
    psycopg.Error,
)


def store_unavailable(fault: StoreFault) -> JSONResponse:
    """503 for a store fault, in generic words, with ``Retry-After``."""
    return problem(
        503,
        "Service Unavailable",
        f"{fault.kind.description}; retry later",
        {"reason": f"store_{fault.kind.value}"},
        headers={"Retry-After": str(fault.kind.retry_after_s)},
    )


def install(app: FastAPI, store_health: StoreHealth) -> None:
    """Register the exception handlers; store faults are noted in
    ``store_health``."""

    async def _store(_: Request, exc: Exception) -> JSONResponse:
        fault = store_health.record(exc)
        if fault is None:
            raise exc  # a bug: the 500 handler answers and the server logs it
        return store_unavailable(fault)

    for error in STORE_ERRORS:
        app.add_exception_handler(error, _store)

    @app.exception_handler(DeconflictionError)
    async def _domain(_: Request, exc: DeconflictionError) -> JSONResponse:
        status, title = _status_of(exc)
        extra: dict[str, Any] = {}
        if isinstance(exc, InputError):
            extra["problems"] = [
                {
                    "source": p.source,
                    "line": p.line,
                    "field": p.field,
                    "message": p.message,
                }
                for p in exc.problems
            ]
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return problem(status, title, str(exc), extra, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {
                "source": "request",
                "line": None,
                "field": ".".join(str(p) for p in err.get("loc", ()) if p != "body"),
                "message": err.get("msg", "invalid"),
            }
            for err in exc.errors()
        ]
        detail = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        return problem(422, "Unprocessable Content", detail, {"problems": problems})

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(
            exc.status_code,
            str(exc.detail),
            str(exc.detail),
            headers=dict(exc.headers) if exc.headers else None,
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        return problem(500, "Internal Server Error", "the server failed; see its log")

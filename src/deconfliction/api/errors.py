"""Errors as ``application/problem+json`` (RFC 9457): the one place that maps domain
errors to HTTP status codes."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from deconfliction.errors import (
    ConflictError,
    DeconflictionError,
    ForbiddenError,
    InputError,
    NotFoundError,
)

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


def install(app: FastAPI) -> None:
    """Register the exception handlers."""

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

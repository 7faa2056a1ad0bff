"""/v1/reports: the daily report for the caller's party, as HTML or PDF."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from deconfliction.api.deps import CtxDep, WhoDep
from deconfliction.api.errors import problem
from deconfliction.errors import InputError, Problem

router = APIRouter(prefix="/v1/reports", tags=["reports"])

FORMATS: tuple[str, ...] = ("html", "pdf")


@router.get(
    "/daily",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {}, "application/pdf": {}}}},
)
def daily(
    ctx: CtxDep,
    who: WhoDep,
    day: str,
    lang: str | None = None,
    report_format: Annotated[str, Query(alias="format")] = "html",
) -> Response:
    """The daily report of ``day`` (YYYY-MM-DD, UTC) for the caller's party: only what
    it may see. ``lang``: en, ru or ar (default: the party's language);
    ``format``: html (default) or pdf."""
    from deconfliction.reports.daily import parse_day
    from deconfliction.reports.i18n import LANGUAGES, check_lang
    from deconfliction.reports.render import (
        ReportRendererMissing,
        render_html,
        render_pdf,
        report_file_stem,
    )
    from deconfliction.service.daily_report import gather, reader_language

    when = parse_day(day)
    if lang is not None:
        check_lang(lang)
    if report_format not in FORMATS:
        raise InputError(
            [Problem("request", None, "format", f"one of {', '.join(FORMATS)}")]
        )
    with ctx.engine.connect() as conn:
        data = gather(conn, when, who.party_id, ctx.clock.now_t_s())
        language = lang or reader_language(conn, who.party_id, LANGUAGES)
    page = render_html(data, language)
    stem = report_file_stem(data, language)
    if report_format == "html":
        return HTMLResponse(page.html)
    try:
        pdf = render_pdf(page.html)
    except ReportRendererMissing as exc:
        return problem(503, "Service Unavailable", str(exc))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{stem}.pdf"'},
    )

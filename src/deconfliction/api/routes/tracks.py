"""/v1/tracks: post batches of positions; read the live picture and histories."""

from __future__ import annotations

import csv
import io
import json
import time
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query, Request, Response, status

from deconfliction.api.deps import CtxDep, WhoDep
from deconfliction.api.params import time_param
from deconfliction.api.schemas import BatchOut, TrackPoint
from deconfliction.domain.positions import KINEMATIC_HEADERS
from deconfliction.errors import InputError, Problem
from deconfliction.service import ingest, tracks

router = APIRouter(prefix="/v1/tracks", tags=["tracks"])

CSV_COLUMNS: tuple[str, ...] = KINEMATIC_HEADERS  # id,time,lat,lon,alt_ft,...


def _parse_body(
    content_type: str, raw: bytes, batch_id: str | None
) -> tuple[str, list[Any]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError([Problem("request", None, "body", "not UTF-8 text")]) from None
    if content_type.startswith("text/csv"):
        if not batch_id:
            raise InputError(
                [Problem("request", None, "batch_id", "a CSV batch needs ?batch_id=")]
            )
        reader = csv.DictReader(io.StringIO(text))
        missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(
                [
                    Problem(
                        "request",
                        1,
                        ",".join(missing),
                        "missing CSV column(s); need " + ",".join(CSV_COLUMNS),
                    )
                ]
            )
        return batch_id, list(reader)
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            [Problem("request", exc.lineno, "body", f"invalid JSON: {exc.msg}")]
        ) from None
    except (RecursionError, ValueError) as exc:  # nested too deep, a huge integer
        reason = "nested too deep" if isinstance(exc, RecursionError) else str(exc)
        raise InputError(
            [Problem("request", None, "body", f"invalid JSON: {reason}")]
        ) from None
    if not isinstance(body, dict) or not isinstance(body.get("positions"), list):
        raise InputError(
            [
                Problem(
                    "request",
                    None,
                    "positions",
                    "expected {batch_id, positions: [...]}",
                )
            ]
        )
    bid = body.get("batch_id", batch_id)
    if not isinstance(bid, str):
        raise InputError([Problem("request", None, "batch_id", "must be a string")])
    rows = [r if isinstance(r, dict) else {} for r in body["positions"]]
    return bid, rows


@router.post(
    "",
    response_model=BatchOut,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "a batch id seen before: nothing new stored"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["batch_id", "positions"],
                        "properties": {
                            "batch_id": {"type": "string"},
                            "positions": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {
                                        c: {
                                            "type": "string"
                                            if c in ("id", "time", "party")
                                            else "number"
                                        }
                                        for c in (*CSV_COLUMNS, "party")
                                    },
                                },
                            },
                        },
                    }
                },
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    },
)
async def post_batch(
    request: Request,
    response: Response,
    ctx: CtxDep,
    who: WhoDep,
    batch_id: Annotated[str | None, Query(max_length=200)] = None,
) -> BatchOut:
    """Store a batch of the caller's party's positions, once per batch id.

    JSON: ``{"batch_id": "...", "positions": [{"id", "time", "lat", "lon", "alt_ft",
    "gs_kt", "trk_deg", "vs_fpm"}]}``; CSV with that header and ``?batch_id=``.
    Times are RFC 3339 with a zone, or epoch seconds. An optional ``party`` must be
    the caller's party: a row naming another is rejected. A 201 or 200 means the
    batch is committed. Positions more than the protocol's ``stale_after_s`` old
    on arrival are stored as history and never enter the live picture: the answer
    counts them (``history_positions``) and says so (``notice``).
    """
    raw = await request.body()
    bid, rows = _parse_body(request.headers.get("content-type", ""), raw, batch_id)

    def work() -> ingest.BatchResult:
        with ctx.engine.begin() as conn:
            return ingest.ingest_under_protocol(
                conn,
                who,
                bid,
                rows,
                ctx.clock.now_t_s(),
                ctx.settings.future_tolerance_s,
            )

    started = time.monotonic()
    try:
        result = await anyio.to_thread.run_sync(work)
    except InputError as exc:
        ctx.metrics.refused(who.party_id, exc.problems, time.monotonic() - started)
        raise
    ctx.metrics.batch(who.party_id, result, time.monotonic() - started)
    if result.duplicate:
        response.status_code = status.HTTP_200_OK
    return BatchOut.model_validate(result.as_json())


def _point(position: tracks.TrackPosition) -> TrackPoint:
    return TrackPoint(
        party=position.party_id,
        id=position.aircraft_id,
        t_s=position.t_s,
        lat_deg=position.lat_deg,
        lon_deg=position.lon_deg,
        alt_ft=position.alt_ft,
        gs_kt=position.gs_kt,
        trk_deg=position.trk_deg,
        vs_fpm=position.vs_fpm,
    )


@router.get("", response_model=list[TrackPoint])
def live_picture(
    ctx: CtxDep,
    who: WhoDep,
    max_age_s: Annotated[float, Query(gt=0, le=86400)] = 60.0,
) -> list[TrackPoint]:
    """The newest position of every aircraft the caller may see, heard within
    ``max_age_s``."""
    now = ctx.clock.now_t_s()
    with ctx.engine.connect() as conn:
        picture = tracks.live_picture(conn, who.party_id, now, max_age_s)
    return [_point(p) for p in picture]


@router.get("/{party_id}/{aircraft_id}", response_model=list[TrackPoint])
def history(
    party_id: str,
    aircraft_id: str,
    ctx: CtxDep,
    who: WhoDep,
    since: str | None = None,
    until: str | None = None,
    limit: Annotated[int, Query(gt=0, le=100_000)] = 10_000,
) -> list[TrackPoint]:
    """Positions of one aircraft in time order, if the caller may see its tracks."""
    since_t_s = time_param("since", since)
    until_t_s = time_param("until", until)
    with ctx.engine.connect() as conn:
        found = tracks.history(
            conn, who.party_id, party_id, aircraft_id, since_t_s, until_t_s, limit
        )
    return [_point(p) for p in found]

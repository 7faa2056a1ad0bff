"""/v1/operations: planned operations, checked before they fly."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import PlainTextResponse

from deconfliction.adapters.operation_file import operation_from_json
from deconfliction.api.deps import CtxDep, WhoDep
from deconfliction.api.params import MAX_VERSION
from deconfliction.errors import InputError, Problem
from deconfliction.service import planning

router = APIRouter(prefix="/v1/operations", tags=["operations"])

MAX_AIRCRAFT: int = 1000  # named in one operation

OPERATION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "kind"],
    "properties": {
        "id": {"type": "string"},
        "party": {"type": "string", "description": "defaults to the caller's party"},
        "kind": {"type": "string"},
        "version": {
            "type": "integer",
            "description": "on update: the version this one replaces",
        },
        "aircraft": {"type": "array", "items": {"type": "string"}},
        "volumes": {"type": "array", "items": {"type": "object"}},
        "route": {"type": "object"},
    },
}


async def _body(request: Request, party: str) -> tuple[Any, list[str], int | None]:
    try:
        data = await request.json()
    except (ValueError, RecursionError):  # also nested too deep, a huge integer
        raise InputError([Problem("request", None, "body", "invalid JSON")]) from None
    if not isinstance(data, dict):
        raise InputError(
            [Problem("request", None, "body", "expected an operation object")]
        )
    aircraft = data.pop("aircraft", [])
    if (
        not isinstance(aircraft, list)
        or len(aircraft) > MAX_AIRCRAFT
        or not all(isinstance(a, str) and 0 < len(a) <= 100 for a in aircraft)
    ):
        raise InputError(
            [
                Problem(
                    "request",
                    None,
                    "aircraft",
                    f"a list of at most {MAX_AIRCRAFT} aircraft ids of 1 to 100 "
                    "characters",
                )
            ]
        )
    replaces = data.pop("version", None)
    if replaces is not None and (
        not isinstance(replaces, int)
        or isinstance(replaces, bool)
        or not 1 <= replaces <= MAX_VERSION
    ):
        raise InputError(
            [Problem("request", None, "version", "the version replaced, 1 or more")]
        )
    data.setdefault("party", party)
    return operation_from_json(data, "request"), aircraft, replaces


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": OPERATION_SCHEMA}},
        }
    },
)
async def file_operation(request: Request, ctx: CtxDep, who: WhoDep) -> dict[str, Any]:
    """File an operation (volumes in the ASTM F3548 form, or a route); it is checked
    and the other parties are notified over the hotline."""
    op, aircraft, _ = await _body(request, who.party_id)

    def work() -> dict[str, Any]:
        with ctx.engine.begin() as conn:
            return planning.file(conn, ctx.keys, who, op, aircraft, ctx.clock.now_t_s())

    import anyio

    out = await anyio.to_thread.run_sync(work)
    ctx.notifier.notify()
    return out


@router.put(
    "/{op_id}",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": OPERATION_SCHEMA}},
        }
    },
)
async def update_operation(
    op_id: str, request: Request, ctx: CtxDep, who: WhoDep
) -> dict[str, Any]:
    """Replace an operation; ``version`` names the version replaced (409 if stale)."""
    op, aircraft, replaces = await _body(request, who.party_id)
    if not isinstance(replaces, int) or isinstance(replaces, bool):
        raise InputError(
            [Problem("request", None, "version", "the version this update replaces")]
        )

    def work() -> dict[str, Any]:
        with ctx.engine.begin() as conn:
            return planning.update_operation(
                conn, ctx.keys, who, op_id, replaces, op, aircraft, ctx.clock.now_t_s()
            )

    import anyio

    out = await anyio.to_thread.run_sync(work)
    ctx.notifier.notify()
    return out


@router.get("")
def list_operations(
    ctx: CtxDep, who: WhoDep, include_ended: bool = False
) -> list[dict[str, Any]]:
    """Your operations, and the others' where the sharing level shows plans."""
    with ctx.engine.connect() as conn:
        return planning.list_visible(conn, who, include_ended)


@router.get("/{op_id}")
def get_operation(op_id: str, ctx: CtxDep, who: WhoDep) -> dict[str, Any]:
    """One operation with its check result and notices."""
    with ctx.engine.connect() as conn:
        return planning.get_visible(conn, who, op_id)


@router.get(
    "/{op_id}/notam",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}}},
)
def get_notam(op_id: str, ctx: CtxDep, who: WhoDep) -> PlainTextResponse:
    """The ICAO NOTAM (English) of an operation the protocol makes public."""
    del who  # any token: a NOTAM is for everyone
    with ctx.engine.connect() as conn:
        text = planning.notam(conn, op_id)
    return PlainTextResponse(text, media_type="text/plain; charset=utf-8")


def _action(name: str) -> Any:
    action = getattr(planning, name)

    def route(op_id: str, ctx: CtxDep, who: WhoDep) -> dict[str, Any]:
        with ctx.engine.begin() as conn:
            out: dict[str, Any] = action(conn, who, op_id, ctx.clock.now_t_s())
        ctx.notifier.notify()
        return out

    route.__name__ = f"{name}_operation"
    route.__doc__ = (action.__doc__ or "").split("\n")[0]
    return route


for _name in ("activate", "end", "cancel", "approve"):
    router.post(f"/{{op_id}}/{_name}")(_action(_name))

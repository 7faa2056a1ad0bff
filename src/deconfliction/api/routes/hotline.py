"""/v1/hotline: messages between duty officers, acknowledgements, suspension."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from deconfliction.api.deps import CtxDep, WhoDep
from deconfliction.api.params import MAX_ID, IdPath, time_param
from deconfliction.service import hotline

router = APIRouter(tags=["hotline"])

MAX_FACTS_BYTES: int = 16_384  # the templates' facts take a few hundred bytes


class MessageIn(BaseModel):
    """A message to send. Templated kinds take ``facts``; ``free_text`` a ``text``
    (any kind may add remarks in ``text``, which stay as written)."""

    model_config = ConfigDict(extra="forbid")

    to: str = Field(
        max_length=64, description='a party id, or "*" for every other party'
    )
    kind: hotline.MessageKind
    priority: hotline.Priority = hotline.Priority.ROUTINE
    facts: dict[str, Any] = Field(
        default_factory=dict,
        description=f"at most {MAX_FACTS_BYTES} bytes as JSON",
    )
    text: str = Field(default="", max_length=hotline.MAX_TEXT_CHARS)
    lang: Literal["en", "ru", "ar"] | None = None
    incident_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    alert_id: str | None = Field(default=None, max_length=64)
    operation_id: str | None = Field(default=None, max_length=100)
    reply_to: int | None = Field(default=None, ge=1, le=MAX_ID)

    @field_validator("facts")
    @classmethod
    def _facts_are_small(cls, facts: dict[str, Any]) -> dict[str, Any]:
        """A message is read by people: its facts are a few fields, never a file
        (every message goes to every recipient's stream and into the record)."""
        try:
            size = len(
                json.dumps(
                    facts, separators=(",", ":"), ensure_ascii=False, allow_nan=False
                )
            )
        except RecursionError:
            raise ValueError("nested too deep") from None
        except ValueError:  # NaN or an infinity: not JSON, and not a fact
            raise ValueError("numbers must be finite") from None
        if size > MAX_FACTS_BYTES:
            raise ValueError(f"{size} bytes as JSON, more than {MAX_FACTS_BYTES}")
        return facts


class ComplaintIn(BaseModel):
    """Options of a complaint made from an incident."""

    model_config = ConfigDict(extra="forbid")

    priority: hotline.Priority = hotline.Priority.URGENT
    text: str = Field(default="", max_length=hotline.MAX_TEXT_CHARS)


class SuspensionIn(BaseModel):
    """A suspension of the channel or of the protocol."""

    model_config = ConfigDict(extra="forbid")

    scope: hotline.SuspensionScope
    reason: str = Field(default="", max_length=2000)
    # One agreement of the caller's party (default: every one naming it).
    protocol_id: str | None = Field(default=None, max_length=100)


Lang = Annotated[
    Literal["en", "ru", "ar"] | None, Query(description="render in this language")
]


@router.post("/v1/hotline/messages", status_code=status.HTTP_201_CREATED)
def send_message(body: MessageIn, ctx: CtxDep, who: WhoDep) -> dict[str, Any]:
    """Send a message; the recipients must acknowledge it by its deadline."""
    with ctx.engine.begin() as conn:
        out = hotline.send(
            conn,
            ctx.keys,
            who,
            hotline.Outgoing(
                to=body.to,
                kind=body.kind,
                priority=body.priority,
                facts=body.facts,
                text=body.text,
                lang=body.lang,
                incident_id=body.incident_id,
                alert_id=body.alert_id,
                operation_id=body.operation_id,
                reply_to=body.reply_to,
            ),
            ctx.clock.now_t_s(),
        )
    ctx.notifier.notify()
    return out


@router.get("/v1/hotline/messages")
def list_messages(
    ctx: CtxDep,
    who: WhoDep,
    lang: Lang = None,
    box: Literal["in", "out", "all"] = "all",
    overdue: bool = False,
    since: str | None = None,
) -> list[dict[str, Any]]:
    """Messages sent by or to the caller's party, newest first, in ``lang`` (default:
    as written). Reading marks received messages delivered."""
    since_t_s = time_param("since", since)
    with ctx.engine.begin() as conn:
        out = hotline.list_messages(
            conn, ctx.keys, who, ctx.clock.now_t_s(), lang, box, overdue, since_t_s
        )
    ctx.notifier.notify()
    return out


@router.get("/v1/hotline/messages/{message_id}")
def get_message(
    message_id: IdPath, ctx: CtxDep, who: WhoDep, lang: Lang = None
) -> dict[str, Any]:
    """One message."""
    with ctx.engine.begin() as conn:
        out = hotline.get_message(
            conn, ctx.keys, who, message_id, ctx.clock.now_t_s(), lang
        )
    ctx.notifier.notify()
    return out


@router.post("/v1/hotline/messages/{message_id}/ack")
def acknowledge(message_id: IdPath, ctx: CtxDep, who: WhoDep) -> dict[str, Any]:
    """Acknowledge a message sent to the caller's party: it was received (which is
    not agreement with it)."""
    with ctx.engine.begin() as conn:
        out = hotline.acknowledge(conn, ctx.keys, who, message_id, ctx.clock.now_t_s())
    ctx.notifier.notify()
    return out


@router.post(
    "/v1/incidents/{incident_id}/complaint", status_code=status.HTTP_201_CREATED
)
def complaint(
    incident_id: IdPath, body: ComplaintIn, ctx: CtxDep, who: WhoDep
) -> dict[str, Any]:
    """Turn an incident into a complaint to the offending party, filled from the
    evidence; the incident becomes reported, and acknowledged when the message is."""
    with ctx.engine.begin() as conn:
        out = hotline.complaint_from_incident(
            conn,
            ctx.keys,
            who,
            incident_id,
            body.priority,
            ctx.clock.now_t_s(),
            body.text,
        )
    ctx.notifier.notify()
    return out


@router.get("/v1/hotline/suspensions")
def list_suspensions(ctx: CtxDep, who: WhoDep) -> list[dict[str, Any]]:
    """The suspensions the caller's party may see (its own, and those of the
    protocol it was a party of when they were made), newest first."""
    with ctx.engine.connect() as conn:
        return hotline.list_suspensions(conn, who)


@router.post("/v1/hotline/suspensions", status_code=status.HTTP_201_CREATED)
def suspend(body: SuspensionIn, ctx: CtxDep, who: WhoDep) -> dict[str, Any]:
    """Suspend the channel or the whole protocol for the caller's party."""
    with ctx.engine.begin() as conn:
        out = hotline.suspend(
            conn,
            ctx.keys,
            who,
            body.scope,
            body.reason,
            ctx.clock.now_t_s(),
            body.protocol_id,
        )
    ctx.notifier.notify()
    return out


@router.post("/v1/hotline/suspensions/{suspension_id}/resume")
def resume(suspension_id: IdPath, ctx: CtxDep, who: WhoDep) -> dict[str, Any]:
    """End a suspension the caller's party made."""
    with ctx.engine.begin() as conn:
        out = hotline.resume(conn, ctx.keys, who, suspension_id, ctx.clock.now_t_s())
    ctx.notifier.notify()
    return out

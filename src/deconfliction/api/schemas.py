"""Request and response bodies of the API (pydantic lives here and in config only)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from deconfliction.service.token_days import DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PartyOut(BaseModel):
    """A registered party."""

    id: str
    name: str
    language: str


class TokenIn(_Strict):
    """A token to issue."""

    role: Literal["officer", "observer", "admin"]
    label: str = Field(default="", max_length=200)
    expires_in_days: int = Field(default=DEFAULT_TOKEN_DAYS, ge=1, le=MAX_TOKEN_DAYS)


class TokenInfoOut(BaseModel):
    """A token as listed: never the token itself."""

    id: int
    party_id: str
    role: str
    label: str
    created_t_s: float
    expires_t_s: float | None
    revoked_t_s: float | None
    status: Literal["active", "revoked", "expired"]


class TokenOut(BaseModel):
    """A new token: shown once, stored only as a hash."""

    id: int
    party_id: str
    role: str
    expires_t_s: float | None
    token: str


class WhoAmI(BaseModel):
    """The caller."""

    party_id: str
    role: str


class RejectionOut(BaseModel):
    """A rejected row."""

    row: int
    field: str
    message: str


class BatchOut(BaseModel):
    """What happened to a batch."""

    batch_id: str
    accepted: int
    rejected: list[RejectionOut]
    duplicate: bool
    duplicate_positions: int = Field(
        default=0,
        description="accepted positions the store already held (same party, "
        "aircraft and time, sent before or twice in this batch): not stored again",
    )
    live_positions: int = Field(
        default=0, description="accepted positions recent enough for the live picture"
    )
    history_positions: int = Field(
        default=0,
        description="accepted positions more than stale_after_s old on arrival: "
        "stored as history, never in the live picture (no alert)",
    )
    stale_after_s: float | None = Field(
        default=None,
        description="the protocol in effect's stale_after_s (None: no protocol)",
    )
    notice: str | None = Field(
        default=None, description="what the sender must know, in words"
    )


class ProtocolVersionOut(BaseModel):
    """A protocol version and where it stands."""

    protocol_id: str
    version: int
    title: str
    status: Literal["proposed", "in_effect", "superseded"]
    sharing: str
    parties: list[str]
    party_names: dict[str, str] = Field(
        default_factory=dict,
        description="each party's full name as the protocol states it, by id",
    )
    accepted_by: list[str]
    awaiting: list[str] = Field(
        description="parties whose acceptance is still needed: those the version "
        "names and, while proposed, those of the version in effect it would replace"
    )
    proposed_by: str
    proposed_t_s: float
    effective_t_s: float | None
    superseded_t_s: float | None
    notice_s: float | None = Field(
        default=None,
        description="the version's termination clause: a party may give notice "
        "of withdrawal and the version ends this long after; null: it ends only "
        "when a version accepted by all its parties replaces it",
    )
    notice_by: str | None = Field(
        default=None, description="the party that gave notice of withdrawal"
    )
    notice_t_s: float | None = None
    ends_t_s: float | None = Field(
        default=None, description="when the version ends by the notice given"
    )
    sha256: str
    toml: str | None = None
    geometry: dict[str, Any] | None = None


class StatusIn(_Strict):
    """A new incident status, and the incident's ``version`` it was decided from
    (as read; a stale one gets 409)."""

    status: Literal["open", "reported", "acknowledged", "resolved", "disputed"]
    version: int = Field(ge=0, le=2**31 - 1)


class RemarkIn(_Strict):
    """A remark on an incident."""

    text: str = Field(min_length=1, max_length=4000)


class TrackPoint(BaseModel):
    """A position of an aircraft."""

    party: str
    id: str
    t_s: float
    lat_deg: float
    lon_deg: float
    alt_ft: float
    gs_kt: float
    trk_deg: float
    vs_fpm: float

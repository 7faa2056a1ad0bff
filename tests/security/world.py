"""The adversary's world: one server shared by three parties, each with a token of
every role.

``A`` (the coalition) and ``B`` (Russia) are the parties of the protocol in effect;
``C`` (Syria) is registered on the same server but named in no protocol. ``A`` owns
objects the others try to act on or read: an aircraft on the wrong side of the line
(an alert with ``B`` and a violation incident), an operation, a remark, messages to
and from ``B``, and a suspension of the channel.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select
from websockets.sync.client import connect

from deconfliction.store.engine import make_engine
from deconfliction.store.tables import alerts
from tests.conftest import Server, add_party
from tests.integration.helpers import flight, protocol_text

A, B, C = "coalition", "russia", "syria"
PARTIES = (A, B, C)
ROLES = ("admin", "officer", "observer")
LANGUAGE = {A: "en", B: "ru", C: "ar"}
PROTOCOL_ID = "euphrates-2017"

# A's aircraft: its id must never reach B (below "full") or C.
A_AIRCRAFT = "ALPHA7"
B_AIRCRAFT = "BRAVO3"
A_REMARK = "alpha remark: for our eyes only"
A_OPERATION = "alpha-op-1"


def auth(token: str) -> dict[str, str]:
    """The header that carries a bearer token."""
    return {"Authorization": f"Bearer {token}"}


def wait_for(fn: Any, timeout_s: float = 30.0, what: str = "condition") -> Any:
    """Poll ``fn`` until it returns something true."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what} not met in {timeout_s} s")


def operation_body(
    op_id: str,
    lat_deg: float,
    lon_deg: float,
    start_in_s: float = 7200.0,
    end_in_s: float = 14400.0,
) -> dict[str, Any]:
    """A 10 NM circle from two to four hours from now (or as given)."""
    now = time.time()

    def at(t_s: float) -> dict[str, str]:
        text = datetime.fromtimestamp(t_s, tz=UTC).isoformat()
        return {"value": text.replace("+00:00", "Z")}

    altitude = {"reference": "W84", "units": "FT"}
    return {
        "id": op_id,
        "kind": "air_patrol",
        "aircraft": [A_AIRCRAFT],
        "volumes": [
            {
                "volume": {
                    "outline_circle": {
                        "center": {"lat": lat_deg, "lng": lon_deg},
                        "radius": {"value": 10, "units": "NM"},
                    },
                    "altitude_lower": {"value": 15000, **altitude},
                    "altitude_upper": {"value": 25000, **altitude},
                },
                "time_start": at(now + start_in_s),
                "time_end": at(now + end_in_s),
            }
        ],
    }


@dataclass
class World:
    """The server, every party's tokens by role, and A's objects."""

    server: Server
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)
    objects: dict[str, Any] = field(default_factory=dict)

    def client(self, party: str, role: str = "officer") -> httpx.Client:
        """A client with the token of ``party``'s ``role``."""
        return self.server.client(self.tokens[party][role])

    def propose(self, party: str, text: str) -> httpx.Response:
        """POST a protocol text as ``party``'s officer."""
        return httpx.post(
            f"{self.server.url}/v1/protocols",
            content=text.encode(),
            headers={
                **auth(self.tokens[party]["officer"]),
                "content-type": "application/toml",
            },
            timeout=30,
        )

    def accept(self, party: str, protocol_id: str, version: int) -> httpx.Response:
        """Accept a version as ``party``'s officer."""
        return httpx.post(
            f"{self.server.url}/v1/protocols/{protocol_id}/versions/{version}/accept",
            headers=auth(self.tokens[party]["officer"]),
            timeout=30,
        )


def agreement_text(
    protocol_id: str,
    parties: tuple[str, ...],
    version: int = 1,
    sharing: str = "zones",
    notice_s: float | None = None,
) -> str:
    """A protocol naming ``parties`` (no lines, no zones), with a termination
    clause when ``notice_s`` is given."""
    text = (
        f'[protocol]\nid = "{protocol_id}"\nversion = {version}\n'
        f'title = "{protocol_id} agreement"\nsharing = "{sharing}"\n'
        "lookahead_s = 300\n\n"
    )
    for party in parties:
        text += (
            f'[[parties]]\nid = "{party}"\nname = "{party.title()}"\n'
            f'language = "{LANGUAGE.get(party, "en")}"\n\n'
        )
    text += "[separation]\nhorizontal_nm = 5.0\nvertical_ft = 1000.0\n"
    if notice_s is not None:
        text += f"\n[termination]\nnotice_s = {notice_s}\n"
    return text


def register(server: Server) -> World:
    """A, B and C with a token of every role, as ``deconfliction party add``."""
    world = World(server)
    for party in PARTIES:
        world.tokens[party] = {
            role: add_party(server.database_url, party, role, LANGUAGE[party])
            for role in ROLES
        }
    return world


def protocol_with_parties(text: str, *names: str) -> str:
    """A protocol text (``protocol_text``) with its parties replaced by ``names``."""
    head, _, rest = text.partition("[[parties]]")
    tail = rest[rest.index("[separation]") :]
    named = "".join(
        f'[[parties]]\nid = "{p}"\nname = "{p}"\nlanguage = "{LANGUAGE[p]}"\n\n'
        for p in names
    )
    return head + named + tail


def put_protocol_in_effect(
    world: World, version: int = 1, sharing: str = "zones"
) -> None:
    """A proposes the shipped euphrates-2017 at ``version``, B accepts."""
    proposed = world.propose(A, protocol_text(version, sharing))
    assert proposed.status_code == 201, proposed.text
    accepted = world.accept(B, PROTOCOL_ID, version)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "in_effect", accepted.text


def fly_into_violation(world: World) -> dict[str, Any]:
    """A's aircraft on B's side of the Euphrates, head-on with B's: an alert and a
    line violation by A. Returns A's incident (as A sees it) and the alert's id."""
    now = time.time()
    a_rows = flight(A_AIRCRAFT, 35.30, 39.70, 0.0, 420.0, 25000.0, now - 25, 6)
    b_rows = flight(B_AIRCRAFT, 35.60, 39.70, 180.0, 420.0, 25000.0, now - 25, 6)
    with world.client(A) as a, world.client(B) as b:
        r = a.post("/v1/tracks", json={"batch_id": "a-1", "positions": a_rows})
        assert r.status_code == 201, r.text
        r = b.post("/v1/tracks", json={"batch_id": "b-1", "positions": b_rows})
        assert r.status_code == 201, r.text
        incident = wait_for(
            lambda: [
                i
                for i in a.get("/v1/incidents").json()
                if i["party_id"] == A and i["kind"] == "line_violation"
            ],
            what="A's line violation",
        )[0]
    engine = make_engine(world.server.database_url)
    try:

        def alert_ids() -> list[str]:
            # From the store: under "zones" no party is shown alerts.
            with engine.connect() as conn:
                query = select(alerts.c.id).where(alerts.c.aircraft_a == A_AIRCRAFT)
                return list(conn.execute(query).scalars())

        alert_id = wait_for(alert_ids, what="the alert")[0]
    finally:
        engine.dispose()
    return {"incident": incident, "alert_id": alert_id}


def build(server: Server, sharing: str = "zones") -> World:
    """The whole world: parties, protocol in effect, A's objects."""
    world = register(server)
    put_protocol_in_effect(world, 1, sharing)
    seen = fly_into_violation(world)
    with world.client(A) as a, world.client(B) as b:
        incident_id = seen["incident"]["id"]
        r = a.post(f"/v1/incidents/{incident_id}/remarks", json={"text": A_REMARK})
        assert r.status_code == 200, r.text
        r = a.post("/v1/operations", json=operation_body(A_OPERATION, 36.30, 41.00))
        assert r.status_code == 201, r.text
        to_b = a.post(
            "/v1/hotline/messages",
            json={"to": B, "kind": "free_text", "text": "from A to B"},
        )
        assert to_b.status_code == 201, to_b.text
        to_a = b.post(
            "/v1/hotline/messages",
            json={"to": A, "kind": "free_text", "text": "from B to A"},
        )
        assert to_a.status_code == 201, to_a.text
        # B proposes a version with full sharing: it awaits A's acceptance.
        r = world.propose(B, protocol_text(2, "full"))
        assert r.status_code == 201 and r.json()["awaiting"] == [A], r.text
        suspension = a.post(
            "/v1/hotline/suspensions", json={"scope": "channel", "reason": "A's own"}
        )
        assert suspension.status_code == 201, suspension.text
    world.objects.update(
        incident_id=incident_id,
        alert_id=seen["alert_id"],
        message_to_b=to_b.json()["id"],
        message_to_a=to_a.json()["id"],
        suspension_id=suspension.json()["id"],
    )
    return world


def drain_stream(world: World, party: str, role: str = "officer") -> list[Any]:
    """Every event on ``party``'s stream from the start, until it falls silent for
    a second."""
    ws_url = world.server.url.replace("http://", "ws://") + "/v1/stream"
    got = []
    with connect(ws_url, additional_headers=auth(world.tokens[party][role])) as ws:
        while True:
            try:
                got.append(json.loads(ws.recv(timeout=1.0)))
            except TimeoutError:
                return got

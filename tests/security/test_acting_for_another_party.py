"""Attack: acting for, or reading as, another party (issue 14, item 1).

b's admin minted a token for a (``POST /v1/parties/a/tokens``) and with it accepted a
protocol, read a's tracks and inbox, acknowledged and sent hotline messages and
posted tracks as a. Here every route of the API, walked from ``/openapi.json`` so
that a new route is covered as soon as it exists, is called with a's objects in its
path by every role of b (a party of the protocol), of c (a party in no protocol),
by a's own observer and with no token: nothing done is recorded as a's, nothing
read shows what only a may see, and no token answers 401.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, select
from websockets.sync.client import connect

from deconfliction.store.engine import make_engine
from deconfliction.store.tables import (
    api_tokens,
    hotline_log,
    hotline_messages,
    hotline_receipts,
    hotline_suspensions,
    incident_remarks,
    incidents,
    ingest_batches,
    operation_notices,
    operations,
    parties,
    positions,
    protocol_acceptances,
    protocol_versions,
)
from tests.conftest import Server
from tests.integration.helpers import flight, protocol_text
from tests.security import world as w

pytestmark = pytest.mark.slow

# Health probes answer without a token, in generic words only.
PUBLIC_ROUTES = frozenset({("GET", "/healthz"), ("GET", "/livez"), ("GET", "/readyz")})
# Routes that only read although their method is POST (none today).
READS_BY_POST: frozenset[tuple[str, str]] = frozenset()


def _path_values(world: w.World) -> dict[str, list[str]]:
    """For each path parameter of the API, the values that name a's objects."""
    o = world.objects
    return {
        "party_id": [w.A],
        "aircraft_id": [w.A_AIRCRAFT],
        "protocol_id": [w.PROTOCOL_ID],
        "version": ["1", "2"],
        "incident_id": [str(o["incident_id"])],
        "alert_id": [o["alert_id"]],
        "message_id": [str(o["message_to_a"]), str(o["message_to_b"])],
        "suspension_id": [str(o["suspension_id"])],
        "op_id": [w.A_OPERATION],
        "token_id": [str(o.get("a_token_id", 1))],
    }


def _bodies() -> dict[tuple[str, str], Any]:
    """What an attacker sends to each route with a body: what a would send."""
    now = time.time()
    # The attacker's own aircraft, far from everyone: if it were stored as a's, a's
    # footprint shows it.
    rows = flight("SPOOF1", 32.50, 36.50, 0.0, 420.0, 25000.0, now - 5, 2)
    return {
        ("POST", "/v1/parties"): {"id": "jordan", "name": "Jordan"},
        ("POST", "/v1/parties/{party_id}/tokens"): {"role": "admin"},
        ("POST", "/v1/protocols"): protocol_text(3, "full"),
        ("POST", "/v1/tracks"): {"batch_id": "as-a", "positions": rows},
        ("POST", "/v1/incidents/{incident_id}/status"): {
            "status": "resolved",
            "version": 0,
        },
        ("POST", "/v1/incidents/{incident_id}/remarks"): {"text": "as a"},
        ("POST", "/v1/incidents/{incident_id}/complaint"): {},
        ("POST", "/v1/hotline/messages"): {
            "to": w.A,
            "kind": "free_text",
            "text": "as a",
        },
        ("POST", "/v1/hotline/suspensions"): {"scope": "protocol", "reason": "as a"},
        ("POST", "/v1/operations"): w.operation_body("as-a-op", 36.30, 41.00),
        ("PUT", "/v1/operations/{op_id}"): {
            **w.operation_body(w.A_OPERATION, 36.0, 41.5),
            "version": 1,
        },
    }


def _routes(spec: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(method, path template, has a request body) of every operation."""
    out = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            out.append((method.upper(), path, "requestBody" in op))
    return sorted(out)


def _fill(template: str, values: dict[str, list[str]]) -> list[str]:
    """Every path of ``template`` with a's objects in its parameters."""
    paths = [template]
    for name in [s[1:-1] for s in template.split("/") if s.startswith("{")]:
        assert name in values, f"path parameter {{{name}}}: add a's value for it"
        paths = [p.replace(f"{{{name}}}", v) for p in paths for v in values[name]]
    return paths


def _call(client: httpx.Client, method: str, path: str, body: Any) -> httpx.Response:
    if isinstance(body, str):
        return client.request(
            method,
            path,
            content=body.encode(),
            headers={"content-type": "application/toml"},
        )
    return client.request(method, path, json=body)


def _a_footprint(conn: Connection) -> dict[str, Any]:
    """Every stored row that says a did something."""

    def rows(query: Any) -> list[tuple[Any, ...]]:
        return sorted(tuple(r) for r in conn.execute(query).all())

    return {
        "party": rows(select(parties).where(parties.c.id == w.A)),
        "tokens": rows(select(api_tokens).where(api_tokens.c.party_id == w.A)),
        "proposed": rows(
            select(protocol_versions.c.id).where(protocol_versions.c.proposed_by == w.A)
        ),
        "accepted": rows(
            select(protocol_acceptances).where(protocol_acceptances.c.party_id == w.A)
        ),
        "in_effect": rows(
            select(protocol_versions.c.id).where(
                protocol_versions.c.effective_t_s.is_not(None),
                protocol_versions.c.superseded_t_s.is_(None),
            )
        ),
        "batches": rows(
            select(ingest_batches.c.batch_id).where(ingest_batches.c.party_id == w.A)
        ),
        "positions": rows(select(positions.c.id).where(positions.c.party_id == w.A)),
        "sent": rows(
            select(hotline_messages.c.id).where(hotline_messages.c.sender_party == w.A)
        ),
        "receipts": rows(
            select(
                hotline_receipts.c.message_id,
                hotline_receipts.c.acknowledged_t_s,
                hotline_receipts.c.acknowledged_by,
            ).where(hotline_receipts.c.party_id == w.A)
        ),
        "signed": rows(select(hotline_log.c.seq).where(hotline_log.c.signer == w.A)),
        "suspensions": rows(
            select(hotline_suspensions).where(hotline_suspensions.c.party_id == w.A)
        ),
        "remarks": rows(
            select(incident_remarks.c.id, incident_remarks.c.text).where(
                incident_remarks.c.party_id == w.A
            )
        ),
        "incidents": rows(
            select(incidents.c.id, incidents.c.status).where(
                incidents.c.party_id == w.A
            )
        ),
        "operations": rows(
            select(
                operations.c.id,
                operations.c.version,
                operations.c.state,
                operations.c.body_json,
            ).where(operations.c.party_id == w.A)
        ),
        "approvals": rows(
            select(operation_notices.c.op_pk, operation_notices.c.approved_t_s).where(
                operation_notices.c.party_id == w.A
            )
        ),
    }


def _a_secrets(world: w.World) -> list[str]:
    """What only a may see (under "zones"): a reader other than a never gets them
    (unless it sent them itself). The operation's id is not among them: its notice
    names it to b."""
    return [w.A_AIRCRAFT, w.A_REMARK, *world.tokens[w.A].values()]


# Path parameters whose value (a's object) b may not see or act on under "zones",
# and the routes where b legitimately acts as itself on one.
PRIVATE_FROM_B = frozenset(
    {"party_id", "aircraft_id", "incident_id", "alert_id", "op_id", "token_id"}
    | {"suspension_id"}
)
B_ACTS_AS_ITSELF = frozenset({("POST", "/v1/operations/{op_id}/approve")})


def _params(template: str) -> set[str]:
    return {s[1:-1] for s in template.split("/") if s.startswith("{")}


def _must_refuse(attacker: str, method: str, template: str) -> bool:
    """Whether ``attacker`` must get a 4xx for a's objects in ``template``."""
    params = _params(template)
    if attacker.startswith(w.C):
        return bool(params - {"version"}) or "protocol_id" in params
    if attacker.startswith(w.B):
        return bool(params & PRIVATE_FROM_B) and (method, template) not in (
            B_ACTS_AS_ITSELF
        )
    return False


def test_an_admin_cannot_mint_tokens_for_another_party(server: Server) -> None:
    world = w.register(server)
    for party in (w.B, w.C):
        with world.client(party, "admin") as admin:
            minted = admin.post(f"/v1/parties/{w.A}/tokens", json={"role": "admin"})
            assert minted.status_code == 403, minted.text
            assert "token" not in minted.json()
            # Whether the party exists or not: the same answer.
            ghost = admin.post("/v1/parties/nobody/tokens", json={"role": "admin"})
            assert ghost.status_code == 403
            assert ghost.json()["detail"] == minted.json()["detail"]
    with world.client(w.A, "officer") as officer:
        assert (
            officer.post(
                f"/v1/parties/{w.A}/tokens", json={"role": "officer"}
            ).status_code
            == 403
        )
    with world.client(w.A, "admin") as admin:
        own = admin.post(f"/v1/parties/{w.A}/tokens", json={"role": "observer"})
        assert own.status_code == 201, own.text
    me = httpx.get(f"{server.url}/v1/parties/me", headers=w.auth(own.json()["token"]))
    assert me.json() == {"party_id": w.A, "role": "observer"}


def test_parties_are_registered_by_the_operator_only(server: Server) -> None:
    world = w.register(server)
    spec = httpx.get(f"{server.url}/openapi.json").json()
    assert "post" not in spec["paths"]["/v1/parties"]
    for party in w.PARTIES:
        with world.client(party, "admin") as admin:
            made = admin.post(
                "/v1/parties", json={"id": "jordan", "name": "Jordan", "language": "ar"}
            )
            assert made.status_code in (404, 405), made.text
    # An outsider's admin does not learn who else is registered either.
    with world.client(w.C, "admin") as outsider:
        assert [p["id"] for p in outsider.get("/v1/parties").json()] == [w.C]


def test_no_route_lets_another_party_act_or_read_as_a(
    server: Server, tmp_path: Path
) -> None:
    world = w.build(server, sharing="zones")
    spec = httpx.get(f"{server.url}/openapi.json").json()
    routes = _routes(spec)
    bodies = _bodies()
    missing = [(m, p) for m, p, has_body in routes if has_body and (m, p) not in bodies]
    assert not missing, f"routes with a body and no attack body here: {missing}"
    values = _path_values(world)
    engine = make_engine(server.database_url)
    try:
        with engine.connect() as conn:
            before = _a_footprint(conn)
        attackers: dict[str, str | None] = {
            f"{party}-{role}": world.tokens[party][role]
            for party in (w.B, w.C)
            for role in w.ROLES
        }
        attackers["a-observer"] = world.tokens[w.A]["observer"]
        attackers["no token"] = None
        secrets = _a_secrets(world)
        failures: list[str] = []
        for name, token in attackers.items():
            with server.client(token) as client:
                for method, template, _ in routes:
                    for path in _fill(template, values):
                        r = _call(client, method, path, bodies.get((method, template)))
                        where = f"{name} {method} {path}: {r.status_code}"
                        if r.status_code >= 500:
                            failures.append(f"{where} (server error)")
                        public = (method, template) in PUBLIC_ROUTES
                        if token is None and not public and r.status_code != 401:
                            failures.append(f"{where} (not 401 without a token)")
                        is_write = method != "GET" and (
                            (method, template) not in READS_BY_POST
                        )
                        if name.endswith("observer") and is_write and r.is_success:
                            failures.append(f"{where} (an observer wrote)")
                        if _must_refuse(name, method, template) and r.is_success:
                            failures.append(f"{where} (acted on or read a's)")
                        sent = path + json.dumps(bodies.get((method, template)))
                        leaked = [s for s in secrets if s in r.text and s not in sent]
                        if name != "a-observer" and leaked:
                            failures.append(f"{where} (showed {leaked})")
        with engine.connect() as conn:
            after = _a_footprint(conn)
        # Detection opens new incidents as it goes; a's earlier ones keep their status.
        statuses = dict(after["incidents"])
        after["incidents"] = [(i, statuses.get(i)) for i, _ in before["incidents"]]
        for key in before:
            if before[key] != after[key]:
                failures.append(f"a's {key} changed: {before[key]} -> {after[key]}")
        assert not failures, "\n".join(failures)
    finally:
        engine.dispose()
    _streams_show_nothing_of_a(world, secrets)


def _streams_show_nothing_of_a(world: w.World, secrets: list[str]) -> None:
    ws_url = world.server.url.replace("http://", "ws://") + "/v1/stream"
    for party in (w.B, w.C):
        for role in w.ROLES:
            got = []
            with connect(
                ws_url, additional_headers=w.auth(world.tokens[party][role])
            ) as ws:
                while True:
                    try:
                        got.append(ws.recv(timeout=1.0))
                    except TimeoutError:
                        break
            text = "\n".join(str(g) for g in got)
            leaked = [s for s in secrets if s in text]
            assert not leaked, f"{party} {role}'s stream showed {leaked}"
            assert got or party == w.C, f"{party}'s stream is empty: a broken test"

"""Operations between nodes (issue 16, item 6): an operation is filed on its
filer's node; under ``plans`` and ``full`` it goes to the peer's node, which keeps
it as the peer's operation and checks it against its own party's operations, so a
conflict between the two parties' operations is found on both nodes. Its notice of
operation goes to the peer's node over the hotline between nodes, signed by the
filer's node, with the facts the sharing level allows (below ``plans`` only what
``notice_discloses`` names: by default the id and kind)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from deconfliction.store.tables import events
from tests.federation.conftest import Node, wait_for
from tests.federation.test_hotline import _keys, _messages, _record, _verified
from tests.federation.test_links import _rows
from tests.federation.test_sharing import agree, database_bytes

pytestmark = pytest.mark.slow


def _utc(t_s: float) -> dict[str, str]:
    text = datetime.fromtimestamp(t_s, tz=UTC).isoformat().replace("+00:00", "Z")
    return {"value": text}


def _ft(value: float) -> dict[str, Any]:
    return {"value": value, "reference": "W84", "units": "FT"}


def operation(op_id: str, lat: float, lon: float, now: float) -> dict[str, Any]:
    """An air patrol in a 10 NM circle, FL150-FL250, two to four hours from now."""
    return {
        "id": op_id,
        "kind": "air_patrol",
        "aircraft": ["X1"],
        "volumes": [
            {
                "volume": {
                    "outline_circle": {
                        "center": {"lat": lat, "lng": lon},
                        "radius": {"value": 10, "units": "NM"},
                    },
                    "altitude_lower": _ft(15000),
                    "altitude_upper": _ft(25000),
                },
                "time_start": _utc(now + 7200),
                "time_end": _utc(now + 14400),
            }
        ],
    }


def _operation_on(node: Node, op_id: str) -> dict[str, Any] | None:
    with node.officer() as officer:
        answer = officer.get(f"/v1/operations/{op_id}")
    return dict(answer.json()) if answer.status_code == 200 else None


def test_a_conflict_between_operations_is_found_on_both_nodes_under_plans(
    two_nodes: tuple[Node, Node],
) -> None:
    coalition, russia = two_nodes
    agree(coalition, russia, "plans")
    now = time.time()
    with coalition.officer() as c:
        filed = c.post("/v1/operations", json=operation("C-OP-1", 35.5, 39.5, now))
    assert filed.status_code == 201, filed.text
    # The coalition's operation reaches Russia's node...
    wait_for("C-OP-1 on russia's node", lambda: _operation_on(russia, "C-OP-1"))
    # ... and its notice, with every fact (Russia may see the coalition's plans).
    notice = wait_for("the notice on russia's node", lambda: _notice(russia, "C-OP-1"))
    assert set(notice["facts"]) == {
        "operation_id",
        "operation_kind",
        "floor_ft",
        "ceiling_ft",
        "start_t_s",
        "end_t_s",
        "lat_deg",
        "lon_deg",
        "radius_nm",
        "aircraft_count",
    }, notice
    assert notice["facts"]["floor_ft"] == 15000 and notice["from"] == "coalition"
    with russia.officer() as r:
        filed = r.post("/v1/operations", json=operation("R-OP-1", 35.55, 39.55, now))
    assert filed.status_code == 201, filed.text
    seen_r = filed.json()
    # Found on Russia's node, against the coalition's operation it received...
    assert seen_r["conflicted"], seen_r
    assert _pairs(seen_r) == {frozenset({"C-OP-1", "R-OP-1"})}
    # ... and on the coalition's node, when Russia's operation reached it.
    seen_c = wait_for(
        "R-OP-1 checked on coalition's node",
        lambda: _checked(_operation_on(coalition, "R-OP-1")),
    )
    assert seen_c["party"] == "russia" and seen_c["conflicted"], seen_c
    assert _pairs(seen_c) == {frozenset({"C-OP-1", "R-OP-1"})}
    # The coalition's own operation is unchanged by what came in.
    assert _operation_on(coalition, "C-OP-1")["version"] == 1  # type: ignore[index]
    # As the other party would: a node sends only its own party's operations,
    # under a level that sends them, and cannot take an id the receiver holds.
    tag = _in_effect_tag(russia)
    headers = {"Deconfliction-Protocol": tag}
    with russia.as_peer(coalition) as peer:
        forged = operation("C-OP-2", 35.5, 39.5, now)
        del forged["aircraft"]  # a node sends no aircraft of its operations
        forged.update(party="coalition", version=1, ovn="x", state="accepted")
        answer = peer.post(
            "/v1/federation/operations",
            json={"operation": forged, "state": "accepted"},
            headers=headers,
        )
        assert answer.status_code == 403, answer.text
        taken = operation("C-OP-1", 35.5, 39.5, now)
        del taken["aircraft"]
        taken.update(party="russia", version=5, ovn="x", state="accepted")
        answer = peer.post(
            "/v1/federation/operations",
            json={"operation": taken, "state": "accepted"},
            headers=headers,
        )
        assert answer.status_code == 403, answer.text
        answer = peer.post(
            "/v1/federation/operations", json={"nothing": 1}, headers=headers
        )
        assert answer.status_code == 422, answer.text
    assert _operation_on(coalition, "C-OP-2") is None


def _pairs(view: dict[str, Any]) -> set[frozenset[str]]:
    """The pairs of operations in conflict a view shows (each party sees the
    conflict from its own operation's side)."""
    return {
        frozenset((c["operation"], c["other_operation"]))
        for c in view.get("conflicts", [])
        if c.get("kind") == "operation"
    }


def _checked(view: dict[str, Any] | None) -> dict[str, Any] | None:
    return view if view and view.get("conflicted") else None


def _in_effect_tag(node: Node) -> str:
    with node.officer() as officer:
        versions = officer.get("/v1/protocols").json()
    v = next(v for v in versions if v["status"] == "in_effect")
    return f"euphrates-2017/{v['version']}/{v['sha256']}"


def _state(node: Node, op_id: str) -> str | None:
    view = _operation_on(node, op_id)
    return None if view is None else str(view["state"])


def _notice(node: Node, op_id: str) -> dict[str, Any] | None:
    """The notice of operation ``op_id`` among the node's hotline messages
    between nodes, once delivered."""
    return next(
        (
            m
            for m in _messages(node)
            if m.get("kind") == "notice_of_operation"
            and m.get("operation_id") == op_id
            and m["status"] == "delivered"
        ),
        None,
    )


def test_under_conflicts_the_notice_crosses_with_the_least_and_not_the_operation(
    two_nodes: tuple[Node, Node],
) -> None:
    coalition, russia = two_nodes
    disclosed = 'notice_discloses = ["area", "altitudes", "times", "aircraft_count"]'
    agree(
        coalition, russia, "conflicts", (disclosed, 'notice_discloses = ["altitudes"]')
    )
    now = time.time()
    with coalition.officer() as c:
        filed = c.post("/v1/operations", json=operation("C-OP-9", 36.4321, 40.8, now))
    assert filed.status_code == 201, filed.text
    # Russia's officer is given the notice on Russia's node: its id, kind and what
    # the protocol's notice_discloses names (its altitudes), the rest withheld.
    notice = wait_for("the notice on russia's node", lambda: _notice(russia, "C-OP-9"))
    assert notice["facts"] == {
        "operation_id": "C-OP-9",
        "operation_kind": "air_patrol",
        "floor_ft": 15000,
        "ceiling_ft": 25000,
        "withheld": ["area", "times", "aircraft_count"],
    }, notice
    assert notice["from"] == "coalition" and notice["to"] == "russia"
    assert notice["priority"] == "urgent" and "C-OP-9" in notice["text"]
    # On Russia's stream, as the coalition's node signed it on their common record.
    arrived = [
        json.loads(r.payload_json)
        for r in _rows(russia, events)
        if r.type == "federation.hotline.sent" and r.party_id == "russia"
    ]
    assert [a["facts"] for a in arrived] == [notice["facts"]], arrived
    entries = _record(russia, "coalition")
    sent = [e for e in entries if e["event"] == "sent"]
    assert [(e["signer"], e["body"]["kind"]) for e in sent] == [
        ("coalition", "notice_of_operation")
    ]
    assert sent[0]["body"]["facts"] == notice["facts"]
    _verified(entries, _keys(coalition, russia))
    # Written once however many rounds pass, and the same on both records.
    wait_for(
        "the delivery on the coalition's record",
        lambda: len(_record(coalition, "russia")) == 2,
    )
    time.sleep(2.0)  # several link rounds (0.5 s each)
    assert _record(coalition, "russia") == _record(russia, "coalition")
    assert len(_record(russia, "coalition")) == 2
    # Russia's officer acknowledges it on Russia's node: the coalition's operation,
    # pending until then, is accepted on the coalition's node.
    assert _state(coalition, "C-OP-9") == "pending"
    with russia.officer() as r:
        acked = r.post(
            f"/v1/federation/hotline/messages/{notice['message_id']}/acknowledge"
        )
    assert acked.status_code == 200, acked.text
    wait_for("C-OP-9 accepted", lambda: _state(coalition, "C-OP-9") == "accepted")
    # The operation itself stays on its node.
    assert _operation_on(russia, "C-OP-9") is None
    assert b"36.4321" in database_bytes(coalition), "a broken search"
    assert b"36.4321" not in database_bytes(russia)

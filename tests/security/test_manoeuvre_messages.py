"""Attack: the manoeuvre messages (#17.5) as a hostile party's officer would use them
(issue 14's class of faults).

The server took the facts of a ``manoeuvre_intention`` and a
``request_for_manoeuvre`` as written: an officer could announce a manoeuvre of
another party's aircraft, name in a request an aircraft its sharing level hides
from it, and refer to any alert id. Now the alert must be one the sender sees (a
hidden and a missing one give the same error), an intention's aircraft one of the
sender's own in that alert, and a request's aircraft none or the addressee's in
that alert as the sender sees it; the server renders the text from the facts
alone, adding nothing hidden from the sender.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.conftest import Server
from tests.integration.helpers import protocol_text
from tests.security import world as w

pytestmark = pytest.mark.slow

GHOST = "GHOST9"  # an aircraft id nobody flies
MISSING_ALERT = "0" * 20  # an alert id of the right form that no alert has


def _send(client: httpx.Client, to: str, kind: str, **facts: Any) -> httpx.Response:
    return client.post(
        "/v1/hotline/messages",
        json={"to": to, "kind": kind, "priority": "urgent", "facts": facts},
    )


def _intention(alert_id: str, aircraft_id: str) -> dict[str, Any]:
    return {
        "alert_id": alert_id,
        "aircraft_id": aircraft_id,
        "manoeuvre": "turn_right",
        "heading_deg": 95.0,
    }


def _request(alert_id: str, aircraft_id: str | None = None) -> dict[str, Any]:
    facts: dict[str, Any] = {"alert_id": alert_id, "manoeuvre": "turn_right"}
    if aircraft_id is not None:
        facts["aircraft_id"] = aircraft_id
    return facts


def _same_refusal(hidden: httpx.Response, missing: httpx.Response) -> None:
    """Refused as input, and nothing tells the hidden from the missing."""
    assert 400 <= hidden.status_code < 500, hidden.text
    assert hidden.status_code == missing.status_code, (hidden.text, missing.text)
    assert hidden.json() == missing.json()


def _in_effect(world: w.World, version: int, sharing: str) -> None:
    proposed = world.propose(w.A, protocol_text(version, sharing))
    assert proposed.status_code == 201, proposed.text
    accepted = world.accept(w.B, w.PROTOCOL_ID, version)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "in_effect", accepted.text


def test_manoeuvre_messages_refer_only_to_what_the_sender_sees(
    server: Server,
) -> None:
    world = w.register(server)
    w.put_protocol_in_effect(world, 1, sharing="zones")
    alert_id = w.fly_into_violation(world)["alert_id"]
    intention, request = "manoeuvre_intention", "request_for_manoeuvre"
    with world.client(w.A) as a, world.client(w.B) as b:
        # "zones": the alert exists but neither party is shown it. Referring to
        # it is refused exactly as referring to no alert at all, in the facts and
        # in the message's own alert_id.
        assert a.get(f"/v1/alerts/{alert_id}").status_code == 404
        _same_refusal(
            _send(a, w.B, intention, **_intention(alert_id, w.A_AIRCRAFT)),
            _send(a, w.B, intention, **_intention(MISSING_ALERT, w.A_AIRCRAFT)),
        )
        _same_refusal(
            _send(b, w.A, request, **_request(alert_id)),
            _send(b, w.A, request, **_request(MISSING_ALERT)),
        )
        free = {"to": w.A, "kind": "free_text", "text": "about that alert"}
        _same_refusal(
            b.post("/v1/hotline/messages", json={**free, "alert_id": alert_id}),
            b.post("/v1/hotline/messages", json={**free, "alert_id": MISSING_ALERT}),
        )

        # "conflicts": both see the alert; each sees the other's aircraft as its
        # party and a point, without its id.
        _in_effect(world, 2, "conflicts")
        assert a.get(f"/v1/alerts/{alert_id}").status_code == 200
        # An intention announces the sender's own aircraft only: not the other
        # party's, whether the sender may see its id or not, nor one that does
        # not exist (the same refusal: an intention cannot probe ids).
        _same_refusal(
            _send(a, w.B, intention, **_intention(alert_id, w.B_AIRCRAFT)),
            _send(a, w.B, intention, **_intention(alert_id, GHOST)),
        )
        _same_refusal(
            _send(b, w.A, intention, **_intention(alert_id, w.A_AIRCRAFT)),
            _send(b, w.A, intention, **_intention(alert_id, GHOST)),
        )
        # A request names no aircraft, or the addressee's as the sender sees it:
        # below "full" B is not shown A's aircraft id, so it may not name it.
        _same_refusal(
            _send(b, w.A, request, **_request(alert_id, w.A_AIRCRAFT)),
            _send(b, w.A, request, **_request(alert_id, GHOST)),
        )
        _same_refusal(
            _send(b, w.A, request, **_request(alert_id, w.B_AIRCRAFT)),
            _send(b, w.A, request, **_request(alert_id, GHOST)),
        )
        asked = _send(b, w.A, request, **_request(alert_id))
        assert asked.status_code == 201, asked.text
        # Nothing the server adds in rendering (in any language) nor on B's stream
        # tells B the id of A's aircraft, or gives A B's.
        for lang in ("en", "ru", "ar"):
            shown = b.get(
                f"/v1/hotline/messages/{asked.json()['id']}", params={"lang": lang}
            )
            assert shown.status_code == 200, shown.text
            assert w.A_AIRCRAFT not in shown.text, lang
            shown = a.get(
                f"/v1/hotline/messages/{asked.json()['id']}", params={"lang": lang}
            )
            assert shown.status_code == 200, shown.text
            assert w.B_AIRCRAFT not in shown.text, lang
        b_events = w.drain_stream(world, w.B)
        assert any(e.get("type") == "hotline.sent" for e in b_events), b_events
        assert w.A_AIRCRAFT not in json.dumps(b_events)
        announced = _send(a, w.B, intention, **_intention(alert_id, w.A_AIRCRAFT))
        assert announced.status_code == 201, announced.text
        assert w.A_AIRCRAFT in announced.json()["text"]

        # "full": B sees A's aircraft id in the alert and may name it in a
        # request to A; still not its own, and still not as an intention.
        _in_effect(world, 3, "full")
        named = _send(b, w.A, request, **_request(alert_id, w.A_AIRCRAFT))
        assert named.status_code == 201, named.text
        assert w.A_AIRCRAFT in named.json()["text"]
        _same_refusal(
            _send(b, w.A, request, **_request(alert_id, w.B_AIRCRAFT)),
            _send(b, w.A, request, **_request(alert_id, GHOST)),
        )
        _same_refusal(
            _send(b, w.A, intention, **_intention(alert_id, w.A_AIRCRAFT)),
            _send(b, w.A, intention, **_intention(alert_id, GHOST)),
        )
        # The message's own alert_id is checked as that of its facts.
        mixed = a.post(
            "/v1/hotline/messages",
            json={
                "to": w.B,
                "kind": intention,
                "facts": _intention(alert_id, w.A_AIRCRAFT),
                "alert_id": MISSING_ALERT,
            },
        )
        assert 400 <= mixed.status_code < 500, mixed.text

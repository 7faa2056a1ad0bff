"""Attack: acknowledge one message several times at once, to leave several
acknowledgements (and several signed entries) on the record.

Through a real server on SQLite and PostgreSQL: simultaneous acknowledgements of one
message all answer 200 with the same acknowledgement, and the record holds one
``acknowledged`` entry for it.
"""

from __future__ import annotations

import json
import threading

import httpx
import pytest
from sqlalchemy import select

from deconfliction.store import engine as store_engine
from deconfliction.store.tables import hotline_log
from tests.conftest import Server, add_party
from tests.integration.helpers import put_in_effect

SIMULTANEOUS_ACKS = 8  # the issue saw 2-3 entries from three at once


def _acknowledged_entries(database_url: str, message_id: int) -> int:
    engine = store_engine.make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(hotline_log.c.body_json).where(
                    hotline_log.c.event == "acknowledged"
                )
            ).scalars()
            return sum(json.loads(b)["message_id"] == message_id for b in rows)
    finally:
        engine.dispose()


@pytest.mark.slow
def test_simultaneous_acknowledgements_are_recorded_once(server: Server) -> None:
    tokens = {
        "coalition": add_party(server.database_url, "coalition", "officer"),
        "russia": add_party(server.database_url, "russia", "officer", "ru"),
    }
    put_in_effect(server.url, tokens)
    with server.client(tokens["coalition"]) as c:
        sent = c.post(
            "/v1/hotline/messages",
            json={"to": "russia", "kind": "free_text", "text": "we will NOT cross"},
        )
    assert sent.status_code == 201, sent.text
    message_id = sent.json()["id"]

    barrier = threading.Barrier(SIMULTANEOUS_ACKS)
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def acknowledge() -> None:
        with server.client(tokens["russia"]) as r:
            barrier.wait()
            answer = r.post(f"/v1/hotline/messages/{message_id}/ack")
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=acknowledge) for _ in range(SIMULTANEOUS_ACKS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [a.status_code for a in answers] == [200] * SIMULTANEOUS_ACKS, [
        a.text for a in answers
    ]
    acknowledged = {a.json()["receipts"][0]["acknowledged_t_s"] for a in answers}
    assert len(acknowledged) == 1 and None not in acknowledged
    assert _acknowledged_entries(server.database_url, message_id) == 1

"""Attack (the same race as acknowledgements): suspend, or resume, several times at
once, to leave several suspensions, resumptions and entries on the record, and the
deadlines moved on more than once.

Through a real server on SQLite and PostgreSQL: of simultaneous suspensions of the
channel by one party one is made (201) and the others refused (409); of
simultaneous resumptions of it one is made; the record holds one entry of each.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import select

from deconfliction.store import engine as store_engine
from deconfliction.store.tables import hotline_log, hotline_receipts
from tests.conftest import Server, add_party
from tests.integration.helpers import put_in_effect

SIMULTANEOUS = 8


def _at_once(
    server: Server, token: str, call: Callable[[httpx.Client], httpx.Response]
) -> list[int]:
    barrier = threading.Barrier(SIMULTANEOUS)
    codes: list[int] = []
    lock = threading.Lock()

    def one() -> None:
        with server.client(token) as client:
            barrier.wait()
            answer = call(client)
        with lock:
            codes.append(answer.status_code)

    threads = [threading.Thread(target=one) for _ in range(SIMULTANEOUS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(codes)


def _entries(database_url: str) -> list[tuple[str, dict[str, object]]]:
    engine = store_engine.make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(hotline_log.c.event, hotline_log.c.body_json).order_by(
                    hotline_log.c.seq
                )
            ).all()
            deadline = conn.execute(
                select(hotline_receipts.c.deadline_t_s)
            ).scalar_one()
    finally:
        engine.dispose()
    return [(e, json.loads(b)) for e, b in rows] + [("deadline", {"t_s": deadline})]


@pytest.mark.slow
def test_simultaneous_suspensions_and_resumptions_are_recorded_once(
    server: Server,
) -> None:
    tokens = {
        "coalition": add_party(server.database_url, "coalition", "officer"),
        "russia": add_party(server.database_url, "russia", "officer", "ru"),
    }
    put_in_effect(server.url, tokens)
    with server.client(tokens["coalition"]) as c:
        sent = c.post(
            "/v1/hotline/messages",
            json={"to": "russia", "kind": "free_text", "text": "anyone there?"},
        )
    assert sent.status_code == 201, sent.text
    deadline_before = sent.json()["receipts"][0]["deadline_t_s"]

    suspended = _at_once(
        server,
        tokens["russia"],
        lambda r: r.post(
            "/v1/hotline/suspensions", json={"scope": "channel", "reason": "talks"}
        ),
    )
    assert suspended == [201] + [409] * (SIMULTANEOUS - 1)
    with server.client(tokens["russia"]) as r:
        (suspension,) = r.get("/v1/hotline/suspensions").json()
    resumed = _at_once(
        server,
        tokens["russia"],
        lambda r: r.post(f"/v1/hotline/suspensions/{suspension['id']}/resume"),
    )
    assert resumed == [200] + [409] * (SIMULTANEOUS - 1)

    entries = _entries(server.database_url)
    events = [e for e, _ in entries]
    assert events.count("suspended") == 1 and events.count("resumed") == 1
    (moved,) = [b["deadlines_moved_s"] for e, b in entries if e == "resumed"]
    assert isinstance(moved, float)
    assert entries[-1][1]["t_s"] == pytest.approx(deadline_before + moved)

"""A tick writes its incidents together (#21.8): losses of separation, line
violations and zone incursions each go through ``incidents.record_many``. What it
writes must be exactly what recording them one at a time wrote: the same incident
rows, the same parties and the same events in the same order (only the random
incident ids differ, so they are compared by source key). On SQLite and
PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, select

from deconfliction.domain.conformance import Violation
from deconfliction.service import auth, incidents, protocols
from deconfliction.service import live as live_module
from deconfliction.service.clock import ManualClock
from deconfliction.service.keys import KeyRing
from deconfliction.service.live import LiveDetection
from deconfliction.store import engine as store_engine
from deconfliction.store.tables import events, incident_parties
from deconfliction.store.tables import incidents as incidents_table
from tests.conftest import pg_database
from tests.integration.helpers import protocol_text
from tests.reliability._store import (
    AL_TANF,
    COALITION,
    EAST,
    HAMA,
    INTERVAL_S,
    NEAR,
    OUT_OF_AL_TANF,
    RUSSIA,
    T0,
    Store,
    at,
    east_of,
)

N = 12  # aircraft (or pairs) of each kind, more than one batch would need


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_store(backend: str, tmp_path: Path, pg_status: str | None) -> Iterator[Any]:
    made: list[Any] = []

    def make(name: str) -> Store:
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path / (name + '.db')}"
        else:
            if pg_status is not None:
                pytest.skip(f"PostgreSQL is not reachable ({pg_status})")
            context = pg_database()
            url = context.__enter__()
            made.append(context)
        engine = store_engine.make_engine(url)
        store_engine.upgrade(engine)
        clock = ManualClock(T0)
        with engine.begin() as conn:
            for party, lang in (("coalition", "en"), ("russia", "ru")):
                auth.ensure_party(conn, party, party.title(), lang, clock.t_s)
            protocols.propose(conn, COALITION, protocol_text(1, "plans"), clock.t_s)
            protocols.accept(conn, RUSSIA, "euphrates-2017", 1, clock.t_s)
        store = Store(engine, clock, KeyRing(tmp_path / f"keys-{name}"))
        made.append(engine)
        return store

    try:
        yield make
    finally:
        for thing in reversed(made):
            if hasattr(thing, "dispose"):
                thing.dispose()
            else:
                thing.__exit__(None, None, None)


def _scenario(store: Store) -> None:
    """Many incidents of each kind opened in one tick, deepened in the next and
    closed in the ones after."""
    live = store.run()
    live.tick()
    t = store.clock.t_s
    rows = []
    for k in range(N):
        alt = {"alt_ft": 10_000.0 + 2_000.0 * k}  # each pair its own loss
        rows += [
            at("russia", f"LR{k}", t, HAMA) | alt,
            at("coalition", f"LC{k}", t, NEAR) | alt,
            at("russia", f"XR{k}", t, east_of(EAST, 0.5 * k)),  # across the line
            at("russia", f"ZR{k}", t, OUT_OF_AL_TANF),
            at("russia", f"ZR{k}", t + 1, east_of(AL_TANF, 0.5 * k)),  # in the zone
        ]
    store.post(*rows)
    store.clock.advance(INTERVAL_S)
    live.tick()  # opened
    t = store.clock.t_s
    rows = []
    for k in range(N):
        alt = {"alt_ft": 10_000.0 + 2_000.0 * k}
        rows += [
            at("coalition", f"LC{k}", t, east_of(HAMA, 0.5)) | alt,  # closer
            at("russia", f"XR{k}", t, east_of(EAST, 20.0 + k)),  # deeper
            at("russia", f"ZR{k}", t, AL_TANF),  # deeper
        ]
    store.post(*rows)
    store.clock.advance(INTERVAL_S)
    live.tick()  # deepened
    store.clock.advance(INTERVAL_S)
    # A second run takes over and replays the violations (writing nothing new);
    # the first goes on, so that the closes come in the order it keeps (a run
    # that resumes takes losses in the order of their random ids).
    store.run().tick()
    t = store.clock.t_s
    rows = []
    for k in range(N):
        alt = {"alt_ft": 10_000.0 + 2_000.0 * k}
        rows += [
            at("coalition", f"LC{k}", t, east_of(HAMA, 60.0)) | alt,  # apart
            at("russia", f"XR{k}", t, HAMA),  # back on its side
            at("russia", f"ZR{k}", t, OUT_OF_AL_TANF),  # out of the zone
        ]
    store.post(*rows)
    store.clock.advance(INTERVAL_S)
    live.tick()
    store.clock.advance(10 * 60.0)  # out long enough to close everything
    live.tick()


def _written(conn: Connection) -> dict[str, Any]:
    """The incidents, their parties and the events, ids replaced by source keys."""
    rows = conn.execute(
        select(incidents_table).order_by(incidents_table.c.source_key)
    ).all()
    name = {int(r.id): r.source_key for r in rows}
    parties = sorted(
        (name[int(r.incident_id)], r.party_id)
        for r in conn.execute(select(incident_parties))
    )

    def named(text: str) -> str:
        for pk, key in name.items():
            text = text.replace(str(pk), f"<{key}>")
        return text

    return {
        "incidents": [
            {k: v for k, v in r._asdict().items() if k != "id"} for r in rows
        ],
        "parties": parties,
        "events": [
            (r.party_id, r.seq, r.type, named(r.payload_json), r.created_t_s)
            for r in conn.execute(
                select(events).order_by(events.c.party_id, events.c.seq)
            )
        ],
    }


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_a_tick_writes_its_incidents_as_one_at_a_time_did(
    make_store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    batched = make_store("batched")
    _scenario(batched)

    record_many = incidents.record_many

    def one_at_a_time(
        conn: Connection, many: Any, now_t_s: float, sharing: Any
    ) -> list[int]:  # as incidents.record did each
        return [record_many(conn, [f], now_t_s, sharing)[0] for f in many]

    def record_violation_now(
        self: LiveDetection,
        lane: Any,
        conn: Connection,
        v: Violation,
        now_t_s: float,
        closed: bool,
    ) -> None:  # as the tick did before its violations were written together
        if lane.suspended:
            return
        facts = self._violation_facts(lane, v, closed)
        one_at_a_time(conn, [facts], now_t_s, protocols.sharing_of(lane.protocol))

    full = incidents._full

    def full_from_json(row: Any, remarks: Any, evidence: Any = None) -> Any:
        return full(row, remarks)  # the evidence read back from its JSON

    single = make_store("single")
    with monkeypatch.context() as m:
        m.setattr(live_module.incidents, "record_many", one_at_a_time)
        m.setattr(LiveDetection, "_record_violation", record_violation_now)
        m.setattr(incidents, "_full", full_from_json)
        _scenario(single)
    with batched.engine.connect() as a, single.engine.connect() as b:
        got, want = _written(a), _written(b)
    kinds = [r["kind"] for r in want["incidents"]]
    assert {k: kinds.count(k) for k in set(kinds)} == {
        "loss_of_separation": N,
        "line_violation": 2 * N,  # the coalition's pairs are west of the river too
        "zone_incursion": N,
    }
    assert all(r["end_t_s"] is not None for r in want["incidents"])
    types = [e[2] for e in want["events"]]
    assert types.count("incident.updated") >= 3 * N
    for part in ("incidents", "parties", "events"):
        assert len(got[part]) == len(want[part]), part
        for k, (g, w) in enumerate(zip(got[part], want[part], strict=True)):
            assert json.dumps(g, default=str) == json.dumps(w, default=str), (part, k)

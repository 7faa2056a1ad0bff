"""Attack: find any value the ingestion accepts that stops live detection.

Hypothesis posts batches of positions drawn from everything ``POST /v1/tracks``
accepts (every range to its ends, speeds that dead-reckon over a pole, times up to
the future tolerance, parties the protocol does not name) through the real
ingestion service into a real store (SQLite and PostgreSQL), and runs the live loop:
every tick must complete, and an encounter flown next to the fuzzed traffic must
still be found."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, func, select

from deconfliction.adapters.position_fields import RANGES
from deconfliction.domain.geodesy import MAX_ABS_LAT_DEG
from deconfliction.service import auth, ingest, protocols
from deconfliction.service.auth import Principal, Role
from deconfliction.service.clock import ManualClock
from deconfliction.service.live import LiveDetection
from deconfliction.store import engine as store_engine
from deconfliction.store.tables import alerts, ingest_batches
from tests.integration.helpers import flight, protocol_text

T0 = 1513152000.0  # 2017-12-13 08:00Z
FUTURE_TOLERANCE_S = 5.0
PARTIES = ("coalition", "russia", "outsider")


def _number(name: str) -> st.SearchStrategy[float]:
    low, high = RANGES[name]
    if name == "lat":
        low, high = -MAX_ABS_LAT_DEG, MAX_ABS_LAT_DEG
    edges = st.sampled_from([low, high, 0.0, -0.0, (low + high) / 2])
    return st.one_of(edges, st.floats(low, high, allow_nan=False))


def _row(now_t_s: float) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "id": st.sampled_from(["A", "B", "C", "ÿ", "x" * 100]),
            "time": st.one_of(
                st.floats(now_t_s - 120, now_t_s + FUTURE_TOLERANCE_S),
                st.sampled_from([now_t_s, now_t_s + FUTURE_TOLERANCE_S, 0.0]),
            ),
            **{name: _number(name) for name in RANGES},
        }
    )


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = store_engine.make_engine(database_url)
    store_engine.upgrade(engine)
    with engine.begin() as conn:
        for party in PARTIES:
            auth.ensure_party(conn, party, party.title(), "en", T0)
        protocols.propose(
            conn, Principal("coalition", Role.OFFICER), protocol_text(1, "full"), T0
        )
        protocols.accept(
            conn, Principal("russia", Role.OFFICER), "euphrates-2017", 1, T0
        )
    try:
        yield engine
    finally:
        engine.dispose()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    batches=st.lists(
        st.tuples(
            st.sampled_from(PARTIES),
            st.lists(_row(T0), min_size=1, max_size=12),
        ),
        min_size=1,
        max_size=4,
    ),
    advance_s=st.sampled_from([0.0, 1.0, 5.0]),
)
def test_no_accepted_value_stops_live_detection(
    engine: Engine,
    tmp_path: Path,
    batches: list[tuple[str, list[dict[str, Any]]]],
    advance_s: float,
) -> None:
    # Each example starts where the previous one left the store: later and later.
    with engine.connect() as conn:
        clock = ManualClock(T0 + 1000.0 * (1 + _examples(conn)))
    live = LiveDetection(engine, clock, 5.0)
    live.tick()
    now = clock.t_s
    for k, (party, rows) in enumerate(batches):
        shifted = [{**r, "time": r["time"] - T0 + now} for r in rows]
        clean, _ = ingest.validate_rows(shifted, now, FUTURE_TOLERANCE_S)
        if not clean:
            continue
        with engine.begin() as conn:
            ingest.ingest_batch(
                conn,
                Principal(party, Role.OFFICER),
                f"fuzz-{now}-{k}",
                shifted,
                now,
                FUTURE_TOLERANCE_S,
            )
    # A head-on encounter beside the fuzzed traffic must still be found.
    viper = flight("VIPER11", 35.70, 38.60, 0.0, 420.0, 25000.0, now - 25, 6)
    rf = flight("RF93", 36.00, 38.60, 180.0, 420.0, 25000.0, now - 25, 6)
    for party, rows in (("coalition", viper), ("russia", rf)):
        with engine.begin() as conn:
            ingest.ingest_batch(
                conn,
                Principal(party, Role.OFFICER),
                f"enc-{now}",
                rows,
                now,
                FUTURE_TOLERANCE_S,
            )
    clock.advance(advance_s)
    report = live.tick()
    assert report.protocol is not None
    with engine.connect() as conn:
        active = conn.execute(
            select(alerts.c.aircraft_a, alerts.c.aircraft_b).where(
                alerts.c.cleared_t_s.is_(None)
            )
        ).all()
    assert {("VIPER11", "RF93"), ("RF93", "VIPER11")} & {tuple(r) for r in active}


def _examples(conn: Connection) -> int:
    count = conn.execute(select(func.count()).select_from(ingest_batches)).scalar()
    return int(count or 0)

"""Positions sent again under a new batch id are stored once (#21.10): a feed that
lost a response and re-sent its positions in a new batch had each stored twice.
One row per (party, aircraft, time); the batch response counts the rest in
``duplicate_positions``; a store that already holds duplicates keeps the first of
each when migrated. A real server on loopback, SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from deconfliction.service import auth
from deconfliction.store import engine as store_engine
from deconfliction.store.tables import positions
from tests.conftest import Server, add_party
from tests.reliability._store import T0

T_S = 1_700_000_000.0  # in the past: history


def _row(ident: str, t_s: float, lat_deg: float = 35.0) -> dict[str, Any]:
    return {
        "id": ident,
        "time": t_s,
        "lat": lat_deg,
        "lon": 36.5,
        "alt_ft": 20000.0,
        "gs_kt": 300.0,
        "trk_deg": 0.0,
        "vs_fpm": 0.0,
    }


def _stored(database_url: str) -> list[tuple[str, str, float, float]]:
    engine = store_engine.make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(
                    positions.c.party_id,
                    positions.c.aircraft_id,
                    positions.c.t_s,
                    positions.c.lat_deg,
                ).order_by(positions.c.id)
            ).all()
    finally:
        engine.dispose()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_positions_sent_again_are_stored_once(
    server: Server, database_url: str
) -> None:
    coalition = add_party(database_url, "coalition", "officer")
    russia = add_party(database_url, "russia", "officer", "ru")
    first = [_row("V1", T_S), _row("V1", T_S + 1), _row("V2", T_S)]
    with server.client(coalition) as c:
        r = c.post("/v1/tracks", json={"batch_id": "a", "positions": first})
        assert r.status_code == 201, r.text
        assert (r.json()["accepted"], r.json()["duplicate_positions"]) == (3, 0)
        # Sent again under a new id, with one new position given twice, and a
        # position at the same time as a stored one but elsewhere (the first kept).
        again = [
            *first,
            _row("V1", T_S + 2),
            _row("V1", T_S + 2),
            _row("V2", T_S, lat_deg=36.0),
        ]
        r = c.post("/v1/tracks", json={"batch_id": "b", "positions": again})
        assert r.status_code == 201, r.text
        body = r.json()
        assert (body["accepted"], body["duplicate_positions"]) == (6, 5)
        # The batch id once more: the first answer, nothing stored.
        r = c.post("/v1/tracks", json={"batch_id": "b", "positions": again})
        assert r.status_code == 200, r.text
        assert (r.json()["duplicate"], r.json()["duplicate_positions"]) == (True, 5)
        history = c.get("/v1/tracks/coalition/V1").json()
        assert [p["t_s"] for p in history] == [T_S, T_S + 1, T_S + 2]
    # Another party's aircraft of the same id and time is another position.
    with server.client(russia) as c:
        r = c.post("/v1/tracks", json={"batch_id": "a", "positions": first[:1]})
        assert (r.json()["accepted"], r.json()["duplicate_positions"]) == (1, 0)
    assert _stored(database_url) == [
        ("coalition", "V1", T_S, 35.0),
        ("coalition", "V1", T_S + 1, 35.0),
        ("coalition", "V2", T_S, 35.0),
        ("coalition", "V1", T_S + 2, 35.0),
        ("russia", "V1", T_S, 35.0),
    ]


def test_migrating_a_store_with_duplicates_keeps_the_first_of_each(
    database_url: str, tmp_path: Path
) -> None:
    engine = store_engine.make_engine(database_url)
    try:
        store_engine.upgrade(engine, "0009")
        with engine.begin() as conn:
            auth.ensure_party(conn, "coalition", "Coalition", "en", T0)
            conn.execute(
                insert(positions),
                [
                    {
                        "party_id": "coalition",
                        "aircraft_id": ident,
                        "t_s": t_s,
                        "lat_deg": lat,
                        "lon_deg": 36.5,
                        "alt_ft": 20000.0,
                        "gs_kt": 0.0,
                        "trk_deg": 0.0,
                        "vs_fpm": 0.0,
                        "batch_id": batch,
                        "received_t_s": T0,
                    }
                    for ident, t_s, lat, batch in (
                        ("V1", T0, 35.0, "a"),
                        ("V1", T0 + 1, 35.0, "a"),
                        ("V1", T0, 35.5, "b"),
                        ("V1", T0, 35.7, "c"),
                        ("V2", T0, 35.0, "b"),
                    )
                ],
            )
        store_engine.upgrade(engine)
        with engine.connect() as conn:
            kept = conn.execute(
                select(
                    positions.c.aircraft_id, positions.c.t_s, positions.c.batch_id
                ).order_by(positions.c.id)
            ).all()
            count = conn.execute(select(func.count()).select_from(positions)).scalar()
    finally:
        engine.dispose()
    assert [tuple(k) for k in kept] == [
        ("V1", T0, "a"),
        ("V1", T0 + 1, "a"),
        ("V2", T0, "b"),
    ]
    assert count == 3

"""Fixtures of the reliability tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from deconfliction.service import auth, protocols
from deconfliction.service.clock import ManualClock
from deconfliction.service.keys import KeyRing
from deconfliction.store import engine as store_engine
from tests.integration.helpers import protocol_text
from tests.reliability._store import COALITION, RUSSIA, T0, Store


@pytest.fixture
def store(database_url: str, tmp_path: Path) -> Iterator[Store]:
    engine = store_engine.make_engine(database_url)
    store_engine.upgrade(engine)
    clock = ManualClock(T0)
    with engine.begin() as conn:
        for party, lang in (("coalition", "en"), ("russia", "ru")):
            auth.ensure_party(conn, party, party.title(), lang, clock.t_s)
        protocols.propose(conn, COALITION, protocol_text(1, "plans"), clock.t_s)
        protocols.accept(conn, RUSSIA, "euphrates-2017", 1, clock.t_s)
    try:
        yield Store(engine, clock, KeyRing(tmp_path / "keys"))
    finally:
        engine.dispose()

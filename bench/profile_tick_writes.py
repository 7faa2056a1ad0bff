"""cProfile of one live detection tick that writes a lot (#21.8), alone: no posting
thread, a manual clock. Three ticks, each on a fresh database:

- ``alerts``: ``--pairs`` head-on pairs (bench_service's alert pairs) raised, then
  every Russian aircraft 500 ft higher: one tick updates every alert;
- ``losses``: the same pairs flown until they are within 5 NM: one tick opens a
  loss of separation for every pair (and updates its alert);
- ``lines``: ``--pairs`` Russian aircraft east of the Euphrates (across the
  deconfliction line, some of them inside the coalition's zone too): one tick
  opens a line violation (or zone incursion) for each.

The set-up (storing the positions, the tick that raises the alerts) is not
profiled. Run the code before a change with ``PYTHONPATH`` on its sources::

    nice -n 10 .venv/bin/python bench/profile_tick_writes.py --backend sqlite \\
        --case alerts --pairs 10000
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_service import PROTOCOL_ID, _alert_pairs, fresh_database


def _lines_rows(n: int, t_s: float) -> list[dict[str, Any]]:
    """``n`` Russian aircraft east of the Euphrates (its coalition side), 2 NM
    apart in a strip along the river, each at its own level."""
    from deconfliction.domain import geodesy

    rows = []
    for k in range(n):
        lat, lon = geodesy.destination(36.30, 41.00, 180.0, 2.0 * (k % 60))
        lat, lon = geodesy.destination(lat, lon, 90.0, 2.0 * (k // 60))
        rows.append(
            {
                "party_id": "russia",
                "aircraft_id": f"LV{k}",
                "t_s": t_s,
                "lat_deg": float(lat),
                "lon_deg": float(lon),
                "alt_ft": 10_000.0 + 100.0 * (k % 200),
                "gs_kt": 0.0,
                "trk_deg": 0.0,
                "vs_fpm": 0.0,
                "batch_id": "lines",
                "received_t_s": t_s,
            }
        )
    return rows


class _StatementTimes:
    """Wall time in the driver per statement (its first words), from SQLAlchemy's
    cursor events: where a tick waits for the database."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self._engine = engine
        self._event = event
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._started: list[float] = []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, *args: Any) -> None:
        self._started.append(time.perf_counter())

    def _after(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        took_s = time.perf_counter() - self._started.pop()
        words = " ".join(statement.split()[:3])[:40]
        self.seconds[words] = self.seconds.get(words, 0.0) + took_s
        self.calls[words] = self.calls.get(words, 0) + 1

    def stop(self) -> None:
        self._event.remove(self._engine, "before_cursor_execute", self._before)
        self._event.remove(self._engine, "after_cursor_execute", self._after)

    def top(self, n: int) -> list[tuple[str, int, float]]:
        worst = sorted(self.seconds, key=self.seconds.__getitem__, reverse=True)
        return [(w, self.calls[w], round(self.seconds[w], 3)) for w in worst[:n]]


def _time_statements(engine: Any) -> _StatementTimes:
    return _StatementTimes(engine)


def profile(backend: str, case: str, pairs: int, workdir: Path) -> dict[str, Any]:
    from sqlalchemy import insert

    from deconfliction.adapters.protocol_file import builtin_protocol_path
    from deconfliction.service import auth, protocols
    from deconfliction.service.auth import Principal, Role
    from deconfliction.service.clock import ManualClock
    from deconfliction.service.live import LiveDetection
    from deconfliction.store import engine as store_engine
    from deconfliction.store.tables import positions

    t0 = 1_800_000_000.0
    with fresh_database(backend, workdir) as url:
        engine = store_engine.make_engine(url)
        try:
            store_engine.upgrade(engine)
            clock = ManualClock(t0)
            with engine.begin() as conn:
                for party, lang in (("coalition", "en"), ("russia", "ru")):
                    auth.ensure_party(conn, party, party.title(), lang, t0)
                text = builtin_protocol_path(PROTOCOL_ID).read_text(encoding="utf-8")
                protocols.propose(conn, Principal("coalition", Role.OFFICER), text, t0)
                protocols.accept(
                    conn, Principal("russia", Role.OFFICER), PROTOCOL_ID, 1, t0
                )
            live = LiveDetection(engine, clock, 1.0)
            live.tick()
            if case in ("alerts", "losses"):
                rows = _alert_pairs(pairs, t0)
                with engine.begin() as conn:
                    conn.execute(insert(positions), rows)
                clock.advance(1.0)
                live.tick()  # raises the alerts
                if case == "alerts":
                    t = clock.t_s
                    higher = [
                        r | {"t_s": t, "received_t_s": t, "alt_ft": r["alt_ft"] + 500}
                        for r in _alert_pairs(pairs, t0)
                        if r["party_id"] == "russia"
                    ]
                    with engine.begin() as conn:
                        conn.execute(insert(positions), higher)
                    clock.advance(1.0)
                else:
                    clock.advance(16.0)
                    live.tick()  # closer: the alerts' level changes
                    clock.advance(3.0)  # 4.7 NM apart: every pair lost separation
            else:
                with engine.begin() as conn:
                    conn.execute(insert(positions), _lines_rows(pairs, t0 + 1.0))
                clock.advance(2.0)
            statements = _time_statements(engine)
            profiler = cProfile.Profile()
            started = time.perf_counter()
            profiler.enable()
            report = live.tick()
            profiler.disable()
            took_s = time.perf_counter() - started
            statements.stop()
        finally:
            engine.dispose()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)
    return {
        "backend": backend,
        "case": case,
        "pairs": pairs,
        "tick_s": round(took_s, 2),
        "alert_events": report.alert_events,
        "violation_events": report.violation_events,
        "conflicts": report.conflicts,
        "loadavg_1min": round(os.getloadavg()[0], 1),
        "statements": statements.top(12),
        "profile": out.getvalue(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], required=True)
    parser.add_argument("--case", choices=["alerts", "losses", "lines"], required=True)
    parser.add_argument("--pairs", type=int, default=10_000)
    parser.add_argument("--profile-out", type=Path, help="write the profile text here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        result = profile(args.backend, args.case, args.pairs, Path(tmp))
    text = result.pop("profile")
    if args.profile_out is not None:
        args.profile_out.write_text(text, encoding="utf-8")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Federation link benchmark (issue 16, item 8, first figure): how fast positions
cross from one party's node to the other's under ``full`` sharing, on loopback.

Run from the repository root::

    .venv/bin/python bench/bench_federation.py                 # 1,000 aircraft x 20
    .venv/bin/python bench/bench_federation.py --aircraft 1000 --per-aircraft 40

Two nodes are made and started as ``deconfliction demo --federated`` does (``node
init``, ``party add --node``, ``serve --node``, SQLite each, link interval 1 s), the
Euphrates protocol at ``full`` agreed between them. Then the coalition's officer
posts ``aircraft x per-aircraft`` positions (5,000 a batch) to the coalition's node,
and the script reads the coalition's outbox (read only) until Russia's node has
taken them all (every item of kind positions answered). Figures:
the time to post them (ingest on the sender), the time from the first post until
the last position is stored on Russia's node, and positions per second over that.

Results go to stdout and to ``bench/out/federation.json``. A figure, not a test.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_service import OUT_DIR, machine
from deconfliction.cli._federated_demo import Federation, protocol_text

BATCH = 5_000


def _noop(stage: str, done: float, total: float) -> None:
    return None


def _rows(aircraft: int, per_aircraft: int, now_t_s: float) -> list[dict[str, Any]]:
    rows = []
    for k in range(per_aircraft):
        t_s = now_t_s - (per_aircraft - k)
        for a in range(aircraft):
            rows.append(
                {
                    "id": f"C{a:05d}",
                    "time": t_s,
                    "lat": 35.0 + (a % 100) * 0.01,
                    "lon": 38.0 + (a // 100) * 0.01 + k * 0.001,
                    "alt_ft": 20000.0 + (a % 10) * 2000.0,
                    "gs_kt": 400.0,
                    "trk_deg": 90.0,
                    "vs_fpm": 0.0,
                }
            )
    return rows


def _taken(path: Path) -> int:
    """Positions the peer took: the ranges of the sender's outbox items of kind
    positions that the peer answered (the sender's store, read only; the bench
    posts only the coalition's, so its ids are consecutive)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        bodies = conn.execute(
            "SELECT body_json FROM federation_outbox WHERE kind = 'positions' "
            "AND sent_t_s IS NOT NULL AND last_error IS NULL"
        ).fetchall()
        return sum(
            int(json.loads(b)["last_id"]) - int(json.loads(b)["first_id"]) + 1
            for (b,) in bodies
        )
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aircraft", type=int, default=1000)
    parser.add_argument("--per-aircraft", type=int, default=20)
    parser.add_argument("--timeout-s", type=float, default=600.0)
    args = parser.parse_args()
    info = machine()
    with (
        tempfile.TemporaryDirectory(prefix="bench-federation-") as tmp,
        Federation(Path(tmp), ["coalition", "russia"], 1.0) as fed,
    ):
        fed.make()
        fed.start(_noop)
        text = protocol_text("euphrates-2017", "full", list(fed.nodes.values()))
        fed.agree(text, "euphrates-2017/versions/1", _noop)
        rows = _rows(args.aircraft, args.per_aircraft, time.time())
        total = len(rows)
        sender_db = fed.nodes["coalition"].database_path
        started = time.monotonic()
        with fed.nodes["coalition"].officer() as officer:
            for n, lo in enumerate(range(0, total, BATCH)):
                answer = officer.post(
                    "/v1/tracks",
                    json={"batch_id": f"bench-{n}", "positions": rows[lo : lo + BATCH]},
                )
                if answer.status_code != 201:
                    raise SystemExit(f"post refused: {answer.text[:300]}")
        posted_s = time.monotonic() - started
        held = 0
        while held < total and time.monotonic() - started < args.timeout_s:
            time.sleep(0.2)
            held = _taken(sender_db)
        done_s = time.monotonic() - started
    result = {
        "machine": info,
        "positions": total,
        "aircraft": args.aircraft,
        "taken_by_peer": held,
        "post_s": round(posted_s, 2),
        "first_post_to_all_on_peer_s": round(done_s, 2),
        "positions_per_s": round(held / done_s, 1),
        "last_post_to_all_on_peer_s": round(done_s - posted_s, 2),
    }
    OUT_DIR.mkdir(exist_ok=True)
    (OUT_DIR / "federation.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

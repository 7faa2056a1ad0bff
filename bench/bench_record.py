"""Record benchmark: how long the checks of the hotline's signed record take.

Run from the repository root::

    .venv/bin/python bench/bench_record.py                    # 1,000 and 5,000 messages
    .venv/bin/python bench/bench_record.py --messages 20000

For each size, a fresh SQLite file gets that many messages from the coalition to
Russia, each acknowledged (two entries each: ``sent`` and ``acknowledged``), written
through the hotline service. Then, as the users run them (whole processes, start-up
included):

1. ``deconfliction hotline verify --database`` (the operator's check: the chain,
   every signature, and the tables and stream events against the record);
2. with a real ``deconfliction serve`` on loopback, ``deconfliction hotline
   checkpoint`` by Russia (the first: fetches the whole log, checks it, pins the
   keys), and ``deconfliction hotline verify --against`` with that file;
3. the same two for a party named in no protocol, which sees every entry as a stub.

Results go to stdout and to ``bench/out/record.json``. These are figures, not tests:
the tests check what the checks find (``tests/security/test_record_*.py``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_service import OUT_DIR, ServerProcess, machine

EXE = Path(sys.executable).parent / "deconfliction"
T0_S = 1_513_141_200.0  # 2017-12-13T05:00Z


def build(database_url: str, keys_dir: Path, messages: int) -> dict[str, str]:
    """The parties, the protocol in effect and ``messages`` acknowledged messages."""
    from deconfliction.adapters.protocol_file import builtin_protocol_path
    from deconfliction.service import auth, hotline, protocols
    from deconfliction.service.auth import Principal, Role
    from deconfliction.service.keys import KeyRing
    from deconfliction.store import engine as store_engine

    engine = store_engine.make_engine(database_url)
    keys = KeyRing(keys_dir)
    coalition, russia = (
        Principal("coalition", Role.OFFICER),
        Principal("russia", Role.OFFICER),
    )
    text = builtin_protocol_path("euphrates-2017").read_text(encoding="utf-8")
    try:
        store_engine.upgrade(engine)
        tokens = {}
        with engine.begin() as conn:
            for party, lang in (("coalition", "en"), ("russia", "ru"), ("syria", "ar")):
                auth.ensure_party(conn, party, party.title(), lang, T0_S)
                tokens[party] = auth.issue_token(conn, party, Role.OFFICER, time.time())
            protocols.propose(conn, coalition, text, T0_S)
            protocols.accept(conn, russia, "euphrates-2017", 1, T0_S)
        for i in range(messages):
            t_s = T0_S + 10.0 * i
            with engine.begin() as conn:
                sent = hotline.send(
                    conn,
                    keys,
                    coalition,
                    hotline.Outgoing(
                        to="russia",
                        kind=hotline.MessageKind.FREE_TEXT,
                        priority=hotline.Priority.ROUTINE,
                        facts={},
                        text=f"message {i}: we will not cross north of Tabqa",
                    ),
                    t_s,
                )
                hotline.acknowledge(conn, keys, russia, sent["id"], t_s + 5.0)
        return tokens
    finally:
        engine.dispose()


def timed(args: list[str], cwd: Path) -> tuple[float, str]:
    """Wall time of a whole ``deconfliction`` process, and what it printed."""
    start = time.perf_counter()
    done = subprocess.run(
        [str(EXE), *args], cwd=cwd, capture_output=True, text=True, check=False
    )
    took_s = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{args[:2]} failed:\n{done.stderr}")
    return took_s, done.stderr.strip().splitlines()[-1]


def bench(messages: int, workdir: Path) -> dict[str, Any]:
    """Every figure for one size."""
    database_url = f"sqlite:///{workdir / f'record-{messages}.db'}"
    keys_dir = workdir / "deconfliction-keys"
    start = time.perf_counter()
    tokens = build(database_url, keys_dir, messages)
    out: dict[str, Any] = {
        "messages": messages,
        "entries": 2 * messages,
        "build_s": time.perf_counter() - start,
    }
    out["verify_database_s"], out["verify_database_says"] = timed(
        ["hotline", "verify", "--database", database_url, "--keys-dir", str(keys_dir)],
        workdir,
    )
    server = ServerProcess.start(database_url, workdir, detection=False)
    try:
        for party in ("russia", "syria"):
            kept = workdir / f"{party}-{messages}.json"
            token = ["--token", tokens[party]]
            checkpoint = ["hotline", "checkpoint", "--server", server.url]
            out[f"checkpoint_{party}_s"], _ = timed(
                [*checkpoint, "--out", str(kept), *token], workdir
            )
            against = ["hotline", "verify", "--against", server.url]
            took_s, says = timed(
                [*against, "--checkpoints", str(kept), *token], workdir
            )
            out[f"verify_against_{party}_s"] = took_s
            out[f"verify_against_{party}_says"] = says
    finally:
        server.stop()
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the plan and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, nargs="+", default=[1000, 5000])
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.messages:
            results.append(bench(n, Path(tmp)))
            print(json.dumps(results[-1]), file=sys.stderr)
    print(
        "| entries | verify --database | checkpoint (party) | verify --against "
        "(party) | checkpoint (outsider, stubs) | verify --against (outsider) |"
    )
    print("|---|---|---|---|---|---|")
    for r in results:
        figures = [
            r[f"{name}_s"]
            for name in (
                "verify_database",
                "checkpoint_russia",
                "verify_against_russia",
                "checkpoint_syria",
                "verify_against_syria",
            )
        ]
        print(
            f"| {r['entries']:,} | " + " | ".join(f"{f:.1f} s" for f in figures) + " |"
        )
    OUT_DIR.mkdir(exist_ok=True)
    (OUT_DIR / "record.json").write_text(
        json.dumps({"machine": machine(), "results": results}, indent=2),
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

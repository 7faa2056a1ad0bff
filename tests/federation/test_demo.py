"""``deconfliction demo --federated`` (issue 16, item 7), run as a user runs it: real
node processes on loopback (coalition, Russia and, under ``conflicts``, a referee),
each with its own SQLite store. Its printed summary is checked, and its claim about
the stores is checked again here: each node's database file is searched byte for
byte for the other party's aircraft ids, and every one found must be an aircraft of
an alert. Every process the demo started is gone when it ends, Ctrl-C included."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.federation.conftest import EXE

pytestmark = pytest.mark.slow

RUN_TIMEOUT_S = 600
# One simulated minute from a minute before the first planned close encounter,
# four times faster than real time: 15 s of flying.
SHORT = ["--minutes", "1", "--speed", "4"]


def _nodes_running(text: str) -> list[int]:
    """Ids of the ``serve`` processes whose command line names ``text`` (the
    nodes' directory)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if text.encode() in cmdline and b"\0serve\0" in cmdline:
            found.append(int(entry.name))
    return found


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """The demo under the shipped protocol's sharing (``conflicts``, with a
    referee), its nodes kept in a directory; what it printed."""
    nodes_dir = tmp_path_factory.mktemp("federated-demo")
    done = subprocess.run(
        [str(EXE), "demo", "--federated", *SHORT, "--nodes-dir", str(nodes_dir)],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout, nodes_dir


def test_alerts_are_seen_on_both_nodes(run: tuple[str, Path]) -> None:
    out, _ = run
    both = re.search(r"alerts seen on both nodes: (\d+) of (\d+)", out)
    assert both, out
    assert int(both.group(1)) >= 1, out
    # The alerts table names each conflict's two aircraft, each seen on its node.
    assert re.search(r"COA\d{3}\s+.*RUS\d{3}.*at \+[\d.]+ s.*at \+[\d.]+ s", out), out


def test_no_store_holds_the_other_partys_aircraft_not_in_conflict(
    run: tuple[str, Path],
) -> None:
    out, nodes_dir = run
    assert "coalition's database: russia's aircraft not in conflict found: none" in out
    assert "russia's database: coalition's aircraft not in conflict found: none" in out
    # The same claim checked here: the other party's ids in each store are all
    # aircraft of the alerts the demo printed.
    in_alerts = set(re.findall(r"\b(?:COA|RUS)\d{3}\b", out.split("Each node")[0]))
    own_prefix = {"coalition": b"COA", "russia": b"RUS"}
    for party, other in (("coalition", "russia"), ("russia", "coalition")):
        path = nodes_dir / f"node-{party}" / "node.db"
        data = b"".join(
            p.read_bytes()
            for p in (path, Path(f"{path}-wal"), Path(f"{path}-journal"))
            if p.exists()
        )
        assert re.search(own_prefix[party] + rb"\d{3}", data), "a broken search"
        foreign = {m.decode() for m in re.findall(own_prefix[other] + rb"\d{3}", data)}
        assert foreign <= in_alerts, (party, foreign - in_alerts)
    # The referee keeps nothing in its store.
    referee_db = (nodes_dir / "node-referee" / "node.db").read_bytes()
    assert not re.search(rb"(COA|RUS)\d{3}", referee_db)


def test_every_node_is_stopped_at_the_end(run: tuple[str, Path]) -> None:
    _, nodes_dir = run
    assert _nodes_running(str(nodes_dir)) == []


def test_ctrl_c_stops_every_node(tmp_path: Path) -> None:
    nodes_dir = tmp_path / "nodes"
    printed = tmp_path / "demo.out"
    with printed.open("wb") as out:
        demo = subprocess.Popen(
            [str(EXE), "demo", "--federated", *SHORT, "--nodes-dir", str(nodes_dir)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
        )
    try:
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while len(_nodes_running(str(nodes_dir))) < 3:  # the three nodes
            assert demo.poll() is None, printed.read_text()
            assert time.monotonic() < deadline, "the nodes did not start"
            time.sleep(0.2)
        demo.send_signal(signal.SIGINT)
        demo.wait(timeout=60)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
    assert demo.returncode != 0, printed.read_text()
    assert _nodes_running(str(nodes_dir)) == []


def test_an_unknown_sharing_level_is_an_error_not_a_traceback() -> None:
    done = subprocess.run(
        [str(EXE), "demo", "--federated", "--sharing", "everything"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "'everything' is not a sharing level" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr

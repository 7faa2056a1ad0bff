"""``replay`` stopped with Ctrl-C (SIGINT): it says what it sent, what the server
acknowledged and what is left, and exits 130, never with a traceback."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import Server, add_party, start_server

pytestmark = pytest.mark.slow
POSITIONS = 120  # one a second: two minutes at --speed 1, interrupted long before
WAIT_S = 60.0  # for the first positions to be stored; a hang fails, it never passes


@pytest.fixture
def sqlite_server(tmp_path: Path) -> Server:
    srv = start_server(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path / "server.log")
    yield srv
    srv.stop()


def _stored(server: Server, token: str) -> int:
    with server.client(token) as client:
        r = client.get("/v1/tracks/coalition/COA065")
    return len(r.json()) if r.status_code == 200 else 0


def test_ctrl_c_prints_the_summary_and_exits_130(
    sqlite_server: Server, tmp_path: Path
) -> None:
    server = sqlite_server
    token = add_party(server.database_url, "coalition", "officer")
    lines = ["id,party,time,lat,lon,alt_ft,gs_kt,trk_deg,vs_fpm"]
    t0 = time.time() - 3600
    for k in range(POSITIONS):
        lines.append(
            f"COA065,coalition,{t0 + k},35.9,{40.5 + 0.002 * k},25000,420,90,0"
        )
    tracks = tmp_path / "tracks.csv"
    tracks.write_text("\n".join(lines) + "\n", encoding="utf-8")
    exe = Path(sys.executable).parent / "deconfliction"
    process = subprocess.Popen(
        [
            *(str(exe), "replay", str(tracks), "--speed", "1", "--flush-s", "0.5"),
            *("--to", server.url, "--token", token),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + WAIT_S
        while _stored(server, token) < 3:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "no position arrived"
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=WAIT_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, err
    assert "Traceback" not in err
    summary = re.search(
        r"interrupted after [0-9.]+ s: (\d+) of 120 positions sent in (\d+) batches, "
        r"(\d+) accepted, 0 rejected by the server",
        err,
    )
    assert summary is not None, err
    sent, _, accepted = (int(x) for x in summary.groups())
    left = re.search(
        r"not acknowledged: (\d+) in the batch being posted .*left: (\d+)", err
    )
    assert left is not None, err
    in_flight, rest = (int(x) for x in left.groups())
    assert sent == accepted and 3 <= accepted < POSITIONS
    assert sent + in_flight + rest == POSITIONS
    assert _stored(server, token) in (accepted, accepted + in_flight)

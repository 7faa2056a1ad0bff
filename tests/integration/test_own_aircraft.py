"""Aircraft belong to the party that posts them (issue 13, item 4), through a real
server on SQLite and on PostgreSQL: a row naming another party than the token's is
rejected with that reason (the batch's other rows kept), and ``replay`` and
``feed`` send the token's party's aircraft only, saying how many they left out.

Before: ``deconfliction replay tracks.csv --token COALITION`` (as the README
showed it) filed the Russian aircraft of the demo's tracks.csv as coalition
aircraft, and they opened false violations of the coalition's side of the line.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from deconfliction.cli.app import build_app
from tests.adapters.interop_samples import flight as sample_flight
from tests.adapters.interop_samples import sbs_lines
from tests.conftest import Server, add_party
from tests.integration.test_bridge import _Receiver

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    return build_app()


def _tokens(server: Server) -> dict[str, str]:
    return {
        "coalition": add_party(server.database_url, "coalition", "officer"),
        "russia": add_party(server.database_url, "russia", "officer", "ru"),
    }


def _row(ident: str, t_s: float, **extra: Any) -> dict[str, Any]:
    return {
        "id": ident,
        "time": t_s,
        "lat": 35.9,
        "lon": 40.5,
        "alt_ft": 25000,
        "gs_kt": 420,
        "trk_deg": 90,
        "vs_fpm": 0,
        **extra,
    }


def _history(server: Server, token: str, party: str, ident: str) -> int:
    """How many positions of an aircraft the token's party sees, 0 for none."""
    with server.client(token) as client:
        r = client.get(f"/v1/tracks/{party}/{ident}")
    if r.status_code == 404:
        return 0
    assert r.status_code == 200, r.text
    return len(r.json())


class TestPostTracks:
    def test_rows_of_another_party_are_rejected_and_the_rest_kept(
        self, server: Server
    ) -> None:
        tokens = _tokens(server)
        now = time.time() - 10
        rows = [
            _row("COA001", now, party="coalition"),
            _row("RUS062", now, party="russia"),
            _row("COA002", now),  # no party: the poster's
            _row("COA003", now, party=""),
            _row("RUS063", now, party=7),
            _row("RUS064", now, party="Coalition"),  # party ids are exact
        ]
        with server.client(tokens["coalition"]) as client:
            r = client.post("/v1/tracks", json={"batch_id": "b1", "positions": rows})
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["accepted"] == 3
        assert [(x["row"], x["field"]) for x in body["rejected"]] == [
            (2, "party"),
            (5, "party"),
            (6, "party"),
        ]
        assert body["rejected"][0]["message"] == (
            "names party 'russia': a coalition token posts coalition's aircraft only"
        )
        for ident in ("COA001", "COA002", "COA003"):
            assert _history(server, tokens["coalition"], "coalition", ident) == 1
        for ident in ("RUS062", "RUS063", "RUS064"):
            assert _history(server, tokens["coalition"], "coalition", ident) == 0
            assert _history(server, tokens["russia"], "russia", ident) == 0

    def test_csv_batches_too(self, server: Server) -> None:
        tokens = _tokens(server)
        t = time.time() - 10
        text = (
            "id,party,time,lat,lon,alt_ft,gs_kt,trk_deg,vs_fpm\n"
            f"RUS062,russia,{t},35.2,38.1,24000,400,270,0\n"
            f"COA001,coalition,{t},35.9,40.5,25000,420,90,0\n"
        )
        with server.client(tokens["coalition"]) as client:
            r = client.post(
                "/v1/tracks",
                params={"batch_id": "c1"},
                content=text,
                headers={"content-type": "text/csv"},
            )
        assert r.status_code == 201, r.text
        assert r.json()["accepted"] == 1
        assert [(x["row"], x["field"]) for x in r.json()["rejected"]] == [(1, "party")]
        assert _history(server, tokens["coalition"], "coalition", "RUS062") == 0

    def test_a_batch_of_only_another_partys_rows_is_refused_unrecorded(
        self, server: Server
    ) -> None:
        tokens = _tokens(server)
        now = time.time() - 10
        with server.client(tokens["coalition"]) as client:
            r = client.post(
                "/v1/tracks",
                json={"batch_id": "b2", "positions": [_row("R", now, party="russia")]},
            )
            assert r.status_code == 422, r.text
            assert [p["field"] for p in r.json()["problems"]] == ["party"]
            # Not recorded: corrected, it goes in under the same id.
            r = client.post(
                "/v1/tracks",
                json={"batch_id": "b2", "positions": [_row("C", now)]},
            )
            assert r.status_code == 201, r.text


def _demo_tracks(path: Path, t0_s: float) -> Path:
    """Like the demo's tracks.csv: both parties' aircraft, a party column."""
    lines = ["id,party,time,lat,lon,alt_ft,gs_kt,trk_deg,vs_fpm"]
    for k in range(3):
        t = t0_s + 5 * k
        lines.append(f"COA065,coalition,{t},35.9,{40.5 + 0.01 * k},25000,420,90,0")
        lines.append(f"RUS062,russia,{t},35.2,{38.1 - 0.01 * k},24000,400,270,0")
        lines.append(f"RUS063,russia,{t},35.3,{38.1 - 0.01 * k},24000,400,270,0")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class TestReplay:
    def test_sends_the_tokens_party_only_and_says_what_it_left_out(
        self, app: typer.Typer, server: Server, tmp_path: Path
    ) -> None:
        tokens = _tokens(server)
        tracks = _demo_tracks(tmp_path / "tracks.csv", time.time() - 60)
        result = CliRunner().invoke(
            app,
            [
                *("replay", str(tracks), "--speed", "0"),
                *("--to", server.url, "--token", tokens["coalition"]),
            ],
        )
        assert result.exit_code == 0, result.output + server.log()
        assert "replayed 3 positions" in result.stderr
        assert "3 accepted, 0 rejected by the server" in result.stderr
        assert "not sent: 6 of party russia (this token posts coalition's)" in (
            result.stderr
        )
        assert _history(server, tokens["coalition"], "coalition", "COA065") == 3
        for ident in ("RUS062", "RUS063"):
            assert _history(server, tokens["coalition"], "coalition", ident) == 0

    def test_another_partys_aircraft_are_never_sent_under_this_token(
        self, app: typer.Typer, server: Server, tmp_path: Path
    ) -> None:
        tokens = _tokens(server)
        tracks = _demo_tracks(tmp_path / "tracks.csv", time.time() - 60)
        result = CliRunner().invoke(
            app,
            [
                *("replay", str(tracks), "--speed", "0", "--party", "russia"),
                *("--to", server.url, "--token", tokens["coalition"]),
            ],
        )
        assert result.exit_code == 2, result.output
        assert (
            "--party: 'russia': the token is 'coalition''s, and a party posts its "
            "own aircraft only"
        ) in result.output
        assert _history(server, tokens["russia"], "russia", "RUS062") == 0


class TestFeed:
    def test_posts_the_tokens_party_only(
        self, app: typer.Typer, server: Server, tmp_path: Path
    ) -> None:
        tokens = _tokens(server)
        rules = tmp_path / "rules.toml"
        rules.write_text(
            'default = "coalition"\n\n[[rules]]\nparty = "russia"\n'
            'icao24 = "140000-157FFF"\n',
            encoding="utf-8",
        )
        now = time.time()
        samples = sample_flight(
            "4CA123", "VIPER11", 35.9, 40.5, 90.0, 420.0, 25000.0, now - 5, 8
        ) + sample_flight(
            "150001", "RFF1", 35.2, 38.1, 270.0, 400.0, 24000.0, now - 5, 8
        )
        samples.sort(key=lambda s: s.t_s)
        receiver = _Receiver(sbs_lines(samples))
        try:
            result = CliRunner().invoke(
                app,
                [
                    *("feed", f"sbs://127.0.0.1:{receiver.port}"),
                    *("--to", server.url, "--token", tokens["coalition"]),
                    *("--party-rules", str(rules), "--max-seconds", "3"),
                    *("--flush-s", "0.5"),
                ],
            )
        finally:
            receiver.thread.join(10)
            receiver.close()
        assert result.exit_code == 0, result.output
        assert "0 rejected; not sent:" in result.stderr
        assert "of other parties (this token posts coalition's)" in result.stderr
        assert "not sent: 0 of other parties" not in result.stderr
        assert _history(server, tokens["coalition"], "coalition", "4CA123") >= 5
        assert _history(server, tokens["coalition"], "coalition", "150001") == 0

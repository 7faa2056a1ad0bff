"""``deconfliction tracks`` and ``deconfliction replay``, called as users call them:
every input format detected, every output written, bad input exits 2 with a message,
and replay into a real server on loopback."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from deconfliction.adapters.cot import CotOptions, to_bytes, track_event
from deconfliction.adapters.tabular import write_tracks_parquet
from deconfliction.adapters.track_poster import HttpPoster, PostResult, ReplayError
from deconfliction.adapters.track_stream import TrackBatch, TrackRecord
from deconfliction.cli import interop
from deconfliction.cli._replay import SERVER_HINTS, Replayer
from deconfliction.errors import Problem
from deconfliction.timetext import parse_rfc3339_s
from tests.adapters.interop_samples import Sample, flight, modes_lines, sbs_lines

T0 = 1513159200.0


def _app() -> typer.Typer:
    app = typer.Typer()
    interop.register(app)

    @app.callback()
    def _root() -> None:  # keeps the commands subcommands, as in the real app
        pass

    return app


def _run(*args: str | Path) -> Any:
    return CliRunner().invoke(_app(), [str(a) for a in args])


def _truth(icao: str = "4CA2D6", n: int = 20, lat_deg: float = 35.5) -> list[Sample]:
    return flight(icao, "VIPER11", lat_deg, 38.2, 45.0, 420.0, 25000.0, T0, n)


def _records(samples: list[Sample]) -> list[TrackRecord]:
    return [
        TrackRecord(
            s.icao,
            s.t_s,
            s.lat_deg,
            s.lon_deg,
            s.alt_ft,
            s.gs_kt,
            s.trk_deg,
            s.vs_fpm,
            s.callsign,
            s.icao,
        )
        for s in samples
    ]


def _write_sample(tmp_path: Path, fmt: str) -> Path:
    truth = _truth()
    if fmt == "sbs":
        path = tmp_path / "feed.txt"
        path.write_text("\n".join(sbs_lines(truth)) + "\n", encoding="utf-8")
    elif fmt in ("beast", "mlat", "avr"):
        path = tmp_path / "feed.txt"
        form = {"beast": "epoch", "mlat": "mlat", "avr": "avr"}[fmt]
        path.write_text("\n".join(modes_lines(truth, form)) + "\n", encoding="utf-8")
    elif fmt == "cot":
        path = tmp_path / "feed.xml"
        path.write_bytes(
            b"".join(to_bytes(track_event(r, CotOptions())) for r in _records(truth))
        )
    elif fmt == "opensky":
        path = tmp_path / "states.csv"
        rows = ["time,icao24,lat,lon,velocity,heading,vertrate,callsign,baroaltitude"]
        rows += [
            f"{s.t_s},{s.icao.lower()},{s.lat_deg},{s.lon_deg},216.07,45,0,{s.callsign},7620"
            for s in truth
        ]
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    elif fmt == "opensky-parquet":
        path = tmp_path / "states.parquet"
        pq.write_table(
            pa.table(
                {
                    "icao24": [s.icao.lower() for s in truth],
                    "time_position": [s.t_s for s in truth],
                    "latitude": [s.lat_deg for s in truth],
                    "longitude": [s.lon_deg for s in truth],
                    "baro_altitude": [7620.0] * len(truth),
                    "velocity": [216.07] * len(truth),
                    "true_track": [45.0] * len(truth),
                }
            ),
            path,
        )
    elif fmt == "csv":
        path = tmp_path / "tracks.csv"
        rows = ["id,time,lat,lon,alt_ft,gs_kt,trk_deg,vs_fpm"]
        rows += [
            f"{s.icao},{s.t_s},{s.lat_deg},{s.lon_deg},25000,420,45,0" for s in truth
        ]
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    else:
        path = tmp_path / "tracks.parquet"
        write_tracks_parquet(path, TrackBatch.from_records(_records(truth)))
    return path


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


class TestTracksCommand:
    @pytest.mark.parametrize(
        ("fmt", "source", "minimum"),
        [
            ("sbs", "sbs", 20),
            ("beast", "modes", 17),
            ("cot", "cot", 20),
            ("opensky", "opensky", 20),
            ("opensky-parquet", "opensky", 20),
            ("csv", "", 20),
            ("parquet", "", 20),
        ],
    )
    def test_every_format_detected(
        self, tmp_path: Path, fmt: str, source: str, minimum: int
    ) -> None:
        path = _write_sample(tmp_path, fmt)
        result = _run("tracks", path)
        assert result.exit_code == 0, result.output
        rows = _csv_rows(result.stdout)
        assert len(rows) >= minimum
        assert {
            "id",
            "time",
            "lat",
            "lon",
            "alt_ft",
            "gs_kt",
            "trk_deg",
            "vs_fpm",
        } <= set(rows[0])
        assert all(r["source"] == source for r in rows)
        assert rows[0]["time"].startswith("2017-12-13T10:00:") and rows[0][
            "time"
        ].endswith("Z")
        assert float(rows[-1]["alt_ft"]) == pytest.approx(25000.0, abs=1.0)
        assert f"{path}: read " in result.stderr and "accepted" in result.stderr

    def test_mlat_lines_from_a_start_time(self, tmp_path: Path) -> None:
        path = _write_sample(tmp_path, "mlat")
        result = _run("tracks", path, "--start-time", "2017-12-13T10:00:00Z")
        assert result.exit_code == 0, result.output
        rows = _csv_rows(result.stdout)
        assert rows[-1]["time"] == "2017-12-13T10:00:09.500Z"
        assert _run("tracks", path, "--start-time", "noon").exit_code == 2

    def test_avr_lines_are_timed_on_reading(self, tmp_path: Path) -> None:
        result = _run("tracks", _write_sample(tmp_path, "avr"), "--input-format", "avr")
        assert result.exit_code == 0, result.output
        assert "read 27, accepted 27" in result.stderr  # no time, yet every line used

    def test_several_sources_in_time_order(self, tmp_path: Path) -> None:
        a = _write_sample(tmp_path, "sbs")
        b = tmp_path / "other.csv"
        b.write_text(f"id,time,lat,lon\nX,{T0 + 0.1},1,2\n", encoding="utf-8")
        result = _run("tracks", a, b)
        times = [r["time"] for r in _csv_rows(result.stdout)]
        assert times[1] == "2017-12-13T10:00:00.100Z"
        seconds = [parse_rfc3339_s(t) for t in times]
        assert seconds == sorted(seconds)

    @pytest.mark.parametrize("fmt", ["parquet", "geojson", "kml", "cot"])
    def test_output_formats(self, tmp_path: Path, fmt: str) -> None:
        out = tmp_path / f"out.{fmt}"
        result = _run(
            "tracks", _write_sample(tmp_path, "sbs"), "--format", fmt, "--out", out
        )
        assert result.exit_code == 0, result.output
        if fmt == "parquet":
            assert pq.read_table(out).num_rows == 20
        elif fmt == "geojson":
            features = json.loads(out.read_text())["features"]
            assert sum(f["properties"]["kind"] == "position" for f in features) == 20
        elif fmt == "kml":
            assert out.read_text().count("<Placemark>") == 21
        else:
            assert out.read_bytes().count(b"<event ") == 20

    def test_cot_affiliations(self, tmp_path: Path) -> None:
        rules = tmp_path / "rules.toml"
        rules.write_text(
            '[cot]\nother_affiliation = "neutral"\n\n[[rules]]\nparty = "russia"\n'
            'icao24 = "4CA000-4CAFFF"\n',
            encoding="utf-8",
        )
        path = _write_sample(tmp_path, "sbs")
        args = ["tracks", path, "--format", "cot", "--party-rules", rules]
        assert b'type="a-n-A"' in _run(*args).stdout_bytes
        own = _run(*args, "--own-party", "russia").stdout_bytes
        assert b'type="a-f-A"' in own and b"a-n-A" not in own
        plain = _run("tracks", path, "--format", "cot").stdout_bytes
        assert b'type="a-u-A"' in plain and b"a-h-" not in plain

    def test_geojson_and_kml_to_stdout(self, tmp_path: Path) -> None:
        path = _write_sample(tmp_path, "sbs")
        assert (
            json.loads(_run("tracks", path, "--format", "geojson").stdout)["type"]
            == "FeatureCollection"
        )
        assert "<kml" in _run("tracks", path, "--format", "kml").stdout

    def test_party_rules(self, tmp_path: Path) -> None:
        rules = tmp_path / "rules.toml"
        rules.write_text(
            '[[rules]]\nparty = "coalition"\nicao24 = "4CA000-4CAFFF"\n',
            encoding="utf-8",
        )
        result = _run("tracks", _write_sample(tmp_path, "sbs"), "--party-rules", rules)
        assert {r["party"] for r in _csv_rows(result.stdout)} == {"coalition"}

    def test_sbs_timezone(self, tmp_path: Path) -> None:
        path = _write_sample(tmp_path, "sbs")
        result = _run("tracks", path, "--sbs-timezone", "Asia/Damascus")
        assert _csv_rows(result.stdout)[0]["time"] == "2017-12-13T08:00:00Z"

    def test_rejections_reported_by_reason_and_line(self, tmp_path: Path) -> None:
        path = _write_sample(tmp_path, "sbs")
        with path.open("a", encoding="utf-8") as f:
            f.write("MSG,3,1\nBOGUS\n")
        result = _run("tracks", path)
        assert result.exit_code == 0
        assert (
            "rejected 2 (1 wrong field count, 1 unknown message type)" in result.stderr
        )
        first_bad = len(sbs_lines(_truth())) + 1
        assert f"{path}:{first_bad}: wrong field count" in result.stderr
        assert _run("tracks", path, "--strict").exit_code == 2

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["missing.sbs"], "No such file"),
            (["{empty}"], "the file is empty"),
            (["{garbage}"], "cannot tell the format"),
            (["{garbage}", "--input-format", "sbs"], "no valid message"),
            (["{sbs}", "--format", "parquet"], "Parquet needs a file"),
            (["{sbs}", "--reference", "north"], "--reference: expected LAT,LON"),
            (
                ["{sbs}", "--sbs-timezone", "Mars/Olympus"],
                "--sbs-timezone: unknown time zone",
            ),
            (["{sbs}", "--party-rules", "{bad_rules}"], "rules[0].icao24"),
            (["{csv_no_time}"], "cannot tell the format"),
            (["{csv_no_time}", "--input-format", "csv"], "missing column(s) time"),
        ],
    )
    def test_bad_input_exits_2_without_a_traceback(
        self, tmp_path: Path, args: list[str], message: str
    ) -> None:
        files = {
            "empty": tmp_path / "empty.txt",
            "garbage": tmp_path / "garbage.txt",
            "sbs": _write_sample(tmp_path, "sbs"),
            "bad_rules": tmp_path / "rules.toml",
            "csv_no_time": tmp_path / "t.csv",
        }
        files["empty"].write_text("", encoding="utf-8")
        files["garbage"].write_text("hello\nworld\n", encoding="utf-8")
        files["bad_rules"].write_text(
            '[[rules]]\nparty = "x"\nicao24 = "nope"\n', encoding="utf-8"
        )
        files["csv_no_time"].write_text("id,lat,lon\nA,1,2\n", encoding="utf-8")
        result = _run("tracks", *[a.format(**files) for a in args])
        assert result.exit_code == 2, result.output
        assert message in result.stderr
        assert "Traceback" not in result.output


# --------------------------------------------------------------------------------------
# Replay


class FakeTime:
    """A clock that only moves when slept on."""

    def __init__(self) -> None:
        self.now_s = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now_s

    def sleep(self, delay_s: float) -> None:
        self.slept.append(delay_s)
        self.now_s += delay_s


def _batch(times: list[float], **kw: Any) -> TrackBatch:
    n = len(times)
    return TrackBatch.from_columns(
        ids=kw.get("ids", ["A"] * n),
        t_s=times,
        lat_deg=[35.0] * n,
        lon_deg=[38.0] * n,
        alt_ft=kw.get("alt_ft", [25000.0] * n),
        gs_kt=[420.0] * n,
        trk_deg=[90.0] * n,
        vs_fpm=[0.0] * n,
    )


class Recorder:
    """A fake server: keeps what was posted, and when (by the fake clock)."""

    def __init__(
        self, time: FakeTime, reject: Callable[[dict[str, Any]], bool] = lambda r: False
    ) -> None:
        self.time = time
        self.posts: list[tuple[float, str, list[dict[str, Any]]]] = []
        self.reject = reject

    def __call__(self, batch_id: str, rows: list[dict[str, Any]]) -> PostResult:
        self.posts.append((self.time.now_s, batch_id, rows))
        bad = [k for k, r in enumerate(rows, 1) if self.reject(r)]
        return PostResult(
            len(rows) - len(bad),
            tuple(Problem(batch_id, k, "time", "in the future") for k in bad),
        )


def _replayer(time: FakeTime, post: Recorder, **kw: Any) -> Replayer:
    return Replayer(
        post,
        clock=time.clock,
        wall=lambda: 2_000_000_000.0,
        sleep=time.sleep,
        run_id="t",
        **kw,
    )


class TestReplayer:
    def test_keeps_the_original_timing_scaled(self) -> None:
        time = FakeTime()
        post = Recorder(time)
        stats = _replayer(time, post, speed=2.0, flush_s=0.1).run(
            _batch([T0, T0 + 4, T0 + 10])
        )
        sent_at = [p[0] - 100.0 for p in post.posts]
        assert sent_at == pytest.approx([0.0, 2.0, 5.0])  # 0, 4 / 2, 10 / 2
        assert stats.sent == stats.accepted == 3 and stats.elapsed_s == pytest.approx(
            5.0
        )

    def test_retimed_positions_are_timed_when_played(self) -> None:
        time = FakeTime()
        post = Recorder(time)
        _replayer(time, post, speed=2.0, flush_s=0.1).run(_batch([T0, T0 + 4]))
        sent = [row["time"] for _, _, rows in post.posts for row in rows]
        assert sent == [2_000_000_000.0, 2_000_000_002.0]

    def test_without_retime_the_recorded_times(self) -> None:
        time = FakeTime()
        post = Recorder(time)
        _replayer(time, post, retime=False, speed=0).run(_batch([T0 + 1, T0]))
        assert [r["time"] for r in post.posts[0][2]] == [T0, T0 + 1]

    def test_as_fast_as_possible_in_batches(self) -> None:
        time = FakeTime()
        post = Recorder(time)
        stats = _replayer(time, post, speed=0, batch_size=2).run(
            _batch([T0, T0 + 60, T0 + 120])
        )
        assert time.slept == [] and [p[1] for p in post.posts] == [
            "replay-t-000001",
            "replay-t-000002",
        ]
        sent = [r["time"] for _, _, rows in post.posts for r in rows]
        assert sent == [2_000_000_000.0 - 120, 2_000_000_000.0 - 60, 2_000_000_000.0]
        assert stats.batches == 2

    def test_positions_due_together_share_a_batch(self) -> None:
        time = FakeTime()
        post = Recorder(time)
        _replayer(time, post, speed=1.0, flush_s=1.0).run(
            _batch([T0, T0 + 0.2, T0 + 0.5, T0 + 3])
        )
        assert [len(rows) for _, _, rows in post.posts] == [1, 2, 1]
        assert [p[0] - 100.0 for p in post.posts] == pytest.approx([0.0, 1.0, 3.0])

    def test_incomplete_and_rejected_positions_are_counted(self) -> None:
        time = FakeTime()
        post = Recorder(time, reject=lambda r: r["id"] == "B")
        stats = _replayer(time, post, speed=0).run(
            _batch([T0, T0, T0], ids=["A", "B", "C"], alt_ft=[1000.0, 1000.0, math.nan])
        )
        assert stats.sent == 2 and stats.accepted == 1
        assert stats.not_sent == {"incomplete (no alt_ft)": 1}
        assert stats.rejected == {"server: time": 1}

    def test_nothing_to_play(self) -> None:
        time = FakeTime()
        assert _replayer(time, Recorder(time)).run(TrackBatch.empty()).sent == 0


class TestHttpPoster:
    def _poster(
        self, handler: Callable[[httpx.Request], httpx.Response]
    ) -> tuple[HttpPoster, list[float]]:
        slept: list[float] = []
        client = httpx.Client(transport=httpx.MockTransport(handler))
        return HttpPoster("http://server", "tok", client, sleep=slept.append), slept

    def test_retries_under_the_same_batch_id(self) -> None:
        seen: list[str] = []

        def handler(request: httpx.Request) -> httpx.Response:
            body = json.loads(request.content)
            seen.append(body["batch_id"])
            assert request.headers["Authorization"] == "Bearer tok"
            assert request.url.path == "/v1/tracks"
            if len(seen) == 1:
                return httpx.Response(503, json={"detail": "busy"})
            if len(seen) == 2:
                raise httpx.ConnectError("refused")
            return httpx.Response(
                201,
                json={
                    "batch_id": body["batch_id"],
                    "accepted": 1,
                    "rejected": [{"row": 2, "field": "time", "message": "future"}],
                    "duplicate": False,
                },
            )

        poster, slept = self._poster(handler)
        result = poster("replay-x-000001", [{"id": "A"}, {"id": "B"}])
        assert seen == ["replay-x-000001"] * 3 and slept == [0.5, 1.0]
        assert result.accepted == 1 and result.rejected[0].field == "time"
        assert poster.retries == 2

    def test_a_batch_with_no_valid_row(self) -> None:
        def handler(_: httpx.Request) -> httpx.Response:
            return httpx.Response(
                422,
                json={
                    "title": "Unprocessable",
                    "problems": [
                        {
                            "source": "batch",
                            "line": 1,
                            "field": "lat",
                            "message": "95 is outside",
                        }
                    ],
                },
            )

        result = self._poster(handler)[0]("b", [{"id": "A"}])
        assert result.accepted == 0 and result.rejected[0].field == "lat"

    @pytest.mark.parametrize("status", [401, 403, 404])
    def test_refusals_stop_the_replay(self, status: int) -> None:
        poster, _ = self._poster(
            lambda _: httpx.Response(status, json={"detail": "no"})
        )
        with pytest.raises(ReplayError, match=str(status)) as err:
            poster("b", [{"id": "A"}])
        assert "--" not in str(err.value)  # the adapter knows no command line

    @pytest.mark.parametrize(
        ("status", "hint"),
        [(401, "(check --token)"), (403, "(check --token)"), (404, "(check --to)")],
    )
    def test_the_command_line_names_what_to_check(self, status: int, hint: str) -> None:
        client = httpx.Client(
            transport=httpx.MockTransport(
                lambda _: httpx.Response(status, json={"detail": "no"})
            )
        )
        poster = HttpPoster("http://server", "tok", client, hints=SERVER_HINTS)
        with pytest.raises(ReplayError) as err:
            poster("b", [{"id": "A"}])
        assert str(err.value).endswith(f"{status} no {hint}")

    def test_gives_up_after_retries(self) -> None:
        poster, slept = self._poster(lambda _: httpx.Response(500, text="boom"))
        with pytest.raises(ReplayError, match="failed after retries"):
            poster("b", [{"id": "A"}])
        assert len(slept) == 5


class TestReplayCommand:
    def test_needs_a_token(self, tmp_path: Path) -> None:
        result = _run(
            "replay", _write_sample(tmp_path, "sbs"), "--to", "http://127.0.0.1:9"
        )
        assert result.exit_code == 2 and "--token" in result.stderr

    def test_unreachable_server_exits_2(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        import deconfliction.adapters.track_poster as replay_module

        monkeypatch.setattr(replay_module, "RETRY_DELAYS_S", (0.0,))
        result = _run(
            "replay",
            _write_sample(tmp_path, "sbs"),
            "--to",
            "http://127.0.0.1:9",
            "--token",
            "t",
            "--speed",
            "0",
        )
        assert result.exit_code == 2, result.output
        assert (
            "failed after retries" in result.stderr and "Traceback" not in result.output
        )


@pytest.mark.slow
class TestReplayIntoAServer:
    @staticmethod
    def _setup(server: Any) -> dict[str, str]:
        from tests.conftest import add_party

        return {
            p: add_party(server.database_url, p, "officer")
            for p in ("coalition", "russia")
        }

    def test_replayed_traffic_is_live(self, server: Any, tmp_path: Path) -> None:
        tokens = self._setup(server)
        path = tmp_path / "feed.sbs"
        truth = _truth("AE0001", 20) + _truth("AE0002", 20, lat_deg=35.6)
        truth.sort(key=lambda s: s.t_s)
        path.write_text("\n".join(sbs_lines(truth)) + "\n", encoding="utf-8")
        result = _run(
            "replay",
            path,
            "--speed",
            "0",
            "--to",
            server.url,
            "--token",
            tokens["coalition"],
            "--batch-size",
            "7",
        )
        assert result.exit_code == 0, result.output + server.log()
        assert (
            "replayed 40 positions" in result.stderr and "40 accepted" in result.stderr
        )
        with server.client(tokens["coalition"]) as client:
            live = client.get("/v1/tracks").json()
            assert sorted(p["id"] for p in live) == ["AE0001", "AE0002"]
            history = client.get("/v1/tracks/coalition/AE0001").json()
        times = [p["t_s"] for p in history]
        assert len(times) == 20
        assert np.diff(times) == pytest.approx([0.5] * 19, abs=1e-3)  # spacing kept

    def test_timing_at_speed_and_only_one_party(
        self, server: Any, tmp_path: Path
    ) -> None:
        tokens = self._setup(server)
        rules = tmp_path / "rules.toml"
        rules.write_text(
            'default = "coalition"\n\n[[rules]]\nparty = "russia"\n'
            'icao24 = "140000-157FFF"\n',
            encoding="utf-8",
        )
        truth = _truth("150001", 9) + _truth("AE0001", 9, lat_deg=35.6)
        truth.sort(key=lambda s: s.t_s)
        path = tmp_path / "feed.sbs"
        path.write_text("\n".join(sbs_lines(truth)) + "\n", encoding="utf-8")
        result = _run(
            "replay",
            path,
            "--speed",
            "8",
            "--flush-s",
            "0.05",
            "--to",
            server.url,
            "--token",
            tokens["russia"],
            "--party-rules",
            rules,
            "--party",
            "russia",
        )
        assert result.exit_code == 0, result.output
        assert "not sent: 9 of party coalition (this token posts russia's)" in (
            result.stderr
        )
        played = re.search(r"replayed 9 positions in ([0-9.]+) s", result.stderr)
        assert played is not None and float(played.group(1)) >= 0.45  # never early
        with server.client(tokens["russia"]) as client:
            history = client.get("/v1/tracks/russia/150001").json()
        times = [p["t_s"] for p in history]
        # 4 s of recording at 8 times real time: 0.5 s; positions 0.0625 s apart.
        assert times[-1] - times[0] == pytest.approx(0.5, abs=0.01)

    def test_recorded_times_go_to_history(self, server: Any, tmp_path: Path) -> None:
        tokens = self._setup(server)
        path = _write_sample(tmp_path, "csv")
        result = _run(
            "replay",
            path,
            "--speed",
            "0",
            "--no-retime",
            "--to",
            server.url,
            "--token",
            tokens["coalition"],
            "--run-id",
            "fixed",
        )
        assert result.exit_code == 0, result.output
        again = _run(
            "replay",
            path,
            "--speed",
            "0",
            "--no-retime",
            "--to",
            server.url,
            "--token",
            tokens["coalition"],
            "--run-id",
            "fixed",
        )
        assert again.exit_code == 0
        with server.client(tokens["coalition"]) as client:
            assert client.get("/v1/tracks").json() == []  # 2017 is not live
            history = client.get("/v1/tracks/coalition/4CA2D6").json()
        assert len(history) == 20  # the same run id stored once
        assert history[0]["t_s"] == T0

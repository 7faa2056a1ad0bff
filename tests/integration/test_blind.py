"""Blind detection as deployed: three processes on loopback.

Each run starts ``python -m deconfliction.blind run`` for both parties and the
helper. The tests compare blind with ordinary detection, check what each
participant is shown, and end runs on purpose: a participant killed or frozen in
the middle, one that never comes, one with other parameters.
"""

from __future__ import annotations

import json
import math
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from deconfliction.blind.config import parse_blind_config
from deconfliction.blind.parameters import BlindPlan, make_plan
from deconfliction.cli import blind as blind_cli
from deconfliction.domain import geodesy
from deconfliction.domain.detect import detect_conflicts
from deconfliction.domain.model import AircraftStates, DetectionSettings
from tests.conftest import free_port
from tests.scenarios import CATALOGUE, place
from tests.unit.blind.test_reference import (
    assert_same_answers,
    random_traffic,
    tolerance,
)

HEADER = "id,lat,lon,alt_ft,gs_kt,trk_deg,vs_fpm"
RUN_TIMEOUT_S = 120.0  # a run that does not end by then has hung: fail, do not wait


def _config_text(max_aircraft: int, **extra: float) -> str:
    ports = [free_port() for _ in range(3)]
    keys = "".join(
        f"{k} = {v}\n" for k, v in {"connect_timeout_s": 15, **extra}.items()
    )
    return (
        "[blind]\nreference = [35.0, 39.0]\n"
        f"max_aircraft = {max_aircraft}\n{keys}\n"
        f'[peers]\nblue = "127.0.0.1:{ports[0]}"\nred = "127.0.0.1:{ports[1]}"\n'
        f'helper = "127.0.0.1:{ports[2]}"\n'
    )


def _write_states(path: Path, states: AircraftStates) -> None:
    rows = [HEADER]
    for k in range(len(states)):
        values = (
            states.lat_deg[k],
            states.lon_deg[k],
            states.alt_ft[k],
            states.gs_kt[k],
            states.trk_deg[k],
            states.vs_fpm[k],
        )
        rows.append(",".join([str(states.ids[k]), *(repr(float(v)) for v in values)]))
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


@dataclass
class Participant:
    name: str
    process: subprocess.Popen[str]
    audit: Path

    def wait_for(self, text: str, timeout_s: float = RUN_TIMEOUT_S) -> None:
        """Read stderr until a line contains ``text``."""
        assert self.process.stderr is not None
        selector = selectors.DefaultSelector()
        selector.register(self.process.stderr, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout_s
        seen = []
        while time.monotonic() < deadline:
            if not selector.select(deadline - time.monotonic()):
                break
            line = self.process.stderr.readline()
            if not line:
                break
            seen.append(line)
            if text in line:
                return
        raise AssertionError(f"{self.name} never said {text!r}: {''.join(seen)}")

    def finish(self) -> tuple[int, str, str]:
        out, err = self.process.communicate(timeout=RUN_TIMEOUT_S)
        return self.process.returncode, out, err


@dataclass
class Run:
    plan: BlindPlan
    participants: dict[str, Participant]

    def finish(self) -> dict[str, tuple[int, str, str]]:
        return {name: p.finish() for name, p in self.participants.items()}

    def kill(self) -> None:
        for p in self.participants.values():
            if p.process.poll() is None:
                p.process.kill()
            p.process.communicate(timeout=RUN_TIMEOUT_S)  # reaps, closes the pipes


@pytest.fixture
def runs() -> Iterator[list[Run]]:
    """Started runs; whatever is still running at the end is killed."""
    started: list[Run] = []
    yield started
    for run in started:
        run.kill()


def start(
    runs: list[Run],
    tmp_path: Path,
    config_text: str,
    states: AircraftStates | None,
    only: tuple[str, ...] = ("blue", "red", "helper"),
    configs: dict[str, str] | None = None,
    tls: dict[str, Path] | None = None,
) -> Run:
    """Start the participants (``only``), each with its own aircraft; over TLS
    with ``tls`` (each participant's directory), else plain TCP on loopback."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    plan = make_plan(parse_blind_config(config_text), None)
    participants = {}
    for name in only:
        config = tmp_path / f"{name}.toml"
        config.write_text((configs or {}).get(name, config_text), encoding="utf-8")
        audit = tmp_path / f"{name}.audit.json"
        args = [
            sys.executable,
            "-m",
            "deconfliction.cli.blind",
            "run",
            "--party",
            name,
            "--config",
            str(config),
            "--audit",
            str(audit),
            "--verbose",
            *(["--tls-dir", str(tls[name])] if tls else ["--insecure-loopback"]),
        ]
        if name != "helper":
            own = tmp_path / f"{name}.csv"
            assert states is not None
            _write_states(own, states.take(states.party == name))
            args += ["--states", str(own)]
        process = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "COLUMNS": "200"},
        )
        participants[name] = Participant(name, process, audit)
    run = Run(plan, participants)
    runs.append(run)
    return run


def _blind_pairs(run: Run) -> set[tuple[str, str]]:
    """(blue id, red id) of every conflict, joining both parties' audits."""
    audits = {
        name: json.loads(p.audit.read_text(encoding="utf-8"))
        for name, p in run.participants.items()
    }
    matrix = np.array(audits["blue"]["conflict_matrix"])
    assert np.array_equal(matrix, np.array(audits["red"]["conflict_matrix"]))
    blue, red = audits["blue"]["own_slots"], audits["red"]["own_slots"]
    return {
        (blue[str(i)], red[str(j)]) for i, j in zip(*np.nonzero(matrix), strict=True)
    }


def _traffic(plan: BlindPlan) -> AircraftStates:
    """The catalogue, spread over the frame, plus dense random traffic."""
    parts = []
    for k, encounter in enumerate(CATALOGUE):
        lat, lon = geodesy.destination(35.0, 39.0, k * 30.0, 60.0 + 15.0 * k)
        planes = [
            replace(
                p,
                id=f"{encounter.name}-{p.id}",
                party="blue" if p.id == "A" else "red",
            )
            for p in encounter.planes
        ]
        parts.append(place(planes, float(lat), float(lon), rotation_deg=17.0 * k))
    traffic = random_traffic(3, 14, plan, spread_nm=15.0, centre_nm=50.0)
    parts.append(traffic)
    return AircraftStates(
        *(
            np.concatenate([getattr(s, f) for s in parts])
            for f in AircraftStates.__slots__
        )
    )


class TestThreeProcesses:
    def test_same_answers_and_figures_as_detect(
        self, runs: list[Run], tmp_path: Path
    ) -> None:
        config = _config_text(28)
        plan = make_plan(parse_blind_config(config), None)
        states = _traffic(plan)
        run = start(runs, tmp_path, config, states)
        results = run.finish()
        for name, (code, _, err) in results.items():
            assert code == 0, f"{name}: {err}"
        blind = _blind_pairs(run)
        named = {e.name for e in CATALOGUE if e.expected is not None}
        assert {a.rsplit("-", 1)[0] for a, _ in blind} >= named
        assert_same_answers(states, plan, blind)

        # Each party's report: its own aircraft, the figures of each conflict.
        ordinary = detect_conflicts(states, DetectionSettings(plan.minima, 300.0))
        expected = {
            frozenset((str(states.ids[i]), str(states.ids[j]))): float(d)
            for i, j, d in zip(
                ordinary.a_index, ordinary.b_index, ordinary.dcpa_nm, strict=True
            )
        }
        slots = {
            name: json.loads(p.audit.read_text(encoding="utf-8"))["own_slots"]
            for name, p in run.participants.items()
            if name != "helper"
        }
        dh_nm, _ = tolerance(plan)
        q_nm = plan.horizontal_quantum_m / 1852
        checked = 0
        for name, other in (("blue", "red"), ("red", "blue")):
            report = json.loads(results[name][1])
            own = {str(i) for i in states.ids[states.party == name]}
            assert {r["id"] for r in report["aircraft"]} == own
            mine = {(a if name == "blue" else b) for a, b in blind}
            assert {r["id"] for r in report["aircraft"] if r["in_conflict"]} == mine
            for record in report["aircraft"]:
                for conflict in record["conflicts"]:
                    label, slot = conflict["other"].split("#")
                    assert label == other
                    pair = frozenset((record["id"], slots[other][slot]))
                    assert 0.0 <= conflict["tcpa_s"] <= 300.0
                    if pair in expected:
                        checked += 1
                        # The inputs' rounding, then the output's (one unit).
                        assert conflict["dcpa_nm"] == pytest.approx(
                            expected[pair], abs=dh_nm + math.sqrt(2) * q_nm
                        )
        assert checked >= 2 * len(named)

    def test_views_hold_nothing_but_the_outputs(
        self, runs: list[Run], tmp_path: Path
    ) -> None:
        """Blue's view is the same whatever red flies that conflicts with nothing."""
        config = _config_text(6)
        plan = make_plan(parse_blind_config(config), None)
        head_on = next(e for e in CATALOGUE if e.name == "head-on")
        planes = [
            replace(p, party="blue" if p.id == "A" else "red") for p in head_on.planes
        ]
        base = place(planes, 35.0, 39.0)
        quiet = [
            AircraftStates.from_columns(
                [f"R{k}" for k in range(n)],
                [35.5 + 0.2 * k for k in range(n)],
                [40.0 + shift] * n,
                [30000.0 + 3000 * k for k in range(n)],
                [420.0] * n,
                [180.0] * n,
                [0.0] * n,
                party=["red"] * n,
            )
            for n, shift in ((1, 0.0), (4, 0.5))
        ]
        reports, audits = [], []
        for k, extra in enumerate(quiet):
            states = AircraftStates(
                *(
                    np.concatenate([getattr(base, f), getattr(extra, f)])
                    for f in AircraftStates.__slots__
                )
            )
            run = start(runs, tmp_path / f"run{k}", config, states)
            results = run.finish()
            assert all(code == 0 for code, _, _ in results.values()), results
            reports.append(results)
            audits.append(
                {
                    name: json.loads(p.audit.read_text(encoding="utf-8"))
                    for name, p in run.participants.items()
                }
            )
        for results, audit in zip(reports, audits, strict=True):
            helper = audit["helper"]
            assert helper["conflict_matrix"] is None and helper["figures"] is None
            assert json.loads(results["helper"][1])["aircraft"] == []
            blue = audit["blue"]
            matrix = np.array(blue["conflict_matrix"])
            assert matrix.shape == (plan.max_aircraft, plan.max_aircraft)
            assert set(np.unique(matrix)) <= {0, 1} and matrix.sum() == 1
            figures = np.array(blue["figures"])
            assert figures.shape == (plan.max_conflicts, 3)
            assert not figures[1:].any()  # padding rows select nothing
            # Red's ids appear nowhere in what blue was shown or printed.
            blue_text = results["blue"][1] + results["blue"][2] + json.dumps(blue)
            assert "R0" not in blue_text and "head-on" not in blue_text
            assert "B" not in {
                r["id"] for r in json.loads(results["blue"][1])["aircraft"]
            }
        first, second = (json.loads(r["blue"][1])["aircraft"] for r in reports)
        assert [a["id"] for a in first] == [a["id"] for a in second] == ["A"]
        (c1,), (c2,) = first[0]["conflicts"], second[0]["conflicts"]
        q_nm = plan.horizontal_quantum_m / 1852
        assert c1["tcpa_s"] == c2["tcpa_s"]
        assert c1["dcpa_nm"] == pytest.approx(c2["dcpa_nm"], abs=1.5 * q_nm)

    def test_a_peer_killed_mid_computation(
        self, runs: list[Run], tmp_path: Path
    ) -> None:
        config = _config_text(40)
        plan = make_plan(parse_blind_config(config), None)
        states = random_traffic(5, 30, plan)
        run = start(runs, tmp_path, config, states)
        red = run.participants["red"]
        red.wait_for("phase 1")
        red.process.send_signal(signal.SIGKILL)
        errors = []
        for name in ("blue", "helper"):
            code, out, err = run.participants[name].finish()
            assert code == blind_cli.EXIT_PEER_FAILURE, err
            # Each reports the first peer it lost: red, or a survivor that
            # stopped on losing red first.
            assert "disconnected during the computation" in err
            assert "Traceback" not in err and out == ""
            errors.append(err)
        assert any("red (127.0.0.1:" in e for e in errors), errors

    def test_a_frozen_peer_times_out(self, runs: list[Run], tmp_path: Path) -> None:
        config = _config_text(40, idle_timeout_s=2)
        plan = make_plan(parse_blind_config(config), None)
        states = random_traffic(6, 30, plan)
        run = start(runs, tmp_path, config, states)
        blue = run.participants["blue"]
        blue.wait_for("phase 1")
        blue.process.send_signal(signal.SIGSTOP)
        errors = []
        try:
            for name in ("red", "helper"):
                code, out, err = run.participants[name].finish()
                assert code == blind_cli.EXIT_PEER_FAILURE, err
                assert out == "" and "Traceback" not in err
                errors.append(err)
        finally:
            blue.process.kill()
        # The first to time out leaves, and the other may see that first and name
        # it instead of the frozen one (which of the two comes first depends on the
        # machine's load): each names a peer that failed.
        assert all("sent nothing" in e or "disconnected" in e for e in errors)
        assert all("(127.0.0.1:" in e for e in errors)

    def test_nobody_comes(self, runs: list[Run], tmp_path: Path) -> None:
        config = _config_text(2, connect_timeout_s=1)
        run = start(runs, tmp_path, config, None, only=("helper",))
        code, _, err = run.participants["helper"].finish()
        assert code == blind_cli.EXIT_PEER_FAILURE
        assert "did not connect within 1 s" in err
        assert "blue (127.0.0.1:" in err and "red (127.0.0.1:" in err

    def test_other_parameters_are_refused(
        self, runs: list[Run], tmp_path: Path
    ) -> None:
        config = _config_text(2)
        other = config.replace(
            "max_aircraft = 2", "max_aircraft = 2\nmax_conflicts = 1"
        )
        states = place(
            [
                replace(p, party="blue" if p.id == "A" else "red")
                for p in CATALOGUE[0].planes
            ]
        )
        run = start(runs, tmp_path, config, states, configs={"red": other})
        for name, (code, out, err) in run.finish().items():
            assert code == 2, f"{name}: {err}"
            assert "run with other public parameters" in err
            assert out == ""


def _app() -> typer.Typer:
    app = typer.Typer()
    blind_cli.register(app)

    @app.callback()
    def _root() -> None:  # keeps "blind" a group, as in the real app
        pass

    return app


class TestBlindCommand:
    @pytest.fixture
    def config(self, tmp_path: Path) -> Path:
        path = tmp_path / "blind.toml"
        path.write_text(_config_text(4), encoding="utf-8")
        return path

    def test_plan(self, config: Path) -> None:
        result = CliRunner().invoke(_app(), ["blind", "plan", "--config", str(config)])
        assert result.exit_code == 0, result.output
        described = json.loads(result.stdout)
        assert described["participants"] == ["blue", "red", "helper"]
        assert described["precision"]["altitude_quantum_ft"] == 25.0
        assert described["comparison_bits"]["per_pair"] > 100

    def test_the_helper_has_no_states(self, config: Path, tmp_path: Path) -> None:
        states = tmp_path / "s.csv"
        states.write_text(f"{HEADER}\nA,35,39,20000,400,90,0\n", encoding="utf-8")
        result = CliRunner().invoke(
            _app(),
            [
                "blind",
                "run",
                "--party",
                "helper",
                "--config",
                str(config),
                "--states",
                str(states),
            ],
        )
        assert result.exit_code == 2
        assert "the helper has no states" in result.stderr

    def test_a_party_needs_its_states(self, config: Path) -> None:
        result = CliRunner().invoke(
            _app(), ["blind", "run", "--party", "blue", "--config", str(config)]
        )
        assert result.exit_code == 2
        assert "blue needs its states" in result.stderr

    def test_unknown_participant(self, config: Path) -> None:
        result = CliRunner().invoke(
            _app(), ["blind", "run", "--party", "green", "--config", str(config)]
        )
        assert result.exit_code == 2
        assert "'green' is not a participant" in result.stderr

    def test_someone_elses_aircraft(self, config: Path, tmp_path: Path) -> None:
        states = tmp_path / "s.csv"
        states.write_text(
            f"{HEADER},party\nA,35,39,20000,400,90,0,blue\nB,35,39.1,20000,400,90,0,red\n",
            encoding="utf-8",
        )
        result = CliRunner().invoke(
            _app(),
            [
                "blind",
                "run",
                "--party",
                "blue",
                "--config",
                str(config),
                "--states",
                str(states),
            ],
        )
        assert result.exit_code == 2
        assert "only blue's own aircraft belong here, found red" in result.stderr

    def test_aircraft_outside_the_frame(self, config: Path, tmp_path: Path) -> None:
        states = tmp_path / "s.csv"
        states.write_text(f"{HEADER}\nFAR,45,39,20000,400,90,0\n", encoding="utf-8")
        result = CliRunner().invoke(
            _app(),
            [
                "blind",
                "run",
                "--party",
                "blue",
                "--config",
                str(config),
                "--states",
                str(states),
                "--insecure-loopback",
            ],
        )
        assert result.exit_code == 2
        assert (
            "aircraft FAR:" in result.stderr
            and "NM from the reference" in result.stderr
        )
        assert "Traceback" not in result.output

    def test_bad_config(self, tmp_path: Path) -> None:
        bad = tmp_path / "bad.toml"
        bad.write_text("[blind]\nmax_aircraft = -1\n", encoding="utf-8")
        result = CliRunner().invoke(_app(), ["blind", "plan", "--config", str(bad)])
        assert result.exit_code == 2
        assert f"{bad}:2: blind.max_aircraft:" in result.stderr


def _make_keys(directory: Path, name: str) -> str:
    """``blind keys`` for ``name`` into ``directory``; its fingerprint."""
    result = CliRunner().invoke(
        _app(), ["blind", "keys", "--party", name, "--dir", str(directory)]
    )
    assert result.exit_code == 0, result.output
    label, fingerprint = result.stdout.strip().split(" = ")
    assert label == name
    return json.loads(fingerprint)


def _tls_dirs(tmp_path: Path, names: tuple[str, ...]) -> tuple[dict[str, Path], str]:
    """Each participant's TLS directory (its key, the three certificates) and the
    ``[pins]`` table naming them."""
    made = tmp_path / "made"
    pins = {name: _make_keys(made / name, name) for name in names}
    dirs = {}
    for name in names:
        own = tmp_path / "tls" / name
        own.mkdir(parents=True)
        for other in names:
            crt = f"{other}.crt"
            (own / crt).write_bytes((made / other / crt).read_bytes())
        (own / f"{name}.key").write_bytes((made / name / f"{name}.key").read_bytes())
        dirs[name] = own
    table = "".join(f'{n} = "{f}"\n' for n, f in pins.items())
    return dirs, "\n[pins]\n" + table


class TestTls:
    def test_same_conflicts_over_pinned_tls(
        self, runs: list[Run], tmp_path: Path
    ) -> None:
        dirs, pins = _tls_dirs(tmp_path, ("blue", "red", "helper"))
        config = _config_text(28) + pins
        plan = make_plan(parse_blind_config(config), None)
        assert plan.pins is not None
        states = _traffic(plan)
        run = start(runs, tmp_path, config, states, tls=dirs)
        for name, (code, _, err) in run.finish().items():
            assert code == 0, f"{name}: {err}"
        assert_same_answers(states, plan, _blind_pairs(run))

    def test_a_certificate_not_pinned_is_refused(
        self, runs: list[Run], tmp_path: Path
    ) -> None:
        dirs, pins = _tls_dirs(tmp_path, ("blue", "red", "helper"))
        config = _config_text(2, connect_timeout_s=5) + pins
        # An impostor helper: its own key, and a blind.toml pinning it.
        impostor = tmp_path / "impostor"
        forged = _make_keys(impostor, "helper")
        for other in ("blue", "red"):
            crt = f"{other}.crt"
            (impostor / crt).write_bytes((dirs[other] / crt).read_bytes())
        genuine = parse_blind_config(config).pins
        assert genuine is not None
        forged_config = config.replace(genuine[2], forged)
        states = place(
            [
                replace(p, party="blue" if p.id == "A" else "red")
                for p in CATALOGUE[0].planes
            ]
        )
        run = start(
            runs,
            tmp_path,
            config,
            states,
            configs={"helper": forged_config},
            tls={**dirs, "helper": impostor},
        )
        results = run.finish()
        # Blue and red both dial the helper; whichever reaches it first refuses
        # it by name, the other may find that one gone first.
        refusal = (
            f"helper (127.0.0.1:{run.plan.ports[2]}) presented certificate "
            f"{forged}, not the pinned {genuine[2]}: refused"
        )
        assert any(refusal in err for _, _, err in results.values()), results
        for name, (code, out, err) in results.items():
            assert code == blind_cli.EXIT_PEER_FAILURE, f"{name}: {err}"
            assert "parameters agree" not in err  # nothing computed
            assert out == ""

    def test_plain_tcp_needs_asking_and_loopback(self, tmp_path: Path) -> None:
        config = tmp_path / "blind.toml"
        text = _config_text(2)
        config.write_text(text, encoding="utf-8")
        states = tmp_path / "s.csv"
        states.write_text(f"{HEADER}\nA,35,39,20000,400,90,0\n", encoding="utf-8")
        args = ["blind", "run", "--party", "blue", "--config", str(config)]
        args += ["--states", str(states)]
        result = CliRunner().invoke(_app(), args)
        assert result.exit_code == 2
        assert "the links need TLS: give --tls-dir" in result.stderr
        config.write_text(text.replace('red = "127.0.0.1', 'red = "10.1.2.3'))
        result = CliRunner().invoke(_app(), [*args, "--insecure-loopback"])
        assert result.exit_code == 2
        assert "plain TCP only on loopback; 10.1.2.3:" in result.stderr

    def test_tls_dir_needs_pins(self, tmp_path: Path) -> None:
        dirs, _ = _tls_dirs(tmp_path, ("blue", "red", "helper"))
        config = tmp_path / "blind.toml"
        config.write_text(_config_text(2), encoding="utf-8")
        states = tmp_path / "s.csv"
        states.write_text(f"{HEADER}\nA,35,39,20000,400,90,0\n", encoding="utf-8")
        result = CliRunner().invoke(
            _app(),
            [
                "blind",
                "run",
                "--party",
                "blue",
                "--config",
                str(config),
                "--states",
                str(states),
                "--tls-dir",
                str(dirs["blue"]),
            ],
        )
        assert result.exit_code == 2
        assert "pins: --tls-dir needs [pins]" in result.stderr

    def test_keys_are_never_overwritten(self, tmp_path: Path) -> None:
        _make_keys(tmp_path, "blue")
        result = CliRunner().invoke(
            _app(), ["blind", "keys", "--party", "blue", "--dir", str(tmp_path)]
        )
        assert result.exit_code == 2
        assert "exists already; not overwritten" in result.stderr
        assert (tmp_path / "blue.key").stat().st_mode & 0o077 == 0


class TestPeersInTheProtocol:
    def test_the_protocol_file_names_the_peers(self, tmp_path: Path) -> None:
        from deconfliction.adapters.protocol_file import builtin_protocol_path
        from tests.scenarios import Plane, place

        ports = [free_port() for _ in range(3)]
        protocol = tmp_path / "agreement.toml"
        protocol.write_text(
            builtin_protocol_path("euphrates-2017").read_text(encoding="utf-8")
            + "\n[blind]\nmax_aircraft = 3\nconnect_timeout_s = 15\n"
            + f'\n[peers]\ncoalition = "127.0.0.1:{ports[0]}"\n'
            + f'russia = "127.0.0.1:{ports[1]}"\nhelper = "127.0.0.1:{ports[2]}"\n',
            encoding="utf-8",
        )
        states = place(
            [
                Plane("VIPER11", -20, 0, 25000, 480, 0, party="coalition"),
                Plane("RF93", 20, 0, 25000, -480, 0, party="russia"),
            ],
            center_lat_deg=35.5,
            center_lon_deg=39.5,
        )
        processes = {}
        for name in ("coalition", "russia", "helper"):
            args = [
                sys.executable,
                "-m",
                "deconfliction.cli.blind",
                "run",
                "--party",
                name,
                "--protocol",
                str(protocol),
                "--insecure-loopback",
            ]
            if name != "helper":
                own = tmp_path / f"{name}.csv"
                _write_states(own, states.take(states.party == name))
                args += ["--states", str(own)]
            processes[name] = subprocess.Popen(
                args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
        try:
            outputs = {
                n: p.communicate(timeout=RUN_TIMEOUT_S) for n, p in processes.items()
            }
        finally:
            for p in processes.values():
                p.kill()
        for name, p in processes.items():
            assert p.returncode == 0, f"{name}: {outputs[name][1]}"
        for name, ident in (("coalition", "VIPER11"), ("russia", "RF93")):
            report = json.loads(outputs[name][0])
            (record,) = report["aircraft"]
            assert record["id"] == ident and record["in_conflict"] is True
            assert record["conflicts"][0]["tcpa_s"] == pytest.approx(150.0, abs=1.0)

"""``deconfliction demo --federated``: a federation on loopback, run as users would.

Each party gets its own node (``node init``, ``party add --node``, ``serve --node``
as separate processes, each with its own SQLite store in its own directory), plus a
referee when the protocol's sharing is ``conflicts``; the coalition's officer
proposes the protocol naming the nodes, Russia's officer accepts it on Russia's
node; then a window of the Euphrates scenario (simulated as ``deconfliction demo``
does) is flown with each party's traffic posted to its own node only, retimed to
now and played ``speed`` times faster than it was flown. Meanwhile each node's
officer's alerts are read; at the end the alerts are matched across the nodes
(the other aircraft of an alert is reduced to its point of closest approach below
``full``: the two views of one conflict are matched by those points) and each
node's database file is searched byte for byte for the other party's aircraft ids.

Every process started here is stopped when the run ends, fails or is interrupted
(SIGTERM, then SIGKILL after :data:`STOP_TIMEOUT_S`).
"""

from __future__ import annotations

import contextlib
import functools
import re
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import numpy as np

from deconfliction.cli._common import stage_bars
from deconfliction.domain.geodesy import geodesic_distance_nm
from deconfliction.errors import DeconflictionError
from deconfliction.scenario.traffic import Traffic

if TYPE_CHECKING:
    from rich.console import Console

    from deconfliction.analysis.demo import DemoConfig
    from deconfliction.domain.protocol import Protocol

PARTIES: tuple[str, str] = ("coalition", "russia")
REFEREE: str = "referee"
START_TIMEOUT_S: float = 90.0
"""How long a node may take to answer /healthz after it was started."""
AGREE_TIMEOUT_S: float = 60.0
"""How long the protocol may take to be in effect and the links to come up."""
STOP_TIMEOUT_S: float = 15.0
LEAD_S: float = 60.0
"""The window starts this long before the first planned close encounter."""
SETTLE_S: float = 10.0
"""After the window, how long (wall) alerts on one node may wait for their twin."""
MATCH_NM: float = 5.0
"""Two views of one alert: their points of closest approach within this."""
POLL_EVERY_S: float = 0.5
REFEREE_WINDOW_S: float = 60.0
"""The referee's window in the demo's protocol: the longest it holds a picture."""

Progress = Callable[[str, float, float], None]
"""Called as ``progress(stage, done, total)``: see :data:`STAGE_NAMES`."""
STAGE_NAMES: tuple[str, ...] = ("nodes", "agree", "fly", "settle")


class FederatedDemoError(DeconflictionError):
    """The federated demo could not run (a node did not start, no agreement)."""


@dataclass
class DemoNode:
    """One party's node: its directory, port, officer's token and process."""

    party: str
    dir: Path
    port: int
    fingerprint: str = ""
    token: str = ""
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def database_path(self) -> Path:
        return self.dir / "node.db"

    @property
    def log_path(self) -> Path:
        return self.dir / "serve.log"

    def trust(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.dir / "tls" / "node.pem"))

    def officer(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {self.token}"},
            verify=self.trust(),
            timeout=30.0,
        )

    def database_bytes(self) -> bytes:
        """The store's file and its journals, byte for byte."""
        path = self.database_path
        return b"".join(
            p.read_bytes()
            for p in (path, Path(f"{path}-wal"), Path(f"{path}-journal"))
            if p.exists()
        )


@dataclass
class SeenAlert:
    """An alert as a node's officer saw it, the first time and the last."""

    node: str
    alert_id: str
    own_id: str
    other_party: str
    first_seen_s: float  # wall seconds since the flight started
    last: dict[str, Any] = field(default_factory=dict)

    def own_side(self) -> dict[str, Any]:
        return next(s for s in self.last["aircraft"] if s.get("party") == self.node)

    def other_side(self) -> dict[str, Any]:
        return next(s for s in self.last["aircraft"] if s.get("party") != self.node)


@dataclass(frozen=True)
class AlertRow:
    """One conflict and where it was seen: by each node's officer (or not)."""

    coalition: SeenAlert | None
    russia: SeenAlert | None

    @property
    def seen(self) -> tuple[SeenAlert, ...]:
        return tuple(a for a in (self.coalition, self.russia) if a is not None)


@dataclass(frozen=True)
class Holding:
    """What one node's store holds of the other party's aircraft."""

    node: str
    other: str
    flown: tuple[str, ...]  # the other party's aircraft flown in the window
    in_conflict: tuple[str, ...]  # of those, in an alert on the other's node
    found: tuple[str, ...]  # of the flown, the ids found in this node's database

    @property
    def leaked(self) -> tuple[str, ...]:
        """Found here, though not in conflict."""
        return tuple(i for i in self.found if i not in self.in_conflict)


@dataclass
class FederatedResult:
    """What the run saw."""

    sharing: str
    window_start_t_s: float
    window_s: float
    speed: float
    posted: dict[str, tuple[int, int]]  # party -> (aircraft, positions)
    rows: list[AlertRow]
    holdings: list[Holding]
    nodes_dir: Path


def executable() -> list[str]:
    """How to run ``deconfliction`` (the script next to this Python, else PATH)."""
    beside = Path(sys.executable).parent / "deconfliction"
    if beside.exists():
        return [str(beside)]
    return [sys.executable, "-c", "from deconfliction.cli.app import main; main()"]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_cli(*args: str) -> str:
    done = subprocess.run(
        [*executable(), *args], capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise FederatedDemoError(
            f"deconfliction {' '.join(args[:2])} exited {done.returncode}: "
            f"{done.stderr.strip()[-500:]}"
        )
    return done.stdout.strip()


def protocol_text(source: str, sharing: str | None, nodes: list[DemoNode]) -> str:
    """The protocol's TOML text (a file, or a shipped one) with its sharing set
    and ``[nodes.P]`` for each node (the referee's with ``window_s``)."""
    from deconfliction.adapters.protocol_file import builtin_protocol_path

    path = Path(source) if Path(source).exists() else builtin_protocol_path(source)
    text = path.read_text(encoding="utf-8")
    if sharing is not None:
        text = re.sub(
            r'^sharing = "[a-z]+"', f'sharing = "{sharing}"', text, count=1, flags=re.M
        )
    for node in nodes:
        text += (
            f'\n[nodes.{node.party}]\nurl = "{node.url}"\n'
            f'fingerprint = "{node.fingerprint}"\n'
        )
        if node.party == REFEREE:
            text += f"window_s = {REFEREE_WINDOW_S:g}\n"
    return text


def choose_window(traffic: Traffic, minutes: float) -> tuple[float, float]:
    """The window flown: from :data:`LEAD_S` before the first planned close
    encounter (the start of the traffic without one), ``minutes`` long, within
    the traffic."""
    first = min((e.t_s for e in traffic.encounters), default=None)
    begin = float(traffic.step_t_s[0])
    end = float(traffic.step_t_s[-1])
    start = begin if first is None else max(begin, first - LEAD_S)
    return start, min(end, start + minutes * 60.0)


def rows_at(
    traffic: Traffic, step: int, party: str, t_sent_s: float
) -> list[dict[str, Any]]:
    """The party's positions of step ``step`` as a track batch's rows, timed
    ``t_sent_s``."""
    lo, hi = int(traffic.step_offsets[step]), int(traffic.step_offsets[step + 1])
    mine = np.flatnonzero(traffic.party[lo:hi] == party) + lo
    return [
        {
            "id": str(traffic.ids[i]),
            "time": t_sent_s,
            "lat": float(traffic.lat_deg[i]),
            "lon": float(traffic.lon_deg[i]),
            "alt_ft": float(traffic.alt_ft[i]),
            "gs_kt": float(traffic.gs_kt[i]),
            "trk_deg": float(traffic.trk_deg[i]),
            "vs_fpm": float(traffic.vs_fpm[i]),
        }
        for i in mine
    ]


class Federation:
    """The nodes' processes; a context manager that stops every one on exit."""

    def __init__(self, nodes_dir: Path, parties: list[str], interval_s: float):
        self.nodes_dir = nodes_dir
        self.interval_s = interval_s
        self.nodes = {
            p: DemoNode(party=p, dir=nodes_dir / f"node-{p}", port=free_port())
            for p in parties
        }

    def __enter__(self) -> Federation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def make(self) -> None:
        """``node init`` and ``party add --node`` for each node, as an operator."""
        for node in self.nodes.values():
            node.fingerprint = _run_cli(
                "node", "init", "--party", node.party, "--dir", str(node.dir)
            )
            node.token = _run_cli(
                "party", "add", node.party, "--role", "officer", "--node", str(node.dir)
            )

    def start(self, progress: Progress) -> None:
        """``serve --node`` for each node; wait until each answers /healthz."""
        for node in self.nodes.values():
            log = node.log_path.open("ab")
            try:
                node.process = subprocess.Popen(
                    [
                        *executable(),
                        "serve",
                        "--node",
                        str(node.dir),
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(node.port),
                        "--detection-interval-s",
                        str(self.interval_s),
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,  # Ctrl-C reaches us; we stop them
                )
            finally:
                log.close()
        for done, node in enumerate(self.nodes.values()):
            self._wait_healthy(node)
            progress("nodes", done + 1, len(self.nodes))

    def _wait_healthy(self, node: DemoNode) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert node.process is not None
            if node.process.poll() is not None:
                raise FederatedDemoError(
                    f"{node.party}'s node exited with {node.process.returncode}; "
                    f"see {node.log_path}"
                )
            with contextlib.suppress(httpx.HTTPError):
                answer = httpx.get(
                    f"{node.url}/healthz", verify=node.trust(), timeout=2
                )
                if answer.status_code in (200, 503):
                    return
            time.sleep(0.2)
        raise FederatedDemoError(
            f"{node.party}'s node did not answer within {START_TIMEOUT_S:g} s; "
            f"see {node.log_path}"
        )

    def stop(self) -> None:
        """SIGTERM to every node, then SIGKILL to those still running."""
        running = [n for n in self.nodes.values() if n.process is not None]
        for node in running:
            assert node.process is not None
            if node.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    node.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for node in running:
            assert node.process is not None
            try:
                node.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                node.process.kill()
                node.process.wait(timeout=STOP_TIMEOUT_S)
            node.process = None

    def agree(self, text: str, version: str, progress: Progress) -> None:
        """The coalition proposes ``text`` on its node; Russia's officer accepts
        it on Russia's; wait until it is in effect everywhere and every link is up."""
        coalition, russia = self.nodes["coalition"], self.nodes["russia"]
        with coalition.officer() as officer:
            answer = officer.post(
                "/v1/protocols",
                content=text,
                headers={"Content-Type": "application/toml"},
            )
        if answer.status_code != 201:
            raise FederatedDemoError(f"the proposal was refused: {answer.text}")
        path = f"/v1/protocols/{version}"
        progress("agree", 1, 3)
        _wait("the offer on russia's node", lambda: _get(russia, "/v1/protocols"))
        with russia.officer() as officer:
            accepted = officer.post(f"{path}/accept")
        if accepted.status_code != 200:
            raise FederatedDemoError(f"russia's acceptance failed: {accepted.text}")
        progress("agree", 2, 3)
        for node in (coalition, russia):  # a referee accepts nothing: it checks
            _wait(
                f"the protocol in effect on {node.party}'s node",
                functools.partial(_in_effect, node),
            )
        for node in self.nodes.values():
            for peer in self.nodes:
                if peer != node.party:
                    _wait(
                        f"{node.party}'s link to {peer}",
                        functools.partial(_link_up, node, peer),
                    )
        progress("agree", 3, 3)


def _get(node: DemoNode, path: str) -> Any:
    with contextlib.suppress(httpx.HTTPError), node.officer() as officer:
        answer = officer.get(path)
        if answer.status_code == 200:
            return answer.json()
    return None


def _in_effect(node: DemoNode) -> bool:
    versions = _get(node, "/v1/protocols") or []
    return any(v.get("status") == "in_effect" for v in versions)


def _link_up(node: DemoNode, peer: str) -> bool:
    links = _get(node, "/v1/federation/links") or []
    return any(link["party"] == peer and link["status"] == "up" for link in links)


def _wait(what: str, check: Callable[[], Any]) -> Any:
    deadline = time.monotonic() + AGREE_TIMEOUT_S
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise FederatedDemoError(f"{what}: not within {AGREE_TIMEOUT_S:g} s")


class AlertWatch:
    """Every node's officer's active cross-party alerts, first seen and latest."""

    def __init__(self, nodes: list[DemoNode]) -> None:
        self.nodes = nodes
        self.seen: dict[tuple[str, str], SeenAlert] = {}

    def poll(self, elapsed_s: float) -> None:
        for node in self.nodes:
            for alert in _get(node, "/v1/alerts") or []:
                sides = alert.get("aircraft") or []
                own = [s for s in sides if s.get("party") == node.party]
                other = [s for s in sides if s.get("party") != node.party]
                if not own or not other:
                    continue  # one party's own two aircraft: not the federation's
                key = (node.party, str(alert["id"]))
                if key not in self.seen:
                    self.seen[key] = SeenAlert(
                        node=node.party,
                        alert_id=str(alert["id"]),
                        own_id=str(own[0].get("id")),
                        other_party=str(other[0]["party"]),
                        first_seen_s=elapsed_s,
                    )
                self.seen[key].last = alert

    def rows(self) -> list[AlertRow]:
        """The alerts of both nodes, each conflict once: a coalition alert and a
        Russian one are the same conflict when each one's own aircraft's point of
        closest approach is where the other shows its other aircraft."""
        coalition = [a for a in self.seen.values() if a.node == "coalition"]
        russia = [a for a in self.seen.values() if a.node == "russia"]
        rows: list[AlertRow] = []
        unmatched = list(russia)
        for c in sorted(coalition, key=lambda a: a.first_seen_s):
            twin = next((r for r in unmatched if _same_conflict(c, r)), None)
            if twin is not None:
                unmatched.remove(twin)
            rows.append(AlertRow(coalition=c, russia=twin))
        rows += [AlertRow(coalition=None, russia=r) for r in unmatched]
        return sorted(rows, key=lambda row: min(a.first_seen_s for a in row.seen))


def _point(side: dict[str, Any]) -> tuple[float, float] | None:
    cpa = side.get("cpa") or {}
    lat, lon = cpa.get("lat_deg"), cpa.get("lon_deg")
    if isinstance(lat, int | float) and isinstance(lon, int | float):
        return float(lat), float(lon)
    return None


def _near(a: tuple[float, float] | None, b: tuple[float, float] | None) -> bool:
    if a is None or b is None:
        return False
    distance = geodesic_distance_nm(a[0], a[1], b[0], b[1])
    return bool(np.all(np.asarray(distance) <= MATCH_NM))


def _same_conflict(c: SeenAlert, r: SeenAlert) -> bool:
    if c.other_party != "russia" or r.other_party != "coalition":
        return False
    other_c, other_r = c.other_side(), r.other_side()
    if other_c.get("id") and other_r.get("id"):  # full: the ids are shown
        return bool(other_c["id"] == r.own_id and other_r["id"] == c.own_id)
    return _near(_point(c.own_side()), _point(other_r)) and _near(
        _point(r.own_side()), _point(other_c)
    )


@dataclass(frozen=True)
class FlyPlan:
    """What to fly: the traffic, the window and how fast."""

    traffic: Traffic
    start_t_s: float
    end_t_s: float
    speed: float


def fly(
    federation: Federation,
    plan: FlyPlan,
    watch: AlertWatch,
    progress: Progress,
) -> tuple[dict[str, tuple[int, int]], dict[str, set[str]]]:
    """Post each party's positions of the window to its own node when due (retimed
    to now), reading the alerts between posts; then let the alerts settle."""
    traffic = plan.traffic
    steps = np.flatnonzero(
        (traffic.step_t_s >= plan.start_t_s) & (traffic.step_t_s <= plan.end_t_s)
    )
    clients = {p: federation.nodes[p].officer() for p in PARTIES}
    aircraft: dict[str, set[str]] = {p: set() for p in PARTIES}
    positions = dict.fromkeys(PARTIES, 0)
    started = time.monotonic()
    wall0 = time.time()
    next_poll = 0.0
    window_s = plan.end_t_s - plan.start_t_s
    try:
        for step in steps:
            due_s = (float(traffic.step_t_s[step]) - plan.start_t_s) / plan.speed
            while (now := time.monotonic() - started) < due_s:
                if now >= next_poll:
                    watch.poll(now)
                    next_poll = now + POLL_EVERY_S
                time.sleep(min(0.05, max(0.0, due_s - now)))
            t_sent_s = wall0 + due_s
            for party in PARTIES:
                rows = rows_at(traffic, int(step), party, t_sent_s)
                if not rows:
                    continue
                answer = clients[party].post(
                    "/v1/tracks",
                    json={"batch_id": f"fdemo-{party}-{step}", "positions": rows},
                )
                if answer.status_code != 201:
                    raise FederatedDemoError(
                        f"{party}'s node refused its positions: {answer.text[:300]}"
                    )
                aircraft[party].update(r["id"] for r in rows)
                positions[party] += len(rows)
            progress(
                "fly", float(traffic.step_t_s[step]) - plan.start_t_s, max(window_s, 1)
            )
        settle_until = time.monotonic() + SETTLE_S
        while time.monotonic() < settle_until:
            now = time.monotonic() - started
            watch.poll(now)
            rows_ = watch.rows()
            progress("settle", SETTLE_S - (settle_until - time.monotonic()), SETTLE_S)
            if rows_ and all(r.coalition and r.russia for r in rows_):
                # Every conflict is on both nodes: one more round, then stop.
                time.sleep(federation.interval_s)
                watch.poll(time.monotonic() - started)
                break
            time.sleep(POLL_EVERY_S)
        progress("settle", SETTLE_S, SETTLE_S)
    finally:
        for client in clients.values():
            client.close()
    return {p: (len(aircraft[p]), positions[p]) for p in PARTIES}, aircraft


def holdings(
    federation: Federation, flown: dict[str, set[str]], rows: list[AlertRow]
) -> list[Holding]:
    """For each party's node: which of the other party's flown aircraft its
    database file holds, and which of those are in conflict (in an alert of the
    other party's own node)."""
    in_conflict = {
        p: {a.own_id for row in rows for a in row.seen if a.node == p} for p in PARTIES
    }
    out = []
    for party in PARTIES:
        other = next(p for p in PARTIES if p != party)
        data = federation.nodes[party].database_bytes()
        ids = sorted(flown[other])
        out.append(
            Holding(
                node=party,
                other=other,
                flown=tuple(ids),
                in_conflict=tuple(sorted(in_conflict[other] & set(ids))),
                found=tuple(i for i in ids if i.encode() in data),
            )
        )
    return out


@contextlib.contextmanager
def nodes_directory(keep: Path | None) -> Iterator[Path]:
    """``keep`` (created), or a temporary directory removed afterwards."""
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    import tempfile

    with tempfile.TemporaryDirectory(prefix="deconfliction-federation-") as tmp:
        yield Path(tmp)


def run(
    *,
    protocol: str,
    sharing: str | None,
    traffic: Traffic,
    minutes: float,
    speed: float,
    interval_s: float,
    keep: Path | None,
    progress: Progress,
) -> FederatedResult:
    """The whole run; every node stopped at the end (also on failure or Ctrl-C)."""
    from deconfliction.adapters.protocol_file import resolve_protocol

    loaded = resolve_protocol(protocol)
    level = sharing or loaded.sharing.value
    parties = [*PARTIES, *([REFEREE] if level == "conflicts" else [])]
    start_t_s, end_t_s = choose_window(traffic, minutes)
    with (
        nodes_directory(keep) as nodes_dir,
        Federation(nodes_dir, parties, interval_s) as federation,
    ):
        federation.make()
        federation.start(progress)
        text = protocol_text(protocol, sharing, list(federation.nodes.values()))
        federation.agree(text, f"{loaded.id}/versions/{loaded.version}", progress)
        watch = AlertWatch([federation.nodes[p] for p in PARTIES])
        posted, flown = fly(
            federation, FlyPlan(traffic, start_t_s, end_t_s, speed), watch, progress
        )
        rows = watch.rows()
        federation.stop()  # the stores' files as they are left
        held = holdings(federation, flown, rows)
        return FederatedResult(
            sharing=level,
            window_start_t_s=start_t_s,
            window_s=end_t_s - start_t_s,
            speed=speed,
            posted=posted,
            rows=rows,
            holdings=held,
            nodes_dir=nodes_dir,
        )


# ---------------------------------------------------------------- the shell's part

_STAGES: dict[str, str] = {
    "nodes": "Starting the nodes",
    "agree": "Agreeing the protocol",
    "fly": "Flying (simulated s)",
    "settle": "Alerts on both nodes",
}


def federated_demo(
    console: Console,
    protocol: str,
    loaded: Protocol,
    config: DemoConfig,
    *,
    sharing: str | None,
    minutes: float,
    speed: float,
    nodes_dir: Path | None,
    interval_s: float = 1.0,
) -> None:
    """``deconfliction demo --federated``: run, show progress, print the summary.

    Raises:
        InputError: an unknown sharing level.
        FederatedDemoError: a node did not start, the protocol was not agreed.
        typer.Exit: 1 when a node's store holds the other party's aircraft not
            in conflict under ``conflicts`` or ``zones``, or no alert was seen on
            both nodes.
    """
    import typer

    from deconfliction.analysis.demo import scenario_line
    from deconfliction.domain.protocol import SharingLevel
    from deconfliction.errors import InputError, Problem
    from deconfliction.scenario.traffic import simulate_traffic

    levels = [level.value for level in SharingLevel]
    if sharing is not None and sharing not in levels:
        raise InputError(
            [
                Problem(
                    "--sharing",
                    None,
                    "",
                    f"{sharing!r} is not a sharing level; one of {', '.join(levels)}",
                )
            ]
        )
    console.print(
        f"Simulating {config.hours:g} h of the Euphrates scenario (seed {config.seed})"
    )
    traffic = simulate_traffic(scenario_line(loaded), config.traffic_config())
    with stage_bars(console) as bar:
        tasks = {
            stage: bar.add_task(label, total=1) for stage, label in _STAGES.items()
        }

        def progress(stage: str, done: float, total: float) -> None:
            bar.update(tasks[stage], completed=done, total=max(total, 1e-9))

        result = run(
            protocol=protocol,
            sharing=sharing,
            traffic=traffic,
            minutes=minutes,
            speed=speed,
            interval_s=interval_s,
            keep=nodes_dir,
            progress=progress,
        )
    failed = print_result(console, result, kept=nodes_dir is not None)
    if failed:
        raise typer.Exit(1)


def _when(seen: SeenAlert | None) -> str:
    if seen is None:
        return "not seen"
    level = seen.last.get("max_level") or seen.last.get("level") or "?"
    return f"{level}, at +{seen.first_seen_s:.1f} s"


def _where(row: AlertRow) -> str:
    for seen in row.seen:
        point = _point(seen.own_side())
        if point is not None:
            lat, lon = point
            return (
                f"{abs(lat):.3f}°{'N' if lat >= 0 else 'S'} "
                f"{abs(lon):.3f}°{'E' if lon >= 0 else 'W'}"
            )
    return "?"


def print_result(console: Console, result: FederatedResult, kept: bool) -> bool:
    """The alerts table, the summary table and the verdict lines; True when a
    check failed (a leak below ``plans``, or no alert on both nodes)."""
    from rich.table import Table

    from deconfliction.timetext import rfc3339

    alerts = Table(
        title=f"Alerts, sharing {result.sharing}: where and on which node",
        header_style="bold",
    )
    for column in ("coalition aircraft", "russian aircraft", "closest approach at"):
        alerts.add_column(column)
    alerts.add_column("on coalition's node")
    alerts.add_column("on russia's node")
    for row in result.rows:
        c_id = row.coalition.own_id if row.coalition else "(not seen)"
        r_id = row.russia.own_id if row.russia else "(not seen)"
        alerts.add_row(c_id, r_id, _where(row), _when(row.coalition), _when(row.russia))
    console.print(alerts)

    summary = Table(title="Each node and its store", header_style="bold")
    for column in (
        "node",
        "own aircraft (positions) posted",
        "alerts seen",
        "other party's aircraft in its store",
    ):
        summary.add_column(column)
    for holding in result.holdings:
        aircraft, positions = result.posted[holding.node]
        n_alerts = sum(
            1 for row in result.rows for seen in row.seen if seen.node == holding.node
        )
        leaked = holding.leaked
        summary.add_row(
            f"{holding.node}'s",
            f"{aircraft} ({positions})",
            str(n_alerts),
            f"{len(holding.found)} of {len(holding.flown)} "
            f"({len(holding.in_conflict)} in conflict); "
            f"not in conflict: {', '.join(leaked) if leaked else 'none'}",
        )
    console.print(summary)

    both = sum(1 for row in result.rows if row.coalition and row.russia)
    console.print(
        f"window: {rfc3339(result.window_start_t_s)}, {result.window_s:g} s "
        f"simulated at {result.speed:g}x"
    )
    console.print(f"alerts seen on both nodes: {both} of {len(result.rows)}")
    failed = both == 0
    hides = result.sharing in ("conflicts", "zones")
    for holding in result.holdings:
        leaked = holding.leaked
        verdict = (
            "none"
            if not leaked
            else f"{len(leaked)} ({', '.join(leaked)})"
            + ("" if hides else f": sharing {result.sharing} sends tracks")
        )
        console.print(
            f"{holding.node}'s database: {holding.other}'s aircraft not in "
            f"conflict found: {verdict}"
        )
        failed = failed or (hides and bool(leaked))
    if kept:
        console.print(f"nodes' directories (keys, stores, logs): {result.nodes_dir}")
    return failed

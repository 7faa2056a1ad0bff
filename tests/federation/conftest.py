"""Nodes of a federation as real processes on loopback: each party's own directory
(``deconfliction node init``), store, officer token and HTTPS server."""

from __future__ import annotations

import contextlib
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import (
    Server,
    _require_pg,
    free_port,
    pg_database,
    spawn_server,
    wait_until_serving,
)

EXE = Path(sys.executable).parent / "deconfliction"
PROTOCOLS = Path(__file__).parents[2] / "src/deconfliction/data/protocols"
WAIT_S = 30.0


def cli(
    *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``deconfliction ARGS`` (with ``env`` added) and return what it printed."""
    import os

    done = subprocess.run(
        [str(EXE), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **env} if env else None,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"{args} exited {done.returncode}:\n{done.stderr}")
    return done


@dataclass
class Node:
    """A party's node: its directory, store, officer's token and process."""

    party: str
    dir: Path
    fingerprint: str
    token: str
    database_url: str
    port: int
    server: Server | None = None
    log_path: Path = field(default_factory=Path)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def cert(self) -> str:
        return str(self.dir / "tls" / "node.pem")

    def trust(self) -> ssl.SSLContext:
        """A TLS context trusting this node's certificate (httpx deprecates a
        path as ``verify``)."""
        return ssl.create_default_context(cafile=self.cert)

    @property
    def key(self) -> str:
        return str(self.dir / "tls" / "node.key")

    def start(self, interval_s: float = 0.5) -> None:
        self.spawn(interval_s)
        self.wait_started()

    def spawn(self, interval_s: float = 0.5) -> None:
        """Start the node's process without waiting for it to answer."""
        self.server = spawn_server(
            self.database_url,
            self.log_path,
            detection_interval_s=interval_s,
            extra_args=["--node", str(self.dir)],
            port=self.port,
        )

    def wait_started(self) -> None:
        """Wait until the spawned node answers (see :func:`wait_until_serving`)."""
        assert self.server is not None, f"{self.party}'s node was not spawned"
        wait_until_serving(self.server, verify=self.trust())

    def stop(self, kill: bool = False) -> None:
        if self.server is not None:
            self.server.stop(kill=kill)
            self.server = None

    def officer(self) -> httpx.Client:
        """The node's officer, with their token, trusting the node's certificate."""
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {self.token}"},
            verify=self.trust(),
            timeout=30.0,
        )

    def as_peer(self, other: Node) -> httpx.Client:
        """A client to ``other`` presenting this node's certificate (what this
        node's link does), trusting ``other``'s."""
        ctx = ssl.create_default_context(cafile=other.cert)
        ctx.check_hostname = False
        ctx.load_cert_chain(self.cert, self.key)
        return httpx.Client(base_url=other.url, verify=ctx, timeout=30.0)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def make_node(
    tmp_path: Path, party: str, database_url: str, by_cli: bool = False
) -> Node:
    """``node init`` and ``party add --node`` as an operator would (not started).

    By default the two steps run in this process, through what the commands
    call (the node's directory, the party, an officer's token, the node's
    signing key), which saves two interpreter starts per node; ``by_cli`` runs
    the commands themselves (tests/federation/test_nodes.py checks both commands
    and serves nodes made by them)."""
    directory = tmp_path / f"node-{party}"
    if by_cli:
        fingerprint = cli(
            "node", "init", "--party", party, "--dir", str(directory)
        ).stdout.strip()
        token = cli(
            "party", "add", party, "--node", str(directory), "--database", database_url
        ).stdout.strip()
    else:
        fingerprint, token = _init_node_in_process(directory, party, database_url)
    return Node(
        party=party,
        dir=directory,
        fingerprint=fingerprint,
        token=token,
        database_url=database_url,
        port=free_port(),
        log_path=tmp_path / f"node-{party}.log",
    )


def _init_node_in_process(
    directory: Path, party: str, database_url: str
) -> tuple[str, str]:
    """What ``node init --party P --dir D`` and ``party add P --node D --database
    URL`` do: the certificate's fingerprint and an officer's token."""
    from deconfliction.federation import node_dir
    from deconfliction.service import auth, keys
    from deconfliction.service.token_days import DEFAULT_TOKEN_DAYS
    from deconfliction.store import engine as store_engine

    node = node_dir.init_node(directory, party, [])
    loaded = node_dir.load_node(directory)
    now = time.time()
    engine = store_engine.make_engine(database_url)
    try:
        store_engine.upgrade(engine)
        with engine.begin() as conn:
            auth.ensure_party(conn, party, party, "en", now)
            issued = auth.issue(
                conn, party, auth.Role.OFFICER, now, "", DEFAULT_TOKEN_DAYS
            )
            keys.ensure_signing_key(conn, str(loaded.keys_dir), party, now)
    finally:
        engine.dispose()
    return node.fingerprint, issued.token


def federated_protocol(
    nodes: list[Node],
    version: int = 1,
    base: str = "euphrates-2017",
    fingerprints: dict[str, str] | None = None,
) -> str:
    """The shipped protocol ``base`` with ``[nodes.P]`` for each node (a
    fingerprint of ``fingerprints`` instead of the node's own, to pin a wrong one)."""
    text = (PROTOCOLS / f"{base}.toml").read_text(encoding="utf-8")
    text = text.replace("version = 1\n", f"version = {version}\n", 1)
    for node in nodes:
        fingerprint = (fingerprints or {}).get(node.party, node.fingerprint)
        text += (
            f'\n[nodes.{node.party}]\nurl = "{node.url}"\n'
            f'fingerprint = "{fingerprint}"\n'
        )
    return text


def wait_for(what: str, check: Callable[[], Any], timeout_s: float = WAIT_S) -> Any:
    """Poll ``check`` until it returns something true; fail naming ``what``."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout_s} s (last: {last!r})")


@pytest.fixture(params=["sqlite", "postgresql"])
def node_databases(
    request: pytest.FixtureRequest, tmp_path: Path, pg_status: str | None
) -> Iterator[Callable[[str], str]]:
    """A fresh database per node, on each backend: ``url = node_databases(party)``."""
    with contextlib.ExitStack() as stack:

        def make(party: str) -> str:
            if request.param == "sqlite":
                return f"sqlite:///{tmp_path / f'{party}.db'}"
            _require_pg(pg_status)
            return stack.enter_context(pg_database())

        yield make


@contextlib.contextmanager
def running_nodes(
    tmp_path: Path,
    node_databases: Callable[[str], str],
    parties: tuple[str, ...],
    by_cli: bool = False,
) -> Iterator[tuple[Node, ...]]:
    """The parties' nodes (see :func:`make_node`), running; stopped afterwards."""
    nodes = [
        make_node(tmp_path, party, node_databases(party), by_cli=by_cli)
        for party in parties
    ]
    try:
        # The processes start (and, afterwards, stop) together: most of a node's
        # start is its own interpreter's imports, which need not wait for the
        # other node's.
        for node in nodes:
            node.spawn()
        for node in nodes:
            node.wait_started()
        yield tuple(nodes)
    finally:
        for node in nodes:
            if node.server is not None:
                node.server.begin_stop()
        for node in nodes:
            node.stop()


@pytest.fixture
def two_nodes(
    tmp_path: Path, node_databases: Callable[[str], str]
) -> Iterator[tuple[Node, Node]]:
    """The coalition's and Russia's nodes, running, no protocol yet."""
    with running_nodes(tmp_path, node_databases, ("coalition", "russia")) as nodes:
        yield nodes[0], nodes[1]


@pytest.fixture
def two_nodes_by_cli(
    tmp_path: Path, node_databases: Callable[[str], str]
) -> Iterator[tuple[Node, Node]]:
    """As :func:`two_nodes`, made by the commands ``node init`` and ``party add
    --node`` themselves."""
    with running_nodes(
        tmp_path, node_databases, ("coalition", "russia"), by_cli=True
    ) as nodes:
        yield nodes[0], nodes[1]

"""Sharing enforced by the sender (issue 16, item 3): under ``full`` and ``plans``
each node sends its own tracks to its peer, which runs detection over its own and
the received aircraft; both officers get the same alert as single-server mode gives
on the same head-on. Under ``conflicts`` and ``zones`` no position leaves its node:
each node's database is searched byte for byte for the other party's aircraft ids.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text

from deconfliction.domain.alert_tracker import DCPA_RESOLUTION_NM, TCPA_RESOLUTION_S
from tests.conftest import add_party, start_server
from tests.federation.conftest import (
    Node,
    federated_protocol,
    running_nodes,
    wait_for,
)
from tests.integration.helpers import flight

pytestmark = pytest.mark.slow

# A head-on over the Euphrates valley at FL250, and one aircraft of each party far
# from everything (more than 100 NM from any other): it is in conflict with nobody.
HEAD_ON = {
    "coalition": ("C-HEAD-1", 35.30, 39.70, 0.0),
    "russia": ("R-HEAD-1", 35.60, 39.70, 180.0),
}
FAR = {
    "coalition": ("C-FAR-7", 37.20, 38.40, 90.0),
    "russia": ("R-FAR-9", 33.80, 41.80, 270.0),
}
# An alert is rewritten only when its moment of closest approach moves by
# TCPA_RESOLUTION_S (its miss by DCPA_RESOLUTION_NM) from what it last said: two
# views of one alert, each taken on its own ticks, agree within twice that.
CPA_TOLERANCE_S = 2 * TCPA_RESOLUTION_S
DCPA_TOLERANCE_NM = 2 * DCPA_RESOLUTION_NM


def _with_sharing(text_: str, sharing: str) -> str:
    return text_.replace('sharing = "conflicts"', f'sharing = "{sharing}"', 1)


def _versions(node: Node) -> list[dict[str, Any]]:
    with node.officer() as officer:
        return list(officer.get("/v1/protocols").json())


def _link_up(node: Node, peer: str) -> bool:
    with node.officer() as officer:
        links = officer.get("/v1/federation/links").json()
    return any(link["party"] == peer and link["status"] == "up" for link in links)


LINK_ROUNDS = 3


def _link_checked_after(node: Node, peer: str, t_s: float) -> float | None:
    """When the node's link to ``peer`` was last checked, if after ``t_s`` with
    nothing queued for the peer (None otherwise)."""
    with node.officer() as officer:
        links = officer.get("/v1/federation/links").json()
    for link in links:
        checked = link["checked_t_s"]
        if link["party"] == peer and checked is not None and checked > t_s:
            return float(checked) if link["queued"] == 0 else None
    return None


def link_rounds_after(node: Node, peer: str, t_s: float, rounds: int) -> None:
    """Wait for ``rounds`` link rounds that began after ``t_s`` (each round
    queues, sends, then checks the link: a check after the previous round's
    check belongs to a round that began after it), nothing left queued."""
    for n in range(rounds):
        t_s = wait_for(
            f"{node.party}'s link round {n + 1} to {peer} after the positions",
            lambda t_s=t_s: _link_checked_after(node, peer, t_s),
        )


def agree(
    coalition: Node, russia: Node, sharing: str, replace: tuple[str, str] = ("", "")
) -> None:
    """The coalition proposes euphrates-2017 at ``sharing`` naming both nodes
    (with ``replace``'s first text replaced by its second); Russia's officer
    accepts on Russia's node; both links up."""
    text_ = _with_sharing(federated_protocol([coalition, russia]), sharing)
    if replace[0]:
        assert replace[0] in text_, replace
        text_ = text_.replace(replace[0], replace[1], 1)
    with coalition.officer() as officer:
        answer = officer.post(
            "/v1/protocols", content=text_, headers={"Content-Type": "application/toml"}
        )
    assert answer.status_code == 201, answer.text
    wait_for("the offer on russia's node", lambda: _versions(russia))
    with russia.officer() as officer:
        accepted = officer.post("/v1/protocols/euphrates-2017/versions/1/accept")
    assert accepted.status_code == 200, accepted.text
    for node in (coalition, russia):
        wait_for(
            f"in effect on {node.party}'s node",
            lambda node=node: any(v["status"] == "in_effect" for v in _versions(node)),
        )
    wait_for("coalition's link up", lambda: _link_up(coalition, "russia"))
    wait_for("russia's link up", lambda: _link_up(russia, "coalition"))


def rows_of(party: str, now: float) -> list[dict[str, Any]]:
    """The party's head-on aircraft and its far one, the last 25 s."""
    out = []
    for ident, lat, lon, trk in (HEAD_ON[party], FAR[party]):
        out += flight(ident, lat, lon, trk, 420.0, 25000.0, now - 25, 6)
    return out


def post(client: Any, batch_id: str, rows: list[dict[str, Any]]) -> None:
    answer = client.post("/v1/tracks", json={"batch_id": batch_id, "positions": rows})
    assert answer.status_code == 201, answer.text


def alert_of(client: Any) -> dict[str, Any] | None:
    found = [a for a in client.get("/v1/alerts").json() if a["active"]]
    return found[0] if found else None


def summary(alert: dict[str, Any]) -> dict[str, Any]:
    """What both sides must agree on: the pair and the closest approach (when, as
    an instant, and how close)."""
    return {
        "pair": sorted((s["party"], s.get("id")) for s in alert["aircraft"]),
        "cpa_t_s": alert["updated_t_s"] + alert["tcpa_s"],
        "dcpa_nm": alert["dcpa_nm"],
    }


def database_bytes(node: Node) -> bytes:
    """Everything the node's database holds: the SQLite file (with its journal)
    byte for byte; on PostgreSQL every row of every table as text."""
    url = node.database_url
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        return b"".join(
            p.read_bytes()
            for p in (path, Path(f"{path}-wal"), Path(f"{path}-journal"))
            if p.exists()
        )
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            out = []
            for table in inspect(conn).get_table_names():
                query = text(f'SELECT t::text FROM "{table}" AS t')
                out += [str(v) for v in conn.execute(query).scalars()]
        return "\n".join(out).encode("utf-8")
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def single_server_alert(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[dict[str, Any], float]:
    """The same head-on on one server (the reference), and the time its
    positions were posted relative to (compare times relative to it). Taken once
    for the module: it depends on neither the backend nor the nodes' sharing, and
    every test compares times relative to its own posting."""
    tmp_path = tmp_path_factory.mktemp("single")
    database_url = f"sqlite:///{tmp_path / 'single.db'}"
    tokens = {p: add_party(database_url, p, "officer") for p in HEAD_ON}
    server = start_server(database_url, tmp_path / "single.log")
    try:
        with (
            server.client(tokens["coalition"]) as c,
            server.client(tokens["russia"]) as r,
        ):
            text_ = _with_sharing(federated_protocol([]), "full")
            answer = c.post(
                "/v1/protocols",
                content=text_,
                headers={"Content-Type": "application/toml"},
            )
            assert answer.status_code == 201, answer.text
            answer = r.post("/v1/protocols/euphrates-2017/versions/1/accept")
            assert answer.status_code == 200, answer.text
            now = time.time()
            post(c, "c-1", rows_of("coalition", now))
            post(r, "r-1", rows_of("russia", now))
            alert = wait_for("the single server's alert", lambda: alert_of(c))
            return dict(alert), now
    finally:
        server.stop()


@pytest.mark.parametrize("sharing", ["full", "plans"])
def test_tracks_go_to_the_peer_and_both_see_the_same_alert(
    two_nodes: tuple[Node, Node],
    sharing: str,
    single_server_alert: tuple[dict[str, Any], float],
) -> None:
    coalition, russia = two_nodes
    agree(coalition, russia, sharing)
    now = time.time()
    with coalition.officer() as c, russia.officer() as r:
        post(c, "c-1", rows_of("coalition", now))
        post(r, "r-1", rows_of("russia", now))
        seen_c = wait_for("the alert on coalition's node", lambda: alert_of(c))
        seen_r = wait_for("the alert on russia's node", lambda: alert_of(r))
        # What each officer may see of the other's tracks is still disclosure's:
        # the whole picture under full, only their own under plans.
        picture = {p["party"] for p in c.get("/v1/tracks").json()}
    expected_picture = {"coalition", "russia"} if sharing == "full" else {"coalition"}
    assert picture == expected_picture
    mine, theirs = summary(seen_c), summary(seen_r)
    assert [p for p, _ in mine["pair"]] == ["coalition", "russia"]
    if sharing == "full":  # below full the other side is reduced to a point
        assert (
            mine["pair"]
            == theirs["pair"]
            == [
                ("coalition", "C-HEAD-1"),
                ("russia", "R-HEAD-1"),
            ]
        )
    assert abs(mine["cpa_t_s"] - theirs["cpa_t_s"]) <= CPA_TOLERANCE_S
    assert abs(mine["dcpa_nm"] - theirs["dcpa_nm"]) <= DCPA_TOLERANCE_NM
    alert, then = single_server_alert
    reference = summary(alert)
    assert (
        abs((mine["cpa_t_s"] - now) - (reference["cpa_t_s"] - then)) <= CPA_TOLERANCE_S
    )
    assert abs(mine["dcpa_nm"] - reference["dcpa_nm"]) <= DCPA_TOLERANCE_NM
    # The receiving nodes hold the other party's aircraft, the far ones too.
    assert b"R-FAR-9" in database_bytes(coalition)
    assert b"C-FAR-7" in database_bytes(russia)


@pytest.mark.parametrize("sharing", ["conflicts", "zones"])
def test_no_track_leaves_its_node_below_plans(
    two_nodes: tuple[Node, Node], sharing: str
) -> None:
    coalition, russia = two_nodes
    agree(coalition, russia, sharing)
    now = time.time()
    with coalition.officer() as c, russia.officer() as r:
        post(c, "c-1", rows_of("coalition", now))
        post(r, "r-1", rows_of("russia", now))
    # Several link rounds (0.5 s each) after the positions were stored, with
    # nothing left queued: anything that would have been sent has been.
    stored_t_s = time.time()
    for node, peer in ((coalition, "russia"), (russia, "coalition")):
        link_rounds_after(node, peer, stored_t_s, LINK_ROUNDS)
    assert b"C-FAR-7" in database_bytes(coalition), "a broken search"
    for ident in ("R-FAR-9", "R-HEAD-1"):
        assert ident.encode() not in database_bytes(coalition)
    for ident in ("C-FAR-7", "C-HEAD-1"):
        assert ident.encode() not in database_bytes(russia)


WINDOW_S = 3.0  # the referee's window in the test's protocol


def with_referee(text_: str, referee: Node) -> str:
    return text_ + (
        f'\n[nodes.referee]\nurl = "{referee.url}"\n'
        f'fingerprint = "{referee.fingerprint}"\nwindow_s = {WINDOW_S}\n'
    )


def _held(referee: Node) -> dict[str, int]:
    with referee.officer() as officer:
        answer = officer.get("/v1/federation/referee/held")
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["held"])


@pytest.fixture
def three_nodes(tmp_path: Path, node_databases: Any) -> Any:
    """The coalition's, Russia's and the referee's nodes, running."""
    with running_nodes(
        tmp_path, node_databases, ("coalition", "russia", "referee")
    ) as nodes:
        yield nodes


def test_under_conflicts_the_referee_returns_only_conflicts(
    three_nodes: tuple[Node, Node, Node],
    single_server_alert: tuple[dict[str, Any], float],
) -> None:
    coalition, russia, referee = three_nodes
    text_ = with_referee(federated_protocol([coalition, russia]), referee)
    with coalition.officer() as officer:
        answer = officer.post(
            "/v1/protocols", content=text_, headers={"Content-Type": "application/toml"}
        )
    assert answer.status_code == 201, answer.text
    wait_for("the offer on russia's node", lambda: _versions(russia))
    with russia.officer() as officer:
        accepted = officer.post("/v1/protocols/euphrates-2017/versions/1/accept")
    assert accepted.status_code == 200, accepted.text
    for node, peer in (
        (coalition, "russia"),
        (coalition, "referee"),
        (russia, "referee"),
        (referee, "coalition"),
        (referee, "russia"),
    ):
        wait_for(
            f"{node.party}'s link to {peer} up",
            lambda node=node, peer=peer: _link_up(node, peer),
        )
    now = time.time()
    with coalition.officer() as c, russia.officer() as r:
        post(c, "c-1", rows_of("coalition", now))
        post(r, "r-1", rows_of("russia", now))
        seen_c = wait_for("the alert on coalition's node", lambda: alert_of(c))
        seen_r = wait_for("the alert on russia's node", lambda: alert_of(r))
    mine, theirs = summary(seen_c), summary(seen_r)
    assert ("coalition", "C-HEAD-1") in mine["pair"]
    assert ("russia", "R-HEAD-1") in theirs["pair"]
    assert abs(mine["cpa_t_s"] - theirs["cpa_t_s"]) <= CPA_TOLERANCE_S
    assert abs(mine["dcpa_nm"] - theirs["dcpa_nm"]) <= DCPA_TOLERANCE_NM
    # Each node holds the other's aircraft in conflict, never its other aircraft;
    # the referee's store holds no aircraft at all.
    coalition_db, russia_db = database_bytes(coalition), database_bytes(russia)
    assert b"R-HEAD-1" in coalition_db and b"R-FAR-9" not in coalition_db
    assert b"C-HEAD-1" in russia_db and b"C-FAR-7" not in russia_db
    held = _held(referee)
    assert held == {"coalition": 2, "russia": 2}, held
    for node in (coalition, russia):
        node.stop()
    wait_for("the referee holding nothing", lambda: _held(referee) == {})
    referee_db = database_bytes(referee)
    for ident in ("C-HEAD-1", "C-FAR-7", "R-HEAD-1", "R-FAR-9"):
        assert ident.encode() not in referee_db
    # The same closest approach as one server finds on the same head-on.
    alert, then = single_server_alert
    reference = summary(alert)
    assert (
        abs((mine["cpa_t_s"] - now) - (reference["cpa_t_s"] - then)) <= CPA_TOLERANCE_S
    )
    assert abs(mine["dcpa_nm"] - reference["dcpa_nm"]) <= DCPA_TOLERANCE_NM

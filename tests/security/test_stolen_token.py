"""Attack: using a stolen or forgotten token (issue 14, item 8).

Tokens never ended: one copied from a desk, a log or a backup worked for ever, and
an open stream outlived everything. Now the operator (``deconfliction party
revoke``, ``rotate``) and a party's own admin (``POST …/tokens/{id}/revoke``) end a
token at once, its open streams close, every token expires, and listings never
show a token.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from deconfliction.service import auth
from deconfliction.store.engine import make_engine
from tests.conftest import Server
from tests.security import world as w

pytestmark = pytest.mark.slow


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "deconfliction"
    return subprocess.run(
        [str(exe), "party", *args, "--database", database_url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _token_id(database_url: str, token: str) -> int:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            listed = auth.list_tokens(conn)
            who = auth.authenticate(conn, token, time.time())
    finally:
        engine.dispose()
    assert who is not None
    # The newest token of that party and role is the one just issued.
    return max(t.id for t in listed if (t.party_id, t.role) == (who.party_id, who.role))


def _me(server: Server, token: str) -> int:
    return httpx.get(f"{server.url}/v1/parties/me", headers=w.auth(token)).status_code


def test_a_revoked_token_loses_the_api_and_its_open_stream(server: Server) -> None:
    world = w.register(server)
    w.put_protocol_in_effect(world)
    stolen = world.tokens[w.A]["officer"]
    token_id = _token_id(server.database_url, stolen)
    ws_url = server.url.replace("http://", "ws://") + "/v1/stream"
    with connect(ws_url) as ws:
        ws.send(json.dumps({"token": stolen}))
        json.loads(ws.recv(timeout=20))  # streaming
        revoked = _cli(server.database_url, "revoke", str(token_id))
        assert revoked.returncode == 0, revoked.stderr
        with pytest.raises(ConnectionClosed) as closed:
            while True:  # events may still arrive until the token is checked again
                ws.recv(timeout=60)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    assert _me(server, stolen) == 401
    assert _me(server, world.tokens[w.A]["admin"]) == 200
    unknown = _cli(server.database_url, "revoke", "999999")
    assert unknown.returncode == 2 and "token 999999" in unknown.stderr


def test_an_admin_revokes_its_own_partys_tokens_and_no_other(server: Server) -> None:
    world = w.register(server)
    a_officer = world.tokens[w.A]["officer"]
    a_id = _token_id(server.database_url, a_officer)
    with world.client(w.B, "admin") as b_admin:
        foreign = b_admin.post(f"/v1/parties/{w.A}/tokens/{a_id}/revoke")
        assert foreign.status_code == 403
        # Nor through its own party's path with a's token id.
        sideways = b_admin.post(f"/v1/parties/{w.B}/tokens/{a_id}/revoke")
        assert sideways.status_code == 404
        assert b_admin.get(f"/v1/parties/{w.A}/tokens").status_code == 403
    assert _me(server, a_officer) == 200
    with world.client(w.A, "officer") as officer:
        assert (
            officer.post(f"/v1/parties/{w.A}/tokens/{a_id}/revoke").status_code == 403
        )
    with world.client(w.A, "admin") as admin:
        listed = admin.get(f"/v1/parties/{w.A}/tokens")
        assert listed.status_code == 200
        assert {t["role"] for t in listed.json()} == set(w.ROLES)
        assert {t["party_id"] for t in listed.json()} == {w.A}
        done = admin.post(f"/v1/parties/{w.A}/tokens/{a_id}/revoke")
        assert done.status_code == 200 and done.json()["status"] == "revoked"
    assert _me(server, a_officer) == 401


def test_an_expired_token_is_refused(server: Server) -> None:
    world = w.register(server)
    engine = make_engine(server.database_url)
    try:
        with engine.begin() as conn:
            # Issued two days ago for one day.
            old = auth.issue(
                conn, w.A, auth.Role.OFFICER, time.time() - 2 * 86400, days=1
            )
    finally:
        engine.dispose()
    assert _me(server, old.token) == 401
    listed = _cli(server.database_url, "tokens", w.A)
    assert listed.returncode == 0, listed.stderr
    row = next(
        line
        for line in listed.stdout.splitlines()
        if line.startswith(f"{old.info.id}\t")
    )
    assert "\texpired\t" in row
    with world.client(w.A, "admin") as admin:
        fresh = admin.post(
            f"/v1/parties/{w.A}/tokens", json={"role": "observer", "expires_in_days": 1}
        )
        assert fresh.status_code == 201
        assert fresh.json()["expires_t_s"] == pytest.approx(
            time.time() + 86400, abs=120
        )
        for days in (0, 3651):
            bad = admin.post(
                f"/v1/parties/{w.A}/tokens",
                json={"role": "observer", "expires_in_days": days},
            )
            assert bad.status_code == 422


def test_rotation_replaces_a_token_at_once(server: Server) -> None:
    world = w.register(server)
    old = world.tokens[w.B]["observer"]
    rotated = _cli(
        server.database_url, "rotate", str(_token_id(server.database_url, old))
    )
    assert rotated.returncode == 0, rotated.stderr
    new = rotated.stdout.strip()
    assert _me(server, old) == 401
    me = httpx.get(f"{server.url}/v1/parties/me", headers=w.auth(new))
    assert me.json() == {"party_id": w.B, "role": "observer"}


def test_listings_never_show_a_token(server: Server) -> None:
    world = w.register(server)
    secrets = [t for roles in world.tokens.values() for t in roles.values()]
    secrets += [auth.token_sha256(t) for t in secrets]
    listed = _cli(server.database_url, "tokens")
    parties = _cli(server.database_url, "list")
    assert listed.returncode == 0 and parties.returncode == 0
    assert len(listed.stdout.splitlines()) == 1 + len(secrets) // 2
    assert [line.split("\t")[:3] for line in parties.stdout.splitlines()[1:]] == [
        [p, w.LANGUAGE[p], "3"] for p in sorted(w.PARTIES)
    ]
    with world.client(w.A, "admin") as admin:
        api = admin.get(f"/v1/parties/{w.A}/tokens").text
    for text in (listed.stdout, listed.stderr, parties.stdout, api):
        assert not [s for s in secrets if s in text]

"""What each party is shown of the record (``GET /v1/hotline/log``) and of the keys
(``GET /v1/parties/keys``), through a real server on SQLite and PostgreSQL.

Attack: read, from the record, what other parties said to each other. A party
reads in full only the entries about it; of the others it gets seq and hashes, and
still checks that the chain is whole.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from deconfliction.cli import server as server_cli
from tests.conftest import Server, add_party
from tests.security.record_world import NOT_CROSS, A, B, talk

pytestmark = pytest.mark.slow

C = "syria"  # registered on the server, named in no protocol


def test_an_outsider_sees_hashes_only_and_still_checks_the_chain(
    server: Server,
) -> None:
    t = talk(server)
    t.tokens[C] = add_party(server.database_url, C, "officer", "ar")
    with t.client(C) as c, t.client(A) as a:
        outsider = c.get("/v1/hotline/log").json()
        insider = a.get("/v1/hotline/log").json()
    assert outsider["head"] == insider["head"]
    assert len(outsider["entries"]) == len(insider["entries"]) == 5
    for stub in outsider["entries"]:
        assert set(stub) == {"seq", "prev_hash", "hash", "hidden"}
    assert NOT_CROSS not in str(outsider)
    assert all("body" in e for e in insider["entries"])
    assert insider["entries"][0]["body"]["text"] == NOT_CROSS
    with t.client(C) as c, t.client(A) as a:
        # nor which parties are registered (as on GET /v1/parties)
        assert [k["signer"] for k in c.get("/v1/parties/keys").json()] == ["server"]
        mine = [k["signer"] for k in a.get("/v1/parties/keys").json()]
        assert mine == [A, B, "server"]
    ok = t.verify_against(C, None)
    assert ok.exit_code == 0, ok.output
    assert "5 entries (5 between other parties" in ok.output


def test_paging_and_bad_arguments(server: Server) -> None:
    t = talk(server)
    with t.client(B) as b:
        page = b.get("/v1/hotline/log", params={"after": 2, "limit": 2}).json()
        assert [e["seq"] for e in page["entries"]] == [3, 4]
        for bad in ({"after": -1}, {"after": 2**63}, {"limit": 0}, {"after": "x"}):
            answer = b.get("/v1/hotline/log", params=bad)
            assert answer.status_code == 422, (bad, answer.status_code)
    with server.client() as anonymous:
        assert anonymous.get("/v1/hotline/log").status_code == 401
        assert anonymous.get("/v1/parties/keys").status_code == 401


def test_party_add_prints_the_fingerprint_the_server_shows(
    server: Server, tmp_path: Path
) -> None:
    keys_dir = server.log_path.parent / "keys"
    added = CliRunner().invoke(
        _server_cli(),
        [
            "party",
            "add",
            "jordan",
            "--database",
            server.database_url,
            "--keys-dir",
            str(keys_dir),
        ],
    )
    assert added.exit_code == 0, added.output
    printed = next(
        line.split("fingerprint: ", 1)[1]
        for line in added.stderr.splitlines()
        if line.startswith("fingerprint: ")
    )
    token = added.stdout.strip()
    with server.client(token) as j:
        keys = {k["signer"]: k for k in j.get("/v1/parties/keys").json()}
    assert keys["jordan"]["fingerprint"] == printed
    assert printed.startswith("sha256:") and len(printed) == len("sha256:") + 64


def _server_cli() -> object:
    import typer

    app = typer.Typer()
    server_cli.register(app)
    return app

"""``deconfliction party add`` and ``deconfliction db upgrade``, as users call them."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from sqlalchemy import select
from typer.testing import CliRunner

from deconfliction.cli import server as server_cli
from deconfliction.hotline import record
from deconfliction.hotline.checkpoints import key_fingerprint
from deconfliction.service import auth
from deconfliction.store import engine as store_engine
from deconfliction.store.tables import api_tokens, parties


def _app() -> typer.Typer:
    app = typer.Typer()
    server_cli.register(app)
    return app


class TestPartyAdd:
    def test_prints_a_token_once_and_stores_its_hash(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'd.db'}"
        result = CliRunner().invoke(
            _app(),
            [
                "party",
                "add",
                "russia",
                "--role",
                "observer",
                "--language",
                "ru",
                "--database",
                url,
                "--keys-dir",
                str(tmp_path / "keys"),
            ],
        )
        assert result.exit_code == 0, result.output
        token = result.stdout.strip()
        assert len(token) >= 40
        engine = store_engine.make_engine(url)
        with engine.connect() as conn:
            party = conn.execute(select(parties)).one()
            stored = conn.execute(select(api_tokens.c.token_sha256)).scalar_one()
            who = auth.authenticate(conn, token, time.time())
        engine.dispose()
        assert (party.id, party.language) == ("russia", "ru")
        assert stored == auth.token_sha256(token) and token not in stored
        assert who == auth.Principal("russia", auth.Role.OBSERVER)
        # the signing key is made now, its fingerprint printed to exchange out of band
        key = record.private_key_from_pem(
            (tmp_path / "keys" / "russia.pem").read_bytes()
        )
        assert f"fingerprint: {key_fingerprint(key.public_key())}" in result.stderr
        assert key_fingerprint(key.public_key()).startswith("sha256:")

    def test_an_existing_party_is_updated_not_ignored(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'd.db'}"
        keys = ["--keys-dir", str(tmp_path / "keys")]
        add = ["party", "add", "russia", "--database", url, *keys]
        assert CliRunner().invoke(_app(), add).exit_code == 0
        again = CliRunner().invoke(
            _app(), [*add, "--language", "ru", "--name", "Russian Federation"]
        )
        assert again.exit_code == 0, again.output
        assert "language changed from 'en' to 'ru'" in again.stderr
        assert "name changed from 'russia' to 'Russian Federation'" in again.stderr
        same = CliRunner().invoke(_app(), [*add, "--role", "observer"])
        assert same.exit_code == 0 and "changed" not in same.stderr
        engine = store_engine.make_engine(url)
        with engine.connect() as conn:
            party = conn.execute(select(parties)).one()
            n_tokens = len(conn.execute(select(api_tokens.c.id)).all())
        engine.dispose()
        assert (party.name, party.language) == ("Russian Federation", "ru")
        assert n_tokens == 3

    def test_bad_arguments_exit_2(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'd.db'}"
        result = CliRunner().invoke(
            _app(), ["party", "add", "Bad Name", "--role", "general", "--database", url]
        )
        assert result.exit_code == 2
        assert "NAME" in result.stderr and "--role" in result.stderr
        assert "Traceback" not in result.output
        for days in ("0", "3651"):
            result = CliRunner().invoke(
                _app(),
                ["party", "add", "x", "--expires-in-days", days, "--database", url],
            )
            assert result.exit_code == 2 and "--expires-in-days" in result.stderr


class TestDbUpgrade:
    def test_upgrades_a_fresh_database(self, database_url: str) -> None:
        result = CliRunner().invoke(
            _app(), ["db", "upgrade", "--database", database_url]
        )
        assert result.exit_code == 0, result.output
        assert f"revision {store_engine.head_revision()}" in result.stderr

    def test_unreachable_database_is_an_error_not_a_traceback(self) -> None:
        result = CliRunner().invoke(
            _app(),
            [
                "db",
                "upgrade",
                "--database",
                "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2",
            ],
        )
        assert result.exit_code == 2
        assert "Traceback" not in result.output

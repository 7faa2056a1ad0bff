"""The signing keys on disk (service/keys.py): a damaged key file is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from deconfliction.errors import InputError
from deconfliction.service.keys import KeyRing
from deconfliction.store import engine as store_engine


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00\xff", b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2Vw\n"],
    ids=["empty", "binary", "truncated"],
)
def test_a_damaged_key_file_is_named(
    database_url: str, tmp_path: Path, data: bytes
) -> None:
    engine = store_engine.make_engine(database_url)
    try:
        store_engine.upgrade(engine)
        path = tmp_path / "keys" / "coalition.pem"
        path.parent.mkdir()
        path.write_bytes(data)
        with engine.begin() as conn, pytest.raises(InputError) as err:
            KeyRing(path.parent).private_key(conn, "coalition", 0.0)
    finally:
        engine.dispose()
    (problem,) = err.value.problems
    assert problem.source == str(path)
    assert problem.message.startswith("cannot read the key")

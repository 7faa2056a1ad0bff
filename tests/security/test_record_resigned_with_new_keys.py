"""Attack: rewrite the record and re-sign the whole chain with new keys, replacing
the rows of ``party_keys``.

``hotline verify`` said "record intact": it checks the chain with the keys the
database holds. Through a real server on SQLite and PostgreSQL: the server's check
sees the registered keys differ from the key files while these are untouched; a
party that pinned the keys and kept a checkpoint sees the substitution and the
rewrite even when the operator replaced the key files too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select, update

from deconfliction.hotline import record
from deconfliction.hotline.checkpoints import key_fingerprint
from deconfliction.service.hotline import log_entries
from deconfliction.store.tables import hotline_log, hotline_messages, party_keys
from tests.conftest import Server
from tests.security.record_world import (
    NOT_CROSS,
    WILL_CROSS,
    A,
    B,
    Talk,
    rewrite_stream,
    talk,
)

pytestmark = pytest.mark.slow


def _resign(t: Talk, write_key_files: bool) -> dict[str, str]:
    """Rewrite the first message to say WILL_CROSS, re-sign every entry with new
    keys, replace party_keys (and the key files), make the tables and the stream
    agree; the new fingerprints."""
    with t.database() as conn:
        entries = log_entries(conn)
        signers = sorted({e.signer for e in entries})
        new_keys = {s: record.generate_key() for s in signers}
        rewritten: list[record.LogEntry] = []
        for e in entries:
            body = json.loads(json.dumps(e.body).replace(NOT_CROSS, WILL_CROSS))
            prev = rewritten[-1] if rewritten else None
            rewritten.append(
                record.make_entry(
                    prev, e.t_s, e.event, e.signer, body, new_keys[e.signer]
                )
            )
        conn.execute(delete(hotline_log))
        conn.execute(
            insert(hotline_log),
            [
                {
                    **{k: v for k, v in e.as_json().items() if k != "body"},
                    "body_json": record.canonical_json(e.body).decode("utf-8"),
                }
                for e in rewritten
            ],
        )
        created = dict(
            conn.execute(select(party_keys.c.party_id, party_keys.c.created_t_s)).all()
        )
        conn.execute(delete(party_keys))
        conn.execute(
            insert(party_keys),
            [
                {
                    "party_id": s,
                    "public_key": record.public_key_to_text(k.public_key()),
                    "created_t_s": created[s],
                }
                for s, k in new_keys.items()
            ],
        )
        conn.execute(
            update(hotline_messages)
            .where(hotline_messages.c.id == t.message_id)
            .values(text=WILL_CROSS)
        )
        rewrite_stream(conn, {e.seq: e.hash for e in rewritten})
    if write_key_files:
        for s, k in new_keys.items():
            (t.keys_dir / f"{s}.pem").write_bytes(record.private_key_to_pem(k))
    return {s: key_fingerprint(k.public_key()) for s, k in new_keys.items()}


def test_a_chain_resigned_with_new_keys_shows(server: Server, tmp_path: Path) -> None:
    t = talk(server)
    kept = {p: tmp_path / f"{p}-checkpoints.json" for p in (A, B)}
    for party, path in kept.items():
        first = t.checkpoint(party, path)
        assert first.exit_code == 0, first.output
        assert "pinned the key of coalition: sha256:" in first.output
    served_before = json.loads(kept[B].read_text(encoding="utf-8"))["keys"]

    new_fingerprints = _resign(t, write_key_files=False)
    server_side = t.verify_database()
    assert server_side.exit_code == 1, server_side.output
    assert "is not the one of its key file" in server_side.output

    # A thorough operator replaces the key files too: the server alone sees nothing.
    for s, k in new_fingerprints.items():
        assert served_before[s]["fingerprint"] != k
    _resign(t, write_key_files=True)
    assert t.verify_database().exit_code == 0
    with t.client(B) as b:
        assert (
            b.get(f"/v1/hotline/messages/{t.message_id}").json()["text"] == WILL_CROSS
        )

    # Each party sees the keys substituted and the record rewritten.
    for party in (A, B):
        seen = t.verify_against(party, kept[party])
        assert seen.exit_code == 1, seen.output
        assert "key substitution: the key of 'coalition' changed" in seen.output
        assert "key substitution: the key of 'server' changed" in seen.output
        assert "record broken at entry 1:" in seen.output
        refused = t.checkpoint(party, kept[party])
        assert refused.exit_code == 1
    pinned = json.loads(kept[B].read_text(encoding="utf-8"))["keys"]
    assert pinned == served_before  # nothing re-pinned


def test_a_rewrite_signed_with_the_pinned_keys_shows(
    server: Server, tmp_path: Path
) -> None:
    """The operator holds the real keys today: a rewrite signed with them passes
    the signatures, and shows by the hash the party kept."""
    t = talk(server)
    kept = tmp_path / "russia-checkpoints.json"
    assert t.checkpoint(B, kept).exit_code == 0
    with t.database() as conn:
        entries = log_entries(conn)
    keys = {
        s: record.private_key_from_pem((t.keys_dir / f"{s}.pem").read_bytes())
        for s in {e.signer for e in entries}
    }
    with t.database() as conn:
        rewritten: list[record.LogEntry] = []
        for e in entries:
            body = json.loads(json.dumps(e.body).replace(NOT_CROSS, WILL_CROSS))
            prev = rewritten[-1] if rewritten else None
            rewritten.append(
                record.make_entry(prev, e.t_s, e.event, e.signer, body, keys[e.signer])
            )
        conn.execute(delete(hotline_log))
        conn.execute(
            insert(hotline_log),
            [
                {
                    **{k: v for k, v in e.as_json().items() if k != "body"},
                    "body_json": record.canonical_json(e.body).decode("utf-8"),
                }
                for e in rewritten
            ],
        )
        conn.execute(
            update(hotline_messages)
            .where(hotline_messages.c.id == t.message_id)
            .values(text=WILL_CROSS)
        )
        rewrite_stream(conn, {e.seq: e.hash for e in rewritten})
    assert t.verify_database().exit_code == 0  # the operator's own check passes
    seen = t.verify_against(B, kept)
    assert seen.exit_code == 1
    assert "rewritten" in seen.output
    assert "key substitution" not in seen.output

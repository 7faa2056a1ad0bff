"""What a party checks of the server's record with what it kept itself.

The server serves each party the whole chain (``GET /v1/hotline/log``): in full the
entries the party may read, and of the others, entries between other parties, a
**stub**: seq, ``prev_hash`` and ``hash``, nothing else. A party can then check that
the chain it is shown is one unbroken chain from the first entry to the head, that
every entry it may read hashes to its ``hash`` and is signed with the right key, and
that it still contains what the party saw before:

* **checkpoints**: the heads (seq and hash) the party kept from its stream or from
  earlier checks. A head lower than a kept seq is a truncation; another hash at a
  kept seq is a rewrite (every hash commits to all the entries before it, stubs
  included, so one kept head covers the whole chain up to it);
* **pinned keys**: the public key of every signer, kept from first sight, with its
  fingerprint (``sha256:`` and the hex SHA-256 of the raw key) compared out of band
  with the party that owns it. A key the server now serves that differs from the
  pinned one is reported: that is how a chain re-signed with new keys shows.

A stub's content cannot be checked, only its place in the chain: a party learns
that an entry exists at that seq, not who made it or what it says (each entry
carries a random nonce, so its hash confirms no guess of its content).

The checkpoint file is JSON (``FORMAT``): the server, the party, the pinned keys by
signer, and the checkpoints in the order they were kept. Pure functions and frozen
values: the caller fetches, reads and writes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from deconfliction.errors import InputError, Problem
from deconfliction.hotline.record import (
    GENESIS_HASH,
    ChainReport,
    LogEntry,
    entry_digest,
    public_key_from_text,
    signed_message,
)

FORMAT: Final = "deconfliction.hotline.checkpoints/1"
FINGERPRINT_PREFIX: Final = "sha256:"


def key_fingerprint(key: Ed25519PublicKey) -> str:
    """``sha256:`` and the hex SHA-256 of the raw public key, to compare out of band.

    >>> key = public_key_from_text("ed25519:" + "A" * 43 + "=")
    >>> key_fingerprint(key)[:23]
    'sha256:66687aadf862bd77'
    """
    raw = key.public_bytes(
        encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw
    )
    return FINGERPRINT_PREFIX + hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True, slots=True)
class EntryStub:
    """An entry the party may not read: its place in the chain only."""

    seq: int
    prev_hash: str
    hash: str


ServedEntry = LogEntry | EntryStub


def _problem(where: str, message: str) -> InputError:
    return InputError([Problem("hotline log", None, where, message)])


def served_entry(data: Any, index: int) -> ServedEntry:
    """An entry of ``GET /v1/hotline/log`` (full, or a stub marked ``hidden``).

    Raises:
        InputError: naming the entry and field that is missing or malformed.
    """
    where = f"entries[{index}]"
    if not isinstance(data, Mapping):
        raise _problem(where, "not an object")
    if data.get("hidden") is True:
        seq, prev, digest = data.get("seq"), data.get("prev_hash"), data.get("hash")
        if isinstance(seq, bool) or not isinstance(seq, int):
            raise _problem(f"{where}.seq", "not an integer")
        if not isinstance(prev, str) or not isinstance(digest, str):
            raise _problem(where, "prev_hash and hash must be text")
        return EntryStub(seq, prev, digest)
    return LogEntry.from_json(data, source=where)


@dataclass(frozen=True, slots=True)
class KeyChange:
    """A signer whose served key differs from the pinned one."""

    signer: str
    pinned_fingerprint: str
    served_fingerprint: str | None  # None: the server no longer shows a key

    def __str__(self) -> str:
        served = self.served_fingerprint or "no key"
        return (
            f"the key of {self.signer!r} changed: pinned {self.pinned_fingerprint}, "
            f"served {served}"
        )


def key_changes(
    pinned: Mapping[str, str], served: Mapping[str, str]
) -> list[KeyChange]:
    """Pinned keys (``ed25519:...`` by signer) the server serves differently.

    Raises:
        InputError: for a key that is not an ``ed25519:`` key.
    """
    out = []
    for signer in sorted(pinned):
        now = served.get(signer)
        if now != pinned[signer]:
            out.append(
                KeyChange(
                    signer,
                    key_fingerprint(public_key_from_text(pinned[signer])),
                    None if now is None else key_fingerprint(public_key_from_text(now)),
                )
            )
    return out


def _ok_signature(entry: LogEntry, key: Ed25519PublicKey) -> bool:
    import base64
    import binascii

    from cryptography.exceptions import InvalidSignature

    try:
        key.verify(
            base64.b64decode(entry.signature, validate=True),
            signed_message(entry.hash),
        )
    except (binascii.Error, ValueError, InvalidSignature):
        return False
    return True


def _content_problem(
    entry: LogEntry, public_keys: Mapping[str, Ed25519PublicKey]
) -> str | None:
    try:
        digest = entry_digest(
            entry.seq, entry.t_s, entry.event, entry.signer, entry.body, entry.prev_hash
        )
    except InputError:
        digest = None
    if digest != entry.hash:
        return "hash mismatch"
    key = public_keys.get(entry.signer)
    if key is None:
        return f"unknown signer (no public key for {entry.signer!r})"
    if not _ok_signature(entry, key):
        return "bad signature"
    return None


def verify_served_log(
    entries: Iterable[ServedEntry],
    head: tuple[int, str] | None,
    public_keys: Mapping[str, Ed25519PublicKey],
    checkpoints: Mapping[int, str] | None = None,
) -> ChainReport:
    """Check the chain a party is served, stubs included, against its checkpoints.

    Args:
        entries: the whole log from entry 1, in order.
        head: the seq and hash the server gives as its head (None: empty log).
        public_keys: by signer: the party's pinned keys.
        checkpoints: hashes by seq the party kept.

    Returns:
        ok, or the first entry that fails and why (a missing or extra entry, a
        broken link, content or signature, a rewrite or a truncation).
    """
    items: Sequence[ServedEntry] = list(entries)
    known = dict(checkpoints or {})
    expected_prev, expected_seq, checked = GENESIS_HASH, 1, 0

    def failed(seq: int, reason: str) -> ChainReport:
        last_seq = expected_seq - 1 if expected_seq > 1 else None
        return ChainReport.failed(checked, seq, reason, last_seq, expected_prev)

    for entry in items:
        if entry.seq != expected_seq:
            return failed(expected_seq, f"sequence gap (entry {expected_seq} missing)")
        if entry.prev_hash != expected_prev:
            return failed(entry.seq, "broken link (prev_hash does not match)")
        if isinstance(entry, LogEntry):
            problem = _content_problem(entry, public_keys)
            if problem is not None:
                return failed(entry.seq, problem)
        if entry.seq in known and known[entry.seq] != entry.hash:
            return failed(
                entry.seq,
                "rewritten (the hash differs from the one kept for this entry)",
            )
        expected_prev, expected_seq = entry.hash, entry.seq + 1
        checked += 1
    last = expected_seq - 1
    if (head or (0, GENESIS_HASH)) != (last, expected_prev):
        return failed(last + 1, "the head the server gives is not the end of its log")
    beyond = sorted(seq for seq in known if seq > last)
    if beyond:
        return failed(
            last + 1,
            f"truncated (the log ends at entry {last}; "
            f"entry {beyond[-1]} was kept earlier)",
        )
    return ChainReport.verified(checked, last or None, expected_prev)


# --- the checkpoint file ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A head the party saw: seq, hash, and when it kept it (RFC 3339)."""

    seq: int
    hash: str
    kept: str


@dataclass(frozen=True, slots=True)
class PinnedKey:
    """A signer's key as first seen, and when."""

    public_key: str
    fingerprint: str
    pinned: str


@dataclass(frozen=True, slots=True)
class CheckpointFile:
    """What a party keeps of the server's record."""

    server: str
    party: str
    keys: dict[str, PinnedKey] = field(default_factory=dict)
    checkpoints: tuple[Checkpoint, ...] = ()

    def by_seq(self) -> dict[int, str]:
        """The kept hashes by seq."""
        return {c.seq: c.hash for c in self.checkpoints}

    def as_json(self) -> str:
        """The file's text."""
        doc = {
            "format": FORMAT,
            "server": self.server,
            "party": self.party,
            "keys": {
                signer: {
                    "public_key": k.public_key,
                    "fingerprint": k.fingerprint,
                    "pinned": k.pinned,
                }
                for signer, k in sorted(self.keys.items())
            },
            "checkpoints": [
                {"seq": c.seq, "hash": c.hash, "kept": c.kept} for c in self.checkpoints
            ],
        }
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str) -> CheckpointFile:
        """Read a checkpoint file.

        Raises:
            InputError: naming the file and the field that is wrong.
        """

        def bad(where: str, message: str) -> InputError:
            return InputError([Problem(source, None, where, message)])

        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise bad("", f"not JSON: {exc}") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise bad("format", f"not a {FORMAT} file")
        keys: dict[str, PinnedKey] = {}
        raw_keys = doc.get("keys", {})
        if not isinstance(raw_keys, dict):
            raise bad("keys", "must be an object")
        for signer, raw in raw_keys.items():
            if not isinstance(raw, dict) or not isinstance(raw.get("public_key"), str):
                raise bad(f"keys.{signer}", "needs a public_key")
            public_key_from_text(raw["public_key"])  # a real key, or an error
            keys[str(signer)] = PinnedKey(
                raw["public_key"],
                str(raw.get("fingerprint", "")),
                str(raw.get("pinned", "")),
            )
        kept: list[Checkpoint] = []
        raw_checkpoints = doc.get("checkpoints", [])
        if not isinstance(raw_checkpoints, list):
            raise bad("checkpoints", "must be a list")
        for i, raw in enumerate(raw_checkpoints):
            seq = raw.get("seq") if isinstance(raw, dict) else None
            digest = raw.get("hash") if isinstance(raw, dict) else None
            if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
                raise bad(f"checkpoints[{i}].seq", "must be a positive integer")
            if not isinstance(digest, str) or len(digest) != len(GENESIS_HASH):
                raise bad(f"checkpoints[{i}].hash", "must be a SHA-256 hex digest")
            kept.append(Checkpoint(seq, digest, str(raw.get("kept", ""))))
        seqs = [c.seq for c in kept]
        for seq in set(seqs):
            if len({c.hash for c in kept if c.seq == seq}) > 1:
                raise bad("checkpoints", f"two different hashes kept for entry {seq}")
        return cls(
            server=str(doc.get("server", "")),
            party=str(doc.get("party", "")),
            keys=keys,
            checkpoints=tuple(kept),
        )

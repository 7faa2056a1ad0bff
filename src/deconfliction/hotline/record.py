"""The tamper-evident record of the hotline: a hash chain of signed entries.

Every hotline event (sent, delivered, acknowledged, escalated, a missed check-in, a
suspension...) becomes a :class:`LogEntry`. Each entry carries the hash of the one
before it and is signed with the Ed25519 key of its signer (a party, or ``server``
for what the server itself observed). Pure functions and frozen values: the
caller stores the entries; nothing here touches a database or a clock.

**What is hashed.** ``hash`` is the SHA-256, in lowercase hex, of the canonical
JSON (below) of the object ``{"format": "deconfliction.hotline.record/1", "seq",
"t_s", "event", "signer", "body", "prev_hash"}``. The first entry of a log has
``prev_hash`` = 64 zeros (``GENESIS_HASH``).

**What is signed.** ``signature`` is base64 of the Ed25519 signature of the bytes
``b"deconfliction.hotline.record/1\\x00"`` followed by the 32 bytes of the hash
(:func:`signed_message`). The prefix keeps a signature made for the record from
being valid for anything else signed with the same key.

**Canonical JSON** is RFC 8785 (JSON Canonicalization Scheme), so that another
party can recompute every hash with any JCS library: object keys sorted by their
UTF-16 code units, no whitespace, UTF-8, strings escaped as ECMAScript's
``JSON.stringify`` does (only ``"``, ``\\`` and control characters), numbers as
ECMAScript prints a double: the shortest decimal that reads back as the same
double, ``1.0`` as ``1``, ``1e21`` as ``1e+21``, ``1e-7`` as ``1e-7``, ``-0`` as
``0``. NaN and infinities are refused, as are integers beyond 2**53 that no
double holds exactly (another implementation would read them as a different
number) and strings that are not valid Unicode (lone surrogates).

**What it guarantees.** With the public keys in hand, :func:`verify_chain` finds
an entry whose content was changed, one deleted from the middle, entries moved
about, a forged or swapped signature, and names the first entry where the chain
fails. It does not, alone, find the last entries cut off the end, nor a log
rewritten from some entry onwards by whoever holds the signing keys: for that, a
party keeps the hashes it received on the stream and passes them as
``checkpoints``; a rewrite or a truncation by anyone then shows.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from deconfliction.errors import InputError, Problem

# Canonical JSON and the keys have their own modules; their names stay here too.
from deconfliction.hotline.canonical import MAX_JSON_DEPTH as MAX_JSON_DEPTH
from deconfliction.hotline.canonical import MAX_SAFE_INTEGER as MAX_SAFE_INTEGER
from deconfliction.hotline.canonical import canonical_json as canonical_json
from deconfliction.hotline.signing_keys import FINGERPRINT_BYTES as FINGERPRINT_BYTES
from deconfliction.hotline.signing_keys import PUBLIC_KEY_PREFIX as PUBLIC_KEY_PREFIX
from deconfliction.hotline.signing_keys import generate_key as generate_key
from deconfliction.hotline.signing_keys import (
    private_key_from_pem as private_key_from_pem,
)
from deconfliction.hotline.signing_keys import private_key_to_pem as private_key_to_pem
from deconfliction.hotline.signing_keys import (
    public_key_fingerprint as public_key_fingerprint,
)
from deconfliction.hotline.signing_keys import (
    public_key_from_text as public_key_from_text,
)
from deconfliction.hotline.signing_keys import public_key_to_text as public_key_to_text
from deconfliction.timetext import rfc3339_ms

ENTRY_FORMAT: Final = "deconfliction.hotline.record/1"
TRANSCRIPT_FORMAT: Final = "deconfliction.hotline.transcript/1"
SIGNING_CONTEXT: Final = ENTRY_FORMAT.encode("ascii") + b"\x00"
SEAL_CONTEXT: Final = TRANSCRIPT_FORMAT.encode("ascii") + b"\x00"
GENESIS_HASH: Final = "0" * 64
MAX_NAME_CHARS: Final = 64  # event and signer names
RLI: Final = "\u2067"  # right-to-left isolate, as in hotline.templates
FSI: Final = "\u2068"  # first-strong isolate
PDI: Final = "\u2069"  # pop directional isolate
_BIDI_CONTROLS: Final = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
HASH_PREFIX_CHARS: Final = 16  # hash shown in readable transcripts (64 bits)


# --- entries ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One event on the record.

    Attributes:
        seq: position in the log, from 1, without gaps.
        t_s: when it happened, epoch seconds UTC.
        event: what happened: ``sent``, ``delivered``, ``acknowledged``,
            ``escalated``, ``checkin_missed``, ``suspended``, ``resumed``...
        signer: the party that signed it, or ``server``.
        body: the facts of the event, JSON (a rendered message under ``rendered``:
            see :func:`write_transcript`).
        prev_hash: ``hash`` of the entry before, ``GENESIS_HASH`` for the first.
        hash: SHA-256 hex of the entry (see the module docstring).
        signature: base64 Ed25519 signature of :func:`signed_message` of ``hash``.
    """

    seq: int
    t_s: float
    event: str
    signer: str
    body: dict[str, Any] = field(hash=False)
    prev_hash: str
    hash: str
    signature: str

    def as_json(self) -> dict[str, Any]:
        """The stored and exported form."""
        return {
            "seq": self.seq,
            "t_s": self.t_s,
            "event": self.event,
            "signer": self.signer,
            "body": self.body,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
            "signature": self.signature,
        }

    @classmethod
    def from_json(cls, data: Any, *, source: str = "entry") -> LogEntry:
        """An entry from its stored form; checks types only, never the hash.

        Raises:
            InputError: naming every field that is missing or of the wrong type.
        """
        if not isinstance(data, Mapping):
            raise InputError([Problem(source, None, "", "an entry must be an object")])
        problems: list[Problem] = []
        wanted: dict[str, tuple[type, ...]] = {
            "seq": (int,),
            "t_s": (int, float),
            "event": (str,),
            "signer": (str,),
            "body": (dict,),
            "prev_hash": (str,),
            "hash": (str,),
            "signature": (str,),
        }
        for name, types in wanted.items():
            value = data.get(name)
            if value is None:
                problems.append(Problem(source, None, name, "missing"))
            elif isinstance(value, bool) or not isinstance(value, types):
                problems.append(
                    Problem(source, None, name, f"wrong type {type(value).__name__}")
                )
        if problems:
            raise InputError(problems)
        return cls(
            seq=int(data["seq"]),
            t_s=float(data["t_s"]),
            event=data["event"],
            signer=data["signer"],
            body=data["body"],
            prev_hash=data["prev_hash"],
            hash=data["hash"],
            signature=data["signature"],
        )


def entry_digest(
    seq: int,
    t_s: float,
    event: str,
    signer: str,
    body: Mapping[str, Any],
    prev_hash: str,
) -> str:
    """The hash of an entry: SHA-256 hex of the canonical JSON of its fields.

    Raises:
        InputError: if the fields cannot be written as canonical JSON.
    """
    payload = {
        "format": ENTRY_FORMAT,
        "seq": seq,
        "t_s": t_s,
        "event": event,
        "signer": signer,
        "body": body,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(payload)).hexdigest()


def signed_message(entry_hash: str) -> bytes:
    """The bytes an entry's signature is made over.

    Raises:
        ValueError: if ``entry_hash`` is not hex.
    """
    return SIGNING_CONTEXT + bytes.fromhex(entry_hash)


def _check_name(source: str, field_name: str, value: object) -> list[Problem]:
    if not isinstance(value, str) or not value.strip():
        return [Problem(source, None, field_name, "must be non-empty text")]
    if len(value) > MAX_NAME_CHARS or not value.isprintable():
        return [
            Problem(
                source,
                None,
                field_name,
                f"must be printable and at most {MAX_NAME_CHARS} characters",
            )
        ]
    return []


def make_entry(
    prev: LogEntry | None,
    t_s: float,
    event: str,
    signer: str,
    body: Mapping[str, Any],
    private_key: Ed25519PrivateKey,
) -> LogEntry:
    """The entry that follows ``prev`` (or the first one), hashed and signed.

    The body is copied through canonical JSON, so the entry holds exactly what
    was hashed (tuples become lists, ``2.0`` becomes ``2``) and later changes to
    the caller's dictionary cannot reach it.

    Raises:
        InputError: for a time that is not a finite number, an empty or
            unprintable event or signer, or a body that is not a JSON object.
    """
    source = "record entry"
    problems: list[Problem] = []
    if (
        isinstance(t_s, bool)
        or not isinstance(t_s, int | float)
        or not math.isfinite(t_s)
    ):
        problems.append(Problem(source, None, "t_s", "must be a finite number"))
    problems += _check_name(source, "event", event)
    problems += _check_name(source, "signer", signer)
    if not isinstance(body, Mapping):
        problems.append(Problem(source, None, "body", "must be a JSON object"))
    if problems:
        raise InputError(problems)
    body_copy: dict[str, Any] = json.loads(canonical_json(body))
    seq = 1 if prev is None else prev.seq + 1
    prev_hash = GENESIS_HASH if prev is None else prev.hash
    digest = entry_digest(seq, float(t_s), event, signer, body_copy, prev_hash)
    signature = private_key.sign(signed_message(digest))
    return LogEntry(
        seq=seq,
        t_s=float(t_s),
        event=event,
        signer=signer,
        body=body_copy,
        prev_hash=prev_hash,
        hash=digest,
        signature=base64.b64encode(signature).decode("ascii"),
    )


# --- verification -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The result of checking a chain.

    Attributes:
        ok: every entry verified.
        checked: how many entries verified, in order, before the first failure.
        first_bad_seq: where the chain first fails: the entry whose content,
            signature or link is wrong, or the seq that should have come next
            when an entry is missing or out of place. None when ``ok``.
        reason: what failed, in words (``hash mismatch``, ``bad signature``...).
        last_seq: the seq of the last entry that verified, None if none did.
        last_hash: its hash (the anchor when none did): the head to check the
            next part of the log against.
    """

    ok: bool
    checked: int
    first_bad_seq: int | None
    reason: str | None
    last_seq: int | None
    last_hash: str | None

    @classmethod
    def verified(
        cls, checked: int, last_seq: int | None, last_hash: str | None
    ) -> ChainReport:
        """Every entry verified, up to ``last_seq``."""
        return cls(True, checked, None, None, last_seq, last_hash)

    @classmethod
    def failed(
        cls,
        checked: int,
        first_bad_seq: int,
        reason: str,
        last_seq: int | None,
        last_hash: str | None,
    ) -> ChainReport:
        """The chain fails at ``first_bad_seq`` for ``reason``."""
        return cls(False, checked, first_bad_seq, reason, last_seq, last_hash)

    def __str__(self) -> str:
        if self.ok:
            span = "" if self.last_seq is None else f", up to entry {self.last_seq}"
            return f"chain verified: {self.checked} entries{span}"
        return (
            f"chain fails at entry {self.first_bad_seq}: {self.reason} "
            f"({self.checked} entries before it verified)"
        )


def _signature_ok(entry: LogEntry, key: Ed25519PublicKey) -> bool:
    try:
        signature = base64.b64decode(entry.signature, validate=True)
        key.verify(signature, signed_message(entry.hash))
    except (binascii.Error, ValueError, InvalidSignature):
        return False
    return True


def _recomputed_hash(entry: LogEntry) -> str | None:
    try:
        return entry_digest(
            entry.seq, entry.t_s, entry.event, entry.signer, entry.body, entry.prev_hash
        )
    except InputError:
        return None


def _misplaced(items: Sequence[LogEntry], index: int, expected: int) -> str:
    seq = items[index].seq
    if seq < 1:
        return f"sequence gap (entry {expected} missing; seq {seq} is below 1)"
    if seq < expected:
        return f"entries out of order (entry {seq} comes after entry {expected - 1})"
    if any(later.seq == expected for later in items[index + 1 :]):
        return f"entries out of order (entry {seq} comes before entry {expected})"
    return f"sequence gap (entry {expected} missing)"


def verify_chain(
    entries: Iterable[LogEntry],
    public_keys: Mapping[str, Ed25519PublicKey],
    anchor_prev_hash: str | None = None,
    *,
    checkpoints: Mapping[int, str] | None = None,
) -> ChainReport:
    """Check a log, or a run of it, entry by entry; stop at the first failure.

    For each entry in turn: its seq follows the one before, its ``prev_hash`` is
    the hash of the entry before, its ``hash`` is the hash of its content, its
    signer has a key in ``public_keys`` and the signature verifies with that key.

    Args:
        entries: in log order.
        public_keys: by signer (party id, ``server``).
        anchor_prev_hash: where a run that does not start at the beginning of the
            log hangs: the ``prev_hash`` its first entry must carry. Without it,
            the run must start at entry 1 with ``GENESIS_HASH``.
        checkpoints: hashes by seq that the verifier obtained elsewhere (received
            on the stream, kept from an earlier check). An entry whose hash
            differs was rewritten; a checkpoint past the last entry means the
            log was cut short. Checkpoints before the run are not checked.

    Returns:
        The report: ok, or the first entry that fails and why.
    """
    items = list(entries)
    known = dict(checkpoints or {})
    expected_prev = GENESIS_HASH if anchor_prev_hash is None else anchor_prev_hash
    expected_seq: int | None = 1 if anchor_prev_hash is None else None
    previous: LogEntry | None = None
    checked = 0

    def failed(seq: int, reason: str) -> ChainReport:
        last_seq = None if previous is None else previous.seq
        return ChainReport.failed(checked, seq, reason, last_seq, expected_prev)

    for index, entry in enumerate(items):
        if expected_seq is None:
            if entry.seq < 1:
                return failed(entry.seq, f"sequence gap (seq {entry.seq} is below 1)")
            expected_seq = entry.seq
        if entry.seq != expected_seq:
            return failed(expected_seq, _misplaced(items, index, expected_seq))
        if entry.prev_hash != expected_prev:
            if previous is not None:
                why = f"prev_hash does not match entry {previous.seq}"
            elif anchor_prev_hash is not None:
                why = "prev_hash does not match the anchor"
            else:
                why = "prev_hash of the first entry is not the genesis value"
            return failed(entry.seq, f"broken link ({why})")
        if _recomputed_hash(entry) != entry.hash:
            return failed(entry.seq, "hash mismatch")
        key = public_keys.get(entry.signer)
        if key is None:
            return failed(
                entry.seq, f"unknown signer (no public key for {entry.signer!r})"
            )
        if not _signature_ok(entry, key):
            return failed(entry.seq, "bad signature")
        if entry.seq in known and known[entry.seq] != entry.hash:
            return failed(
                entry.seq,
                "rewritten (the hash differs from the one received for this entry)",
            )
        previous = entry
        expected_prev = entry.hash
        expected_seq = entry.seq + 1
        checked += 1

    if previous is not None or anchor_prev_hash is None:
        last = 0 if previous is None else previous.seq
        beyond = sorted(seq for seq in known if seq > last)
        if beyond:
            return failed(
                last + 1,
                f"truncated (the log ends at entry {last}; "
                f"entry {beyond[-1]} was received earlier)",
            )
    last_seq = None if previous is None else previous.seq
    return ChainReport.verified(checked, last_seq, expected_prev)


# --- transcripts ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Transcript:
    """A verifiable export of a run of the log.

    Attributes:
        json_text: the entries, the public keys, the anchor and the last hash
            (the file another party verifies).
        readable_text: the same as a plain-text transcript for people.
    """

    json_text: str
    readable_text: str


def _seal_payload(header: Mapping[str, Any]) -> bytes:
    return SEAL_CONTEXT + hashlib.sha256(canonical_json(header)).digest()


def _header(doc: Mapping[str, Any]) -> dict[str, Any]:
    names = (
        "format",
        "title",
        "anchor_prev_hash",
        "last_hash",
        "first_seq",
        "last_seq",
        "count",
    )
    return {name: doc.get(name) for name in names}


def _printable(text: str) -> str:
    """Text safe to print: control characters (a terminal escape) shown as codes."""
    return "".join(
        f"\\u{ord(ch):04x}" if ch != "\t" and unicodedata.category(ch) == "Cc" else ch
        for ch in text
    )


def _body_summary(body: Mapping[str, Any]) -> str:
    parts = []
    for key in sorted(body):
        if key in ("rendered", "text"):
            continue
        value = body[key]
        text = (
            value if isinstance(value, str) else canonical_json(value).decode("utf-8")
        )
        parts.append(f"{key}={text}")
    return _printable(" ".join(parts))


def _message_lines(body: Mapping[str, Any]) -> list[str]:
    rendered = body.get("rendered")
    if isinstance(rendered, Mapping):
        subject = str(rendered.get("subject_bidi") or rendered.get("subject") or "")
        text = str(rendered.get("text_bidi") or rendered.get("body") or "")
        lines = ([subject] if subject else []) + text.splitlines()
        if rendered.get("direction") == "rtl" and not rendered.get("text_bidi"):
            lines = [RLI + line + PDI for line in lines]
        return [_printable(line) for line in lines]
    free = body.get("text")
    if isinstance(free, str):
        # Free text: each line in a first-strong isolate, its own controls removed.
        return [
            FSI + _printable("".join(c for c in line if c not in _BIDI_CONTROLS)) + PDI
            for line in free.splitlines()
        ]
    return []


def _readable(
    doc: Mapping[str, Any],
    entries: Sequence[LogEntry],
    keys: Mapping[str, Ed25519PublicKey],
) -> str:
    out = [f"Hotline transcript: {doc['title']}"]
    if entries:
        out.append(
            f"Entries {entries[0].seq} to {entries[-1].seq} ({len(entries)}), "
            f"{rfc3339_ms(entries[0].t_s)} to {rfc3339_ms(entries[-1].t_s)}"
        )
    else:
        out.append("No entries.")
    out += [
        f"Anchor (hash before the first entry): {doc['anchor_prev_hash']}",
        f"Last hash: {doc['last_hash']}",
        "The chain verified with the public keys below when this was written.",
        "Verify transcript.json with your own copy of each party's public key, not",
        "with the keys printed here; compare fingerprints by voice before trusting.",
        "Public keys:",
    ]
    width = max((len(name) for name in keys), default=0)
    for name in sorted(keys):
        out.append(
            f"  {name:<{width}}  {public_key_to_text(keys[name])}  "
            f"fingerprint {public_key_fingerprint(keys[name])}"
        )
    for entry in entries:
        out.append("")
        out.append(
            f"#{entry.seq}  {rfc3339_ms(entry.t_s)}  {entry.event}  by {entry.signer}"
            f"  hash {entry.hash[:HASH_PREFIX_CHARS]}"
        )
        summary = _body_summary(entry.body)
        if summary:
            out.append(f"    {summary}")
        out += [f"    {line}" if line else "" for line in _message_lines(entry.body)]
    return "\n".join(out) + "\n"


def write_transcript(
    entries: Iterable[LogEntry],
    public_keys: Mapping[str, Ed25519PublicKey],
    title: str,
    *,
    anchor_prev_hash: str | None = None,
    seal_key: Ed25519PrivateKey | None = None,
    seal_signer: str = "server",
) -> Transcript:
    """A transcript of a run of the log (a day, an incident) that others can verify.

    The JSON holds the entries, the public keys, the anchor (the ``prev_hash`` of
    the first entry) and the last hash. With ``seal_key``, the exporter also
    signs the header (title, anchor, last hash, first and last seq, count), so
    that cutting entries off the end of the file and fixing ``last_hash`` shows.

    The readable text has one block per entry: UTC time, event, signer, the
    start of the hash, the body's other facts, and the message in the sender's
    language when the body carries one under ``rendered`` (the form of
    ``templates.Rendered.as_json``) or free text under ``text``.

    Args:
        entries: in log order.
        public_keys: by signer, for every signer of the entries.
        title: what the transcript covers (``hotline 2017-12-13``).
        anchor_prev_hash: for a run with no entries, the head of the log before it.
        seal_key: the exporter's signing key, to seal the header.
        seal_signer: whose key ``seal_key`` is (its public key must be in
            ``public_keys``).

    Raises:
        InputError: if the entries do not verify with the keys (a transcript of a
            broken chain would certify it; run the verification to find out
            where), or ``seal_signer`` has no public key.
    """
    items = list(entries)
    anchor = items[0].prev_hash if items else anchor_prev_hash
    report = verify_chain(items, public_keys, anchor_prev_hash=anchor)
    if not report.ok:
        raise InputError(
            [
                Problem(
                    "record", None, f"entry {report.first_bad_seq}", str(report.reason)
                )
            ]
        )
    doc: dict[str, Any] = {
        "format": TRANSCRIPT_FORMAT,
        "title": title,
        "anchor_prev_hash": anchor,
        "last_hash": report.last_hash,
        "first_seq": items[0].seq if items else None,
        "last_seq": items[-1].seq if items else None,
        "count": len(items),
        "canonicalization": "RFC 8785 (JCS)",
        "hash": "SHA-256 of the canonical JSON of format, seq, t_s, event, signer, "
        "body, prev_hash; format = " + ENTRY_FORMAT,
        "signature": "Ed25519 over the ASCII of format, a NUL byte, the 32 hash bytes",
        "public_keys": {
            name: public_key_to_text(public_keys[name]) for name in sorted(public_keys)
        },
        "entries": [entry.as_json() for entry in items],
    }
    if seal_key is not None:
        if seal_signer not in public_keys:
            raise InputError(
                [
                    Problem(
                        "record",
                        None,
                        "seal_signer",
                        f"no public key for {seal_signer!r}",
                    )
                ]
            )
        signature = seal_key.sign(_seal_payload(_header(doc)))
        doc["seal"] = {
            "signer": seal_signer,
            "signature": base64.b64encode(signature).decode("ascii"),
        }
    json_text = json.dumps(doc, ensure_ascii=False, indent=2, allow_nan=False) + "\n"
    return Transcript(
        json_text=json_text, readable_text=_readable(doc, items, public_keys)
    )


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed")


def verify_transcript(
    json_text: str,
    public_keys: Mapping[str, Ed25519PublicKey] | None = None,
    *,
    checkpoints: Mapping[int, str] | None = None,
    require_seal: bool = False,
    source: str = "transcript",
) -> ChainReport:
    """Check a transcript written by :func:`write_transcript`.

    A party should pass its own copy of every other party's public key, obtained
    and compared (fingerprints by voice) beforehand. Without ``public_keys`` the
    keys printed in the file are used: that shows the file is consistent, not who
    wrote it, since whoever edits the file can replace the keys too.

    Besides the chain, checks that the file's ``last_hash`` and counts match its
    entries, and the seal when there is one. A seal can be stripped as easily as
    entries can be cut off the end: where the parties agree that transcripts are
    always sealed, pass ``require_seal`` so that a missing one fails.

    Args:
        json_text: the transcript's JSON.
        public_keys: the verifier's own copy of the keys, by signer.
        checkpoints: hashes by seq received elsewhere (see :func:`verify_chain`).
        require_seal: fail when the file carries no seal.
        source: the file's name, for errors.

    Raises:
        InputError: for text that is not JSON or not a transcript (the format, a
            missing part, a malformed key in the file).
    """
    try:
        doc = json.loads(json_text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise InputError(
            [
                Problem(
                    source, exc.lineno, "", f"not JSON: {exc.msg} (column {exc.colno})"
                )
            ]
        ) from None
    except ValueError as exc:
        raise InputError([Problem(source, None, "", f"not JSON: {exc}")]) from None
    if not isinstance(doc, dict) or doc.get("format") != TRANSCRIPT_FORMAT:
        raise InputError(
            [Problem(source, None, "format", f"not a {TRANSCRIPT_FORMAT} file")]
        )
    raw_entries = doc.get("entries")
    if not isinstance(raw_entries, list):
        raise InputError([Problem(source, None, "entries", "missing or not a list")])
    if public_keys is None:
        file_keys = doc.get("public_keys")
        if not isinstance(file_keys, dict):
            raise InputError([Problem(source, None, "public_keys", "missing")])
        public_keys = {
            str(name): public_key_from_text(text) for name, text in file_keys.items()
        }
    anchor = doc.get("anchor_prev_hash")
    anchor = anchor if isinstance(anchor, str) else None

    entries: list[LogEntry] = []
    malformed: str | None = None
    for index, raw in enumerate(raw_entries):
        try:
            entries.append(LogEntry.from_json(raw, source=f"entries[{index}]"))
        except InputError as exc:
            malformed = "; ".join(str(p) for p in exc.problems)
            break
    report = verify_chain(
        entries, public_keys, anchor_prev_hash=anchor, checkpoints=checkpoints
    )
    if not report.ok:
        return report
    declared_first = doc.get("first_seq")
    first = declared_first if isinstance(declared_first, int) else 1
    after = first if report.last_seq is None else report.last_seq + 1
    if malformed is not None:
        return _fail_after(report, after, f"malformed entry ({malformed})")
    if report.last_hash != doc.get("last_hash") or doc.get("count") != len(entries):
        return _fail_after(
            report,
            after,
            "truncated (last_hash or count of the file do not match its entries)",
        )
    if entries and (doc.get("first_seq"), doc.get("last_seq")) != (
        entries[0].seq,
        entries[-1].seq,
    ):
        return _fail_after(
            report, after, "truncated (first_seq or last_seq do not match)"
        )
    seal = doc.get("seal")
    if seal is None and require_seal:
        return _fail_after(report, after, "bad seal (the transcript is not sealed)")
    if seal is not None:
        problem = _seal_problem(doc, seal, public_keys)
        if problem is not None:
            return _fail_after(report, after, problem)
    return report


def _fail_after(report: ChainReport, seq: int, reason: str) -> ChainReport:
    return ChainReport.failed(
        report.checked, seq, reason, report.last_seq, report.last_hash
    )


def _seal_problem(
    doc: Mapping[str, Any], seal: Any, public_keys: Mapping[str, Ed25519PublicKey]
) -> str | None:
    if not isinstance(seal, Mapping) or not isinstance(seal.get("signature"), str):
        return "bad seal (malformed)"
    key = public_keys.get(str(seal.get("signer")))
    if key is None:
        return f"bad seal (no public key for {seal.get('signer')!r})"
    try:
        signature = base64.b64decode(seal["signature"], validate=True)
        key.verify(signature, _seal_payload(_header(doc)))
    except (binascii.Error, ValueError, InvalidSignature, InputError):
        return "bad seal (the header was changed after export)"
    return None

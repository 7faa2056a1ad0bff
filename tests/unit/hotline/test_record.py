"""Tests of the tamper-evident hotline record (hotline/record.py).

One chain of 50 entries, signed in turn by the coalition, Russia and the server,
is built once; every test tampers with a copy of it.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import struct
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from deconfliction.errors import InputError
from deconfliction.hotline import record
from deconfliction.hotline.record import (
    GENESIS_HASH,
    ChainReport,
    LogEntry,
    canonical_json,
    entry_digest,
    make_entry,
    verify_chain,
    verify_transcript,
    write_transcript,
)
from deconfliction.hotline.templates import render

T0_S = 1_513_159_200.0  # 2017-12-13T10:00:00Z
SIGNERS = ("coalition", "russia", "server")
PRIVATE: dict[str, Ed25519PrivateKey] = {
    name: record.generate_key() for name in SIGNERS
}
PUBLIC: dict[str, Ed25519PublicKey] = {n: k.public_key() for n, k in PRIVATE.items()}
INTRUDER = record.generate_key()
EVENTS = ("sent", "delivered", "acknowledged", "escalated")


def _body(i: int) -> dict[str, Any]:
    body: dict[str, Any] = {"message_id": i // 4 + 1, "to": "russia", "eta_s": i * 1.5}
    if i % 10 == 0:
        body["rendered"] = render(
            "violation_complaint",
            {
                "incident_id": i,
                "offending_party": "Russia",
                "boundary_kind": "line",
                "boundary_id": "euphrates",
                "boundary_name": "Euphrates",
                "entry_t_s": T0_S,
                "exit_t_s": T0_S + 270.0,
                "lat_deg": 35.34,
                "lon_deg": 40.14,
                "depth_nm": 12.5,
                "alt_ft": 25_000.0,
            },
            ("en", "ru", "ar")[i % 3],
        ).as_json()
    return body


def _build(n: int) -> list[LogEntry]:
    entries: list[LogEntry] = []
    previous = None
    for i in range(n):
        signer = SIGNERS[i % 3]
        previous = make_entry(
            previous,
            T0_S + 37.25 * i,
            EVENTS[i % 4],
            signer,
            _body(i),
            PRIVATE[signer],
        )
        entries.append(previous)
    return entries


CHAIN = _build(50)


def _replace(entries: list[LogEntry], index: int, **changes: Any) -> list[LogEntry]:
    out = list(entries)
    out[index] = dataclasses.replace(out[index], **changes)
    return out


def _resign(entry: LogEntry, key: Ed25519PrivateKey, **changes: Any) -> LogEntry:
    """What someone holding ``key`` can do: change, rehash and sign an entry."""
    edited = dataclasses.replace(entry, **changes)
    digest = entry_digest(
        edited.seq,
        edited.t_s,
        edited.event,
        edited.signer,
        edited.body,
        edited.prev_hash,
    )
    signature = base64.b64encode(key.sign(record.signed_message(digest))).decode()
    return dataclasses.replace(edited, hash=digest, signature=signature)


def _put(entries: list[LogEntry], index: int, entry: LogEntry) -> list[LogEntry]:
    out = list(entries)
    out[index] = entry
    return out


def _fails_at(report: ChainReport, seq: int, reason: str) -> None:
    assert not report.ok
    assert report.first_bad_seq == seq, report
    assert report.reason is not None and report.reason.startswith(reason), report


class TestCanonicalJson:
    def test_sorted_compact_utf8(self) -> None:
        assert canonical_json({"b": 1, "a": [True, None, "é"], "c": {}}) == (
            '{"a":[true,null,"é"],"b":1,"c":{}}'.encode()
        )

    def test_rfc8785_example(self) -> None:
        # RFC 8785, section 3.2.2 and 3.2.3.
        value = {
            "numbers": [
                333333333.33333329,
                1e30,
                4.50,
                2e-3,
                0.000000000000000000000000001,
            ],
            "string": "\u20ac$\u000f\u000aA'\u0042\u0022\u005c\\\"/",
            "literals": [None, True, False],
        }
        assert (
            canonical_json(value)
            == (
                '{"literals":[null,true,false],'
                '"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
                '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
            ).encode()
        )

    @pytest.mark.parametrize(
        ("bits", "text"),
        [  # RFC 8785, appendix B
            ("0000000000000000", "0"),
            ("8000000000000000", "0"),
            ("0000000000000001", "5e-324"),
            ("8000000000000001", "-5e-324"),
            ("7fefffffffffffff", "1.7976931348623157e+308"),
            ("ffefffffffffffff", "-1.7976931348623157e+308"),
            ("4340000000000000", "9007199254740992"),
            ("c340000000000000", "-9007199254740992"),
            ("4430000000000000", "295147905179352830000"),
            ("44b52d02c7e14af5", "9.999999999999997e+22"),
            ("44b52d02c7e14af6", "1e+23"),
            ("44b52d02c7e14af7", "1.0000000000000001e+23"),
            ("444b1ae4d6e2ef4e", "999999999999999700000"),
            ("444b1ae4d6e2ef4f", "999999999999999900000"),
            ("444b1ae4d6e2ef50", "1e+21"),
            ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
            ("3eb0c6f7a0b5ed8d", "0.000001"),
            ("41b3de4355555553", "333333333.3333332"),
            ("41b3de4355555554", "333333333.33333325"),
            ("41b3de4355555555", "333333333.3333333"),
            ("41b3de4355555556", "333333333.3333334"),
            ("41b3de4355555557", "333333333.33333343"),
            ("becbf647612f3696", "-0.0000033333333333333333"),
            ("43143ff3c1cb0959", "1424953923781206.2"),
        ],
    )
    def test_numbers_as_ecmascript_prints_them(self, bits: str, text: str) -> None:
        (value,) = struct.unpack(">d", bytes.fromhex(bits))
        assert canonical_json(value) == text.encode()

    def test_big_integers_a_double_holds(self) -> None:
        assert (
            canonical_json([2**53, 10**16, 10**21])
            == b"[9007199254740992,10000000000000000,1e+21]"
        )
        assert canonical_json(1e16) == canonical_json(json.loads(canonical_json(1e16)))

    def test_keys_sorted_by_utf16_code_units(self) -> None:
        # U+1F600 is D83D DE00 in UTF-16, before U+FFFF; code points say otherwise.
        assert canonical_json({"\uffff": 1, "\U0001f600": 2}) == (
            '{"\U0001f600":2,"\uffff":1}'.encode()
        )

    @pytest.mark.parametrize(
        ("value", "path", "message"),
        [
            ({"x": float("nan")}, "$.x", "not allowed"),
            ({"x": [1, float("-inf")]}, "$.x[1]", "not allowed"),
            ({"x": 2**53 + 1}, "$.x", "not exactly a double"),
            ({"x": -(10**400)}, "$.x", "beyond any double"),
            ({1: "a"}, "$", "not text"),
            ({"x": {1, 2}}, "$.x", "set is not a JSON value"),
            ({"x": "\ud800"}, "$.x", "lone surrogate"),
        ],
    )
    def test_refuses_what_json_cannot_hold(
        self, value: Any, path: str, message: str
    ) -> None:
        with pytest.raises(InputError) as caught:
            canonical_json(value)
        (problem,) = caught.value.problems
        assert problem.field == path
        assert message in problem.message

    def test_depth_is_bounded(self) -> None:
        deep: Any = []
        for _ in range(record.MAX_JSON_DEPTH + 2):
            deep = [deep]
        with pytest.raises(InputError):
            canonical_json(deep)

    @settings(max_examples=200, deadline=None)
    @given(
        st.recursive(
            st.none()
            | st.booleans()
            | st.integers(-(2**53) + 1, 2**53 - 1)
            | st.floats(allow_nan=False, allow_infinity=False)
            | st.text(),
            lambda inner: (
                st.lists(inner, max_size=4)
                | st.dictionaries(st.text(max_size=5), inner, max_size=4)
            ),
            max_leaves=20,
        )
    )
    def test_round_trip_is_stable(self, value: Any) -> None:
        text = canonical_json(value)
        assert canonical_json(json.loads(text)) == text


class TestEntryDigest:
    def test_is_sha256_of_the_canonical_fields(self) -> None:
        payload = {
            "format": record.ENTRY_FORMAT,
            "seq": 3,
            "t_s": T0_S,
            "event": "sent",
            "signer": "russia",
            "body": {"a": 1},
            "prev_hash": GENESIS_HASH,
        }
        expected = hashlib.sha256(canonical_json(payload)).hexdigest()
        assert (
            entry_digest(3, T0_S, "sent", "russia", {"a": 1}, GENESIS_HASH) == expected
        )

    def test_every_field_counts(self) -> None:
        base = (3, T0_S, "sent", "russia", {"a": 1}, GENESIS_HASH)
        digests = {entry_digest(*base)}
        for i, other in enumerate(
            (4, T0_S + 0.001, "acknowledged", "server", {"a": 2}, "1" * 64)
        ):
            fields = list(base)
            fields[i] = other
            digests.add(entry_digest(*fields))  # type: ignore[arg-type]
        assert len(digests) == 7


class TestMakeEntry:
    def test_first_and_next(self) -> None:
        first = make_entry(
            None, T0_S, "sent", "coalition", {"x": 1}, PRIVATE["coalition"]
        )
        assert (first.seq, first.prev_hash) == (1, GENESIS_HASH)
        second = make_entry(
            first, T0_S + 1, "delivered", "server", {}, PRIVATE["server"]
        )
        assert (second.seq, second.prev_hash) == (2, first.hash)
        assert len(second.hash) == 64 and len(base64.b64decode(second.signature)) == 64
        PUBLIC["server"].verify(
            base64.b64decode(second.signature), record.signed_message(second.hash)
        )

    def test_body_is_a_canonical_copy(self) -> None:
        body: dict[str, Any] = {"list": (1, 2.0), "inner": {"k": "v"}}
        entry = make_entry(None, T0_S, "sent", "coalition", body, PRIVATE["coalition"])
        body["inner"]["k"] = "changed"
        assert entry.body == {"list": [1, 2], "inner": {"k": "v"}}
        assert verify_chain([entry], PUBLIC).ok

    def test_entries_are_hashable_values(self) -> None:
        assert len({CHAIN[0], CHAIN[0], CHAIN[1]}) == 2

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"t_s": float("nan")}, "t_s"),
            ({"t_s": True}, "t_s"),
            ({"event": " "}, "event"),
            ({"signer": "rus\nsia"}, "signer"),
            ({"body": ["not", "an", "object"]}, "body"),
        ],
    )
    def test_refuses_bad_input(self, changes: dict[str, Any], field: str) -> None:
        args: dict[str, Any] = {
            "t_s": T0_S,
            "event": "sent",
            "signer": "russia",
            "body": {},
        }
        args |= changes
        with pytest.raises(InputError) as caught:
            make_entry(None, private_key=PRIVATE["russia"], **args)
        assert [p.field for p in caught.value.problems] == [field]

    def test_refuses_nan_in_the_body(self) -> None:
        with pytest.raises(InputError) as caught:
            make_entry(
                None, T0_S, "sent", "russia", {"d": float("nan")}, PRIVATE["russia"]
            )
        assert caught.value.problems[0].field == "$.d"


class TestKeys:
    def test_pem_round_trip(self, tmp_path: Any) -> None:
        path = tmp_path / "coalition.pem"
        path.write_bytes(record.private_key_to_pem(PRIVATE["coalition"]))
        key = record.private_key_from_pem(path.read_bytes())
        assert record.public_key_to_text(key.public_key()) == record.public_key_to_text(
            PUBLIC["coalition"]
        )
        assert path.read_text().startswith("-----BEGIN PRIVATE KEY-----")

    def test_pem_with_password(self) -> None:
        pem = record.private_key_to_pem(PRIVATE["russia"], password="Хмеймим-2017")
        assert b"ENCRYPTED" in pem
        key = record.private_key_from_pem(pem.decode(), password="Хмеймим-2017")
        assert key.public_key() == PUBLIC["russia"]
        with pytest.raises(InputError):
            record.private_key_from_pem(pem, password="wrong")
        with pytest.raises(InputError):
            record.private_key_from_pem(pem)

    def test_refuses_other_keys_and_garbage(self) -> None:
        other = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        with pytest.raises(InputError, match="not an Ed25519 key"):
            record.private_key_from_pem(other)
        with pytest.raises(InputError):
            record.private_key_from_pem(b"-----BEGIN PRIVATE KEY-----\nxx\n")

    def test_public_key_text(self) -> None:
        text = record.public_key_to_text(PUBLIC["server"])
        assert text.startswith("ed25519:") and len(text) == len("ed25519:") + 44
        assert record.public_key_from_text(text) == PUBLIC["server"]

    @pytest.mark.parametrize(
        "text",
        ["AAAA", "ed25519:not base64!", "ed25519:" + "A" * 40, "rsa:" + "A" * 43 + "="],
    )
    def test_public_key_text_refused(self, text: str) -> None:
        with pytest.raises(InputError):
            record.public_key_from_text(text)

    def test_fingerprint(self) -> None:
        fingerprint = record.public_key_fingerprint(PUBLIC["coalition"])
        assert len(fingerprint.split()) == 4
        assert fingerprint != record.public_key_fingerprint(PUBLIC["russia"])


class TestVerifyChain:
    def test_fifty_entries_verify(self) -> None:
        report = verify_chain(CHAIN, PUBLIC)
        assert report == ChainReport(
            ok=True,
            checked=50,
            first_bad_seq=None,
            reason=None,
            last_seq=50,
            last_hash=CHAIN[-1].hash,
        )
        assert str(report) == "chain verified: 50 entries, up to entry 50"

    def test_empty_log(self) -> None:
        assert verify_chain([], PUBLIC).ok

    @pytest.mark.parametrize(
        "changes",
        [
            {"body": {**CHAIN[16].body, "to": "coalition"}},
            {"body": {**CHAIN[16].body, "eta_s": 24.000001}},
            {"t_s": CHAIN[16].t_s + 1.0},
            {"event": "acknowledged"},
            {"signer": "coalition"},
        ],
        ids=["body", "body-number", "time", "event", "signer"],
    )
    def test_edit_is_a_hash_mismatch(self, changes: dict[str, Any]) -> None:
        report = verify_chain(_replace(CHAIN, 16, **changes), PUBLIC)
        _fails_at(report, 17, "hash mismatch")
        assert report.checked == 16 and report.last_hash == CHAIN[15].hash
        assert "chain fails at entry 17: hash mismatch" in str(report)

    def test_edit_rehashed_without_the_key_is_a_bad_signature(self) -> None:
        forged = _resign(CHAIN[16], INTRUDER, body={"to": "nobody"})
        forged = dataclasses.replace(forged, signature=CHAIN[16].signature)
        _fails_at(verify_chain(_put(CHAIN, 16, forged), PUBLIC), 17, "bad signature")

    def test_signed_with_another_partys_key(self) -> None:
        # Russia's entry re-signed by the coalition, still claiming to be Russia's.
        assert CHAIN[7].signer == "russia"
        forged = _resign(CHAIN[7], PRIVATE["coalition"])
        _fails_at(verify_chain(_put(CHAIN, 7, forged), PUBLIC), 8, "bad signature")

    def test_claiming_the_entry_as_ones_own_breaks_the_next_link(self) -> None:
        forged = _resign(CHAIN[7], PRIVATE["coalition"], signer="coalition")
        report = verify_chain(_put(CHAIN, 7, forged), PUBLIC)
        _fails_at(report, 9, "broken link (prev_hash does not match entry 8)")

    def test_swapped_signatures(self) -> None:
        entries = _replace(CHAIN, 20, signature=CHAIN[23].signature)
        entries = _replace(entries, 23, signature=CHAIN[20].signature)
        _fails_at(verify_chain(entries, PUBLIC), 21, "bad signature")

    @pytest.mark.parametrize(
        "signature", ["", "!!!", base64.b64encode(b"x" * 63).decode()]
    )
    def test_malformed_signature(self, signature: str) -> None:
        _fails_at(
            verify_chain(_replace(CHAIN, 4, signature=signature), PUBLIC),
            5,
            "bad signature",
        )

    def test_deleted_entry(self) -> None:
        entries = CHAIN[:6] + CHAIN[7:]
        _fails_at(verify_chain(entries, PUBLIC), 7, "sequence gap (entry 7 missing)")

    def test_deleted_entry_and_renumbered(self) -> None:
        entries = CHAIN[:6] + [dataclasses.replace(e, seq=e.seq - 1) for e in CHAIN[7:]]
        _fails_at(verify_chain(entries, PUBLIC), 7, "broken link")

    def test_reordered_entries(self) -> None:
        entries = list(CHAIN)
        entries[9], entries[10] = entries[10], entries[9]
        report = verify_chain(entries, PUBLIC)
        _fails_at(report, 10, "entries out of order (entry 11 comes before entry 10)")

    def test_entry_repeated(self) -> None:
        entries = [*CHAIN[:12], CHAIN[5], *CHAIN[12:]]
        _fails_at(verify_chain(entries, PUBLIC), 13, "entries out of order")

    def test_reordered_rows_with_their_seq_swapped(self) -> None:
        # Swapping the seq of two rows in the database, so the order looks right.
        a, b = CHAIN[30], CHAIN[31]
        entries = _replace(CHAIN, 30, **{**b.as_json(), "seq": 31})
        entries = _replace(entries, 31, **{**a.as_json(), "seq": 32})
        _fails_at(verify_chain(entries, PUBLIC), 31, "broken link")

    def test_cut_at_the_start(self) -> None:
        _fails_at(verify_chain(CHAIN[3:], PUBLIC), 1, "sequence gap (entry 1 missing)")

    def test_cut_at_the_end_needs_a_checkpoint(self) -> None:
        assert verify_chain(CHAIN[:45], PUBLIC).ok  # the chain alone cannot tell
        checkpoints = {50: CHAIN[49].hash}
        report = verify_chain(CHAIN[:45], PUBLIC, checkpoints=checkpoints)
        _fails_at(
            report, 46, "truncated (the log ends at entry 45; entry 50 was received"
        )
        assert report.checked == 45

    def test_rewrite_by_a_key_holder_needs_a_checkpoint(self) -> None:
        # Whoever holds every key can rewrite entry 20 onwards consistently...
        entries = CHAIN[:19]
        for old in CHAIN[19:]:
            body = {**old.body, "to": "coalition"} if old.seq == 20 else old.body
            entries.append(
                _resign(old, PRIVATE[old.signer], body=body, prev_hash=entries[-1].hash)
            )
        assert verify_chain(entries, PUBLIC).ok
        # ...but not past a party that kept the hashes it received on the stream.
        received = {e.seq: e.hash for e in CHAIN[::5]}
        _fails_at(verify_chain(entries, PUBLIC, checkpoints=received), 21, "rewritten")

    def test_unknown_signer(self) -> None:
        keys = {k: v for k, v in PUBLIC.items() if k != "server"}
        _fails_at(
            verify_chain(CHAIN, keys), 3, "unknown signer (no public key for 'server')"
        )

    def test_wrong_key_for_a_signer(self) -> None:
        keys = {**PUBLIC, "russia": INTRUDER.public_key()}
        _fails_at(verify_chain(CHAIN, keys), 2, "bad signature")

    def test_run_with_an_anchor(self) -> None:
        run = CHAIN[20:30]
        report = verify_chain(run, PUBLIC, anchor_prev_hash=CHAIN[19].hash)
        assert report.ok and report.checked == 10 and report.last_seq == 30
        wrong = verify_chain(run, PUBLIC, anchor_prev_hash=CHAIN[18].hash)
        _fails_at(wrong, 21, "broken link (prev_hash does not match the anchor)")
        _fails_at(verify_chain(run, PUBLIC), 1, "sequence gap (entry 1 missing)")

    def test_first_entry_must_hang_on_genesis(self) -> None:
        forged = _resign(CHAIN[0], PRIVATE["coalition"], prev_hash="f" * 64)
        _fails_at(
            verify_chain([forged], PUBLIC), 1, "broken link (prev_hash of the first"
        )

    def test_body_that_is_not_json_any_more(self) -> None:
        entries = _replace(CHAIN, 2, body={"x": float("nan")})
        _fails_at(verify_chain(entries, PUBLIC), 3, "hash mismatch")

    def test_reads_any_iterable_once(self) -> None:
        assert verify_chain(iter(CHAIN), PUBLIC).ok


_FIELDS = ("body", "t_s", "event", "signer", "prev_hash", "hash", "signature", "seq")
SHORT = CHAIN[:8]


class TestRandomTampering:
    @settings(max_examples=120, deadline=None)
    @given(
        index=st.integers(0, len(SHORT) - 1),
        field=st.sampled_from(_FIELDS),
        data=st.data(),
    )
    def test_any_edit_is_caught_at_its_entry(
        self, index: int, field: str, data: st.DataObject
    ) -> None:
        entry = SHORT[index]
        if field == "body":
            new: Any = {**entry.body, data.draw(st.text(min_size=1, max_size=5)): 1}
        elif field == "t_s":
            new = entry.t_s + data.draw(st.floats(1e-3, 1e6) | st.floats(-1e6, -1e-3))
        elif field in ("event", "signer"):
            new = data.draw(
                st.sampled_from(EVENTS + SIGNERS).filter(
                    lambda v: v != getattr(entry, field)
                )
            )
        elif field in ("prev_hash", "hash"):
            new = data.draw(
                st.binary(min_size=32, max_size=32)
                .map(bytes.hex)
                .filter(lambda v: v != getattr(entry, field))
            )
        elif field == "signature":
            new = base64.b64encode(
                data.draw(st.binary(min_size=64, max_size=64))
            ).decode()
        else:
            new = data.draw(st.integers(-5, 20).filter(lambda v: v != entry.seq))
        report = verify_chain(_replace(SHORT, index, **{field: new}), PUBLIC)
        assert not report.ok
        assert report.first_bad_seq == entry.seq
        assert report.checked == index

    @settings(max_examples=60, deadline=None)
    @given(st.data())
    def test_any_deletion_or_swap_is_caught(self, data: st.DataObject) -> None:
        i = data.draw(st.integers(0, len(SHORT) - 1))
        if data.draw(st.booleans()):
            entries = SHORT[:i] + SHORT[i + 1 :]
        else:
            j = data.draw(st.integers(0, len(SHORT) - 1).filter(lambda j: j != i))
            i, j = min(i, j), max(i, j)
            entries = list(SHORT)
            entries[i], entries[j] = entries[j], entries[i]
        report = verify_chain(entries, PUBLIC, checkpoints={8: SHORT[-1].hash})
        assert not report.ok
        assert report.first_bad_seq == SHORT[i].seq
        assert report.checked == i


class TestTranscript:
    def test_round_trip(self) -> None:
        day = CHAIN[10:30]
        transcript = write_transcript(day, PUBLIC, "Hotline 2017-12-13")
        doc = json.loads(transcript.json_text)
        assert doc["anchor_prev_hash"] == CHAIN[9].hash
        assert doc["last_hash"] == CHAIN[29].hash
        assert (doc["first_seq"], doc["last_seq"], doc["count"]) == (11, 30, 20)
        assert set(doc["public_keys"]) == set(SIGNERS)
        assert [LogEntry.from_json(e) for e in doc["entries"]] == day
        report = verify_transcript(transcript.json_text, PUBLIC)
        assert report.ok and report.checked == 20 and report.last_hash == CHAIN[29].hash

    def test_verified_by_a_party_holding_only_public_keys(self, tmp_path: Any) -> None:
        transcript = write_transcript(
            CHAIN, PUBLIC, "Hotline", seal_key=PRIVATE["server"]
        )
        path = tmp_path / "hotline.json"
        path.write_text(transcript.json_text, encoding="utf-8")
        # Russia's copy of the keys, exchanged beforehand as text; no private key.
        own_copy = {name: record.public_key_to_text(PUBLIC[name]) for name in SIGNERS}
        keys = {
            name: record.public_key_from_text(text) for name, text in own_copy.items()
        }
        assert verify_transcript(path.read_text(encoding="utf-8"), keys).ok

    def test_keys_in_the_file_prove_consistency_only(self) -> None:
        transcript = write_transcript(CHAIN[:5], PUBLIC, "Hotline")
        doc = json.loads(transcript.json_text)
        # Someone rewrites entry 1 with their own key and puts that key in the file.
        # The rest of the chain hangs on the old hash, so the forger keeps only entry 1.
        forged = _resign(CHAIN[0], INTRUDER, body={"to": "nobody"})
        doc["entries"] = [forged.as_json()]
        doc["last_hash"], doc["last_seq"], doc["count"] = forged.hash, 1, 1
        doc["public_keys"]["coalition"] = record.public_key_to_text(
            INTRUDER.public_key()
        )
        text = json.dumps(doc)
        assert verify_transcript(text).ok  # consistent with itself
        _fails_at(verify_transcript(text, PUBLIC), 1, "bad signature")  # not with ours

    def test_edited_entry_in_the_file(self) -> None:
        transcript = write_transcript(CHAIN[:20], PUBLIC, "Hotline")
        doc = json.loads(transcript.json_text)
        doc["entries"][12]["body"]["to"] = "coalition"
        _fails_at(verify_transcript(json.dumps(doc), PUBLIC), 13, "hash mismatch")

    def test_truncated_file(self) -> None:
        transcript = write_transcript(CHAIN[:20], PUBLIC, "Hotline")
        doc = json.loads(transcript.json_text)
        doc["entries"] = doc["entries"][:15]
        _fails_at(verify_transcript(json.dumps(doc), PUBLIC), 16, "truncated")

    def test_truncated_file_with_its_header_fixed_breaks_the_seal(self) -> None:
        sealed = write_transcript(
            CHAIN[:20], PUBLIC, "Hotline", seal_key=PRIVATE["server"]
        )
        assert verify_transcript(sealed.json_text, PUBLIC).ok
        doc = json.loads(sealed.json_text)
        doc["entries"] = doc["entries"][:15]
        doc["last_hash"], doc["last_seq"], doc["count"] = CHAIN[14].hash, 15, 15
        _fails_at(verify_transcript(json.dumps(doc), PUBLIC), 16, "bad seal")
        # Stripping the seal too is caught where sealing is the agreed rule.
        del doc["seal"]
        assert verify_transcript(json.dumps(doc), PUBLIC).ok
        report = verify_transcript(json.dumps(doc), PUBLIC, require_seal=True)
        _fails_at(report, 16, "bad seal (the transcript is not sealed)")

    def test_truncated_file_caught_by_a_checkpoint(self) -> None:
        doc = json.loads(write_transcript(CHAIN[:20], PUBLIC, "Hotline").json_text)
        doc["entries"] = doc["entries"][:15]
        doc["last_hash"], doc["last_seq"], doc["count"] = CHAIN[14].hash, 15, 15
        text = json.dumps(doc)
        assert verify_transcript(text, PUBLIC).ok
        report = verify_transcript(text, PUBLIC, checkpoints={18: CHAIN[17].hash})
        _fails_at(report, 16, "truncated")

    def test_malformed_entry(self) -> None:
        doc = json.loads(write_transcript(CHAIN[:10], PUBLIC, "Hotline").json_text)
        del doc["entries"][6]["signature"]
        _fails_at(verify_transcript(json.dumps(doc), PUBLIC), 7, "malformed entry")

    def test_empty_day(self) -> None:
        transcript = write_transcript(
            [], PUBLIC, "Quiet day", anchor_prev_hash=CHAIN[9].hash
        )
        report = verify_transcript(transcript.json_text, PUBLIC)
        assert report.ok and report.checked == 0 and report.last_hash == CHAIN[9].hash
        assert "No entries." in transcript.readable_text

    def test_refuses_to_certify_a_broken_chain(self) -> None:
        with pytest.raises(InputError) as caught:
            write_transcript(_replace(CHAIN, 3, event="forged"), PUBLIC, "Hotline")
        assert caught.value.problems[0].field == "entry 4"
        assert "hash mismatch" in caught.value.problems[0].message

    @pytest.mark.parametrize(
        "text",
        [
            "not json",
            '{"format": "something else", "entries": []}',
            '{"format": "deconfliction.hotline.transcript/1"}',
            '{"format": "deconfliction.hotline.transcript/1", "entries": [], "x": NaN}',
        ],
    )
    def test_not_a_transcript(self, text: str) -> None:
        with pytest.raises(InputError):
            verify_transcript(text, PUBLIC)

    def test_readable_text(self) -> None:
        transcript = write_transcript(CHAIN[:21], PUBLIC, "Hotline 2017-12-13")
        text = transcript.readable_text
        assert text.startswith("Hotline transcript: Hotline 2017-12-13\n")
        assert (
            "Entries 1 to 21 (21), 2017-12-13T10:00:00.000Z to 2017-12-13T10:12:25.000Z"
            in text
        )
        blocks = text.split("\n\n")[1:]
        assert len(blocks) == 21
        assert blocks[1].startswith(
            "#2  2017-12-13T10:00:37.250Z  delivered  by russia  "
            f"hash {CHAIN[1].hash[:16]}\n"
        )
        assert "    eta_s=1.5 message_id=1 to=russia" in blocks[1]
        # Entries 1, 11 and 21 carry a complaint, in English, Russian and Arabic.
        assert "    Violation complaint: incident 0\n" in blocks[0]
        assert "    Жалоба о нарушении: инцидент 10\n" in blocks[10]
        # Right to left, the number in a left-to-right isolate.
        assert "    \u2067شكوى خرق: الحادث \u206620\u2069\u2069\n" in blocks[20]
        for name in SIGNERS:
            assert record.public_key_to_text(PUBLIC[name]) in text
            assert record.public_key_fingerprint(PUBLIC[name]) in text

    def test_readable_free_text(self) -> None:
        entry = make_entry(
            None,
            T0_S,
            "sent",
            "russia",
            {"text": "Приняли.\nТрек пришлём."},
            PRIVATE["russia"],
        )
        text = write_transcript([entry], PUBLIC, "Hotline").readable_text
        assert "    \u2068Приняли.\u2069\n    \u2068Трек пришлём.\u2069" in text

    def test_readable_text_cannot_drive_a_terminal(self) -> None:
        body = {"to": "russia\x1b[2J", "text": "ok \u202eevil\u202c\x1b[31m"}
        entry = make_entry(None, T0_S, "sent", "russia", body, PRIVATE["russia"])
        text = write_transcript([entry], PUBLIC, "Hotline").readable_text
        assert "\x1b" not in text and "\u202e" not in text
        assert "to=russia\\u001b[2J" in text
        assert "    \u2068ok evil\\u001b[31m\u2069" in text


class TestLogEntryFromJson:
    def test_round_trip(self) -> None:
        assert LogEntry.from_json(CHAIN[5].as_json()) == CHAIN[5]

    def test_names_every_bad_field(self) -> None:
        data = {**CHAIN[5].as_json(), "seq": "6", "body": None, "hash": True}
        with pytest.raises(InputError) as caught:
            LogEntry.from_json(data)
        assert {p.field for p in caught.value.problems} == {"seq", "body", "hash"}

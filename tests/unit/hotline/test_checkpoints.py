"""hotline.checkpoints: a party's check of the served log, stubs included."""

from __future__ import annotations

import pytest

from deconfliction.errors import InputError
from deconfliction.hotline import checkpoints as cp
from deconfliction.hotline import record

KEY = record.generate_key()
OTHER = record.generate_key()
KEYS = {"a": KEY.public_key()}


def _log(n: int) -> list[record.LogEntry]:
    out: list[record.LogEntry] = []
    for i in range(n):
        prev = out[-1] if out else None
        out.append(record.make_entry(prev, 1000.0 + i, "sent", "a", {"i": i}, KEY))
    return out


def _stub(e: record.LogEntry) -> cp.EntryStub:
    return cp.EntryStub(e.seq, e.prev_hash, e.hash)


def _head(entries: list[record.LogEntry]) -> tuple[int, str]:
    return entries[-1].seq, entries[-1].hash


class TestVerifyServedLog:
    def test_stubs_keep_the_chain_whole(self) -> None:
        log = _log(4)
        served = [log[0], _stub(log[1]), _stub(log[2]), log[3]]
        report = cp.verify_served_log(served, _head(log), KEYS, {2: log[1].hash})
        assert report.ok and report.checked == 4

    def test_empty_log(self) -> None:
        assert cp.verify_served_log([], None, KEYS).ok
        assert not cp.verify_served_log([], None, KEYS, {1: "0" * 64}).ok

    def test_a_missing_entry(self) -> None:
        log = _log(3)
        report = cp.verify_served_log([log[0], log[2]], _head(log), KEYS)
        assert (report.first_bad_seq, report.reason) == (
            2,
            "sequence gap (entry 2 missing)",
        )

    def test_a_stub_that_does_not_link(self) -> None:
        log = _log(3)
        bad = cp.EntryStub(2, "f" * 64, log[1].hash)
        report = cp.verify_served_log([log[0], bad, log[2]], _head(log), KEYS)
        assert report.first_bad_seq == 2 and "broken link" in str(report.reason)

    def test_an_edited_full_entry(self) -> None:
        log = _log(2)
        edited = record.LogEntry.from_json({**log[0].as_json(), "body": {"i": 9}})
        report = cp.verify_served_log([edited, log[1]], _head(log), KEYS)
        assert (report.first_bad_seq, report.reason) == (1, "hash mismatch")

    def test_signed_with_another_key(self) -> None:
        entry = record.make_entry(None, 1.0, "sent", "a", {}, OTHER)
        report = cp.verify_served_log([entry], (1, entry.hash), KEYS)
        assert report.reason == "bad signature"

    def test_rewritten_at_a_checkpoint(self) -> None:
        log = _log(3)
        report = cp.verify_served_log(log, _head(log), KEYS, {2: "e" * 64})
        assert report.first_bad_seq == 2 and "rewritten" in str(report.reason)

    def test_truncated_below_a_checkpoint(self) -> None:
        log = _log(3)
        report = cp.verify_served_log(log[:2], _head(log[:2]), KEYS, {3: log[2].hash})
        assert report.first_bad_seq == 3 and "truncated" in str(report.reason)

    def test_a_head_past_the_entries(self) -> None:
        log = _log(3)
        report = cp.verify_served_log(log[:2], _head(log), KEYS)
        assert report.first_bad_seq == 3 and "head" in str(report.reason)


class TestKeys:
    def test_changes_are_named_with_fingerprints(self) -> None:
        pinned = {"a": record.public_key_to_text(KEY.public_key())}
        served = {"a": record.public_key_to_text(OTHER.public_key())}
        (change,) = cp.key_changes(pinned, served)
        assert change.signer == "a"
        assert change.pinned_fingerprint == cp.key_fingerprint(KEY.public_key())
        assert change.served_fingerprint == cp.key_fingerprint(OTHER.public_key())
        assert cp.key_changes(pinned, pinned) == []
        (gone,) = cp.key_changes(pinned, {})
        assert "no key" in str(gone)


class TestCheckpointFile:
    def test_round_trip(self) -> None:
        kept = cp.CheckpointFile(
            "http://127.0.0.1:8000",
            "russia",
            {
                "a": cp.PinnedKey(
                    record.public_key_to_text(KEY.public_key()),
                    cp.key_fingerprint(KEY.public_key()),
                    "2017-12-13T05:00:00Z",
                )
            },
            (cp.Checkpoint(3, "a" * 64, "2017-12-13T05:00:00Z"),),
        )
        again = cp.CheckpointFile.from_json(kept.as_json(), "f.json")
        assert again == kept
        assert again.by_seq() == {3: "a" * 64}

    @pytest.mark.parametrize(
        ("text", "field"),
        [
            ("not json", ""),
            ('{"format": "other"}', "format"),
            (
                '{"format": "deconfliction.hotline.checkpoints/1", '
                '"checkpoints": [{"seq": 0, "hash": "x"}]}',
                "checkpoints[0].seq",
            ),
            (
                '{"format": "deconfliction.hotline.checkpoints/1", '
                '"checkpoints": [{"seq": 1, "hash": "x"}]}',
                "checkpoints[0].hash",
            ),
            (
                '{"format": "deconfliction.hotline.checkpoints/1", "keys": {"a": {}}}',
                "keys.a",
            ),
        ],
    )
    def test_bad_files_name_the_field(self, text: str, field: str) -> None:
        with pytest.raises(InputError) as caught:
            cp.CheckpointFile.from_json(text, "f.json")
        assert caught.value.problems[0].field == field
        assert caught.value.problems[0].source == "f.json"

    def test_two_hashes_for_one_entry(self) -> None:
        text = (
            '{"format": "deconfliction.hotline.checkpoints/1", "checkpoints": ['
            f'{{"seq": 1, "hash": "{"a" * 64}"}}, {{"seq": 1, "hash": "{"b" * 64}"}}]}}'
        )
        with pytest.raises(InputError, match="two different hashes"):
            cp.CheckpointFile.from_json(text, "f.json")


class TestServedEntry:
    def test_stub_and_full(self) -> None:
        (entry,) = _log(1)
        stub = {"seq": 1, "prev_hash": entry.prev_hash, "hash": entry.hash}
        assert cp.served_entry({**stub, "hidden": True}, 0) == _stub(entry)
        assert cp.served_entry(entry.as_json(), 0) == entry
        with pytest.raises(InputError):
            cp.served_entry({**stub, "hidden": True, "seq": "1"}, 0)
        with pytest.raises(InputError):
            cp.served_entry([], 0)

"""federation/hotline.py: a message's status at exactly its deadline, and where a
peer's checkpoint is consistent with a record and where it is not."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from deconfliction.federation import hotline
from deconfliction.hotline import record

KEY = Ed25519PrivateKey.generate()
DEADLINE_T_S = 1000.0


def _sent() -> record.LogEntry:
    body = {
        "message_id": "m1",
        "from": "a",
        "to": "b",
        "priority": "flash",
        "text": "x",
        "deadline_t_s": DEADLINE_T_S,
    }
    return record.make_entry(None, 900.0, "sent", "a", body, KEY)


def _answer(event: str, t_s: float) -> record.LogEntry:
    return record.make_entry(None, t_s, event, "b", {"message_id": "m1"}, KEY)


def _view(
    delivered_t_s: float | None, acknowledged_t_s: float | None, now_t_s: float
) -> tuple[Any, Any]:
    view = hotline._message_view(
        _sent(),
        None if delivered_t_s is None else _answer("delivered", delivered_t_s),
        None if acknowledged_t_s is None else _answer("acknowledged", acknowledged_t_s),
        now_t_s,
    )
    return view["status"], view["deadline_missed"]


class TestMessageView:
    def test_not_delivered_just_before_and_at_the_deadline(self) -> None:
        assert _view(None, None, DEADLINE_T_S - 0.001) == ("queued", None)
        assert _view(None, None, DEADLINE_T_S) == ("undelivered", "undelivered")

    def test_delivered_in_time_not_acknowledged(self) -> None:
        assert _view(950.0, None, DEADLINE_T_S - 0.001) == ("delivered", None)
        assert _view(950.0, None, DEADLINE_T_S) == ("overdue", "unacknowledged")

    def test_delivered_exactly_at_the_deadline_counts_as_in_time(self) -> None:
        assert _view(DEADLINE_T_S, None, DEADLINE_T_S + 1) == (
            "overdue",
            "unacknowledged",
        )

    def test_delivered_after_the_deadline_is_not_ignored(self) -> None:
        assert _view(DEADLINE_T_S + 0.001, None, DEADLINE_T_S + 1) == (
            "delivered",
            "undelivered",
        )

    def test_acknowledged_at_and_after_the_deadline(self) -> None:
        assert _view(950.0, DEADLINE_T_S, DEADLINE_T_S + 5) == ("acknowledged", None)
        assert _view(950.0, DEADLINE_T_S + 0.001, DEADLINE_T_S + 5) == (
            "acknowledged",
            "unacknowledged",
        )


def _chain(author: str, texts: list[str]) -> list[record.LogEntry]:
    out: list[record.LogEntry] = []
    for i, text in enumerate(texts):
        out.append(
            record.make_entry(
                out[-1] if out else None, float(i), "sent", author, {"t": text}, KEY
            )
        )
    return out


def _claim(hashes: dict[str, list[str]]) -> dict[str, Any]:
    return {
        "chains": {
            a: {"seq": len(h), "hash": h[-1] if h else record.GENESIS_HASH}
            for a, h in hashes.items()
        }
    }


class TestDifferences:
    def test_the_same_record_is_consistent(self) -> None:
        held = {
            "a": hotline.recomputed_hashes(_chain("a", ["1", "2"])),
            "b": hotline.recomputed_hashes(_chain("b", ["3"])),
        }
        assert hotline.differences("a", "b", _claim(held), held) == []

    def test_entries_in_flight_are_consistent(self) -> None:
        mine = hotline.recomputed_hashes(_chain("a", ["1", "2"]))
        theirs = hotline.recomputed_hashes(_chain("b", ["3", "4"]))
        claim = _claim({"a": mine[:1], "b": theirs})  # my 2nd not there yet
        assert hotline.differences("a", "b", claim, {"a": mine, "b": theirs[:1]}) == []

    def test_an_edited_entry_is_found(self) -> None:
        held = hotline.recomputed_hashes(_chain("a", ["1", "2"]))
        edited = _chain("a", ["1", "2"])
        changed = record.LogEntry(
            **{**edited[0].as_json(), "body": {"t": "other"}}  # type: ignore[arg-type]
        )
        claim = _claim({"a": hotline.recomputed_hashes([changed, edited[1]]), "b": []})
        found = hotline.differences("b", "a", claim, {"a": held, "b": []})
        assert [(d.author, d.reason) for d in found] == [
            ("a", "entry hashes differ up to entry 2")
        ]

    def test_an_entry_dropped_by_its_author_is_found(self) -> None:
        held = hotline.recomputed_hashes(_chain("a", ["1", "2"]))
        found = hotline.differences(
            "b",
            "a",
            _claim({"a": held[:1], "b": []}),
            {
                "a": held,
                "b": [],
            },
        )
        assert [d.author for d in found] == ["a"]

    def test_more_of_my_entries_than_i_hold_is_found(self) -> None:
        mine = hotline.recomputed_hashes(_chain("a", ["1", "2"]))
        found = hotline.differences(
            "a", "b", _claim({"a": mine, "b": []}), {"a": mine[:1], "b": []}
        )
        assert [d.author for d in found] == ["a"]


class TestFirstDifference:
    def test_names_the_first_entry_that_differs_or_is_missing(self) -> None:
        one, other = _chain("a", ["1", "2", "3"]), _chain("a", ["1", "x", "3"])
        assert hotline.first_difference(one, one) is None
        assert hotline.first_difference(one, other) == 2
        assert hotline.first_difference(one, one[:2]) == 3

"""Tests of deconfliction.service.disclosure: the views, level by level."""

from __future__ import annotations

from typing import Any

import pytest

from deconfliction.domain.protocol import SharingLevel
from deconfliction.service.disclosure import (
    NOTHING_SHARED,
    Agreement,
    Period,
    Sharing,
    alert_view,
    incident_view,
    plans_visible,
    tracks_visible,
)

PARTIES = frozenset({"blue", "red"})


def sharing(level: str) -> Sharing:
    return Sharing.one(SharingLevel(level), PARTIES)


ALERT: dict[str, Any] = {
    "id": "x",
    "aircraft": [
        {
            "party": "blue",
            "id": "B1",
            "lat_deg": 35.0,
            "gs_kt": 400,
            "cpa": {"lat_deg": 35.1, "lon_deg": 38.0, "alt_ft": 20000},
        },
        {
            "party": "red",
            "id": "R1",
            "lat_deg": 35.2,
            "gs_kt": 380,
            "cpa": {"lat_deg": 35.1, "lon_deg": 38.01, "alt_ft": 20300},
        },
    ],
}

VIOLATION: dict[str, Any] = {
    "id": 1,
    "kind": "line_violation",
    "party_id": "red",
    "involved": ["blue"],
    "aircraft": [{"party": "red", "id": "R1", "point": {"lat_deg": 35.0}}],
    "evidence": {"tracks": {"red": {"R1": [[0, 35, 38, 20000]]}}},
}


class TestTracksVisible:
    @pytest.mark.parametrize(
        ("level", "expected"),
        [("zones", False), ("conflicts", False), ("plans", False), ("full", True)],
    )
    def test_levels(self, level: str, expected: bool) -> None:
        assert tracks_visible("blue", "red", sharing(level)) is expected
        assert tracks_visible("blue", "blue", sharing(level)) is True

    def test_outsider_sees_nothing_even_under_full(self) -> None:
        assert tracks_visible("green", "red", sharing("full")) is False
        assert tracks_visible("green", "green", NOTHING_SHARED) is True


class TestPlansVisible:
    def test_from_plans_up(self) -> None:
        assert not plans_visible("blue", "red", sharing("conflicts"))
        assert plans_visible("blue", "red", sharing("plans"))


class TestAlertView:
    def test_zones_shows_no_alert_even_to_those_involved(self) -> None:
        assert alert_view("blue", ALERT, sharing("zones")) is None

    @pytest.mark.parametrize("level", ["conflicts", "plans"])
    def test_reduced_to_the_cpa(self, level: str) -> None:
        view = alert_view("blue", ALERT, sharing(level))
        assert view is not None
        blue, red = view["aircraft"]
        assert blue == ALERT["aircraft"][0]
        assert red == {"party": "red", "cpa": ALERT["aircraft"][1]["cpa"]}

    def test_full_is_unreduced(self) -> None:
        assert alert_view("blue", ALERT, sharing("full")) == ALERT

    def test_not_involved(self) -> None:
        assert alert_view("green", ALERT, sharing("full")) is None


class TestIncidentView:
    def test_offender_sees_its_own_at_every_level(self) -> None:
        for level in ("zones", "conflicts", "full"):
            view = incident_view("red", VIOLATION, sharing(level))
            assert view is not None and view["aircraft"][0]["id"] == "R1"
            assert view["evidence"]["tracks"] == VIOLATION["evidence"]["tracks"]

    def test_affected_party(self) -> None:
        assert incident_view("blue", VIOLATION, sharing("zones")) is None
        view = incident_view("blue", VIOLATION, sharing("conflicts"))
        assert view is not None
        assert view["aircraft"] == [{"party": "red", "point": {"lat_deg": 35.0}}]
        assert view["evidence"]["tracks"] == {}
        assert incident_view("blue", VIOLATION, sharing("full")) == VIOLATION

    def test_uninvolved_and_outsider(self) -> None:
        assert incident_view("green", VIOLATION, sharing("full")) is None

    def test_loss_of_separation_needs_conflicts(self) -> None:
        los = {
            **VIOLATION,
            "kind": "loss_of_separation",
            "involved": ["blue", "red"],
            "aircraft": [
                *VIOLATION["aircraft"],
                {"party": "blue", "id": "B1", "point": {"lat_deg": 35.0}},
            ],
        }
        assert incident_view("red", los, sharing("zones")) is None
        view = incident_view("red", los, sharing("conflicts"))
        assert view is not None
        assert [a.get("id") for a in view["aircraft"]] == ["R1", None]


NONCONFORMANCE: dict[str, Any] = {
    "id": 3,
    "kind": "operation_nonconformance",
    "party_id": "red",
    "involved": ["blue"],
    "boundary_id": "red-op-1",
    "aircraft": [{"party": "red", "id": "R1", "point": {"lat_deg": 36.0}}],
    "evidence": {"tracks": {"red": {"R1": [[0.0, 36.0, 38.0, 9000.0]]}}},
}


class TestNonconformanceView:
    """Another party's operation leaving its volumes: no aircraft of the viewer is
    near it, so below ``full`` neither its aircraft nor where it was."""

    def test_hidden_below_plans(self) -> None:
        for level in ("zones", "conflicts"):
            assert incident_view("blue", NONCONFORMANCE, sharing(level)) is None

    def test_at_plans_no_aircraft_and_no_position(self) -> None:
        view = incident_view("blue", NONCONFORMANCE, sharing("plans"))
        assert view is not None
        assert view["aircraft"] == [{"party": "red"}]
        assert view["evidence"]["tracks"] == {}

    def test_whole_at_full_and_to_its_party(self) -> None:
        full = incident_view("blue", NONCONFORMANCE, sharing("full"))
        assert full == NONCONFORMANCE
        own = incident_view("red", NONCONFORMANCE, sharing("zones"))
        assert own is not None and own["aircraft"][0]["id"] == "R1"


# -- several agreements at once: a-b under conflicts beside b-c under full ------------

AB = frozenset({"a", "b"})
BC = frozenset({"b", "c"})
TWO = Sharing((Agreement(SharingLevel.CONFLICTS, AB), Agreement(SharingLevel.FULL, BC)))


def _side(party: str, aircraft: str) -> dict[str, Any]:
    return {"party": party, "id": aircraft, "gs_kt": 400, "cpa": {"lat_deg": 1.0}}


def _alert(p: str, q: str) -> dict[str, Any]:
    return {"id": f"{p}{q}", "aircraft": [_side(p, p.upper()), _side(q, q.upper())]}


class TestSeveralAgreements:
    def test_each_pair_sees_at_its_own_level(self) -> None:
        assert TWO.between("a", "b") is SharingLevel.CONFLICTS
        assert TWO.between("b", "a") is SharingLevel.CONFLICTS
        assert TWO.between("c", "b") is SharingLevel.FULL
        assert TWO.between("a", "c") is None
        assert TWO.between("c", "a") is None

    def test_tracks(self) -> None:
        assert tracks_visible("c", "b", TWO) is True
        assert tracks_visible("b", "c", TWO) is True
        assert tracks_visible("a", "b", TWO) is False
        assert tracks_visible("b", "a", TWO) is False
        assert tracks_visible("a", "c", TWO) is False
        assert tracks_visible("c", "a", TWO) is False

    def test_plans(self) -> None:
        assert plans_visible("c", "b", TWO) is True
        assert plans_visible("a", "b", TWO) is False
        assert plans_visible("a", "c", TWO) is False

    def test_alert_between_a_and_b_reduced_for_both(self) -> None:
        seen = alert_view("a", _alert("a", "b"), TWO)
        assert seen is not None
        assert seen["aircraft"][1] == {"party": "b", "cpa": {"lat_deg": 1.0}}
        seen_by_b = alert_view("b", _alert("a", "b"), TWO)
        assert seen_by_b is not None
        assert "id" not in seen_by_b["aircraft"][0]

    def test_alert_between_b_and_c_in_full(self) -> None:
        assert alert_view("c", _alert("b", "c"), TWO) == _alert("b", "c")
        assert alert_view("a", _alert("b", "c"), TWO) is None

    def test_alert_between_a_and_c_shown_to_nobody(self) -> None:
        for viewer in "abc":
            assert alert_view(viewer, _alert("a", "c"), TWO) is None

    def test_incident_of_c_not_shown_to_a(self) -> None:
        violation = {
            **VIOLATION,
            "party_id": "c",
            "involved": ["a"],
            "aircraft": [{"party": "c", "id": "C1", "point": {"lat_deg": 1.0}}],
            "evidence": {"tracks": {}},
        }
        assert incident_view("a", violation, TWO) is None
        assert incident_view("c", violation, TWO) is not None

    def test_incident_involving_b_and_c_not_shown_to_a(self) -> None:
        loss = {
            "id": 2,
            "kind": "loss_of_separation",
            "party_id": "b",
            "involved": ["a", "b", "c"],
            "aircraft": [
                {"party": "b", "id": "B1", "point": {}},
                {"party": "c", "id": "C1", "point": {}},
            ],
            "evidence": {"tracks": {}},
        }
        assert incident_view("a", loss, TWO) is None
        assert incident_view("b", loss, TWO) == loss

    def test_partners(self) -> None:
        assert TWO.partners_of("b") == {"a", "c"}
        assert TWO.partners_of("a") == {"b"}
        assert TWO.partners_of("d") == frozenset()

    def test_as_recorded_per_pair(self) -> None:
        history = (
            Period(0.0, None, SharingLevel.CONFLICTS, AB),
            Period(0.0, 100.0, SharingLevel.ZONES, BC),
            Period(100.0, None, SharingLevel.FULL, BC),
        )
        shared = Sharing(TWO.agreements, history)
        assert shared.as_recorded(99.9).between("c", "b") is SharingLevel.ZONES
        assert shared.as_recorded(100.0).between("c", "b") is SharingLevel.FULL
        assert shared.as_recorded(50.0).between("a", "b") is SharingLevel.CONFLICTS
        assert shared.as_recorded(-0.1).between("a", "b") is None
        assert shared.as_recorded(150.0).between("a", "c") is None

"""Tests of deconfliction.service.disclosure: the views, level by level."""

from __future__ import annotations

from typing import Any

import pytest

from deconfliction.domain.protocol import SharingLevel
from deconfliction.service.disclosure import (
    NOTHING_SHARED,
    Sharing,
    alert_view,
    incident_view,
    plans_visible,
    tracks_visible,
)

PARTIES = frozenset({"blue", "red"})


def sharing(level: str) -> Sharing:
    return Sharing(SharingLevel(level), PARTIES)


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

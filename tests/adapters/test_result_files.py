"""Result files: conflicts, violations, tracks and the summary."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from deconfliction.adapters import result_files as rf
from deconfliction.adapters.states_csv import read_states
from deconfliction.domain.alert_tracker import Alert
from deconfliction.domain.conformance import Violation, ViolationKind
from deconfliction.domain.model import AircraftStates, AlertLevel

T0_S = 1513123200.0  # 2017-12-13T00:00:00Z


def _alert(**changes: Any) -> Alert:
    values: dict[str, Any] = {
        "id": "COA001-RUS002-1513126800",
        "a_id": "COA001",
        "b_id": "RUS002",
        "party_a": "coalition",
        "party_b": "russia",
        "first_seen_t_s": T0_S + 3600.0,
        "last_seen_t_s": T0_S + 3725.0,
        "level": AlertLevel.CONFLICT,
        "max_level": AlertLevel.WARNING,
        "dcpa_nm": 3.25,
        "min_dcpa_nm": 0.1234567,
        "tcpa_s": 0.0,
        "dalt_ft_at_cpa": 175.24,
        "a_lat_deg": 36.1,
        "a_lon_deg": 38.6,
        "a_alt_ft": 24000.0,
        "b_lat_deg": 36.11,
        "b_lon_deg": 38.62,
        "b_alt_ft": 24175.24,
        "detections": 26,
    }
    values.update(changes)
    return Alert(**values)


def _violation(**changes: Any) -> Violation:
    values: dict[str, Any] = {
        "kind": ViolationKind.LINE,
        "aircraft_id": "RUS007",
        "party": "russia",
        "boundary_id": "euphrates",
        "entry_t_s": T0_S + 100.0,
        "exit_t_s": T0_S + 400.0,
        "duration_s": 300.0,
        "deepest_t_s": T0_S + 250.0,
        "deepest_lat_deg": 35.9,
        "deepest_lon_deg": 39.3,
        "deepest_alt_ft": 21000.0,
        "max_depth_nm": 22.5,
        "samples": 61,
        "is_open": False,
        "depth_across_line_nm": 12.5,
    }
    values.update(changes)
    return Violation(**values)


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _check_feature_collection(doc: dict[str, Any], geometry_type: str) -> None:
    """The RFC 7946 rules these files must keep."""
    assert doc["type"] == "FeatureCollection"
    assert "crs" not in doc  # RFC 7946 dropped it: WGS 84 only
    for feature in doc["features"]:
        assert feature["type"] == "Feature"
        assert isinstance(feature["properties"], dict)
        geometry = feature["geometry"]
        assert geometry["type"] == geometry_type
        points = (
            [geometry["coordinates"]]
            if geometry_type == "Point"
            else geometry["coordinates"]
        )
        for position in points:
            assert len(position) == 2
            lon, lat = position
            assert -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0


class TestWriteConflictsCsv:
    def test_one_row_per_alert_with_units_in_the_header(self, tmp_path: Path) -> None:
        path = tmp_path / "conflicts.csv"
        rf.write_conflicts_csv(
            path, [_alert(), _alert(id="x", max_level=AlertLevel.ADVISORY)]
        )
        rows = _read_csv(path)
        assert list(rows[0]) == list(rf.CONFLICT_FIELDS)
        assert len(rows) == 2
        row = rows[0]
        assert row["first_seen"] == "2017-12-13T01:00:00Z"
        assert row["last_seen"] == "2017-12-13T01:02:05Z"
        assert float(row["duration_s"]) == 125.0
        assert (row["max_level"], row["level"]) == ("warning", "conflict")
        assert float(row["min_dcpa_nm"]) == pytest.approx(0.1235)
        assert rows[1]["max_level"] == "advisory"

    def test_no_alerts_gives_the_header_only(self, tmp_path: Path) -> None:
        path = tmp_path / "conflicts.csv"
        rf.write_conflicts_csv(path, [])
        assert path.read_text(encoding="utf-8") == ",".join(rf.CONFLICT_FIELDS) + "\n"


class TestWriteConflictsGeojson:
    def test_both_aircraft_in_lon_lat_order(self, tmp_path: Path) -> None:
        path = tmp_path / "conflicts.geojson"
        rf.write_conflicts_geojson(path, [_alert()])
        doc = json.loads(path.read_text(encoding="utf-8"))
        _check_feature_collection(doc, "MultiPoint")
        [feature] = doc["features"]
        assert feature["id"] == "COA001-RUS002-1513126800"
        assert feature["geometry"]["coordinates"] == [[38.6, 36.1], [38.62, 36.11]]
        props = feature["properties"]
        assert props["max_level"] == "warning" and props["detections"] == 26
        assert props["first_seen"] == "2017-12-13T01:00:00Z"
        assert props["b_alt_ft"] == 24175.2


class TestWriteViolationsCsv:
    def test_one_row_per_violation(self, tmp_path: Path) -> None:
        path = tmp_path / "violations.csv"
        rf.write_violations_csv(path, [_violation(), _violation(is_open=True)])
        rows = _read_csv(path)
        assert list(rows[0]) == list(rf.VIOLATION_FIELDS)
        assert rows[0]["entry_time"] == "2017-12-13T00:01:40Z"
        assert rows[0]["deepest_time"] == "2017-12-13T00:04:10Z"
        assert (rows[0]["kind"], rows[0]["is_open"], rows[1]["is_open"]) == (
            "line",
            "False",
            "True",
        )
        # Both depths of a line violation, named; none inside a zone.
        assert float(rows[0]["depth_across_line_nm"]) == 12.5
        assert float(rows[0]["depth_from_buffer_edge_nm"]) == 22.5
        assert rows[0]["depth_inside_zone_nm"] == ""

    def test_a_zone_incursion_has_its_depth_inside(self, tmp_path: Path) -> None:
        path = tmp_path / "violations.csv"
        zone = _violation(kind=ViolationKind.ZONE, depth_across_line_nm=None)
        rf.write_violations_csv(path, [zone])
        (row,) = _read_csv(path)
        assert float(row["depth_inside_zone_nm"]) == 22.5
        assert row["depth_across_line_nm"] == row["depth_from_buffer_edge_nm"] == ""


class TestWriteViolationsGeojson:
    def test_deepest_point_in_lon_lat_order(self, tmp_path: Path) -> None:
        path = tmp_path / "violations.geojson"
        rf.write_violations_geojson(path, [_violation(), _violation(party="coalition")])
        doc = json.loads(path.read_text(encoding="utf-8"))
        _check_feature_collection(doc, "Point")
        assert doc["features"][0]["geometry"]["coordinates"] == [39.3, 35.9]
        props = doc["features"][0]["properties"]
        assert props["boundary_id"] == "euphrates" and props["is_open"] is False
        assert props["deepest_alt_ft"] == 21000.0

    def test_a_non_finite_figure_becomes_null(self, tmp_path: Path) -> None:
        path = tmp_path / "violations.geojson"
        rf.write_violations_geojson(path, [_violation(max_depth_nm=math.inf)])
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert doc["features"][0]["properties"]["depth_from_buffer_edge_nm"] is None


class TestWriteTracksCsv:
    def test_rows_read_back_as_states(self, tmp_path: Path) -> None:
        states = AircraftStates.from_columns(
            ids=["COA001", "RUS001"],
            lat_deg=[36.123456789, 35.5],
            lon_deg=[38.5, 37.25],
            alt_ft=[24000.0, 18500.0],
            gs_kt=[420.5, 380.0],
            trk_deg=[135.25, 315.0],
            vs_fpm=[0.0, -2500.0],
            party=["coalition", "russia"],
        )
        path = tmp_path / "tracks.csv"
        rf.write_tracks_csv(path, np.array([T0_S, T0_S + 5.0]), states)
        rows = _read_csv(path)
        assert list(rows[0]) == list(rf.TRACK_FIELDS)
        assert [r["time"] for r in rows] == [
            "2017-12-13T00:00:00Z",
            "2017-12-13T00:00:05Z",
        ]
        assert rows[0]["lat"] == "36.123457"
        # the same columns as `deconfliction detect` reads
        back = read_states(path)
        assert back.ids.tolist() == ["COA001", "RUS001"]
        assert back.party.tolist() == ["coalition", "russia"]
        np.testing.assert_allclose(back.vs_fpm, [0.0, -2500.0])
        np.testing.assert_allclose(back.lat_deg, [36.123457, 35.5])

    def test_times_and_states_of_different_lengths_are_refused(
        self, tmp_path: Path
    ) -> None:
        states = AircraftStates.from_columns(
            ["A"], [35.0], [38.0], [1e4], [300], [0], [0]
        )
        with pytest.raises(ValueError, match="2 times for 1 states"):
            rf.write_tracks_csv(tmp_path / "t.csv", np.array([0.0, 5.0]), states)


class TestWriteSummaryJson:
    def test_round_trips(self, tmp_path: Path) -> None:
        path = tmp_path / "summary.json"
        doc = {"hours": 3.0, "sorties": {"coalition": 10, "russia": 11}, "note": "é"}
        rf.write_summary_json(path, doc)
        assert json.loads(path.read_text(encoding="utf-8")) == doc

    def test_nan_is_refused(self, tmp_path: Path) -> None:
        with pytest.raises(ValueError):
            rf.write_summary_json(tmp_path / "summary.json", {"x": math.nan})

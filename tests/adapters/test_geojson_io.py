"""GeoJSON in and out: zones, lines, operations and positions round trip; conflicts
and violations as result_files writes them; every problem named."""

from __future__ import annotations

import contextlib
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconfliction.adapters.geojson_io import (
    Operation,
    feature_collection,
    parse_geojson,
    read_geojson,
    write_geojson,
)
from deconfliction.adapters.track_stream import TrackBatch, TrackRecord
from deconfliction.errors import InputError
from tests.adapters.interop_samples import euphrates, sample_alert, sample_violation

T0 = 1513159200.0


def _zone(**props: Any) -> dict[str, Any]:
    base = {"kind": "zone", "id": "z1", "owner": "coalition"}
    base.update(props)
    return {
        "type": "Feature",
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[38, 33], [39, 33], [39, 34], [38, 33]]],
        },
        "properties": base,
    }


def _collection(*features: dict[str, Any]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


class TestRoundTrip:
    def test_protocol_zones_and_lines(self, tmp_path: Path) -> None:
        zones, lines = euphrates()
        path = tmp_path / "map.geojson"
        write_geojson(path, feature_collection(zones=zones, lines=lines))
        back = read_geojson(path)
        assert [z.id for z in back.zones] == [z.id for z in zones]
        for got, want in zip(back.zones, zones, strict=True):
            assert got.owner == want.owner and got.name == want.name
            assert got.lat_deg == pytest.approx(want.lat_deg, abs=1e-6)
            assert (got.floor_ft, got.ceiling_ft) == (want.floor_ft, want.ceiling_ft)
        (line,) = back.lines
        assert line.sides == lines[0].sides and line.buffer_nm == lines[0].buffer_nm
        assert line.lon_deg == pytest.approx(lines[0].lon_deg, abs=1e-6)

    def test_reads_the_servers_protocol_geometry(self) -> None:
        from deconfliction.adapters.protocol_file import resolve_protocol
        from deconfliction.api.routes.protocols import geometry

        back = parse_geojson(json.dumps(geometry(resolve_protocol("euphrates-2017"))))
        assert len(back.zones) == 2 and len(back.lines) == 1

    def test_operations(self, tmp_path: Path) -> None:
        ops = (
            Operation(
                "op1",
                "coalition",
                "CAP north",
                (35.0, 35.0, 36.0),
                (38.0, 39.0, 38.5),
                None,
                20000.0,
                30000.0,
                T0,
                T0 + 3600,
                "activated",
            ),
            Operation(
                "op2",
                "russia",
                "orbit",
                (35.5,),
                (37.5,),
                10.0,
                15000.0,
                25000.0,
                T0,
                T0 + 600,
            ),
        )
        path = tmp_path / "ops.geojson"
        write_geojson(path, feature_collection(operations=ops))
        assert read_geojson(path).operations == ops

    def test_positions(self, tmp_path: Path) -> None:
        batch = TrackBatch.from_records(
            [
                TrackRecord(
                    "A", T0, 35.0, 38.0, 25000, 420, 90, 0, "VIPER11", party="coalition"
                ),
                TrackRecord(
                    "A",
                    T0 + 5,
                    35.0,
                    38.05,
                    25000,
                    420,
                    90,
                    0,
                    "VIPER11",
                    party="coalition",
                ),
                TrackRecord("B", T0 + 1, 36.0, 38.0),
            ]
        )
        document = feature_collection(tracks=batch)
        kinds = [f["properties"]["kind"] for f in document["features"]]
        assert kinds == ["track", "position", "position", "position"]  # B has one point
        path = tmp_path / "t.geojson"
        write_geojson(path, document)
        back = read_geojson(path)
        assert back.positions is not None and back.skipped == 1
        assert back.positions.ids.tolist() == ["A", "A", "B"]
        assert back.positions.t_s.tolist() == [T0, T0 + 5, T0 + 1]
        assert math.isnan(back.positions.gs_kt[2])
        assert back.positions.party.tolist() == ["coalition", "coalition", ""]

    def test_conflicts_and_violations_as_result_files_writes_them(self) -> None:
        document = feature_collection(
            alerts=[sample_alert()], violations=[sample_violation()]
        )
        conflict, violation = document["features"]
        assert conflict["properties"]["kind"] == "conflict"
        assert conflict["geometry"]["type"] == "MultiPoint"
        assert violation["properties"]["boundary_id"] == "euphrates"
        assert parse_geojson(json.dumps(document)).skipped == 2


class TestProblems:
    @pytest.mark.parametrize(
        ("feature", "where", "message"),
        [
            (_zone(owner=None), "features[0].properties.owner", "not an id"),
            (
                _zone(floor_ft=3000, ceiling_ft=1000),
                "features[0].properties.ceiling_ft",
                "above",
            ),
            (_zone(floor_ft="low"), "features[0].properties.floor_ft", "not a number"),
            (
                {
                    **_zone(),
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [[[38, 33], [39, 33], [38, 33]]],
                    },
                },
                "features[0].geometry.coordinates[0]",
                "at least 3 distinct",
            ),
            (
                {
                    **_zone(),
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [[[38, 95], [39, 33], [39, 34]]],
                    },
                },
                "features[0].geometry.coordinates[0][0]",
                "not a [lon, lat]",
            ),
            (
                {
                    **_zone(),
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [
                            [[0, 0], [1, 0], [1, 1]],
                            [[0, 0], [1, 0], [1, 1]],
                        ],
                    },
                },
                "features[0].geometry.coordinates",
                "holes",
            ),
            (
                {
                    "type": "Feature",
                    "geometry": {
                        "type": "LineString",
                        "coordinates": [[38, 36], [39, 35]],
                    },
                    "properties": {
                        "id": "l",
                        "buffer_nm": 10,
                        "sides": {"coalition": "east"},
                    },
                },
                "features[0].properties.sides.coalition",
                "left or right",
            ),
            (
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [38, 36]},
                    "properties": {
                        "kind": "operation",
                        "id": "o",
                        "party": "p",
                        "floor_ft": 0,
                        "ceiling_ft": 1000,
                        "time_start": "2017-12-13T10:00:00Z",
                        "time_end": "2017-12-13T09:00:00Z",
                        "radius_nm": 5,
                    },
                },
                "features[0].properties.time_end",
                "after time_start",
            ),
            (
                {"type": "Feature", "geometry": {}, "properties": {"kind": "cloud"}},
                "features[0].properties.kind",
                "unknown kind",
            ),
            ("nope", "features[0]", "not a Feature"),
        ],
    )
    def test_named_by_feature_and_property(
        self, feature: Any, where: str, message: str
    ) -> None:
        with pytest.raises(InputError) as err:
            parse_geojson(_collection(feature), "zones.geojson")
        problem = err.value.problems[0]
        assert problem.source == "zones.geojson" and problem.field == where
        assert message in problem.message

    def test_every_problem_at_once(self) -> None:
        with pytest.raises(InputError) as err:
            parse_geojson(
                _collection(
                    _zone(owner=None), _zone(id="z2", floor_ft="x"), _zone(), _zone()
                )
            )
        fields = [p.field for p in err.value.problems]
        assert fields == [
            "features[0].properties.owner",
            "features[1].properties.floor_ft",
            "properties.id",
        ]

    def test_not_json(self) -> None:
        with pytest.raises(InputError, match="not JSON") as err:
            parse_geojson('{"type":\n"Feature', "f.geojson")
        assert err.value.problems[0].line == 2

    def test_not_a_collection(self) -> None:
        with pytest.raises(InputError, match="FeatureCollection"):
            parse_geojson("[1, 2]")

    @settings(max_examples=200, deadline=None)
    @given(
        st.recursive(
            st.none()
            | st.booleans()
            | st.floats()
            | st.text(max_size=5)
            | st.integers(),
            lambda inner: (
                st.lists(inner, max_size=4)
                | st.dictionaries(
                    st.sampled_from(
                        [
                            "type",
                            "features",
                            "geometry",
                            "properties",
                            "coordinates",
                            "kind",
                            "id",
                            "owner",
                            "sides",
                            "floor_ft",
                            "time",
                        ]
                    ),
                    inner,
                    max_size=5,
                )
            ),
            max_leaves=25,
        )
    )
    def test_any_json_is_read_or_refused_cleanly(self, value: Any) -> None:
        for document in (value, {"type": "FeatureCollection", "features": [value]}):
            with contextlib.suppress(InputError):
                parse_geojson(json.dumps(document))

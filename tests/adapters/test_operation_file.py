"""Tests of operation files (adapters/operation_file.py), on real files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from deconfliction.adapters.operation_file import (
    check_result_to_json,
    conflict_view_to_json,
    load_operation,
    load_operations,
    operation_from_json,
    operation_to_json,
    operations_from_json,
    parse_operation,
)
from deconfliction.domain.model import SeparationMinima
from deconfliction.domain.operation_kinds import OPERATION_KINDS
from deconfliction.domain.planning import (
    Circle,
    Operation,
    OperationState,
    Polygon,
    Volume3D,
    Volume4D,
    check_operation,
    redact_for,
)
from deconfliction.domain.protocol import Protocol, SharingLevel
from deconfliction.errors import InputError
from deconfliction.units import M_PER_FT, M_PER_NM

T0_S = 1_513_159_200.0  # 2017-12-13T10:00:00Z


def altitude(value: float, units: str = "FT") -> dict[str, Any]:
    return {"value": value, "reference": "W84", "units": units}


def time(text: str) -> dict[str, Any]:
    return {"value": text, "format": "RFC3339"}


def waypoint(lat: float, lng: float, alt_ft: float, when: str) -> dict[str, Any]:
    return {"lat": lat, "lng": lng, "altitude": altitude(alt_ft), "time": time(when)}


def polygon_volume(**overrides: Any) -> dict[str, Any]:
    volume = {
        "volume": {
            "outline_polygon": {
                "vertices": [
                    {"lat": 35.0, "lng": 39.0},
                    {"lat": 35.0, "lng": 39.3},
                    {"lat": 35.2, "lng": 39.3},
                    {"lat": 35.2, "lng": 39.0},
                ]
            },
            "altitude_lower": altitude(15000),
            "altitude_upper": altitude(25000),
        },
        "time_start": time("2017-12-13T10:00:00Z"),
        "time_end": time("2017-12-13T12:00:00Z"),
    }
    volume.update(overrides)
    return volume


def circle_volume() -> dict[str, Any]:
    return {
        "volume": {
            "outline_circle": {
                "center": {"lat": 35.5, "lng": 40.0},
                "radius": {"value": 9260, "units": "M"},
            },
            "altitude_lower": altitude(3000, "M"),
            "altitude_upper": altitude(6000, "M"),
        },
        "time_start": time("2017-12-13T13:00:00+03:00"),
        "time_end": time("2017-12-13T11:30:00Z"),
    }


def operation(**overrides: Any) -> dict[str, Any]:
    op: dict[str, Any] = {
        "id": "VIPER-CAP",
        "party": "coalition",
        "kind": "air_patrol",
        "volumes": [polygon_volume(), circle_volume()],
    }
    op.update(overrides)
    return op


def write(tmp_path: Path, data: Any, name: str = "op.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(InputError) as info:
        load_operations(path)
    return [str(p) for p in info.value.problems]


class TestLoadOperation:
    @pytest.mark.parametrize("kind", ["cap", "isr", "Air_Patrol"])
    def test_unknown_kind_is_refused_at_kind(self, tmp_path: Path, kind: str) -> None:
        path = write(tmp_path, operation(kind=kind))
        (problem,) = problems_of(path)
        assert f"op.json:4: kind: unknown operation kind '{kind}'" in problem
        assert "air_patrol" in problem

    @pytest.mark.parametrize("kind", OPERATION_KINDS)
    def test_every_kind_of_the_list_is_read(self, tmp_path: Path, kind: str) -> None:
        assert load_operation(write(tmp_path, operation(kind=kind))).kind == kind

    def test_reads_volumes_converting_units(self, tmp_path: Path) -> None:
        op = load_operation(write(tmp_path, operation()))
        assert (op.id, op.party, op.kind, op.version, op.ovn, op.state) == (
            "VIPER-CAP",
            "coalition",
            "air_patrol",
            1,
            "",
            OperationState.ACCEPTED,
        )
        square, disc = op.volumes
        assert square.volume.outline == Polygon(
            (35.0, 35.0, 35.2, 35.2), (39.0, 39.3, 39.3, 39.0)
        )
        assert (square.time_start_t_s, square.time_end_t_s) == (T0_S, T0_S + 7200)
        circle = disc.volume.outline
        assert isinstance(circle, Circle)
        assert circle.radius_nm == pytest.approx(9260 / M_PER_NM)
        assert disc.volume.altitude_upper_ft == pytest.approx(6000 / M_PER_FT)
        # 13:00+03:00 is 10:00Z.
        assert disc.time_start_t_s == T0_S

    def test_a_closed_ring_is_opened(self, tmp_path: Path) -> None:
        volume = polygon_volume()
        vertices = volume["volume"]["outline_polygon"]["vertices"]
        vertices.append(dict(vertices[0]))
        op = load_operation(write(tmp_path, operation(volumes=[volume])))
        outline = op.volumes[0].volume.outline
        assert isinstance(outline, Polygon) and len(outline.vertices_lat_deg) == 4

    def test_optional_fields_and_f3548_state_spelling(self, tmp_path: Path) -> None:
        op = load_operation(
            write(tmp_path, operation(version=3, ovn="abc", state="Activated"))
        )
        assert (op.version, op.ovn, op.state) == (3, "abc", OperationState.ACTIVATED)

    def test_a_route_becomes_volumes_after_the_others(self, tmp_path: Path) -> None:
        route = {
            "waypoints": [
                waypoint(35.0, 39.0, 20000, "2017-12-13T10:00:00Z"),
                waypoint(35.0, 39.5, 20000, "2017-12-13T10:15:00Z"),
            ],
            "lateral_half_width": {"value": 5, "units": "KM"},
            "vertical_half_width": {"value": 300, "units": "M"},
        }  # fmt: skip
        op = load_operation(write(tmp_path, operation(route=route)))
        assert len(op.volumes) == 2 + 2  # the leg takes 15 min: two pieces
        piece = op.volumes[2].volume
        assert piece.altitude_lower_ft == pytest.approx(20000 - 300 / M_PER_FT)
        only_route = operation(route=route)
        del only_route["volumes"]
        assert len(load_operation(write(tmp_path, only_route)).volumes) == 2

    def test_several_operations(self, tmp_path: Path) -> None:
        ops = [operation(id="A"), operation(id="B", party="russia")]
        assert [o.id for o in load_operations(write(tmp_path, ops))] == ["A", "B"]
        wrapped = write(tmp_path, {"operations": ops}, "wrapped.json")
        assert [o.id for o in load_operations(wrapped)] == ["A", "B"]
        with pytest.raises(InputError, match="expected one operation, found 2"):
            load_operation(wrapped)

    def test_round_trip(self, tmp_path: Path) -> None:
        op = load_operation(write(tmp_path, operation(version=2, state="conflicted")))
        again = parse_operation(json.dumps(operation_to_json(op)))
        assert again.id == op.id and again.state is op.state and again.version == 2
        for a, b in zip(again.volumes, op.volumes, strict=True):
            assert (a.time_start_t_s, a.time_end_t_s) == (
                b.time_start_t_s,
                b.time_end_t_s,
            )
            assert a.volume.altitude_lower_ft == pytest.approx(
                b.volume.altitude_lower_ft
            )
            assert a.volume.outline == b.volume.outline

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(FileNotFoundError):
            load_operation(tmp_path / "absent.json")


class TestProblems:
    def test_every_problem_at_once_with_line_and_field(self, tmp_path: Path) -> None:
        bad_polygon = polygon_volume()
        bad_polygon["volume"]["outline_polygon"]["vertices"][1]["lat"] = 95
        bad_polygon["volume"]["altitude_lowr"] = bad_polygon["volume"].pop(
            "altitude_lower"
        )
        bad_circle = circle_volume()
        bad_circle["volume"]["outline_circle"]["radius"]["units"] = "MI"
        bad_circle["time_end"] = time("2017-12-13T09:00:00Z")
        bad_time = polygon_volume(time_start=time("13 Dec 2017 10:00"))
        path = write(
            tmp_path,
            operation(
                volumes=[bad_polygon, bad_circle, bad_time], version=0, state="flying"
            ),
        )
        with pytest.raises(InputError) as info:
            load_operations(path)
        found = [(p.source, p.line, p.field, p.message) for p in info.value.problems]
        text = path.read_text(encoding="utf-8").splitlines()

        def line_of(fragment: str) -> int:
            return next(k + 1 for k, t in enumerate(text) if fragment in t)

        src = str(path)
        vertices = "volumes[0].volume.outline_polygon.vertices"
        expected = [
            (
                src,
                line_of('"lat": 95'),
                f"{vertices}[1].lat",
                "95 is outside [-90, 90]",
            ),
            (
                src,
                line_of("altitude_lowr"),
                "volumes[0].volume.altitude_lowr",
                "unknown key 'altitude_lowr' (did you mean 'altitude_lower'?)",
            ),
            (
                src,
                line_of('"volume": {'),
                "volumes[0].volume.altitude_lower",
                "missing required key 'altitude_lower'",
            ),
            (
                src,
                line_of('"MI"'),
                "volumes[1].volume.outline_circle.radius.units",
                "unknown units 'MI' (did you mean 'M'?)",
            ),
            (
                src,
                line_of("2017-12-13T09:00:00Z") - 1,
                "volumes[1].time_end",
                "2017-12-13T09:00:00Z is not after time_start 2017-12-13T10:00:00Z",
            ),
            (
                src,
                line_of("13 Dec 2017"),
                "volumes[2].time_start.value",
                'not an RFC 3339 time with a zone, like "2017-12-13T10:00:00Z": '
                '"13 Dec 2017 10:00"',
            ),
            (
                src,
                line_of('"version"'),
                "version",
                "must be a whole number >= 1, got an integer (0)",
            ),
            (
                src,
                line_of('"state"'),
                "state",
                "unknown state 'flying'; expected one of: accepted, activated, "
                "nonconforming, contingent, ended, pending, short-notice, conflicted, "
                "cancelled",
            ),
        ]
        assert sorted(found) == sorted(expected)
        # Reported in the order of the file.
        lines = [p[1] for p in found]
        assert lines == sorted(lines)

    def test_json_syntax_error(self, tmp_path: Path) -> None:
        path = tmp_path / "broken.json"
        path.write_text('{"id": "A",\n "party": }\n', encoding="utf-8")
        assert problems_of(path) == [
            f"{path}:2: JSON syntax error: Expecting value (column 11)"
        ]

    def test_not_utf8(self, tmp_path: Path) -> None:
        path = tmp_path / "latin1.json"
        path.write_bytes(b'{"id": "caf\xe9"}')
        assert problems_of(path) == [
            f"{path}:1: not valid UTF-8 (byte 0xe9 at offset 11); "
            "save the file as UTF-8"
        ]

    @pytest.mark.parametrize(
        "change, message",
        [
            ({"volumes": []}, "volumes: empty: give at least one volume or a route"),
            ({"volumes": "x"}, 'volumes: must be a list, got a string ("x")'),
            ({"id": ""}, "id: must not be empty"),
            ({"party": 3}, "party: must be a string, got an integer (3)"),
            ({"ovn": 1}, "ovn: must be a string, got an integer (1)"),
            (
                {"route": {"waypoints": []}},
                "route.waypoints: needs at least 2 waypoints, got 0",
            ),
        ],
    )
    def test_operation_level_problems(
        self, tmp_path: Path, change: dict[str, Any], message: str
    ) -> None:
        found = problems_of(write(tmp_path, operation(**change)))
        assert any(p.endswith(message) for p in found), found

    def test_volume_level_problems(self, tmp_path: Path) -> None:
        both = polygon_volume()
        both["volume"]["outline_circle"] = circle_volume()["volume"]["outline_circle"]
        neither = polygon_volume()
        del neither["volume"]["outline_polygon"]
        crossing = polygon_volume()
        vertices = crossing["volume"]["outline_polygon"]["vertices"]
        vertices[1], vertices[2] = vertices[2], vertices[1]
        huge = circle_volume()
        huge["volume"]["outline_circle"]["radius"] = {"value": 300, "units": "NM"}
        long = polygon_volume(time_end=time("2017-12-25T10:00:00Z"))
        inverted = polygon_volume()
        inverted["volume"]["altitude_upper"] = altitude(1000)
        two = polygon_volume()
        two["volume"]["outline_polygon"]["vertices"] = two["volume"]["outline_polygon"][
            "vertices"
        ][:2]
        reference = polygon_volume()
        reference["volume"]["altitude_lower"]["reference"] = "EGM96"
        found = problems_of(
            write(
                tmp_path,
                operation(
                    volumes=[
                        both,
                        neither,
                        crossing,
                        huge,
                        long,
                        inverted,
                        two,
                        reference,
                    ]
                ),
            )
        )
        tails = [p.split(": ", 1)[1] for p in found]
        expected = [
            "volumes[0].volume.outline_circle: "
            "give outline_polygon or outline_circle, not both",
            "volumes[1].volume.outline_polygon: "
            "missing required key 'outline_polygon' (or 'outline_circle')",
            "volumes[2].volume.outline_polygon: the outline crosses itself",
            "volumes[3].volume.outline_circle: "
            "600 NM across; at most 500 NM is accepted (split it into several volumes)",
            "volumes[4].time_end: lasts 288.0 h",
            "volumes[5].volume.altitude_upper: "
            "1000 ft is below altitude_lower 15000 ft",
            "volumes[6].volume.outline_polygon.vertices: "
            "needs at least 3 vertices, got 2",
            "volumes[7].volume.altitude_lower.reference: "
            "unknown reference 'EGM96'; expected one of: W84",
        ]
        assert len(tails) == len(expected)
        for start in expected:
            assert any(t.startswith(start) for t in tails), start

    def test_route_problems(self, tmp_path: Path) -> None:
        route = {
            "waypoints": [
                waypoint(35.0, 39.0, 2e4, "2017-12-13T10:00:00Z"),
                waypoint(35.0, 39.5, 2e4, "2017-12-13T10:00:00Z"),
                {"lat": 35.0, "lng": 39.5, "altitude": altitude(2e4)},
            ],
            "lateral_half_width": {"value": 0, "units": "NM"},
            "vertical_half_width": {"value": -1, "units": "FT"},
        }  # fmt: skip
        tails = [
            p.split(": ", 1)[1]
            for p in problems_of(write(tmp_path, operation(route=route)))
        ]
        assert tails == [
            "route.waypoints[1].time: must be later than the waypoint before",
            "route.waypoints[2].time: missing required key 'time'",
            "route.lateral_half_width.value: must be above 0, got 0",
            "route.vertical_half_width.value: -1 is outside [0, inf]",
        ]

    def test_duplicate_ids(self, tmp_path: Path) -> None:
        found = problems_of(write(tmp_path, [operation(), operation()]))
        assert [p.split(": ", 1)[1] for p in found] == [
            "[1].id: duplicate operation id 'VIPER-CAP' (also at [0])"
        ]

    def test_too_many_problems_are_cut_short(self, tmp_path: Path) -> None:
        volumes = [polygon_volume(time_start=time("nope")) for _ in range(60)]
        found = problems_of(write(tmp_path, operation(volumes=volumes)))
        assert len(found) == 51 and found[-1].endswith("... and 10 more problems")


class TestFromJson:
    def test_decoded_json_has_no_lines(self) -> None:
        op = operation_from_json(operation())
        assert op.id == "VIPER-CAP"
        with pytest.raises(InputError) as info:
            operations_from_json([operation(kind=None)], "request")
        (problem,) = info.value.problems
        assert (problem.source, problem.line, problem.field) == (
            "request",
            None,
            "[0].kind",
        )

    def test_not_an_object(self) -> None:
        with pytest.raises(InputError, match="must be an object, got null"):
            operation_from_json(None)


class TestResultJson:
    def test_conflicts_as_the_filer_sees_them(self) -> None:
        def square(op_id: str, party: str, lon: float) -> Operation:
            outline = Polygon(
                (35.0, 35.0, 35.2, 35.2), (lon, lon + 0.2, lon + 0.2, lon)
            )
            return Operation(
                op_id,
                party,
                "air_patrol",
                (Volume4D(Volume3D(outline, 0.0, 1e4), T0_S, T0_S + 3600),),
            )

        protocol = Protocol(
            "p",
            1,
            "P",
            SharingLevel.CONFLICTS,
            {},
            SeparationMinima(5.0, 1000.0),
            60.0,
            (),
        )
        op, other = square("A", "blue", 39.0), square("B", "red", 39.1)
        result = check_operation(op, [other], protocol)
        (conflict,) = result.operations
        redacted = redact_for("blue", conflict, SharingLevel.CONFLICTS)
        assert redacted is not None
        answer = check_result_to_json(op, result, [redacted])
        assert answer["operation"] == "A" and answer["clear"] is False
        (view,) = answer["conflicts"]
        assert set(view) == {
            "kind", "operation", "volume", "other_party", "time_start", "time_end",
            "altitude_lower_ft", "altitude_upper_ft", "horizontal_distance_nm", "place",
        }  # fmt: skip
        assert view["time_start"] == "2017-12-13T10:00:00Z"
        assert view["altitude_lower_ft"] == -500.0
        assert set(view["place"]) == {"centroid", "polygons"}
        full = redact_for("blue", conflict, SharingLevel.FULL)
        assert full is not None
        unredacted = conflict_view_to_json(full)
        assert unredacted["other_operation"] == "B"
        assert unredacted["other_volume"]["volume"]["altitude_upper"] == {
            "value": 1e4,
            "reference": "W84",
            "units": "FT",
        }

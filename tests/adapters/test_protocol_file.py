"""Tests of deconfliction.adapters.protocol_file: loading and validating protocols."""

from __future__ import annotations

import doctest
import math
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconfliction.adapters import protocol_file
from deconfliction.adapters.protocol_file import (
    CIRCLE_VERTICES,
    builtin_protocol_names,
    builtin_protocol_path,
    load_protocol,
    parse_protocol,
    resolve_protocol,
)
from deconfliction.domain.alerting import default_alert_levels
from deconfliction.domain.geodesy import geodesic_distance_nm
from deconfliction.domain.model import AlertLevel, SeparationMinima
from deconfliction.domain.protocol import LineSide, Protocol, SharingLevel
from deconfliction.errors import Problem, ProtocolError
from deconfliction.units import M_PER_NM

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "protocols"

# A valid protocol using every table. The river runs north-east (east is its right);
# the ridge runs due east (north is its left).
VALID = """\
[protocol]
id = "test"
version = 3
title = "Test protocol"
sharing = "plans"
lookahead_s = 120
detection_interval_s = 2
stale_after_s = 30

[[parties]]
id = "blue"
name = "Blue"
language = "en"

[[parties]]
id = "red"
name = "Red"
language = "ru"

[[parties]]
id = "green"
name = "Green"
language = "ar"

[separation]
horizontal_nm = 3.0
vertical_ft = 500

[[alerts.advisory]]
ceiling_ft = 10000
tau_s = 40
dmod_nm = 0.75
zthr_ft = 850

[[alerts.advisory]]
floor_ft = 10000
tau_s = 48
dmod_nm = 1.3
zthr_ft = 850

[[alerts.warning]]
floor_ft = 1000
tau_s = 25
dmod_nm = 0.55
zthr_ft = 600

[[lines]]
id = "river"
name = "River"
buffer_nm = 5
points = [
  [35.0, 38.0],  # start
  [35.5, 38.5],
  [36.0, 39.0],  # end
]
sides = { blue = "east", red = "left" }

[[lines]]
id = "ridge"
buffer_nm = 2.5
points = [[32.0, 36.0], [32.0, 37.0]]
sides = { green = "north" }

[[zones]]
id = "box"
name = "Box"
owner = "blue"
floor_ft = 0
ceiling_ft = 20000
polygon = [[33.0, 38.0], [33.0, 39.0], [34.0, 39.0], [34.0, 38.0]]

[[zones]]
id = "ring"
owner = "red"
circle = { center = [35.4, 35.9], radius_nm = 20 }

[hotline]
ack_deadline_s = { routine = 1800, urgent = 600, flash = 120 }
daily_checkin_utc = "23:59"

[conformance]
exit_debounce_s = 0
max_gap_s = 120
"""


def _edit(old: str, new: str, text: str = VALID) -> str:
    """``text`` with its one occurrence of ``old`` replaced."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def _line_no(text: str, fragment: str) -> int:
    """The 1-based line where ``fragment`` (found once in ``text``) starts."""
    assert text.count(fragment) == 1, (
        f"{fragment!r} occurs {text.count(fragment)} times"
    )
    return text[: text.index(fragment)].count("\n") + 1


def _problems(text: str) -> tuple[Problem, ...]:
    with pytest.raises(ProtocolError) as info:
        parse_protocol(text, "test.toml")
    return info.value.problems


def _only_problem(text: str) -> Problem:
    problems = _problems(text)
    assert len(problems) == 1, "\n".join(map(str, problems))
    assert problems[0].source == "test.toml"
    return problems[0]


class TestParseProtocol:
    def test_valid_text_gives_every_value(self) -> None:
        protocol = parse_protocol(VALID)
        assert (protocol.id, protocol.version, protocol.title) == (
            "test",
            3,
            "Test protocol",
        )
        assert protocol.sharing is SharingLevel.PLANS
        assert (protocol.lookahead_s, protocol.detection_interval_s) == (120.0, 2.0)
        assert protocol.stale_after_s == 30.0
        assert protocol.minima == SeparationMinima(horizontal_nm=3.0, vertical_ft=500.0)
        assert {p.id: p.language for p in protocol.parties.values()} == {
            "blue": "en",
            "red": "ru",
            "green": "ar",
        }
        assert protocol.hotline.ack_deadline_s == {
            "routine": 1800.0,
            "urgent": 600.0,
            "flash": 120.0,
        }
        assert protocol.hotline.daily_checkin_utc == "23:59"
        assert protocol.conformance.exit_debounce_s == 0.0
        assert protocol.conformance.max_gap_s == 120.0

    def test_alert_bands_are_read_with_open_ends(self) -> None:
        advisory, warning = parse_protocol(VALID).alert_levels
        assert advisory.level is AlertLevel.ADVISORY
        assert [(b.floor_ft, b.ceiling_ft) for b in advisory.bands] == [
            (-math.inf, 10000.0),
            (10000.0, math.inf),
        ]
        assert advisory.bands[1].dmod_nm == 1.3
        assert warning.level is AlertLevel.WARNING
        assert (warning.bands[0].tau_s, warning.bands[0].zthr_ft) == (25.0, 600.0)

    def test_bands_are_sorted_by_floor(self) -> None:
        lowest = (
            "[[alerts.advisory]]\nceiling_ft = 10000\n"
            "tau_s = 40\ndmod_nm = 0.75\nzthr_ft = 850\n\n"
        )
        text = _edit(lowest, "")
        text = _edit("[[alerts.warning]]", f"{lowest}[[alerts.warning]]", text)
        assert text.index("floor_ft = 10000") < text.index("ceiling_ft = 10000")
        advisory = parse_protocol(text).alert_levels[0]
        assert [b.floor_ft for b in advisory.bands] == [-math.inf, 10000.0]

    def test_omitted_alerts_are_the_default_levels(self) -> None:
        text = (
            VALID[: VALID.index("[[alerts.advisory]]")]
            + VALID[VALID.index("[[lines]]") :]
        )
        assert parse_protocol(text).alert_levels == default_alert_levels()

    def test_omitted_level_is_the_default_and_empty_level_is_off(self) -> None:
        start, end = VALID.index("[[alerts.advisory]]"), VALID.index("[[lines]]")
        text = VALID[:start] + "[alerts]\nwarning = []\n\n" + VALID[end:]
        assert parse_protocol(text).alert_levels == default_alert_levels()[:1]

    def test_line_sides_resolve_compass_and_keep_declared(self) -> None:
        river, ridge = parse_protocol(VALID).lines
        assert river.sides == {"blue": LineSide.RIGHT, "red": LineSide.LEFT}
        assert river.declared_sides == {"blue": "east", "red": "left"}
        assert river.lat_deg == (35.0, 35.5, 36.0)
        assert river.lon_deg == (38.0, 38.5, 39.0)
        assert river.buffer_nm == 5.0
        assert ridge.sides == {"green": LineSide.LEFT}
        assert ridge.name == "ridge"  # name defaults to the id

    def test_same_side_for_every_party_is_allowed(self) -> None:
        text = _edit('red = "left"', 'red = "east"')
        river = parse_protocol(text).lines[0]
        assert river.sides == {"blue": LineSide.RIGHT, "red": LineSide.RIGHT}

    def test_compass_side_across_the_antimeridian(self) -> None:
        # Runs east across 180 deg: naive longitudes would say it runs west.
        text = _edit(
            "points = [[32.0, 36.0], [32.0, 37.0]]",
            "points = [[10.0, 179.5], [10.0, -179.5]]",
        )
        assert parse_protocol(text).lines[1].sides == {"green": LineSide.LEFT}

    def test_polygon_zone_and_open_bounds(self) -> None:
        box, ring = parse_protocol(VALID).zones
        assert (box.id, box.name, box.owner) == ("box", "Box", "blue")
        assert (box.floor_ft, box.ceiling_ft) == (0.0, 20000.0)
        assert box.lat_deg == (33.0, 33.0, 34.0, 34.0)
        assert (ring.floor_ft, ring.ceiling_ft) == (-math.inf, math.inf)

    def test_zone_time_limits(self) -> None:
        box, ring = parse_protocol(VALID).zones
        assert box.always_active and ring.always_active
        text = _edit(
            "ceiling_ft = 20000\n",
            "ceiling_ft = 20000\nactive_from = 2017-12-13T06:00:00Z\n"
            'active_until = "2017-12-13T18:00:00+03:00"\n',
        )
        box = parse_protocol(text).zones[0]
        assert box.active_from_t_s == 1513144800.0  # a TOML date-time
        assert box.active_until_t_s == 1513177200.0  # a string, its zone applied
        only_start = parse_protocol(
            _edit(
                "ceiling_ft = 20000\n",
                "ceiling_ft = 20000\nactive_from = 1970-01-01T00:00:00Z\n",
            )
        )
        assert only_start.zones[0].active_from_t_s == 0.0
        assert only_start.zones[0].active_until_t_s == math.inf

    @pytest.mark.parametrize(
        ("keys", "field", "words"),
        [
            ("active_from = 2017-12-13T06:00:00", "active_from", "zone"),
            ('active_from = "tomorrow"', "active_from", "RFC 3339"),
            ("active_from = 0", "active_from", "RFC 3339"),
            ("active_from = 2017-12-13", "active_from", "RFC 3339"),
            (
                "active_from = 2017-12-13T06:00:00Z\n"
                "active_until = 2017-12-13T09:00:00+03:00",
                "active_until",
                "not after",
            ),
        ],
    )
    def test_bad_zone_time_limits_are_named(
        self, keys: str, field: str, words: str
    ) -> None:
        text = _edit("ceiling_ft = 20000\n", f"ceiling_ft = 20000\n{keys}\n")
        problem = _only_problem(text)
        assert problem.field == f"zones[0].{field}"
        assert problem.line == _line_no(text, field + " =")
        assert words in problem.message

    def test_closed_polygon_drops_the_repeated_vertex(self) -> None:
        text = _edit("[34.0, 38.0]]", "[34.0, 38.0], [33.0, 38.0]]")
        assert parse_protocol(text).zones[0].lat_deg == (33.0, 33.0, 34.0, 34.0)

    def test_omitted_optional_tables_take_domain_defaults(self) -> None:
        text = VALID[: VALID.index("[hotline]")]
        text = _edit("detection_interval_s = 2\nstale_after_s = 30\n", "", text)
        protocol = parse_protocol(text)
        defaults = Protocol(
            id="d",
            version=1,
            title="d",
            sharing=SharingLevel.ZONES,
            parties={},
            minima=SeparationMinima(horizontal_nm=1.0, vertical_ft=1.0),
            lookahead_s=1.0,
            alert_levels=(),
        )
        assert protocol.hotline == defaults.hotline
        assert protocol.conformance == defaults.conformance
        assert protocol.detection_interval_s == defaults.detection_interval_s
        assert protocol.stale_after_s == defaults.stale_after_s

    def test_partial_deadlines_keep_the_others_default(self) -> None:
        text = _edit(
            "ack_deadline_s = { routine = 1800, urgent = 600, flash = 120 }",
            "ack_deadline_s = { flash = 60 }",
        )
        assert parse_protocol(text).hotline.ack_deadline_s == {
            "routine": 3600.0,
            "urgent": 900.0,
            "flash": 60.0,
        }


# Each case: an edit of VALID that makes exactly one problem, the field it is
# reported at, the text the offending line starts with, and part of the message.
_SINGLE_PROBLEMS = [
    pytest.param(
        'title = "Test protocol"',
        'title = "T"\ncolour = "red"',
        "protocol.colour",
        'colour = "red"',
        "unknown key 'colour'",
        id="unknown-key",
    ),
    pytest.param(
        "[conformance]",
        "[conformanse]",
        "conformanse",
        "[conformanse]",
        "did you mean 'conformance'?",
        id="unknown-top-level-table",
    ),
    pytest.param(
        "lookahead_s = 120\n",
        "",
        "protocol.lookahead_s",
        "[protocol]",
        "missing required key 'lookahead_s'",
        id="missing-key",
    ),
    pytest.param(
        "buffer_nm = 2.5\n",
        "",
        "lines[1].buffer_nm",
        '[[lines]]\nid = "ridge"',
        "missing required key",
        id="missing-key-in-array-table",
    ),
    pytest.param(
        "horizontal_nm = 3.0",
        'horizontal_nm = "3"',
        "separation.horizontal_nm",
        'horizontal_nm = "3"',
        'expected a number, got a string ("3")',
        id="wrong-type-string",
    ),
    pytest.param(
        "vertical_ft = 500",
        "vertical_ft = true",
        "separation.vertical_ft",
        "vertical_ft = true",
        "expected a number, got a boolean",
        id="wrong-type-boolean",
    ),
    pytest.param(
        'name = "Blue"',
        "name = { en = 'Blue' }",
        "parties[0].name",
        "name = { en",
        "expected a string, got a table",
        id="wrong-type-table",
    ),
    pytest.param(
        "max_gap_s = 120",
        "max_gap_s = inf",
        "conformance.max_gap_s",
        "max_gap_s = inf",
        "finite",
        id="not-finite",
    ),
    pytest.param(
        'red = "left"',
        'redd = "left"',
        "lines[0].sides.redd",
        'redd = "left"',
        "unknown party 'redd' (did you mean 'red'?)",
        id="unknown-party-in-sides",
    ),
    pytest.param(
        'owner = "blue"',
        'owner = "purple"',
        "zones[0].owner",
        'owner = "purple"',
        "unknown party 'purple'",
        id="unknown-zone-owner",
    ),
    pytest.param(
        "[separation]",
        '[[parties]]\nid = "red"\nname = "R"\nlanguage = "ru"\n[separation]',
        "parties[3].id",
        'id = "red"\nname = "R"',
        "duplicate party id 'red' (also parties[1])",
        id="duplicate-party-id",
    ),
    pytest.param(
        'id = "ridge"',
        'id = "river"',
        "lines[1].id",
        'id = "river"\nbuffer_nm = 2.5',
        "duplicate line id 'river' (also lines[0])",
        id="duplicate-line-id",
    ),
    pytest.param(
        'id = "ring"',
        'id = "box"',
        "zones[1].id",
        'id = "box"\nowner = "red"',
        "duplicate zone id 'box' (also zones[0])",
        id="duplicate-zone-id",
    ),
    pytest.param(
        'id = "ring"',
        'id = "ridge"',
        "zones[1].id",
        'id = "ridge"\nowner',
        "also a line's id",
        id="zone-id-is-a-line-id",
    ),
    pytest.param(
        'id = "test"',
        'id = "my test"',
        "protocol.id",
        'id = "my test"',
        "is not a valid id",
        id="invalid-id",
    ),
    pytest.param(
        'blue = "east"',
        'blue = "esat"',
        "lines[0].sides.blue",
        'blue = "esat"',
        "unknown side 'esat' (did you mean 'east'?)",
        id="misspelt-side",
    ),
    pytest.param(
        'blue = "east"',
        "blue = 1",
        "lines[0].sides.blue",
        "blue = 1",
        "expected a side",
        id="side-not-a-string",
    ),
    pytest.param(
        'green = "north"',
        'green = "west"',
        "lines[1].sides.green",
        'green = "west"',
        "'west' points along this line, not to one of its sides: the line runs 90 deg",
        id="compass-side-along-the-line",
    ),
    pytest.param(
        "[[32.0, 36.0], [32.0, 37.0]]",
        "[[32.0, 36.0], [32.5, 36.5], [32.0, 36.0]]",
        "lines[1].sides.green",
        'green = "north"',
        "first and last points coincide",
        id="compass-side-of-closed-line",
    ),
    pytest.param(
        'sides = { green = "north" }',
        "sides = {}",
        "lines[1].sides",
        "sides = {}",
        "names no party",
        id="empty-sides",
    ),
    pytest.param(
        "horizontal_nm = 3.0",
        "horizontal_nm = 0",
        "separation.horizontal_nm",
        "horizontal_nm = 0",
        "must be greater than 0, got 0",
        id="zero-horizontal-minimum",
    ),
    pytest.param(
        "vertical_ft = 500",
        "vertical_ft = -500",
        "separation.vertical_ft",
        "vertical_ft = -500",
        "must be greater than 0, got -500",
        id="negative-vertical-minimum",
    ),
    pytest.param(
        "lookahead_s = 120",
        "lookahead_s = 0",
        "protocol.lookahead_s",
        "lookahead_s = 0",
        "greater than 0",
        id="zero-lookahead",
    ),
    pytest.param(
        "detection_interval_s = 2",
        "detection_interval_s = -2",
        "protocol.detection_interval_s",
        "detection_interval_s = -2",
        "greater than 0",
        id="negative-detection-interval",
    ),
    pytest.param(
        "stale_after_s = 30",
        "stale_after_s = 0",
        "protocol.stale_after_s",
        "stale_after_s = 0",
        "greater than 0",
        id="zero-stale-after",
    ),
    pytest.param(
        "buffer_nm = 5",
        "buffer_nm = 0",
        "lines[0].buffer_nm",
        "buffer_nm = 0",
        "greater than 0",
        id="zero-buffer",
    ),
    pytest.param(
        "exit_debounce_s = 0",
        "exit_debounce_s = -1",
        "conformance.exit_debounce_s",
        "exit_debounce_s = -1",
        "must be at least 0, got -1",
        id="negative-debounce",
    ),
    pytest.param(
        "max_gap_s = 120",
        "max_gap_s = 0",
        "conformance.max_gap_s",
        "max_gap_s = 0",
        "greater than 0",
        id="zero-max-gap",
    ),
    pytest.param(
        "tau_s = 25",
        "tau_s = 0",
        "alerts.warning[0].tau_s",
        "tau_s = 0",
        "greater than 0",
        id="zero-tau",
    ),
    pytest.param(
        "flash = 120",
        "flash = 0",
        "hotline.ack_deadline_s.flash",
        "flash = 0",
        "greater than 0",
        id="zero-deadline",
    ),
    pytest.param(
        "[35.5, 38.5],",
        "[95.5, 38.5],",
        "lines[0].points[1][0]",
        "[95.5, 38.5]",
        "latitude 95.5 deg is outside [-90, 90]",
        id="latitude-out-of-range",
    ),
    pytest.param(
        "[34.0, 39.0]",
        "[34.0, 190.0]",
        "zones[0].polygon[2][1]",
        "[34.0, 190.0]",
        "longitude 190 deg is outside [-180, 180]",
        id="longitude-out-of-range",
    ),
    pytest.param(
        "center = [35.4, 35.9]",
        "center = [-91, 35.9]",
        "zones[1].circle.center[0]",
        "center = [-91",
        "latitude -91 deg",
        id="circle-center-out-of-range",
    ),
    pytest.param(
        "[35.5, 38.5],",
        "[35.5],",
        "lines[0].points[1]",
        "[35.5],",
        "expected a [lat_deg, lon_deg] pair, got an array of 1 item",
        id="point-not-a-pair",
    ),
    pytest.param(
        "[[32.0, 36.0], [32.0, 37.0]]",
        "[[32.0, 36.0]]",
        "lines[1].points",
        "[[32.0, 36.0]]",
        "at least 2 distinct points, got 1",
        id="line-with-one-point",
    ),
    pytest.param(
        "[[32.0, 36.0], [32.0, 37.0]]",
        "[[32.0, 36.0], [32.0, 36.0]]",
        "lines[1].points",
        "[[32.0, 36.0], [32.0, 36.0]]",
        "at least 2 distinct points, got 1",
        id="line-with-repeated-point",
    ),
    pytest.param(
        "[[33.0, 38.0], [33.0, 39.0], [34.0, 39.0], [34.0, 38.0]]",
        "[[33.0, 38.0], [33.0, 39.0], [33.0, 38.0]]",
        "zones[0].polygon",
        "polygon = [[33.0, 38.0], [33.0, 39.0], [33.0, 38.0]]",
        "at least 3 distinct vertices, got 2",
        id="polygon-with-two-vertices",
    ),
    pytest.param(
        'owner = "red"',
        'owner = "red"\npolygon = [[1, 1], [1, 2], [2, 2]]',
        "zones[1].circle",
        "circle = {",
        "either polygon or circle, not both",
        id="polygon-and-circle",
    ),
    pytest.param(
        "circle = { center = [35.4, 35.9], radius_nm = 20 }",
        "",
        "zones[1].polygon",
        '[[zones]]\nid = "ring"',
        "missing required key 'polygon' (or 'circle')",
        id="neither-polygon-nor-circle",
    ),
    pytest.param(
        "radius_nm = 20",
        "radius_nm = 0",
        "zones[1].circle.radius_nm",
        "radius_nm = 0",
        "greater than 0",
        id="zero-radius",
    ),
    pytest.param(
        "version = 3\n",
        "",
        "protocol.version",
        "[protocol]",
        "missing required key 'version'",
        id="missing-version",
    ),
    pytest.param(
        "points = [[32.0, 36.0], [32.0, 37.0]]\n",
        "",
        "lines[1].points",
        '[[lines]]\nid = "ridge"',
        "missing required key 'points'",
        id="missing-points",
    ),
    pytest.param(
        'sides = { green = "north" }\n',
        "",
        "lines[1].sides",
        '[[lines]]\nid = "ridge"',
        "missing required key 'sides'",
        id="missing-sides",
    ),
    pytest.param(
        "points = [[32.0, 36.0], [32.0, 37.0]]",
        'points = "32, 36"',
        "lines[1].points",
        'points = "32, 36"',
        "expected an array of [lat_deg, lon_deg] pairs, got a string",
        id="points-not-an-array",
    ),
    pytest.param(
        'sides = { green = "north" }',
        'sides = "north"',
        "lines[1].sides",
        'sides = "north"',
        "expected a table of party = side",
        id="sides-not-a-table",
    ),
    pytest.param(
        "circle = { center = [35.4, 35.9], radius_nm = 20 }",
        "circle = 20",
        "zones[1].circle",
        "circle = 20",
        "expected a table, got an integer (20)",
        id="circle-not-a-table",
    ),
    pytest.param(
        "circle = { center = [35.4, 35.9], radius_nm = 20 }",
        "circle = { radius_nm = 20 }",
        "zones[1].circle.center",
        "circle = {",
        "missing required key 'center'",
        id="circle-without-center",
    ),
    pytest.param(
        'id = "ring"',
        'id = "ring 2"',
        "zones[1].id",
        'id = "ring 2"',
        "is not a valid id",
        id="invalid-zone-id",
    ),
    pytest.param(
        "floor_ft = 1000\ntau",
        'floor_ft = "1000"\ntau',
        "alerts.warning[0].floor_ft",
        'floor_ft = "1000"',
        "expected a number",
        id="band-floor-not-a-number",
    ),
    pytest.param(
        'red = "left"',
        '"red team" = "left"',
        'lines[0].sides."red team"',
        '"red team"',
        "unknown party 'red team'",
        id="quoted-key-in-field-path",
    ),
    pytest.param(
        "radius_nm = 20",
        "radius_nm = 1001",
        "zones[1].circle.radius_nm",
        "radius_nm = 1001",
        "must be at most 1000 NM",
        id="radius-beyond-one-theatre",
    ),
    pytest.param(
        "ceiling_ft = 20000",
        "ceiling_ft = 0",
        "zones[0].floor_ft",
        "floor_ft = 0\nceiling_ft = 0",
        "floor_ft 0 is not below ceiling_ft 0",
        id="zone-floor-not-below-ceiling",
    ),
    pytest.param(
        "floor_ft = 1000\ntau",
        "floor_ft = 1000\nceiling_ft = 500\ntau",
        "alerts.warning[0].floor_ft",
        "floor_ft = 1000\nceiling_ft = 500",
        "floor_ft 1000 is not below ceiling_ft 500",
        id="band-floor-not-below-ceiling",
    ),
    pytest.param(
        "floor_ft = 10000",
        "floor_ft = 9000",
        "alerts.advisory[1].floor_ft",
        "floor_ft = 9000",
        "band overlaps alerts.advisory[0]: its floor_ft 9000 is below "
        "that band's ceiling_ft 10000",
        id="overlapping-bands",
    ),
    pytest.param(
        "[[alerts.warning]]",
        "[[alerts.caution]]",
        "alerts.caution",
        "[[alerts.caution]]",
        "unknown key 'caution'",
        id="unknown-alert-level",
    ),
    pytest.param(
        'sharing = "plans"',
        'sharing = "everything"',
        "protocol.sharing",
        'sharing = "everything"',
        "expected one of: zones, conflicts, plans, full",
        id="unknown-sharing-level",
    ),
    pytest.param(
        'language = "ar"',
        'language = "fr"',
        "parties[2].language",
        'language = "fr"',
        "unknown language 'fr'; expected one of: en, ru, ar",
        id="unknown-language",
    ),
    pytest.param(
        "flash = 120",
        "immediate = 120",
        "hotline.ack_deadline_s.immediate",
        "immediate = 120",
        "unknown priority 'immediate'",
        id="unknown-priority",
    ),
    pytest.param(
        "flash = 120",
        "flash = 900",
        "hotline.ack_deadline_s.flash",
        "flash = 900",
        "flash deadline (900 s) is longer than the urgent one",
        id="deadline-longer-for-more-urgent",
    ),
    pytest.param(
        "version = 3",
        "version = 0",
        "protocol.version",
        "version = 0",
        "must be a positive integer, got an integer (0)",
        id="version-zero",
    ),
    pytest.param(
        "version = 3",
        "version = 3.0",
        "protocol.version",
        "version = 3.0",
        "must be a positive integer, got a float (3)",
        id="version-float",
    ),
    pytest.param(
        "version = 3",
        'version = "3"',
        "protocol.version",
        'version = "3"',
        "positive integer",
        id="version-string",
    ),
    pytest.param(
        '"23:59"',
        '"24:00"',
        "hotline.daily_checkin_utc",
        '"24:00"',
        "must be a UTC time written HH:MM",
        id="checkin-hour-24",
    ),
    pytest.param(
        '"23:59"',
        '"6:00"',
        "hotline.daily_checkin_utc",
        '"6:00"',
        'got "6:00"',
        id="checkin-one-digit-hour",
    ),
    pytest.param(
        '"23:59"',
        '"06:00:00"',
        "hotline.daily_checkin_utc",
        '"06:00:00"',
        "HH:MM",
        id="checkin-with-seconds",
    ),
    pytest.param(
        '"23:59"',
        "06:00:00",
        "hotline.daily_checkin_utc",
        "= 06:00:00",
        "expected a string, got a time",
        id="checkin-toml-time",
    ),
]


class TestValidation:
    @pytest.mark.parametrize(
        ("old", "new", "field", "on_line", "message"),
        _SINGLE_PROBLEMS,
    )
    def test_one_problem(
        self, old: str, new: str, field: str, on_line: str, message: str
    ) -> None:
        text = _edit(old, new)
        problem = _only_problem(text)
        assert problem.field == field
        assert problem.line == _line_no(text, on_line)
        assert message in problem.message

    def test_unknown_key_is_reported_with_the_missing_one(self) -> None:
        text = _edit("buffer_nm = 5", "buffer_mn = 5")
        problems = _problems(text)
        assert [(p.field, p.line) for p in problems] == [
            ("lines[0].buffer_nm", _line_no(text, 'id = "river"') - 1),
            ("lines[0].buffer_mn", _line_no(text, "buffer_mn")),
        ]
        assert "did you mean 'buffer_nm'?" in problems[1].message

    def test_party_named_twice_in_sides_is_a_syntax_error(self) -> None:
        text = _edit('red = "left"', 'blue = "west"')
        problem = _only_problem(text)
        assert (problem.field, problem.line) == ("", _line_no(text, 'blue = "west"'))
        assert "Duplicate inline table key 'blue'" in problem.message

    def test_self_intersecting_polygon_says_where(self) -> None:
        text = _edit(
            "[[33.0, 38.0], [33.0, 39.0], [34.0, 39.0], [34.0, 38.0]]",
            "[[33.0, 38.0], [33.0, 39.0], [34.0, 38.0], [34.0, 39.0]]",
        )
        problem = _only_problem(text)
        assert problem.field == "zones[0].polygon"
        assert problem.line == _line_no(text, "[34.0, 38.0], [34.0, 39.0]]")
        # The diagonals of the 1-degree square cross near its middle.
        match = re.search(
            r"intersects itself at (\d+\.\d+) N, (\d+\.\d+) E", problem.message
        )
        assert match is not None, problem.message
        assert float(match.group(1)) == pytest.approx(33.5, abs=0.01)
        assert float(match.group(2)) == pytest.approx(38.5, abs=1e-6)
        assert (
            "edges polygon[1]-polygon[2] and polygon[3]-polygon[0]" in problem.message
        )

    def test_parties_written_as_a_table(self) -> None:
        start, end = VALID.index("[[parties]]"), VALID.index("[separation]")
        text = VALID[:start] + "[parties]\nblue = 'Blue'\n\n" + VALID[end:]
        problem = _only_problem(text)
        assert (problem.field, problem.line) == ("parties", _line_no(text, "[parties]"))
        assert (
            problem.message == "expected an array of tables ([[parties]]), got a table"
        )

    def test_items_that_are_not_tables(self) -> None:
        head = VALID[: VALID.index("[separation]")]
        text = (
            "lines = [1]\nzones = ['z']\nhotline = 5\nconformance = 5\n"
            "alerts = { advisory = [true], warning = 'x' }\nseparation = 5\n" + head
        )
        assert [(p.line, p.field, p.message) for p in _problems(text)] == [
            (1, "lines[0]", "expected a table, got an integer (1)"),
            (2, "zones[0]", 'expected a table, got a string ("z")'),
            (3, "hotline", "expected a table, got an integer (5)"),
            (4, "conformance", "expected a table, got an integer (5)"),
            (5, "alerts.advisory[0]", "expected a table, got a boolean (true)"),
            (
                5,
                "alerts.warning",
                'expected an array of tables ([[alerts.warning]]), got a string ("x")',
            ),
            (6, "separation", "expected a table, got an integer (5)"),
        ]

    def test_protocol_not_a_table(self) -> None:
        text = "protocol = 'test'\n" + _edit('[protocol]\nid = "test"', "[x]")
        problems = _problems(text)
        assert [(p.line, p.field) for p in problems] == [(1, "protocol"), (2, "x")]

    def test_party_with_a_bad_id_is_still_known_to_sides(self) -> None:
        text = _edit('id = "green"', 'id = "gr een"')
        text = _edit('green = "north"', '"gr een" = "north"', text)
        problem = _only_problem(text)
        assert (problem.field, problem.line) == (
            "parties[2].id",
            _line_no(text, 'id = "gr een"'),
        )

    def test_party_without_id_leaves_references_unchecked(self) -> None:
        text = _edit('id = "green"\n', "")
        problem = _only_problem(text)  # and no "unknown party 'green'"
        assert problem.field == "parties[2].id"
        assert problem.line == _line_no(text, '[[parties]]\nname = "Green"')

    def test_parties_that_are_not_tables_leave_references_unchecked(self) -> None:
        start, end = VALID.index("[[parties]]"), VALID.index("[separation]")
        text = "parties = [1, 'red']\n" + VALID[:start] + VALID[end:]
        assert [(p.line, p.field) for p in _problems(text)] == [
            (1, "parties[0]"),
            (1, "parties[1]"),
        ]

    def test_too_few_parties(self) -> None:
        start, end = VALID.index('[[parties]]\nid = "red"'), VALID.index("[separation]")
        text = VALID[:start] + VALID[end:]
        problems = _problems(text)
        assert ("parties", _line_no(text, "[[parties]]")) in [
            (p.field, p.line) for p in problems
        ]
        assert "at least two parties, got 1" in problems[0].message
        # And the references to the removed parties, each where it is.
        assert {p.field for p in problems} == {
            "parties",
            "lines[0].sides.red",
            "lines[1].sides.green",
            "zones[1].owner",
        }

    def test_file_with_many_problems_reports_them_all(self) -> None:
        with pytest.raises(ProtocolError) as info:
            load_protocol(DATA / "many-problems.toml")
        assert [(p.line, p.field) for p in info.value.problems] == [
            (4, "protocol.id"),
            (5, "protocol.version"),
            (6, "protocol.title"),
            (7, "protocol.sharing"),
            (8, "protocol.lookahead_s"),
            (9, "protocol.colour"),
            (14, "parties[0].language"),
            (17, "parties[1].id"),
            (21, "separation.vertical_ft"),
            (22, "separation.horizontal_nm"),
            (32, "alerts.advisory[1].floor_ft"),
            (37, "lines[0].buffer_nm"),
            (39, "lines[0].buffer_mn"),
            (42, "lines[0].points[1][0]"),
            (43, "lines[0].points[2][1]"),
            (45, "lines[0].sides.coalition"),
            (45, "lines[0].sides.russia"),
            (45, "lines[0].sides.us"),
            (49, "lines[1].buffer_nm"),
            (51, "lines[1].sides.coalition"),
            (55, "zones[0].owner"),
            (56, "zones[0].floor_ft"),
            (58, "zones[0].polygon"),
            (61, "zones[1].id"),
            (63, "zones[1].polygon"),
            (66, "hotline.ack_deadline_s.critical"),
            (66, "hotline.ack_deadline_s.urgent"),
            (67, "hotline.daily_checkin_utc"),
            (70, "conformance.exit_debounce_s"),
        ]
        assert {p.source for p in info.value.problems} == {
            str(DATA / "many-problems.toml")
        }
        message = str(info.value)
        assert message.startswith("29 problems:\n")
        assert (
            f"{DATA / 'many-problems.toml'}:45: lines[0].sides.us: unknown party 'us'"
            in message
        )

    def test_messages_never_leak_python_reprs(self) -> None:
        with pytest.raises(ProtocolError) as info:
            load_protocol(DATA / "many-problems.toml")
        for problem in info.value.problems:
            assert "<class" not in problem.message
            assert "input_value" not in problem.message
            assert "None" not in problem.message


class TestSyntaxErrors:
    def test_reports_tomllib_message_with_its_line(self) -> None:
        text = _edit("vertical_ft = 500", "vertical_ft = ")
        problem = _only_problem(text)
        assert (problem.field, problem.line) == ("", _line_no(text, "vertical_ft = "))
        assert problem.message.startswith("TOML syntax error: Invalid value")
        assert "column" in problem.message

    def test_error_at_end_of_document_points_at_the_last_line(self) -> None:
        problem = _only_problem('[protocol]\ntitle = """unterminated\nstill going\n')
        assert problem.line == 3
        assert "end of file" in problem.message

    def test_table_declared_twice(self) -> None:
        text = VALID + "\n[separation]\n"
        problem = _only_problem(text)
        assert problem.line == len(text.splitlines())


class TestLocator:
    def test_multiline_strings_and_comments_do_not_confuse_lines(self) -> None:
        text = _edit(
            'title = "Test protocol"',
            "title = '''\n[[lines]]\nbuffer_nm = -1 # ]\n'''  # [[zones]] ]",
        )
        text = _edit("buffer_nm = 2.5", "buffer_nm = -2.5", text)
        problem = _only_problem(text)
        assert (problem.field, problem.line) == (
            "lines[1].buffer_nm",
            _line_no(text, "-2.5"),
        )

    def test_escaped_and_trailing_quotes_in_multiline_strings(self) -> None:
        text = _edit(
            'title = "Test protocol"',
            'title = """a \\""" [[x]]\nb = 1 ""\ny"""""\ncolour = 1',
        )
        problem = _only_problem(text)
        assert (problem.field, problem.line) == (
            "protocol.colour",
            _line_no(text, "colour = 1"),
        )

    def test_elements_of_multiline_arrays_after_comments(self) -> None:
        text = _edit("[36.0, 39.0],  # end", "[36.0, 399.0],  # [end]")
        problem = _only_problem(text)
        assert (problem.field, problem.line) == (
            "lines[0].points[2][1]",
            _line_no(text, "399"),
        )

    def test_dotted_and_quoted_keys(self) -> None:
        text = _edit(
            "[separation]\nhorizontal_nm = 3.0\nvertical_ft = 500",
            '[separation]\n"horizontal_nm" = 3.0\nalerts_x.y = 1\nvertical_ft = 500',
        )
        problem = _only_problem(text)
        assert (problem.field, problem.line) == (
            "separation.alerts_x",
            _line_no(text, "alerts_x"),
        )

    def test_nested_arrays_of_tables_count_per_parent(self) -> None:
        locator = protocol_file._Locator(
            "[[a]]\n[[a.b]]\n[[a.b]]\nk = 1\n[[a]]\n[[a.b]]\nk = [\n  1,\n  2,\n]\n"
        )
        assert locator.line_of(("a", 0, "b", 1, "k")) == 4
        assert locator.line_of(("a", 1, "b", 0)) == 6
        assert locator.line_of(("a", 1, "b", 0, "k", 1)) == 9
        assert locator.line_of(("a", 1, "b", 0, "missing")) == 6
        assert locator.line_of(("nothing",)) is None


class TestLoadProtocol:
    def test_reads_a_file(self, tmp_path: Path) -> None:
        path = tmp_path / "p.toml"
        path.write_text(VALID, encoding="utf-8")
        assert load_protocol(path) == parse_protocol(VALID)

    def test_problems_carry_the_path(self, tmp_path: Path) -> None:
        path = tmp_path / "p.toml"
        path.write_text(_edit("buffer_nm = 5", "buffer_nm = -5"), encoding="utf-8")
        with pytest.raises(ProtocolError) as info:
            load_protocol(str(path))
        line = _line_no(VALID, "buffer_nm = 5")
        assert str(info.value.problems[0]).startswith(
            f"{path}:{line}: lines[0].buffer_nm:"
        )

    def test_not_utf8_gives_the_line(self, tmp_path: Path) -> None:
        path = tmp_path / "p.toml"
        path.write_bytes(b'[protocol]\nid = "a"\ntitle = "caf\xe9"\n')
        with pytest.raises(ProtocolError) as info:
            load_protocol(path)
        (problem,) = info.value.problems
        assert problem.line == 3
        assert "not valid UTF-8 (byte 0xe9" in problem.message

    def test_utf8_bom_and_non_ascii_are_accepted(self, tmp_path: Path) -> None:
        path = tmp_path / "p.toml"
        text = _edit('name = "Red"', 'name = "Российская Федерация"')
        path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
        assert load_protocol(path).parties["red"].name == "Российская Федерация"

    def test_missing_file_raises_file_not_found(self, tmp_path: Path) -> None:
        with pytest.raises(FileNotFoundError):
            load_protocol(tmp_path / "absent.toml")


class TestShippedProtocols:
    def test_syria_2015(self) -> None:
        protocol = load_protocol(builtin_protocol_path("syria-2015"))
        assert (protocol.id, protocol.version) == ("syria-2015", 1)
        assert {p.id: p.language for p in protocol.parties.values()} == {
            "us": "en",
            "russia": "ru",
        }
        assert protocol.minima == SeparationMinima(
            horizontal_nm=5.0, vertical_ft=1000.0
        )
        assert protocol.lookahead_s == 300.0
        assert protocol.sharing is SharingLevel.CONFLICTS
        assert protocol.lines == () and protocol.zones == ()  # the MoU made no zones
        assert protocol.alert_levels == default_alert_levels()
        assert protocol.hotline.ack_deadline_s == {
            "routine": 3600.0,
            "urgent": 900.0,
            "flash": 300.0,
        }

    def test_euphrates_2017(self) -> None:
        protocol = resolve_protocol("euphrates-2017")
        assert protocol.id == "euphrates-2017"
        assert list(protocol.parties) == ["coalition", "russia"]
        assert protocol.sharing is SharingLevel.CONFLICTS
        assert protocol.hotline.ack_deadline_s == {
            "routine": 3600.0,
            "urgent": 900.0,
            "flash": 300.0,
        }
        assert protocol.hotline.daily_checkin_utc == "06:00"
        (line,) = protocol.lines
        assert line.id == "euphrates"
        assert line.buffer_nm == 10.0
        assert len(line.lat_deg) == 10
        assert (line.lat_deg[0], line.lon_deg[0]) == (36.82, 38.01)  # Jarabulus
        assert (line.lat_deg[-2], line.lon_deg[-2]) == (34.45, 40.92)  # Abu Kamal
        # Jarabulus to Abu Kamal runs south-east: east is on the left.
        assert line.sides == {"coalition": LineSide.LEFT, "russia": LineSide.RIGHT}
        assert line.declared_sides == {"coalition": "east", "russia": "west"}

    @pytest.mark.parametrize(
        ("zone_id", "owner", "center", "radius_nm"),
        [
            ("al-tanf", "coalition", (33.50, 38.62), 30.0),
            ("hmeimim", "russia", (35.401, 35.949), 20.0),
        ],
    )
    def test_euphrates_2017_zones(
        self, zone_id: str, owner: str, center: tuple[float, float], radius_nm: float
    ) -> None:
        zones = {zone.id: zone for zone in resolve_protocol("euphrates-2017").zones}
        zone = zones[zone_id]
        assert zone.owner == owner
        assert len(zone.lat_deg) == CIRCLE_VERTICES
        lat_deg, lon_deg = np.asarray(zone.lat_deg), np.asarray(zone.lon_deg)
        dist_nm = geodesic_distance_nm(
            np.full_like(lat_deg, center[0]),
            np.full_like(lon_deg, center[1]),
            lat_deg,
            lon_deg,
        )
        np.testing.assert_allclose(dist_nm, radius_nm, atol=0.01)

    def test_al_tanf_radius_is_the_reported_55_km(self) -> None:
        radius_km = 30.0 * M_PER_NM / 1000.0
        assert radius_km == pytest.approx(55.0, abs=1.0)

    def test_repository_protocols_directory_is_the_shipped_one(self) -> None:
        shipped = builtin_protocol_path("syria-2015").parent
        assert (REPO / "protocols").resolve() == shipped.resolve()


class TestBuiltinProtocolPath:
    def test_known_names(self) -> None:
        assert builtin_protocol_names() == ("euphrates-2017", "syria-2015")
        for name in builtin_protocol_names():
            path = builtin_protocol_path(name)
            assert path.is_file() and path.name == f"{name}.toml"

    def test_unknown_name_lists_the_known_ones(self) -> None:
        with pytest.raises(ProtocolError) as info:
            builtin_protocol_path("eufrates-2017")
        (problem,) = info.value.problems
        assert "did you mean 'euphrates-2017'?" in problem.message
        assert problem.message.endswith(
            "built-in protocols: euphrates-2017, syria-2015"
        )


class TestResolveProtocol:
    def test_existing_path_wins(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # A file named like a built-in, in the working directory, is the one loaded.
        monkeypatch.chdir(tmp_path)
        (tmp_path / "syria-2015").write_text(VALID, encoding="utf-8")
        assert resolve_protocol("syria-2015").id == "test"

    def test_builtin_name(self) -> None:
        assert resolve_protocol("syria-2015").id == "syria-2015"

    def test_neither_file_nor_name(self, tmp_path: Path) -> None:
        missing = str(tmp_path / "nope.toml")
        with pytest.raises(ProtocolError) as info:
            resolve_protocol(missing)
        (problem,) = info.value.problems
        assert problem.source == missing
        assert "no such file, and not a built-in protocol" in problem.message
        assert "euphrates-2017, syria-2015" in problem.message


def _circle_text(lat_deg: float, lon_deg: float, radius_nm: float) -> str:
    return _edit(
        "circle = { center = [35.4, 35.9], radius_nm = 20 }",
        f"circle = {{ center = [{lat_deg!r}, {lon_deg!r}], "
        f"radius_nm = {radius_nm!r} }}",
    )


class TestCircleZones:
    @settings(max_examples=40, deadline=None)
    @given(
        lat_deg=st.floats(-80.0, 80.0),
        lon_deg=st.floats(-180.0, 180.0),
        radius_nm=st.floats(0.5, 500.0),
    )
    def test_vertices_lie_on_the_circle(
        self, lat_deg: float, lon_deg: float, radius_nm: float
    ) -> None:
        zone = parse_protocol(_circle_text(lat_deg, lon_deg, radius_nm)).zones[1]
        assert len(zone.lat_deg) == CIRCLE_VERTICES
        lats, lons = np.asarray(zone.lat_deg), np.asarray(zone.lon_deg)
        dist_nm = geodesic_distance_nm(
            np.full_like(lats, lat_deg), np.full_like(lons, lon_deg), lats, lons
        )
        np.testing.assert_allclose(dist_nm, radius_nm, atol=0.01)

    def test_circle_across_the_antimeridian_is_valid(self) -> None:
        zone = parse_protocol(_circle_text(0.0, 180.0, 60.0)).zones[1]
        assert min(zone.lon_deg) < -179.0 and max(zone.lon_deg) > 179.0


class TestCompassSides:
    @settings(max_examples=40, deadline=None)
    @given(
        lat_deg=st.lists(st.floats(30.0, 37.0), min_size=2, max_size=5),
        lon_deg=st.lists(st.floats(35.0, 42.0), min_size=5, max_size=5),
        side=st.sampled_from(["east", "west", "north", "south"]),
    )
    def test_reversing_the_points_swaps_left_and_right(
        self, lat_deg: list[float], lon_deg: list[float], side: str
    ) -> None:
        points = [[lat, lon] for lat, lon in zip(lat_deg, lon_deg, strict=False)]

        def sides(pts: list[list[float]]) -> dict[str, LineSide] | str:
            text = _edit("[[32.0, 36.0], [32.0, 37.0]]", repr(pts))
            text = _edit('green = "north"', f'green = "{side}"', text)
            try:
                return parse_protocol(text).lines[1].sides
            except ProtocolError as exc:
                return exc.problems[0].field

        forward, backward = sides(points), sides(points[::-1])
        if isinstance(forward, str):
            assert forward == backward  # the same problem either way
        else:
            assert isinstance(backward, dict)
            assert backward["green"] is not forward["green"]


class TestDocumentation:
    def test_module_doctests(self) -> None:
        result = doctest.testmod(protocol_file)
        assert result.attempted > 0 and result.failed == 0

    def test_examples_in_docs_are_valid(self) -> None:
        text = (REPO / "docs" / "protocol.md").read_text(encoding="utf-8")
        blocks = re.findall(r"```toml\n(.*?)```", text, flags=re.DOTALL)
        complete = [block for block in blocks if block.startswith("[protocol]")]
        assert complete, "docs/protocol.md has no complete example"
        for block in complete:
            parse_protocol(block, "docs/protocol.md")

    def test_every_key_is_documented(self) -> None:
        text = (REPO / "docs" / "protocol.md").read_text(encoding="utf-8")
        keys = set(re.findall(r"^\s*([a-z_]+)\s*=", VALID, flags=re.MULTILINE))
        keys |= {
            "routine",
            "urgent",
            "flash",
            "center",
            "radius_nm",
            "polygon",
            "circle",
        }
        keys |= {"protocol", "parties", "separation", "alerts", "advisory", "warning"}
        keys |= {"lines", "zones", "hotline", "conformance"}
        # A key counts as documented when it is in code quotes: `key`, `[key]`, ...
        quoted = " ".join(re.findall(r"`[^`\n]+`", text))
        missing = sorted(k for k in keys if not re.search(rf"[`\[.]{k}[`\]]", quoted))
        assert not missing, f"keys not documented in docs/protocol.md: {missing}"


class TestGuidance:
    """``[guidance] config`` (#17.5): none by default, a shipped DAA configuration."""

    def test_absent_means_no_guidance(self) -> None:
        assert parse_protocol(VALID).guidance.config is None

    @pytest.mark.parametrize("name", ["do-365a", "do-365b", "tcas2"])
    def test_shipped_configurations(self, name: str) -> None:
        text = VALID + f'\n[guidance]\nconfig = "{name}"\n'
        assert parse_protocol(text).guidance.config == name

    def test_none_is_no_guidance(self) -> None:
        text = VALID + '\n[guidance]\nconfig = "none"\n'
        assert parse_protocol(text).guidance.config is None

    @pytest.mark.parametrize(
        ("line", "field", "message"),
        [
            ('config = "do-365c"', "guidance.config", "do-365c"),
            ('config = "/etc/daa.conf"', "guidance.config", "daa.conf"),
            ("config = 365", "guidance.config", "string"),
            ('confg = "do-365b"', "guidance.confg", "confg"),
        ],
    )
    def test_bad_values_are_located(self, line: str, field: str, message: str) -> None:
        text = VALID + f"\n[guidance]\n{line}\n"
        problem = _only_problem(text)
        assert problem.field == field
        assert problem.line == _line_no(text, line)
        assert message in problem.message

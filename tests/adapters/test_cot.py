"""Cursor-on-Target: reading tracks, writing tracks, alerts, violations and shapes,
round trips, stale marking, affiliations, and hostile or broken XML."""

from __future__ import annotations

import dataclasses
import math
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconfliction.adapters.cot import (
    MAX_EVENT_BYTES,
    CotDecoder,
    CotOptions,
    affiliation_of,
    alert_event,
    line_event,
    to_bytes,
    track_event,
    violation_event,
    zone_event,
)
from deconfliction.adapters.cot import decoding as cot_decoding
from deconfliction.adapters.track_stream import PartyRules, ReadStats, TrackRecord
from deconfliction.units import M_PER_FT, MPS_PER_KT
from tests.adapters.interop_samples import euphrates, sample_alert, sample_violation

# The minimal event of docs/shared standards: VIPER11 at 7620 m, 135 deg, 230 m/s.
STANDARD = b"""<event version="2.0" uid="DCF-A-VIPER11" type="a-f-A-M-F" how="m-g"
 time="2017-12-13T10:00:00.000Z" start="2017-12-13T10:00:00.000Z"
 stale="2017-12-13T10:02:00.000Z">
 <point lat="35.95" lon="39.01" hae="7620" ce="50" le="30"/>
 <detail><contact callsign="VIPER11"/><track course="135" speed="230"/></detail>
</event>"""
T0 = 1513159200.0


def _event(uid: str = "X", **attrs: str) -> bytes:
    head = {
        "uid": uid,
        "type": "a-n-A",
        "time": "2017-12-13T10:00:00Z",
        "start": "2017-12-13T10:00:00Z",
        "stale": "2017-12-13T10:01:00Z",
    }
    head.update(attrs)
    point = head.pop("point", 'lat="35" lon="38" hae="1000"')
    text = " ".join(f'{k}="{v}"' for k, v in head.items())
    return f"<event {text}><point {point}/><detail/></event>".encode()


def _record(**kw: object) -> TrackRecord:
    base: dict[str, object] = {
        "id": "VIPER11",
        "t_s": T0,
        "lat_deg": 35.95,
        "lon_deg": 39.01,
        "alt_ft": 25000.0,
        "gs_kt": 420.0,
        "trk_deg": 135.0,
        "vs_fpm": -500.0,
        "callsign": "VIPER11",
        "icao24": "AE1234",
        "party": "coalition",
    }
    base.update(kw)
    return TrackRecord(**base)  # type: ignore[arg-type]


class TestReadTracks:
    def test_the_standard_example(self) -> None:
        d = CotDecoder("t.cot")
        (r,) = d.feed(STANDARD) + d.finish()
        assert (r.id, r.callsign, r.cot_type, r.source) == (
            "DCF-A-VIPER11",
            "VIPER11",
            "a-f-A-M-F",
            "cot",
        )
        assert r.t_s == T0 and (r.lat_deg, r.lon_deg) == (35.95, 39.01)
        assert r.alt_ft == pytest.approx(7620 / M_PER_FT)  # 25,000 ft
        assert r.gs_kt == pytest.approx(230 / MPS_PER_KT)
        assert r.trk_deg == 135.0 and math.isnan(r.vs_fpm)

    def test_rules_by_affiliation(self) -> None:
        rules = PartyRules.from_mapping(
            {"rules": [{"party": "coalition", "cot_affiliation": "f"}]}
        )
        (r,) = CotDecoder("t", rules).feed(STANDARD)
        assert r.party == "coalition"

    def test_adsb_gateway_fields(self) -> None:
        event = _event("ICAO-4CA2D6").replace(
            b"<detail/>", b'<detail><_aircot_ icao="4ca2d6" flight="RYR1"/></detail>'
        )
        (r,) = CotDecoder().feed(event)
        assert r.icao24 == "4CA2D6" and r.callsign == "RYR1"
        (r,) = CotDecoder().feed(_event("ICAO-ABCDEF"))
        assert r.icao24 == "ABCDEF"

    def test_unknown_height_and_no_track(self) -> None:
        (r,) = CotDecoder().feed(_event(point='lat="1" lon="2" hae="9999999.0"'))
        assert math.isnan(r.alt_ft) and math.isnan(r.gs_kt)

    def test_stale_and_non_air_events_are_ignored(self) -> None:
        d = CotDecoder()
        records = d.feed(
            _event("gone", stale="2017-12-13T10:00:00Z")
            + _event("tank", type="a-h-G")
            + _event("poi", type="b-m-p-s-p-i")
            + _event("live")
        )
        assert [r.id for r in records] == ["live"]
        assert d.stats.ignored == {
            "stale event (track ended)": 1,
            "not an aircraft track": 2,
        }

    @settings(max_examples=60, deadline=None)
    @given(st.lists(st.integers(0, 2000), max_size=6))
    def test_chunking_does_not_matter(self, cuts: list[int]) -> None:
        data = b"\n".join([STANDARD, _event("A"), b"junk", _event("B")])
        d = CotDecoder()
        out: list[TrackRecord] = []
        start = 0
        for cut in [*sorted(min(c, len(data)) for c in cuts), len(data)]:
            out += d.feed(data[start:cut])
            start = cut
        out += d.finish()
        assert [r.id for r in out] == ["DCF-A-VIPER11", "A", "B"]
        assert d.stats.rejected == {"malformed XML": 1}


class TestHostileAndBrokenXml:
    BILLION_LAUGHS = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        b'<event uid="x" type="a-n-A"><point lat="1" lon="2"/><detail><remarks>&lol3;'
        b"</remarks></detail></event>"
    )
    EXTERNAL = (
        b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<event uid="x"><remarks>&x;</remarks></event>'
    )

    @pytest.mark.parametrize("hostile", [BILLION_LAUGHS, EXTERNAL])
    def test_entities_are_refused_and_neighbours_kept(self, hostile: bytes) -> None:
        d = CotDecoder("feed")
        records = d.feed(_event("A") + hostile + _event("B"))
        assert [r.id for r in records] == ["A", "B"]
        assert d.stats.rejected == {"hostile XML": 1}
        assert d.stats.examples[0].line == 2

    @pytest.mark.parametrize("hostile", [BILLION_LAUGHS, EXTERNAL])
    def test_a_dtd_is_refused_before_parsing(
        self, hostile: bytes, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        parse = cot_decoding._parse

        def no_dtd(document: bytes) -> list[dict[str, Any]]:
            assert b"<!DOCTYPE" not in document, "a DTD reached the parser"
            return parse(document)

        monkeypatch.setattr(cot_decoding, "_parse", no_dtd)
        d = CotDecoder("feed")
        records = d.feed(_event("A") + hostile + _event("B") + hostile + _event("C"))
        assert [r.id for r in records] == ["A", "B", "C"]
        assert d.stats.rejected == {"hostile XML": 2}
        assert "DOCTYPE" in d.stats.examples[0].message

    @pytest.mark.parametrize("learn", [True, False])
    def test_one_bad_event_among_many_keeps_every_good_one(self, learn: bool) -> None:
        good = [_event(f"G{k}") for k in range(40)]
        bad = [
            b'<event uid="x" type="a-n-A"><point lat="1" lon="2"/></evnt></event>',
            self.BILLION_LAUGHS,
            _event("x", time="yesterday"),
        ]
        data = b"\n".join(good[:10] + bad[:1] + good[10:25] + bad[1:] + good[25:])
        d = CotDecoder("feed", learn_layouts=learn)
        records = d.feed(data) + d.finish()
        assert [r.id for r in records] == [f"G{k}" for k in range(40)]
        assert d.stats.rejected == {"malformed XML": 1, "hostile XML": 1, "bad time": 1}
        assert [p.line for p in d.stats.examples] == [11, 27, 28]

    def test_huge_event_is_refused_unparsed(self) -> None:
        d = CotDecoder()
        huge = b'<event uid="big" type="a-n-A"><detail><remarks>' + b"x" * (
            2 * MAX_EVENT_BYTES
        )
        records = d.feed(_event("A"))
        for k in range(0, len(huge), 65536):
            records += d.feed(huge[k : k + 65536])
        records += d.feed(b"</remarks></detail></event>" + _event("B"))
        assert [r.id for r in records] == ["A", "B"]
        assert d.stats.rejected == {"event too large": 1}

    def test_huge_event_in_one_piece(self) -> None:
        d = CotDecoder()
        big = _event("big").replace(
            b"<detail/>", b"<detail>" + b"y" * MAX_EVENT_BYTES + b"</detail>"
        )
        records = d.feed(_event("A") + big + _event("B"))
        assert [r.id for r in records] == ["A", "B"]
        assert d.stats.rejected == {"event too large": 1}

    @pytest.mark.parametrize(
        ("event", "reason", "field"),
        [
            (
                b'<event uid="x" type="a-n-A"><point lat="1" lon="2"/></evnt></event>',
                "malformed XML",
                "",
            ),
            (_event("").replace(b'uid=""', b""), "missing field", "uid"),
            (_event(" "), "missing field", "uid"),
            (_event("x", type=""), "missing field", "type"),
            (
                b'<event uid="x" type="a-n-A" time="2017-12-13T10:00:00Z"></event>',
                "missing field",
                "point",
            ),
            (_event("x", time="yesterday"), "bad time", "time"),
            (_event("x", stale="2017-12-13T10:00:00"), "bad time", "stale"),
            (_event("x", point='lat="north" lon="2"'), "bad number", "point.lat"),
            (_event("x", point='lat="1"'), "missing field", "point.lon"),
            (_event("x", point='lat="91" lon="2"'), "impossible value", "point"),
            (_event("x", point='lat="1" lon="2" hae="inf"'), "bad number", "point.hae"),
            (
                _event("x").replace(
                    b"<detail/>", b'<detail><track course="400" speed="1"/></detail>'
                ),
                "impossible value",
                "detail.track",
            ),
            (
                _event("x").replace(
                    b"<detail/>", b'<detail><track course="a" speed="1"/></detail>'
                ),
                "bad number",
                "detail.track",
            ),
            (b'<event uid="x"><point></event>', "malformed XML", ""),
        ],
    )
    def test_bad_events(self, event: bytes, reason: str, field: str) -> None:
        d = CotDecoder("feed")
        records = d.feed(_event("A") + event + _event("B"))
        assert [r.id for r in records] == ["A", "B"]
        assert d.stats.rejected == {reason: 1}
        assert d.stats.examples[0].field == field

    def test_truncated_datagram(self) -> None:
        d = CotDecoder()
        assert [r.id for r in d.feed_datagram(_event("A") + _event("B")[:40])] == ["A"]
        assert [r.id for r in d.feed_datagram(_event("C"))] == ["C"]
        assert d.stats.rejected == {"truncated event": 1}

    @settings(max_examples=150, deadline=None)
    @given(
        st.lists(
            st.one_of(
                st.binary(max_size=60),
                st.text(alphabet="<>/=\"' eventpoiAa-&;!?[]", max_size=60).map(
                    str.encode
                ),
                st.builds(lambda n: STANDARD[:n], st.integers(0, len(STANDARD))),
            ),
            max_size=8,
        )
    )
    def test_garbage_never_stops_the_valid_events(self, garbage: list[bytes]) -> None:
        d = CotDecoder()
        data = b"".join(g + _event(f"ok{k}") for k, g in enumerate(garbage))
        records = d.feed(data) + d.finish()
        ids = [r.id for r in records]
        for k, g in enumerate(garbage):
            # Only a piece that opens an event, or declares a DTD (refused as
            # hostile), may take the event right after it down with it.
            assert f"ok{k}" in ids or b"<event" in g or b"<!DOCTYPE" in g
        s = d.stats
        assert s.read == s.accepted + s.ignored_total + s.rejected_total


class TestWriteAndReadBack:
    def test_track_round_trip(self) -> None:
        record = _record()
        data = to_bytes(track_event(record, CotOptions(own_party="russia")))
        (back,) = CotDecoder().feed(data)
        assert (back.id, back.party, back.callsign, back.icao24) == (
            "VIPER11",
            "coalition",
            "VIPER11",
            "AE1234",
        )
        assert back.alt_ft == pytest.approx(25000.0, abs=0.2)
        assert back.gs_kt == pytest.approx(420.0, abs=0.01)
        assert (back.trk_deg, back.vs_fpm) == (135.0, -500.0)
        assert back.cot_type == "a-u-A"

    def test_affiliation_is_never_hostile_by_default(self) -> None:
        assert affiliation_of("russia", CotOptions(own_party="coalition")) == "u"
        assert affiliation_of(None, CotOptions()) == "u"
        assert affiliation_of("coalition", CotOptions(own_party="coalition")) == "f"
        neutral = CotOptions(own_party="coalition", other_affiliation="n")
        assert track_event(_record(party="russia"), neutral).get("type") == "a-n-A"
        hostile = CotOptions(other_affiliation="h")  # only when set on purpose
        assert track_event(_record(party="russia"), hostile).get("type") == "a-h-A"
        with pytest.raises(ValueError, match="other_affiliation"):
            CotOptions(other_affiliation="enemy")

    def test_options_from_party_rules(self) -> None:
        rules = PartyRules.from_mapping({"cot": {"other_affiliation": "neutral"}})
        assert CotOptions.from_rules(rules, "coalition").other_affiliation == "n"

    def test_unknown_values_are_cot_unknowns(self) -> None:
        event = track_event(_record(alt_ft=math.nan, gs_kt=math.nan), CotOptions())
        assert event.find("point").get("hae") == "9999999.0"  # type: ignore[union-attr]
        assert event.find("detail/track") is None

    def test_alert_raised_then_cleared_is_marked_stale(self) -> None:
        alert = sample_alert()
        options = CotOptions(own_party="coalition")
        active = to_bytes(alert_event(alert, T0 + 60, options))
        cleared = to_bytes(alert_event(alert, T0 + 90, options, cleared=True))
        d = CotDecoder()
        first, second = d.feed_events(active + cleared)
        assert first.uid == second.uid == f"DCF-alert-{alert.id}"
        assert (
            first.stale_t_s == T0 + 60 + options.marker_stale_s and not first.is_stale
        )
        assert second.stale_t_s == second.t_s == T0 + 90 and second.is_stale
        assert first.facts["kind"] == "alert" and first.facts["level"] == "warning"
        assert (first.facts["a"], first.facts["b"]) == ("RF93", "VIPER11")
        assert second.facts["cleared"] == "true"
        assert first.lat_deg == pytest.approx(35.85)  # between the two aircraft
        assert "warning conflict RF93" in (first.remarks or "")

    def test_violation_open_then_closed(self) -> None:
        options = CotOptions()
        d = CotDecoder()
        opened, closed = d.feed_events(
            to_bytes(violation_event(sample_violation(True), T0, options))
            + to_bytes(violation_event(sample_violation(False), T0 + 300, options))
        )
        assert not opened.is_stale and closed.is_stale
        assert opened.facts["boundary_id"] == "euphrates"
        assert (opened.lat_deg, opened.lon_deg) == (35.8, 38.4)

    def test_zones_and_lines_round_trip(self) -> None:
        zones, lines = euphrates()
        options = CotOptions()
        data = b"".join(to_bytes(zone_event(z, T0, options)) for z in zones)
        data += b"".join(to_bytes(line_event(ln, T0, options)) for ln in lines)
        events = CotDecoder().feed_events(data)
        assert [e.facts["kind"] for e in events] == ["zone"] * len(zones) + [
            "line"
        ] * len(lines)
        zone = events[0]
        assert zone.link_lat_deg[0] == zone.link_lat_deg[-1]  # a closed ring
        assert zone.link_lat_deg[:-1] == pytest.approx(zones[0].lat_deg, abs=1e-7)
        line = events[-1]
        assert line.link_lon_deg == pytest.approx(lines[0].lon_deg, abs=1e-7)
        assert (
            line.facts["sides"] == "coalition=right;russia=left"
            or "=" in line.facts["sides"]
        )

    def test_written_events_are_well_formed_xml(self) -> None:
        data = to_bytes(alert_event(sample_alert(), T0, CotOptions()))
        root = ET.fromstring(data)
        assert root.tag == "event" and root.get("version") == "2.0"
        assert {c.tag for c in root} == {"point", "detail"}


# --------------------------------------------------------------------------------------
# Learned layouts (the fast path) against the parser


def _stats_key(stats: ReadStats) -> tuple[Any, ...]:
    return (
        stats.read,
        stats.accepted,
        stats.positions,
        dict(stats.ignored),
        dict(stats.rejected),
        [(p.line, p.field, p.message) for p in stats.examples],
    )


def _values_key(value: Any) -> tuple[Any, ...]:
    """A dataclass as a tuple in which NaN equals NaN."""
    return tuple(
        "NaN" if isinstance(v, float) and math.isnan(v) else v
        for v in dataclasses.astuple(value)
    )


def _decode(
    data: bytes, cuts: list[int], learn: bool, events: bool = False
) -> tuple[list[tuple[Any, ...]], tuple[Any, ...]]:
    d = CotDecoder("s", learn_layouts=learn)
    feed: Callable[[bytes], list[Any]] = d.feed_events if events else d.feed
    out: list[Any] = []
    start = 0
    for cut in [*sorted(min(c, len(data)) for c in cuts), len(data)]:
        out += feed(data[start:cut])
        start = cut
    out += d.finish()
    return [_values_key(x) for x in out], _stats_key(d.stats)


# Layouts as producers write them: the writer's own, a gateway's, spaced, quoted.
_TEMPLATES = (
    to_bytes(track_event(_record(), CotOptions())).decode(),
    STANDARD.decode()
    .replace('"VIPER11"', '"{callsign}"')
    .replace('uid="DCF-A-VIPER11"', 'uid="{uid}"'),
    "<event version='2.0' uid='{uid}' type='{type}' how='m-g' time='{time}' "
    "start='{start}' stale='{stale}'>\r\n <point lat='{lat}' lon='{lon}' "
    "hae='{hae}' ce='9.0' le='9.0' />\r\n <detail>\r\n  <remarks>{remarks}"
    "</remarks>\r\n  <contact callsign='{callsign}'/>\r\n </detail>\r\n</event>",
    '<?xml version="1.0" standalone="yes"?>\n<event uid="{uid}" type="{type}" '
    'time="{time}" start="{start}" stale="{stale}"><point lat="{lat}" lon="{lon}"/>'
    '<detail><track course="{course}" speed="{speed}"/><__deconfliction '
    'kind="{kind}" id="{id}" vs_fpm="{vs}"/><remarks/></detail></event>',
)
_PLAIN = {
    "uid": "U1",
    "type": "a-f-A-M-F",
    "time": "2017-12-13T10:00:00Z",
    "start": "2017-12-13T10:00:00Z",
    "stale": "2017-12-13T10:02:00.5Z",
    "lat": "35.95",
    "lon": "39.01",
    "hae": "7620",
    "course": "135",
    "speed": "230",
    "callsign": "VIPER11",
    "remarks": "on task",
    "kind": "track",
    "id": "V11",
    "vs": "-500",
}
# What breaks a layout, or a parser, or both: quotes, markup, entities, control
# characters, line ends, non-characters, bytes that are not UTF-8 ("\udcff").
_PIECES = st.sampled_from(
    [
        *["", " ", "0", "35.5", "-1", "1e3", "nan", "inf", "9999999", "400", " 12 "],
        *["a-f-A", "a-u-A-C", "a-h-G", "b-m-p-s-p-i", "ICAO-4CA2D6", "track", "zone"],
        *["2017-12-13T10:00:00Z", "2017-12-13T10:01:00Z", "yesterday", "é", "\xa0"],
        *['"', "'", "<", ">", "/>", "&", "&amp;", "&#65;", "&lol;", "]]>", "<!--"],
        *["\t", "\n", "\r\n", "\x00", "\x0b", "\x1f", "\x7f", "\ufffe", "\udcff"],
    ]
)


def _layout_event(template: int, values: dict[str, str]) -> bytes:
    text = _TEMPLATES[template].format(**{**_PLAIN, **values})
    return text.encode("utf-8", "surrogateescape")


_EVENTS = st.builds(
    _layout_event,
    st.integers(0, len(_TEMPLATES) - 1),
    st.dictionaries(
        st.sampled_from(sorted(_PLAIN)),
        st.lists(_PIECES, max_size=3).map("".join),
        max_size=3,
    ),
)


class TestLayouts:
    """The learned layouts read every event exactly as the hardened parser does."""

    @settings(max_examples=120, deadline=None)
    @given(
        st.lists(_EVENTS, min_size=1, max_size=12),
        st.lists(st.integers(0, 6000), max_size=4),
        st.booleans(),
    )
    def test_same_results_as_the_parser(
        self, events: list[bytes], cuts: list[int], as_events: bool
    ) -> None:
        # Plain events first and last, so that layouts are learned and then used.
        plain = [_layout_event(k, {}) for k in range(len(_TEMPLATES))]
        data = b"\n".join([*plain, *events, *plain])
        fast = _decode(data, cuts, learn=True, events=as_events)
        parsed = _decode(data, cuts, learn=False, events=as_events)
        assert fast == parsed

    def test_an_event_of_a_known_layout_is_not_parsed_again(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        parsed: list[bytes] = []
        parse = cot_decoding._parse

        def counting(document: bytes) -> list[dict[str, Any]]:
            parsed.append(document)
            return parse(document)

        monkeypatch.setattr(cot_decoding, "_parse", counting)
        data = b"".join(
            to_bytes(track_event(_record(id=f"X{k}", t_s=T0 + k), CotOptions()))
            for k in range(100)
        )
        d = CotDecoder()
        records = d.feed(data[:5000]) + d.feed(data[5000:]) + d.finish()
        assert [r.id for r in records] == [f"X{k}" for k in range(100)]
        assert len(parsed) == 1  # the first, to learn its layout
        assert [r.t_s for r in records] == [T0 + k for k in range(100)]

    def test_values_with_entities_take_the_parser(self) -> None:
        plain = _event("A")
        # The same layout, but a value the parser must decode.
        coded = _event("B&amp;C")
        undefined = _event("D&lol;")
        d = CotDecoder()
        records = d.feed(plain + coded + undefined + _event("E"))
        assert [r.id for r in records] == ["A", "B&C", "E"]
        assert d.stats.rejected == {"malformed XML": 1}

    def test_bytes_not_utf8_in_a_known_layout_are_rejected(self) -> None:
        d = CotDecoder()
        bad = _event("B").replace(b'uid="B"', b'uid="B\xff"')  # not UTF-8
        records = d.feed(_event("A") + _event("B") + bad + _event("C"))
        assert [r.id for r in records] == ["A", "B", "C"]
        assert d.stats.rejected == {"malformed XML": 1}
        assert d.stats.examples[0].line == 3

    def test_an_oversized_event_of_a_known_layout_is_refused(self) -> None:
        def with_remarks(uid: str, text: str) -> bytes:
            return _event(uid).replace(
                b"<detail/>", f"<detail><remarks>{text}</remarks></detail>".encode()
            )

        d = CotDecoder()
        records = d.feed(
            with_remarks("A", "a")
            + with_remarks("big", "y" * MAX_EVENT_BYTES)
            + with_remarks("B", "b")
        )
        assert [r.id for r in records] == ["A", "B"]
        assert d.stats.rejected == {"event too large": 1}

    @pytest.mark.parametrize("learn", [True, False])
    def test_remarks_are_the_text_of_the_element(self, learn: bool) -> None:
        event = _event("A").replace(
            b"<detail/>", b"<detail><remarks> on task </remarks>after<x/></detail>"
        )
        d = CotDecoder(learn_layouts=learn)
        first, second = d.feed_events(event + event)
        assert first.remarks == second.remarks == "on task"

    def test_a_partial_event_arriving_byte_by_byte(self) -> None:
        d = CotDecoder()
        assert [r.id for r in d.feed(_event("A"))] == ["A"]
        records: list[TrackRecord] = []
        for byte in _event("B") + _event("C"):
            records += d.feed(bytes([byte]))
        assert [r.id for r in records] == ["B", "C"]
        assert d.stats.read == 3 and not d.stats.rejected

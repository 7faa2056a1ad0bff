"""SBS-1 / BaseStation: per-aircraft merging, zones, and every kind of bad line."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconfliction.adapters.sbs import SbsDecoder, resolve_timezone, sbs_line
from deconfliction.adapters.track_stream import PartyRules, decode_file
from deconfliction.errors import InputError
from tests.adapters.interop_samples import flight, sbs_lines

T0 = 1513159200.0  # 2017-12-13T10:00:00Z


def _decode(lines: list[str], **kw: object) -> tuple[list, SbsDecoder]:  # type: ignore[type-arg]
    d = SbsDecoder("test.sbs", **kw)  # type: ignore[arg-type]
    records = d.feed(("\n".join(lines) + "\n").encode()) + d.finish()
    return records, d


class TestMerging:
    def test_recorded_flight_decodes_to_the_truth(self, tmp_path: Path) -> None:
        truth = flight("4CA2D6", "VIPER11", 35.5, 38.2, 45.0, 420.0, 25000.0, T0, 40)
        path = tmp_path / "feed.sbs"
        path.write_text("\n".join(sbs_lines(truth)) + "\n", encoding="utf-8")
        d = SbsDecoder(str(path))
        records = [r for chunk in decode_file(path, d) for r in chunk]
        assert len(records) == len(truth)
        for r, s in zip(records, truth, strict=True):
            assert r.t_s == pytest.approx(s.t_s, abs=1e-3)
            assert r.lat_deg == pytest.approx(s.lat_deg, abs=1e-5)
            assert r.lon_deg == pytest.approx(s.lon_deg, abs=1e-5)
            assert (r.alt_ft, r.gs_kt, r.trk_deg, r.vs_fpm) == (
                25000.0,
                420.0,
                45.0,
                0.0,
            )
            assert (r.id, r.icao24, r.callsign, r.squawk) == (
                "4CA2D6",
                "4CA2D6",
                "VIPER11",
                "0412",
            )
            assert r.source == "sbs"
        assert d.stats.read == d.stats.accepted == len(sbs_lines(truth))

    def test_position_before_any_velocity_has_no_velocity(self) -> None:
        records, _ = _decode(
            [sbs_line(3, "ABC123", T0, alt_ft=30000, lat_deg=35.0, lon_deg=38.0)]
        )
        (r,) = records
        assert r.alt_ft == 30000 and math.isnan(r.gs_kt) and math.isnan(r.vs_fpm)

    def test_old_velocity_is_not_used(self) -> None:
        records, _ = _decode(
            [
                sbs_line(4, "ABC123", T0, gs_kt=400, trk_deg=90, vs_fpm=0),
                sbs_line(
                    3, "ABC123", T0 + 31, alt_ft=30000, lat_deg=35.0, lon_deg=38.0
                ),
            ]
        )
        assert math.isnan(records[0].gs_kt)

    def test_aircraft_are_kept_apart(self) -> None:
        records, _ = _decode(
            [
                sbs_line(4, "AAAAAA", T0, gs_kt=400, trk_deg=90, vs_fpm=-500),
                sbs_line(4, "BBBBBB", T0, gs_kt=200, trk_deg=270, vs_fpm=0),
                sbs_line(3, "AAAAAA", T0 + 1, alt_ft=1000, lat_deg=1.0, lon_deg=2.0),
            ]
        )
        assert (records[0].gs_kt, records[0].trk_deg, records[0].vs_fpm) == (
            400,
            90,
            -500,
        )

    def test_altitude_from_another_message(self) -> None:
        records, _ = _decode(
            [
                sbs_line(5, "ABC123", T0, alt_ft=12000),
                sbs_line(3, "ABC123", T0 + 2, lat_deg=35.0, lon_deg=38.0),
            ]
        )
        assert records[0].alt_ft == 12000

    def test_surface_position_uses_its_own_speed(self) -> None:
        records, _ = _decode(
            [
                sbs_line(
                    2,
                    "ABC123",
                    T0,
                    gs_kt=15,
                    trk_deg=180,
                    lat_deg=35.0,
                    lon_deg=38.0,
                    on_ground=True,
                )
            ]
        )
        assert (records[0].gs_kt, records[0].trk_deg, records[0].vs_fpm) == (
            15,
            180,
            0.0,
        )

    def test_non_icao_address(self) -> None:
        records, _ = _decode(
            [sbs_line(3, "~4CA2D6", T0, alt_ft=1000, lat_deg=1.0, lon_deg=2.0)]
        )
        assert records[0].id == "~4CA2D6" and records[0].icao24 is None

    def test_squawk_keeps_leading_zeros(self) -> None:
        records, _ = _decode(
            [
                sbs_line(6, "ABC123", T0, squawk="0017"),
                sbs_line(3, "ABC123", T0, alt_ft=1000, lat_deg=1.0, lon_deg=2.0),
            ]
        )
        assert records[0].squawk == "0017"

    def test_party_rules(self) -> None:
        rules = PartyRules.from_mapping(
            {"rules": [{"party": "russia", "icao24": "140000-157FFF"}]}
        )
        records, _ = _decode(
            [sbs_line(3, "150001", T0, alt_ft=1000, lat_deg=1.0, lon_deg=2.0)],
            rules=rules,
        )
        assert records[0].party == "russia"


class TestTimezone:
    def test_the_zone_is_a_feed_setting(self) -> None:
        line = sbs_line(3, "ABC123", T0, alt_ft=1000, lat_deg=1.0, lon_deg=2.0)
        utc, _ = _decode([line])
        # Damascus was UTC+2 in December 2017: 10:00 there is 08:00 UTC.
        damascus, _ = _decode([line], timezone="Asia/Damascus")
        assert utc[0].t_s - damascus[0].t_s == 2 * 3600

    def test_summer_time(self) -> None:
        t = datetime(2017, 7, 1, 12, 0, tzinfo=UTC).timestamp()
        line = sbs_line(3, "ABC123", t, alt_ft=1000, lat_deg=1.0, lon_deg=2.0)
        london, _ = _decode([line], timezone="Europe/London")
        assert london[0].t_s == t - 3600

    def test_unknown_zone(self) -> None:
        with pytest.raises(InputError, match="timezone: unknown time zone") as err:
            resolve_timezone("Mars/Olympus")
        assert "--" not in str(err.value)  # the adapter knows no command line

    def test_logged_time_when_generated_is_empty(self) -> None:
        f = sbs_line(3, "ABC123", T0, alt_ft=1000, lat_deg=1.0, lon_deg=2.0).split(",")
        f[6] = f[7] = ""
        records, _ = _decode([",".join(f)])
        assert records[0].t_s == T0


GOOD = sbs_line(3, "ABC123", T0, alt_ft=1000, lat_deg=1.0, lon_deg=2.0)


def _with(index: int, value: str) -> str:
    f = GOOD.split(",")
    f[index] = value
    return ",".join(f)


class TestBadLines:
    @pytest.mark.parametrize(
        ("line", "reason", "field"),
        [
            ("MSG,3,1,1,ABC123", "wrong field count", ""),
            ("HELLO,1,2", "unknown message type", "message_type"),
            (_with(1, "9"), "unknown message type", "transmission_type"),
            (_with(4, "ZZZZZZ"), "bad hex ident", "hex_ident"),
            (_with(4, "0x1234"), "bad hex ident", "hex_ident"),
            (_with(6, "2017/13/45"), "bad time", "time_generated"),
            (_with(7, "25:61:00.000"), "bad time", "time_generated"),
            (_with(7, "10-00-00"), "bad time", "time_generated"),
            (_with(14, "north"), "bad number", "latitude"),
            (_with(14, "95.0"), "impossible value", "latitude"),
            (_with(11, "nan"), "impossible value", "altitude"),
            (_with(12, "99999"), "impossible value", "ground_speed"),
        ],
    )
    def test_counted_with_line_and_field_and_neighbours_kept(
        self, line: str, reason: str, field: str
    ) -> None:
        records, d = _decode([GOOD, line, GOOD])
        assert len(records) == 2
        assert d.stats.rejected == {reason: 1}
        (problem,) = d.stats.examples
        assert (problem.source, problem.line, problem.field) == ("test.sbs", 2, field)

    def test_other_message_kinds_are_ignored(self) -> None:
        _, d = _decode(
            ["STA,,5,179,400AE7,10103,2008/11/28,14:58:51.153,,,RM", "AIR,,,,", GOOD]
        )
        assert d.stats.ignored == {"STA message": 1, "AIR message": 1}
        assert d.stats.accepted == 1

    def test_blank_lines_and_crlf(self) -> None:
        records, d = _decode(["", GOOD + "\r", "   "])
        assert len(records) == 1 and d.stats.read == 1

    @settings(max_examples=150, deadline=None)
    @given(
        st.lists(
            st.one_of(
                st.text(max_size=80),
                st.lists(
                    st.text(alphabet="0123456789.-,~ABCDEF/:", max_size=12), max_size=25
                ).map(lambda fs: "MSG," + ",".join(fs)),
                st.builds(lambda n: GOOD[:n], st.integers(0, len(GOOD))),
            ),
            max_size=20,
        )
    )
    def test_garbage_never_stops_the_valid_lines(self, garbage: list[str]) -> None:
        lines: list[str] = []
        for g in garbage:
            lines += [g.replace("\n", " ").replace("\r", " "), GOOD]
        records, d = _decode(lines)
        good = sum(1 for ln in lines if ln == GOOD)
        assert (
            len([r for r in records if r.id == "ABC123" and r.lat_deg == 1.0]) >= good
        )
        s = d.stats
        assert s.read == s.accepted + s.ignored_total + s.rejected_total

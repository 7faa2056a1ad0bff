"""NOTAM in and out (issue 19, item 4): an operation's NOTAM read back by
aviconv-notam's parser field by field; NOTAM texts with known answers (polygon, circle,
AGL/AMSL/FL/UNL, PERM) as zones with their time limits; bad texts named; the
protocol's [notam]; import-zones --format notam."""

from __future__ import annotations

from pathlib import Path

import pytest
from aviconv_notam.parser import parse
from typer.testing import CliRunner

from deconfliction.adapters.airspace_files import read_airspace, zones_toml
from deconfliction.adapters.notam import NotamSettings, operation_notam, read_notams
from deconfliction.adapters.protocol_file import ProtocolError, parse_protocol
from deconfliction.cli.app import build_app
from deconfliction.timetext import parse_rfc3339_s

PROTOCOLS = Path(__file__).resolve().parents[2] / "src/deconfliction/data/protocols"
T0 = parse_rfc3339_s("2026-12-07T06:00:00Z")
FACTS = {
    "operation_kind": "air_refuelling",
    "floor_ft": 15000.0,
    "ceiling_ft": 25050.0,
    "start_t_s": T0,
    "end_t_s": T0 + 4 * 3600,
    "lat_deg": 35.5,
    "lon_deg": 38.25,
    "radius_nm": 14.2,
}
SETTINGS = NotamSettings("OSTT")

SAMPLES = """\
A0101/26 NOTAMN
Q) OSTT/QRTCA/IV/BO/W/050/250/3515N03615E020
A) OSTT B) 2612070600 C) 2612071800
E) TEMPO RESTRICTED AREA ACTIVATED WI AREA 3500N03600E 3500N03630E 3530N03630E
3530N03600E
F) FL050 G) FL250

A0102/26 NOTAMN
Q) OSTT/QWMLW/IV/BO/W/000/045/3430N03700E010
A) OSTT B) 2612080000 C) PERM
E) MILITARY EXERCISES WI 10NM RADIUS OF 3430N03700E
F) 1500FT AGL G) 4500FT AMSL

A0103/26 NOTAMN
Q) OSTT/QRDCA/IV/BO/W/000/999/3600N03800E005
A) OSTT B) 2612070000 C) 2612070100
E) DANGER AREA ACTIVE
F) SFC G) UNL

A0104/26 NOTAMC A0100/26
Q) OSTT/QRTXX/IV/BO/W/000/999/3600N03800E005
A) OSTT B) 2612070000 C) 2612070100
E) CANCELLED

THIS IS NOT A NOTAM AT ALL
"""


class TestOut:
    def test_every_item_reads_back(self) -> None:
        text = operation_notam(FACTS, SETTINGS, number=42, party_name="Coalition")
        notam = parse(text)
        assert notam.identifier == "A0042/26"
        q = notam.q_line
        assert (q.fir, q.qcode, q.traffic.value, q.purpose.value, q.scope.value) == (
            "OSTT",
            "QRTCA",
            "IV",
            "BO",
            "W",
        )
        assert (q.lower_fl, q.upper_fl) == (150, 251)  # floor down, ceiling up
        assert q.radius_nm == 15  # 14.2 NM rounded up: the circle holds every volume
        assert (q.centre_lat, q.centre_lon) == pytest.approx((35.5, 38.25), abs=1 / 60)
        assert notam.fir == "OSTT"
        assert notam.effective_from.timestamp() == T0
        assert notam.effective_to.timestamp() == T0 + 4 * 3600
        assert (notam.lower_limit, notam.upper_limit) == ("FL150", "FL251")
        assert "AIR REFUELLING" in notam.body and "COALITION" in notam.body
        assert text.isascii()

    def test_from_the_surface_and_polygon_areas(self) -> None:
        facts = FACTS | {"floor_ft": 0.0}
        square = [(35.0, 38.0), (35.0, 38.5), (35.5, 38.5), (35.5, 38.0)]
        text = operation_notam(
            facts,
            NotamSettings("OSTT", "OSDI", "QRRCA", "W"),
            number=10042,
            party_name="Coalition",
            outlines=[square],
        )
        notam = parse(text)
        assert notam.identifier == "W0042/26"
        assert notam.q_line.lower_fl == 0 and notam.lower_limit == "SFC"
        assert notam.fir == "OSDI"
        assert notam.geometry.polygon[:4] == square

    def test_what_we_write_we_read_as_a_zone(self) -> None:
        text = operation_notam(FACTS, SETTINGS, number=7, party_name="Coalition")
        (zone,), problems = read_notams(text)
        assert problems == []
        assert (zone.floor_ft, zone.ceiling_ft) == (15000.0, 25100.0)
        assert zone.circle == pytest.approx((35.5, 38.25, 15.0), abs=1 / 60)
        assert (zone.start_t_s, zone.end_t_s) == (T0, T0 + 4 * 3600)


class TestIn:
    def test_known_answers(self) -> None:
        zones, problems = read_notams(SAMPLES, "samples.txt")
        by_id = {z.identifier: z for z in zones}
        assert sorted(by_id) == ["A0101/26", "A0102/26", "A0103/26"]
        a = by_id["A0101/26"]
        assert a.polygon == ((35.0, 36.0), (35.0, 36.5), (35.5, 36.5), (35.5, 36.0))
        assert (a.floor_ft, a.ceiling_ft) == (5000.0, 25000.0)
        assert (a.start_t_s, a.end_t_s) == (T0, T0 + 12 * 3600)
        b = by_id["A0102/26"]
        assert b.circle == pytest.approx((34.5, 37.0, 10.0))
        assert (b.floor_ft, b.ceiling_ft) == (1500.0, 4500.0)  # AGL over 0 ft, AMSL
        assert b.end_t_s is None  # PERM
        c = by_id["A0103/26"]
        assert (c.floor_ft, c.ceiling_ft) == (None, None)  # SFC, UNL
        assert len(problems) == 2
        assert any("cancellation" in p.message for p in problems)
        assert any(p.field.startswith("THIS IS NOT") for p in problems)
        assert all(p.line is not None for p in problems)

    def test_agl_over_the_ground(self) -> None:
        zones, _ = read_notams(SAMPLES, ground_ft=2000.0)
        assert {z.identifier: z for z in zones}["A0102/26"].floor_ft == 3500.0

    def test_limits_from_the_q_line_when_f_and_g_are_missing(self) -> None:
        text = SAMPLES.split("\n\n")[0].replace("F) FL050 G) FL250", "")
        (zone,), _ = read_notams(text)
        assert (zone.floor_ft, zone.ceiling_ft) == (5000.0, 25000.0)


class TestProtocolSection:
    def _protocol(self, notam: str) -> str:
        return (PROTOCOLS / "euphrates-2017.toml").read_text("utf-8") + "\n" + notam

    def test_valid(self) -> None:
        protocol = parse_protocol(
            self._protocol('[notam]\npublic = ["air_refuelling"]\nfir = "OSTT"\n')
        )
        assert protocol.notam.public_kinds == ("air_refuelling",)
        assert protocol.notam.fir == "OSTT" and protocol.notam.q_code == "QRTCA"

    def test_absent_is_nothing_public(self) -> None:
        assert parse_protocol(self._protocol("")).notam.public_kinds == ()

    def test_bad_values_are_named(self) -> None:
        with pytest.raises(ProtocolError) as info:
            parse_protocol(
                self._protocol(
                    '[notam]\npublic = ["cap"]\nfir = "ostt"\nq_code = "RTCA"\n'
                    'series = "AB"\n'
                )
            )
        text = str(info.value)
        for where in ("notam.public", "notam.fir", "notam.q_code", "notam.series"):
            assert where in text


class TestImport:
    def test_zones_with_their_time_limits_and_only_those_in_force(
        self, tmp_path: Path
    ) -> None:
        path = tmp_path / "notams.txt"
        path.write_text(SAMPLES)
        result = read_airspace(path, "notam", at_t_s=T0 + 3600)
        names = [z.name for z in result.zones]
        assert len(names) == 2  # A0103 ended at 01:00
        assert "NOTAM A0101/26 (2026-12-07T06:00:00Z to 2026-12-07T18:00:00Z)" in names
        text = zones_toml(result.zones, "russia", "notams.txt")
        protocol = parse_protocol(
            (PROTOCOLS / "euphrates-2017.toml").read_text("utf-8") + "\n" + text
        )
        assert {"a0101-26", "a0102-26"} <= {z.id for z in protocol.zones}
        # The zone holds while its NOTAM does: items B and C, parsed back.
        zone = next(z for z in protocol.zones if z.id == "a0101-26")
        assert zone.active_from_t_s == parse_rfc3339_s("2026-12-07T06:00:00Z")
        assert zone.active_until_t_s == parse_rfc3339_s("2026-12-07T18:00:00Z")
        assert not zone.always_active
        # and shown with its times where zones are drawn
        from deconfliction.adapters.geojson_io import zone_feature

        properties = zone_feature(zone)["properties"]
        assert properties["active_from"] == "2026-12-07T06:00:00Z"
        assert properties["active_until"] == "2026-12-07T18:00:00Z"

    def test_command(self, tmp_path: Path) -> None:
        path = tmp_path / "notams.txt"
        path.write_text(SAMPLES)
        result = CliRunner().invoke(
            build_app(),
            [
                "protocol",
                "import-zones",
                str(path),
                "--owner",
                "russia",
                "--at",
                "2026-12-07T07:00:00Z",
            ],
        )
        assert result.exit_code == 0, result.output
        assert result.stdout.count("[[zones]]") == 2
        assert "not a NOTAM" in result.stderr

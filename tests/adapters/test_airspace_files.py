"""Airspace in (issue 19, item 3): OpenAir, AIXM 5.1 and GeoJSON samples with known
answers (polygons, arcs, circles; limits in FL, ft AMSL, ft AGL, metres), the TOML
pasted into a real protocol, and ``deconfliction protocol import-zones``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deconfliction.adapters.airspace_files import read_airspace, zones_toml
from deconfliction.adapters.protocol_file import parse_protocol
from deconfliction.cli.app import build_app
from deconfliction.domain.geodesy import geodesic_distance_nm
from deconfliction.errors import InputError
from tests.adapters.airspace_samples import OPENAIR, aixm_sample

PROTOCOLS = Path(__file__).resolve().parents[2] / "src/deconfliction/data/protocols"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


def _by_id(result):
    return {z.id: z for z in result.zones}


class TestOpenAir:
    def test_known_answers(self, tmp_path: Path) -> None:
        result = read_airspace(_write(tmp_path, "a.txt", OPENAIR), "openair")
        zones = _by_id(result)
        assert sorted(zones) == ["circle-ctr", "danger-d2", "test-r1"]
        r1 = zones["test-r1"]
        assert (r1.floor_ft, r1.ceiling_ft) == (None, 9500.0)  # SFC to FL95
        assert r1.name == "TEST R1 (R)" and r1.airspace_class == "R"
        assert r1.limits == "SFC - FL95"
        assert r1.polygon[:3] == (
            (35.0, 36.0),
            (35.0 + 10 / 60, 36.0),
            (35.0 + 10 / 60, 36.0 + 20 / 60),
        )
        arc = r1.polygon[2:]
        centre = (35.0 + 5 / 60, 36.0 + 20 / 60)
        for lat, lon in arc:  # the DB arc: 5 NM round its centre, on the east side
            assert float(geodesic_distance_nm(*centre, lat, lon)) == pytest.approx(
                5.0, abs=0.01
            )
            assert lon >= centre[1] - 1e-9
        ctr = zones["circle-ctr"]
        assert ctr.circle == (35.5, 35.75, 5.0)
        assert (ctr.floor_ft, ctr.ceiling_ft) == (1500.0, 4500.0)  # AGL over 0 ft, MSL
        d2 = zones["danger-d2"]
        assert (d2.floor_ft, d2.ceiling_ft) == (2000.0, None)  # MSL to unlimited
        centre = (34.5, 37.0)
        on_arc = [p for p in d2.polygon if p != centre]
        assert len(on_arc) == 37  # 270 -> 90 clockwise through north: 180 deg every 5
        for lat, lon in on_arc:
            assert float(geodesic_distance_nm(*centre, lat, lon)) == pytest.approx(
                10.0, abs=1e-6
            )
            assert lat >= centre[0] - 1e-3  # the northern half
        assert any("AGL" in p.message for p in result.warnings)

    def test_agl_limits_over_a_ground_elevation(self, tmp_path: Path) -> None:
        result = read_airspace(_write(tmp_path, "a.txt", OPENAIR), "openair", 1200.0)
        assert _by_id(result)["circle-ctr"].floor_ft == 2700.0

    def test_not_openair(self, tmp_path: Path) -> None:
        path = _write(
            tmp_path, "bad.txt", "AC R\nAN X\nAL banana\nAH FL95\nDP nowhere\n"
        )
        with pytest.raises(InputError):
            read_airspace(path, "openair")

    def test_a_floor_above_the_ceiling_is_left_out(self, tmp_path: Path) -> None:
        text = "AC R\nAN UPSIDE\nAL FL100\nAH FL50\nV X=35:00:00 N 036:00:00 E\nDC 2\n"
        result = read_airspace(_write(tmp_path, "a.txt", text), "openair")
        assert result.zones == [] and result.skipped == 1


class TestAixm:
    def test_known_answers(self, tmp_path: Path) -> None:
        result = read_airspace(_write(tmp_path, "a.xml", aixm_sample()), "aixm")
        zones = _by_id(result)
        assert sorted(zones) == ["osd2", "osr101"]
        r = zones["osr101"]
        assert (r.floor_ft, r.ceiling_ft) == (1500.0, 9500.0)  # 1500 FT SFC, FL95 STD
        assert r.polygon == ((35.0, 36.0), (35.0, 36.5), (35.5, 36.5), (35.5, 36.0))
        assert r.name == "Test restricted (R)"
        assert r.limits == "1500 FT SFC - FL95"
        d = zones["osd2"]
        assert d.floor_ft is None  # GND
        assert d.ceiling_ft == pytest.approx(3000 / 0.3048)  # 3000 M MSL
        assert d.circle == pytest.approx((34.5, 37.0, 10.0))

    def test_not_aixm(self, tmp_path: Path) -> None:
        with pytest.raises(InputError):
            read_airspace(_write(tmp_path, "a.xml", "<html><body/></html>"), "aixm")

    def test_external_entities_are_not_resolved(self, tmp_path: Path) -> None:
        secret = _write(tmp_path, "secret.txt", "TOPSECRET")
        text = (
            aixm_sample()
            .replace(
                '<?xml version="1.0" encoding="UTF-8"?>',
                f'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file://{secret}">]>',
            )
            .replace("Test restricted", "&x;")
        )
        try:
            result = read_airspace(_write(tmp_path, "a.xml", text), "aixm")
        except InputError:
            return
        assert all("TOPSECRET" not in z.name for z in result.zones)


class TestToml:
    def test_pasted_into_a_protocol_it_parses(self, tmp_path: Path) -> None:
        zones = read_airspace(_write(tmp_path, "a.txt", OPENAIR), "openair").zones
        zones += read_airspace(_write(tmp_path, "a.xml", aixm_sample()), "aixm").zones
        text = (PROTOCOLS / "euphrates-2017.toml").read_text("utf-8")
        protocol = parse_protocol(text + "\n" + zones_toml(zones, "russia", "test"))
        imported = {z.id: z for z in protocol.zones if z.owner == "russia"}
        assert {"test-r1", "circle-ctr", "danger-d2", "osr101", "osd2"} <= set(imported)
        assert imported["test-r1"].ceiling_ft == 9500.0
        assert imported["osd2"].floor_ft == float("-inf")

    def test_geojson_zones_and_lines(self, tmp_path: Path) -> None:
        document = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [[[36, 35], [36.5, 35], [36.5, 35.5], [36, 35]]],
                    },
                    "properties": {
                        "kind": "zone",
                        "id": "box",
                        "owner": "coalition",
                        "ceiling_ft": 20000,
                    },
                },
                {
                    "type": "Feature",
                    "geometry": {
                        "type": "LineString",
                        "coordinates": [[38, 36], [39, 35]],
                    },
                    "properties": {
                        "kind": "line",
                        "id": "river",
                        "buffer_nm": 5,
                        "sides": {"coalition": "left", "russia": "right"},
                    },
                },
            ],
        }
        path = _write(tmp_path, "a.geojson", json.dumps(document))
        result = read_airspace(path, "geojson")
        text = zones_toml(result.zones, None, "a.geojson") + "\n".join(
            result.lines_toml
        )
        assert 'owner = "coalition"' in text and 'id = "river"' in text


class TestCommand:
    def _run(self, *args: object):
        return CliRunner().invoke(
            build_app(), ["protocol", "import-zones", *map(str, args)]
        )

    def test_openair_to_stdout(self, tmp_path: Path) -> None:
        path = _write(tmp_path, "a.txt", OPENAIR)
        result = self._run(path, "--format", "openair", "--owner", "coalition")
        assert result.exit_code == 0, result.output
        assert result.stdout.count("[[zones]]") == 3
        assert "3 zones" in result.stderr

    def test_aixm_detected_to_a_file(self, tmp_path: Path) -> None:
        path = _write(tmp_path, "a.xml", aixm_sample())
        out = tmp_path / "zones.toml"
        result = self._run(path, "--owner", "russia", "--out", out)
        assert result.exit_code == 0, result.output
        assert out.read_text().count("[[zones]]") == 2

    def test_owner_needed(self, tmp_path: Path) -> None:
        path = _write(tmp_path, "a.txt", OPENAIR)
        result = self._run(path, "--format", "openair")
        assert result.exit_code == 2 and "--owner" in result.stderr

    def test_bad_format_and_bad_file_exit_2(self, tmp_path: Path) -> None:
        path = _write(tmp_path, "a.xml", "<nothing/>")
        assert self._run(path, "--format", "kml", "--owner", "x").exit_code == 2
        result = self._run(path, "--format", "aixm", "--owner", "x")
        assert result.exit_code == 2 and "Traceback" not in result.output

"""KML out: well-formed KML 2.2 in schema order, what Google Earth and QGIS (GDAL's
KML driver) read: placemarks, lon,lat[,alt] coordinates, times, extended data."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from deconfliction.adapters.kml import KML_NS, kml_document, write_kml
from deconfliction.adapters.track_stream import TrackBatch, TrackRecord
from deconfliction.units import M_PER_FT
from tests.adapters.interop_samples import euphrates, sample_alert, sample_violation

T0 = 1513159200.0
NS = {"k": KML_NS}
# KML 2.2 schema order of a Placemark's children (those this writer uses).
PLACEMARK_ORDER = (
    "name",
    "description",
    "TimeStamp",
    "TimeSpan",
    "styleUrl",
    "ExtendedData",
    "Point",
    "LineString",
    "Polygon",
    "MultiGeometry",
)
GEOMETRY_ORDER = (
    "extrude",
    "tessellate",
    "altitudeMode",
    "coordinates",
    "outerBoundaryIs",
)


def _tracks() -> TrackBatch:
    return TrackBatch.from_records(
        [
            TrackRecord(
                "A", T0, 35.0, 38.0, 25000, 420, 90, 0, "VIPER11", party="coalition"
            ),
            TrackRecord(
                "A",
                T0 + 5,
                35.0,
                38.05,
                25100,
                420,
                90,
                0,
                "VIPER11",
                party="coalition",
            ),
            TrackRecord("B", T0 + 1, 36.0, 38.0, math.nan, party="russia"),
        ]
    )


@pytest.fixture
def document(tmp_path: Path) -> ET.Element:
    zones, lines = euphrates()
    path = tmp_path / "map.kml"
    write_kml(
        path,
        kml_document(
            tracks=_tracks(),
            zones=zones,
            lines=lines,
            alerts=[sample_alert()],
            violations=[sample_violation()],
        ),
    )
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<?xml version='1.0' encoding='utf-8'?>")
    return ET.fromstring(text.encode())


def _tag(element: ET.Element) -> str:
    return element.tag.split("}")[-1]


class TestKmlDocument:
    def test_root_and_folders(self, document: ET.Element) -> None:
        assert document.tag == f"{{{KML_NS}}}kml"
        folders = [
            f.findtext("k:name", namespaces=NS)
            for f in document.findall("k:Document/k:Folder", NS)
        ]
        assert folders == ["Zones", "Lines", "Tracks", "Conflicts", "Violations"]

    def test_schema_order(self, document: ET.Element) -> None:
        for placemark in document.iter(f"{{{KML_NS}}}Placemark"):
            tags = [_tag(c) for c in placemark]
            assert tags == sorted(tags, key=PLACEMARK_ORDER.index), tags
        for tag in ("Point", "LineString", "Polygon"):
            for geometry in document.iter(f"{{{KML_NS}}}{tag}"):
                tags = [_tag(c) for c in geometry]
                assert tags == sorted(tags, key=GEOMETRY_ORDER.index), tags

    def test_style_urls_resolve(self, document: ET.Element) -> None:
        styles = {s.get("id") for s in document.iter(f"{{{KML_NS}}}Style")}
        urls = {u.text for u in document.iter(f"{{{KML_NS}}}styleUrl")}
        assert {u[1:] for u in urls if u} <= styles  # type: ignore[index]

    def test_tracks(self, document: ET.Element) -> None:
        tracks = document.find("k:Document/k:Folder[k:name='Tracks']", NS)
        assert tracks is not None
        a, b = tracks.findall("k:Folder", NS)
        line = a.find("k:Placemark/k:LineString", NS)
        assert (
            line is not None
            and line.findtext("k:altitudeMode", namespaces=NS) == "absolute"
        )
        first = (line.findtext("k:coordinates", namespaces=NS) or "").split()[0]
        lon, lat, alt = (float(v) for v in first.split(","))
        assert (lon, lat) == (38.0, 35.0) and alt == pytest.approx(
            25000 * M_PER_FT, abs=0.1
        )
        span = a.find("k:Placemark/k:TimeSpan", NS)
        assert (
            span is not None
            and span.findtext("k:begin", namespaces=NS) == "2017-12-13T10:00:00Z"
        )
        points = a.findall("k:Placemark/k:TimeStamp", NS)
        assert len(points) == 2
        # B has no altitude: on the ground, no third coordinate.
        point = b.find("k:Placemark/k:Point", NS)
        assert (
            point is not None
            and point.findtext("k:altitudeMode", namespaces=NS) == "clampToGround"
        )
        assert (point.findtext("k:coordinates", namespaces=NS) or "").count(",") == 1

    def test_zones_are_closed_rings(self, document: ET.Element) -> None:
        for ring in document.iter(f"{{{KML_NS}}}LinearRing"):
            coords = (ring.findtext(f"{{{KML_NS}}}coordinates") or "").split()
            assert coords[0] == coords[-1] and len(coords) >= 4

    def test_extended_data(self, document: ET.Element) -> None:
        conflicts = document.find("k:Document/k:Folder[k:name='Conflicts']", NS)
        assert conflicts is not None
        data = {
            d.get("name"): d.findtext("k:value", namespaces=NS)
            for d in conflicts.iter(f"{{{KML_NS}}}Data")
        }
        assert data["kind"] == "conflict" and data["max_level"] == "warning"
        assert data["a"] == "RF93"

    def test_colours_are_aabbggrr(self, document: ET.Element) -> None:
        for colour in document.iter(f"{{{KML_NS}}}color"):
            assert colour.text is not None and len(colour.text) == 8
            int(colour.text, 16)

    def test_only_tracks_without_points(self) -> None:
        root = ET.fromstring(ET.tostring(kml_document(tracks=_tracks(), points=False)))
        assert len(list(root.iter(f"{{{KML_NS}}}TimeStamp"))) == 0
        assert len(list(root.iter(f"{{{KML_NS}}}LineString"))) == 1

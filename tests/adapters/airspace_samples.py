"""Airspace samples with known answers (tests and bench): OpenAir and AIXM 5.1 text
with polygons, arcs, circles and limits in FL, feet AMSL, feet AGL and metres."""

from __future__ import annotations

OPENAIR = """\
* restricted area, polygon with an arc (DB), SFC to FL95
AC R
AN TEST R1
AL SFC
AH FL95
DP 35:00:00 N 036:00:00 E
DP 35:10:00 N 036:00:00 E
DP 35:10:00 N 036:20:00 E
V X=35:05:00 N 036:20:00 E
DB 35:10:00 N 036:20:00 E, 35:00:00 N 036:20:00 E

* control zone, circle, 1500 ft AGL to 4500 ft MSL
AC D
AN CIRCLE CTR
AL 1500ft AGL
AH 4500 MSL
V X=35:30:00 N 035:45:00 E
DC 5

* danger area with a DA arc, 2000 ft MSL to unlimited
AC Q
AN DANGER D2
AL 2000 MSL
AH UNL
V X=34:30:00 N 037:00:00 E
V D=+
DA 10,270,90
DP 34:30:00 N 037:00:00 E
"""

AIXM = """\
<?xml version="1.0" encoding="UTF-8"?>
<message:AIXMBasicMessage xmlns:message="http://www.aixm.aero/schema/5.1/message"
  xmlns:aixm="http://www.aixm.aero/schema/5.1" xmlns:gml="http://www.opengis.net/gml/3.2"
  xmlns:xlink="http://www.w3.org/1999/xlink" gml:id="m1">
{members}
</message:AIXMBasicMessage>
"""

AIXM_MEMBER = """\
  <message:hasMember>
    <aixm:Airspace gml:id="as-{ident}">
      <gml:identifier codeSpace="urn:uuid:">{ident}</gml:identifier>
      <aixm:timeSlice>
        <aixm:AirspaceTimeSlice gml:id="ts-{ident}">
          <gml:validTime><gml:TimePeriod gml:id="tp-{ident}">
            <gml:beginPosition>2017-01-01T00:00:00Z</gml:beginPosition>
            <gml:endPosition indeterminatePosition="unknown"/>
          </gml:TimePeriod></gml:validTime>
          <aixm:interpretation>BASELINE</aixm:interpretation>
          <aixm:type>{type}</aixm:type>
          <aixm:designator>{designator}</aixm:designator>
          <aixm:name>{name}</aixm:name>
          <aixm:geometryComponent>
            <aixm:AirspaceGeometryComponent gml:id="gc-{ident}">
              <aixm:theAirspaceVolume>
                <aixm:AirspaceVolume gml:id="v-{ident}">
                  <aixm:upperLimit uom="{upper_uom}">{upper}</aixm:upperLimit>
                  <aixm:upperLimitReference>{upper_ref}</aixm:upperLimitReference>
                  <aixm:lowerLimit uom="{lower_uom}">{lower}</aixm:lowerLimit>
                  <aixm:lowerLimitReference>{lower_ref}</aixm:lowerLimitReference>
                  <aixm:horizontalProjection>
                    <aixm:Surface gml:id="s-{ident}"
                      srsName="urn:ogc:def:crs:EPSG::4326">
                      <gml:patches><gml:PolygonPatch><gml:exterior>
{ring}
                      </gml:exterior></gml:PolygonPatch></gml:patches>
                    </aixm:Surface>
                  </aixm:horizontalProjection>
                </aixm:AirspaceVolume>
              </aixm:theAirspaceVolume>
            </aixm:AirspaceGeometryComponent>
          </aixm:geometryComponent>
        </aixm:AirspaceTimeSlice>
      </aixm:timeSlice>
    </aixm:Airspace>
  </message:hasMember>
"""

POLYGON_RING = """\
                        <gml:LinearRing><gml:posList>{pos}</gml:posList></gml:LinearRing>"""

CIRCLE_RING = """\
                        <gml:Ring><gml:curveMember><gml:Curve gml:id="c-{ident}">
                          <gml:segments><gml:CircleByCenterPoint numArc="1">
                            <gml:pos>{lat} {lon}</gml:pos>
                            <gml:radius uom="[nmi_i]">{radius}</gml:radius>
                          </gml:CircleByCenterPoint></gml:segments>
                        </gml:Curve></gml:curveMember></gml:Ring>"""


def aixm_member(
    ident: str,
    designator: str,
    name: str,
    kind: str,
    lower: tuple[str, str, str],
    upper: tuple[str, str, str],
    *,
    polygon: list[tuple[float, float]] | None = None,
    circle: tuple[float, float, float] | None = None,
) -> str:
    if polygon is not None:
        closed = [*polygon, polygon[0]]
        ring = POLYGON_RING.format(pos=" ".join(f"{a} {b}" for a, b in closed))
    else:
        assert circle is not None
        ring = CIRCLE_RING.format(
            ident=ident, lat=circle[0], lon=circle[1], radius=circle[2]
        )
    return AIXM_MEMBER.format(
        ident=ident,
        designator=designator,
        name=name,
        type=kind,
        lower=lower[0],
        lower_uom=lower[1],
        lower_ref=lower[2],
        upper=upper[0],
        upper_uom=upper[1],
        upper_ref=upper[2],
        ring=ring,
    )


def aixm_sample() -> str:
    return AIXM.format(
        members="".join(
            [
                aixm_member(
                    "a1",
                    "OSR101",
                    "Test restricted",
                    "R",
                    ("1500", "FT", "SFC"),
                    ("95", "FL", "STD"),
                    polygon=[(35.0, 36.0), (35.0, 36.5), (35.5, 36.5), (35.5, 36.0)],
                ),
                aixm_member(
                    "a2",
                    "OSD2",
                    "Test danger",
                    "D",
                    ("GND", "OTHER", "SFC"),
                    ("3000", "M", "MSL"),
                    circle=(34.5, 37.0, 10.0),
                ),
            ]
        )
    )


def _dms(lat: float, lon: float) -> str:
    def part(value: float, width: int) -> str:
        seconds = round(abs(value) * 3600)
        return (
            f"{seconds // 3600:0{width}d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        )

    north = "N" if lat >= 0 else "S"
    east = "E" if lon >= 0 else "W"
    return f"{part(lat, 2)} {north} {part(lon, 3)} {east}"


def country_openair(n: int) -> str:
    """``n`` airspaces on a grid: polygons with arcs and circles, as a country file."""
    parts = []
    for k in range(n):
        lat = 30.0 + (k // 100) * 0.2
        lon = 30.0 + (k % 100) * 0.2
        if k % 3 == 0:
            parts.append(
                f"AC D\nAN CTR {k}\nAL SFC\nAH 4500 MSL\nV X={_dms(lat, lon)}\nDC 3\n"
            )
        else:
            parts.append(
                f"AC R\nAN AREA {k}\nAL {k % 50 * 100}ft AGL\nAH FL{95 + k % 200}\n"
                f"DP {_dms(lat, lon)}\nDP {_dms(lat + 0.1, lon)}\n"
                f"DP {_dms(lat + 0.1, lon + 0.1)}\n"
                f"V X={_dms(lat + 0.05, lon + 0.1)}\n"
                f"DB {_dms(lat + 0.1, lon + 0.1)}, {_dms(lat, lon + 0.1)}\n"
            )
    return "\n".join(parts)


def country_aixm(n: int) -> str:
    members = []
    for k in range(n):
        lat = 30.0 + (k // 100) * 0.2
        lon = 30.0 + (k % 100) * 0.2
        square = [
            (lat, lon),
            (lat + 0.1, lon),
            (lat + 0.1, lon + 0.1),
            (lat, lon + 0.1),
        ]
        members.append(
            aixm_member(
                f"x{k}",
                f"AS{k}",
                f"Airspace {k}",
                "R",
                ("GND", "OTHER", "SFC"),
                (str(95 + k % 200), "FL", "STD"),
                polygon=square if k % 3 else None,
                circle=None if k % 3 else (lat, lon, 3.0),
            )
        )
    return AIXM.format(members="".join(members))

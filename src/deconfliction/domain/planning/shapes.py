"""Outlines and volumes: circles and polygons between altitudes during a time
window, routes turned into volumes, and what makes one invalid."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from deconfliction.domain import thresholds
from deconfliction.errors import GeometryError
from deconfliction.units import S_PER_H

CIRCLE_VERTICES: int = 72
"""A circle drawn as a polygon has 72 vertices (one every 5 deg), on a circle slightly
larger than the true one so that every edge lies outside it: the polygon exceeds the
circle by at most ``1/cos(2.5 deg) - 1`` = 0.095 % of the radius (35 m at 20 NM)."""

_QUAD_SEGS: int = CIRCLE_VERTICES // 4  # shapely's segments per quarter circle
_CIRCUMSCRIBE: float = 1.0 / math.cos(math.pi / CIRCLE_VERTICES)

TOUCH_TOLERANCE_M: float = thresholds.HORIZONTAL_TOLERANCE_M
"""Volumes must come closer than the margin by more than 1 cm to conflict: the
InterUSS test suite's intersection precision, far below any planning accuracy and
far above floating-point noise, so volumes that just touch never conflict."""

PLACE_MAX_VERTICES: int = 64
"""The place of an overlap is simplified to at most 64 vertices in all: enough to
draw it, small enough for a message, and it blurs the other party's exact outline."""

ROUTE_MAX_SEGMENT_S: float = 600.0
"""A route's leg is cut into pieces of at most 10 minutes, so a long leg does not
reserve its whole corridor for the whole leg (80 NM at 480 kt)."""

ROUTE_MAX_PIECE_NM: float = 100.0
"""A route's piece is at most 100 NM long, so a straight line in the piece's
projection stays within metres of the geodesic between its ends."""

ROUTE_TIME_MARGIN_S: float = 60.0
"""Each piece of a route is reserved from 1 minute before the aircraft is planned to
enter it until 1 minute after it leaves: a minute covers the timing error of a
planned sortie, and consecutive pieces then overlap in time at their junction."""

MAX_VOLUME_ACROSS_NM: float = 500.0
"""Largest volume accepted: 500 NM across (the diameter of the smallest geodesic
circle around it). Beyond that a projection centred on the volume distorts its far
edge by over 0.5 %, and one volume would cover hundreds of index cells."""

MAX_VOLUME_DURATION_S: float = 7 * 24 * S_PER_H
"""Longest volume accepted: 7 days, 169 hour buckets in the index at most. A longer
operation is filed as several volumes (or operations)."""

MAX_VOLUME_ABS_LAT_DEG: float = 75.0
"""Volumes must stay within 75 deg of latitude: near the poles a 0.5 deg index
column is a few NM wide and the longitude of a bounding box runs away. No theatre of
this project is there."""


_BOUND_SLACK_FRACTION: float = 0.02
_BOUND_SLACK_NM: float = 1.0
"""Bounding circles are grown by 2 % plus 1 NM before they are compared or indexed:
this covers the difference between a geodesic circle and its image in another
volume's projection (under 0.7 % within 700 NM of the centre) and the spherical
approximation in the index's bounding box."""

_MIN_MERIDIAN_RADIUS_M: float = 6_335_439.0
"""The smallest radius of curvature of the WGS-84 ellipsoid (the meridian at the
equator): an arc of the ellipsoid never covers more angle than one of this radius."""

_LINE_SITE_SPACING_M: float = 1000.0
"""Sites every 1 km along a line tell its two sides apart (see
:func:`_other_side_band`); where two parts of a line meet their sides are separated
to within ``spacing**2 / (8 * distance)``: 7 m at 10 NM from the line."""

_LINE_SITE_GROWTH: float = 1.05
"""Past the line's ends (on no side) the sites thin out, each 5 % (plus 1 km)
farther than the last: about 150 sites on each extension of 2,000 km."""

ObjArray = npt.NDArray[np.object_]


# ---------------------------------------------------------------------- value types


@dataclass(frozen=True, slots=True)
class Circle:
    """A circular outline: F3548's ``outline_circle``.

    Attributes:
        center_lat_deg: WGS-84 latitude of the centre.
        center_lon_deg: WGS-84 longitude of the centre.
        radius_nm: radius, positive.

    Raises:
        GeometryError: if a value is not finite, the latitude is outside [-90, 90]
            or the radius is not positive.
    """

    center_lat_deg: float
    center_lon_deg: float
    radius_nm: float

    def __post_init__(self) -> None:
        values = (self.center_lat_deg, self.center_lon_deg, self.radius_nm)
        if not all(math.isfinite(v) for v in values):
            raise GeometryError(f"circle: values must be finite, got {values}")
        if abs(self.center_lat_deg) > 90.0:
            raise GeometryError(f"circle: latitude {self.center_lat_deg:g} > 90")
        if not self.radius_nm > 0.0:
            raise GeometryError(f"circle: radius {self.radius_nm:g} NM not positive")


@dataclass(frozen=True, slots=True)
class Polygon:
    """A polygonal outline: F3548's ``outline_polygon``, vertices not closed.

    Edges are straight lines in a local projection (near enough to geodesics for
    the 500 NM volumes accepted).

    Attributes:
        vertices_lat_deg: latitudes of the vertices, in order.
        vertices_lon_deg: longitudes of the vertices.

    Raises:
        GeometryError: if there are fewer than three vertices, the two tuples differ
            in length, a value is not finite or a latitude is outside [-90, 90].
            (Self-intersection is found by :func:`outline_problems`.)
    """

    vertices_lat_deg: tuple[float, ...]
    vertices_lon_deg: tuple[float, ...]

    def __post_init__(self) -> None:
        n = len(self.vertices_lat_deg)
        if n != len(self.vertices_lon_deg):
            raise GeometryError(
                f"polygon: {n} latitudes but {len(self.vertices_lon_deg)} longitudes"
            )
        if n < 3:
            raise GeometryError(f"polygon: needs at least 3 vertices, got {n}")
        values = self.vertices_lat_deg + self.vertices_lon_deg
        if not all(math.isfinite(v) for v in values):
            raise GeometryError("polygon: vertices must be finite")
        if max(abs(v) for v in self.vertices_lat_deg) > 90.0:
            raise GeometryError("polygon: a latitude is outside [-90, 90]")


Outline = Circle | Polygon


@dataclass(frozen=True, slots=True)
class Volume3D:
    """An outline extruded between two altitudes: F3548's ``Volume3D``.

    Attributes:
        outline: the horizontal outline.
        altitude_lower_ft: lower bound (inclusive).
        altitude_upper_ft: upper bound, not below the lower one.

    Raises:
        GeometryError: if an altitude is not finite or the bounds are inverted.
    """

    outline: Outline
    altitude_lower_ft: float
    altitude_upper_ft: float

    def __post_init__(self) -> None:
        lower, upper = self.altitude_lower_ft, self.altitude_upper_ft
        if not (math.isfinite(lower) and math.isfinite(upper)):
            raise GeometryError(f"altitudes must be finite, got {lower}, {upper}")
        if lower > upper:
            raise GeometryError(f"altitude_lower {lower:g} ft > upper {upper:g} ft")


@dataclass(frozen=True, slots=True)
class Volume4D:
    """A :class:`Volume3D` during a time window: F3548's ``Volume4D``.

    Attributes:
        volume: the space.
        time_start_t_s: start, epoch seconds (UTC).
        time_end_t_s: end, after the start.

    Raises:
        GeometryError: if a time is not finite or the window is empty.
    """

    volume: Volume3D
    time_start_t_s: float
    time_end_t_s: float

    def __post_init__(self) -> None:
        start, end = self.time_start_t_s, self.time_end_t_s
        if not (math.isfinite(start) and math.isfinite(end)):
            raise GeometryError(f"times must be finite, got {start}, {end}")
        if not start < end:
            raise GeometryError(f"time_start {start:.3f} s is not before end {end:.3f}")


@dataclass(frozen=True, slots=True)
class Waypoint:
    """A point of a route, with the altitude and the time planned there."""

    lat_deg: float
    lon_deg: float
    alt_ft: float
    t_s: float


@dataclass(frozen=True, slots=True)
class Route:
    """A planned route: waypoints with times, and how far the aircraft may stray.

    Attributes:
        waypoints: at least two, in strictly increasing time.
        lateral_half_width_nm: half-width of the corridor, positive.
        vertical_half_width_ft: altitude tolerance above and below, not negative.

    Raises:
        GeometryError: if there are fewer than two waypoints, times do not
            increase, a value is not finite, a latitude is outside [-90, 90] or a
            half-width is out of range.
    """

    waypoints: tuple[Waypoint, ...]
    lateral_half_width_nm: float
    vertical_half_width_ft: float

    def __post_init__(self) -> None:
        if len(self.waypoints) < 2:
            raise GeometryError("route: needs at least two waypoints")
        for k, w in enumerate(self.waypoints):
            if not all(
                math.isfinite(v) for v in (w.lat_deg, w.lon_deg, w.alt_ft, w.t_s)
            ):
                raise GeometryError(f"route: waypoint {k} has a non-finite value")
            if abs(w.lat_deg) > 90.0:
                raise GeometryError(f"route: waypoint {k} latitude {w.lat_deg:g}")
            if k and not w.t_s > self.waypoints[k - 1].t_s:
                raise GeometryError(
                    f"route: waypoint {k} is not later than waypoint {k - 1}"
                )
        if not (
            math.isfinite(self.lateral_half_width_nm)
            and self.lateral_half_width_nm > 0.0
        ):
            raise GeometryError("route: lateral_half_width_nm must be positive")
        if not (
            math.isfinite(self.vertical_half_width_ft)
            and self.vertical_half_width_ft >= 0.0
        ):
            raise GeometryError("route: vertical_half_width_ft must not be negative")

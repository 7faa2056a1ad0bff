"""Planned operations as 4D volumes, and the strategic checks run before they fly.

The data model follows ASTM F3548-21 and the InterUSS DSS, with our unit suffixes: a
:class:`Volume4D` is a :class:`Volume3D` (an outline, :class:`Polygon` or
:class:`Circle`, between a lower and an upper altitude) during a time window; an
:class:`Operation` (F3548's operational intent) is one or more of them with a
``version`` that grows on every update and an opaque ``ovn``. A :class:`Route` becomes
volumes with :func:`route_to_volumes`. See ``docs/planning.md``.

Checks, each returning frozen conflict records with the place and the overlaps:

* :func:`check_against_operations`: the other parties' operations closer than the
  separation minima in space and altitude while their time windows overlap;
* :func:`check_against_zones`: zones owned by another party that a volume enters;
* :func:`check_against_lines`: deconfliction lines whose buffer, or whose other side,
  a volume of a party named in the line's ``sides`` reaches;
* :func:`check_operation`: all three at once.

Rules shared by every check (why: a safety tool must not miss a conflict, and equal
inputs must give equal answers whichever party files):

* Closer than a margin means *strictly* closer, by more than
  :data:`TOUCH_TOLERANCE_M` (1 cm, the InterUSS intersection precision) horizontally:
  volumes that just touch, at a distance equal to the margin, do not conflict. With
  no margin (zones, the other side of a line), interiors must overlap by more than
  1 cm. Altitudes and times are compared exactly: a window ending at 10:00 and one
  starting at 10:00 do not overlap.
* Geometry is done in metres in a :class:`~deconfliction.domain.geodesy.LocalProjection`
  (azimuthal equidistant) centred on each of the filer's volumes, so the antimeridian
  has no seam; shapely never sees degrees. Distances between volumes within a few
  hundred NM of that centre are off by under 0.7 % of the distance measured (9 m on
  a 5 NM minimum at 300 NM from the centre).
* A circle is exact in the decisions (its centre and radius are kept, distances are
  taken from the centre minus the radius). Where it must be a polygon (the place of
  an overlap, a route's corridor) it is a 72-gon whose edges lie outside the circle:
  it contains the circle and exceeds it by at most 0.095 % of the radius.
* The overlap reported for a pair of operations is that of the two volumes each grown
  by half the margin, horizontally, vertically and in time: it is not empty exactly
  when the volumes are closer than the margin, it is the same whichever party files,
  and where the volumes truly overlap it contains their intersection.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

from deconfliction.domain import thresholds
from deconfliction.domain.conformance import LINE_EXTENSION_M
from deconfliction.domain.geodesy import (
    LocalProjection,
    destination,
    enu_basis,
    geodesic_azimuth_deg,
    geodesic_distance_nm,
)
from deconfliction.domain.model import (
    BoolArray,
    FloatArray,
    IntArray,
    SeparationMinima,
)
from deconfliction.domain.protocol import (
    DeconflictionLine,
    LineSide,
    Protocol,
    SharingLevel,
    Zone,
)
from deconfliction.errors import GeometryError, InputError, Problem
from deconfliction.units import M_PER_NM, S_PER_H

__all__ = [
    "CIRCLE_VERTICES",
    "INDEX_BUCKET_S",
    "INDEX_CELL_DEG",
    "MAX_INDEX_MARGIN_NM",
    "MAX_VOLUME_ABS_LAT_DEG",
    "MAX_VOLUME_ACROSS_NM",
    "MAX_VOLUME_DURATION_S",
    "PLACE_MAX_VERTICES",
    "ROUTE_MAX_PIECE_NM",
    "ROUTE_MAX_SEGMENT_S",
    "ROUTE_TIME_MARGIN_S",
    "TOUCH_TOLERANCE_M",
    "CheckResult",
    "Circle",
    "ConflictKind",
    "ConflictView",
    "LineConflict",
    "Operation",
    "OperationState",
    "Outline",
    "Place",
    "PlanningBoundaries",
    "Polygon",
    "Route",
    "Volume3D",
    "Volume4D",
    "VolumeConflict",
    "Waypoint",
    "ZoneConflict",
    "check_against_lines",
    "check_against_operations",
    "check_against_zones",
    "check_operation",
    "index_cells",
    "outline_problems",
    "redact_for",
    "route_to_volumes",
    "volume_problems",
]

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

INDEX_CELL_DEG: float = 0.5
"""Index cells are 0.5 deg by 0.5 deg (30 NM by 25 NM at 35 N): a typical volume of
20 to 60 NM and its 5 NM margin cover 4 to 16 cells."""

INDEX_BUCKET_S: float = S_PER_H
"""Index time buckets are UTC hours (``floor(t_s / 3600)``)."""

MAX_INDEX_MARGIN_NM: float = 100.0
"""Largest margin :func:`index_cells` accepts: 20 times any separation minimum in
use; a larger one means a unit error."""

_INDEX_ROWS: int = round(180.0 / INDEX_CELL_DEG)
_INDEX_COLS: int = round(360.0 / INDEX_CELL_DEG)

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


class OperationState(StrEnum):
    """Where an operation is in its life.

    From ASTM F3548-21 (operational intent states): ``accepted`` (planned and
    agreed), ``activated`` (flying), ``nonconforming`` (its aircraft have left its
    volumes), ``contingent`` (it cannot get back into them), ``ended`` (F3548 deletes
    the reference; we keep it, ended). Ours, for an agreement between parties
    without a common authority: ``pending`` (filed, its advance notice neither
    acknowledged nor past its deadline), ``short-notice`` (filed later than the
    protocol's lead time, visible as such to everyone), ``conflicted`` (filed with
    conflicts; the protocol says whether it may still be activated) and
    ``cancelled`` (withdrawn before it ended). The transitions belong to the
    planning service, not to this module.
    """

    ACCEPTED = "accepted"
    ACTIVATED = "activated"
    NONCONFORMING = "nonconforming"
    CONTINGENT = "contingent"
    ENDED = "ended"
    PENDING = "pending"
    SHORT_NOTICE = "short-notice"
    CONFLICTED = "conflicted"
    CANCELLED = "cancelled"

    @property
    def is_in_force(self) -> bool:
        """Whether other operations must keep clear of it (not ended or cancelled).

        >>> OperationState.CONFLICTED.is_in_force, OperationState.ENDED.is_in_force
        (True, False)
        """
        return self not in (OperationState.ENDED, OperationState.CANCELLED)


@dataclass(frozen=True, slots=True)
class Operation:
    """A planned operation of one party: F3548's operational intent.

    Attributes:
        id: identifier, unique among all operations.
        party: the party that flies it.
        kind: the kind of operation; the protocol sets lead times per kind.
        volumes: where and when it flies, at least one volume.
        version: grows by one on every update (an update names the version it
            replaces, so concurrent edits are caught).
        ovn: opaque version token of the stored operation ("" before it is stored).
        state: where it is in its life.

    Raises:
        GeometryError: if there is no volume.
    """

    id: str
    party: str
    kind: str
    volumes: tuple[Volume4D, ...]
    version: int = 1
    ovn: str = ""
    state: OperationState = OperationState.ACCEPTED

    def __post_init__(self) -> None:
        if not self.volumes:
            raise GeometryError(f"operation {self.id!r}: needs at least one volume")

    @property
    def time_start_t_s(self) -> float:
        """Start of its earliest volume."""
        return min(v.time_start_t_s for v in self.volumes)

    @property
    def time_end_t_s(self) -> float:
        """End of its latest volume."""
        return max(v.time_end_t_s for v in self.volumes)


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


# ------------------------------------------------------------------ conflict records


@dataclass(frozen=True, slots=True)
class Place:
    """Where an overlap is: its outline in lat/lon and its centroid.

    Attributes:
        polygons: the overlap, one polygon per separate part (vertices not closed,
            holes dropped), simplified to :data:`PLACE_MAX_VERTICES` in all; empty
            only for an overlap too thin to draw.
        centroid_lat_deg: latitude of the centroid of the (unsimplified) overlap.
        centroid_lon_deg: its longitude.
    """

    polygons: tuple[Polygon, ...]
    centroid_lat_deg: float
    centroid_lon_deg: float


@dataclass(frozen=True, slots=True)
class VolumeConflict:
    """A volume of the filed operation too close to a volume of another party's.

    Overlaps are those of the two volumes each grown by half the margin (see the
    module docstring), so the same whichever party files.

    Attributes:
        operation_id: the filed operation.
        party: its party.
        volume_index: which of its volumes (0-based).
        volume: that volume.
        other_operation_id: the other operation.
        other_party: its party.
        other_volume_index: which of its volumes.
        other_volume: that volume.
        time_overlap_start_t_s: start of the time overlap (margin included).
        time_overlap_end_t_s: its end.
        altitude_overlap_lower_ft: bottom of the altitude overlap (margin included).
        altitude_overlap_upper_ft: its top.
        horizontal_distance_nm: between the outlines, 0 when they overlap.
        place: the horizontal overlap (margin included).
    """

    operation_id: str
    party: str
    volume_index: int
    volume: Volume4D
    other_operation_id: str
    other_party: str
    other_volume_index: int
    other_volume: Volume4D
    time_overlap_start_t_s: float
    time_overlap_end_t_s: float
    altitude_overlap_lower_ft: float
    altitude_overlap_upper_ft: float
    horizontal_distance_nm: float
    place: Place


@dataclass(frozen=True, slots=True)
class ZoneConflict:
    """A volume that enters a zone another party owns.

    Attributes:
        operation_id: the filed operation.
        party: its party.
        volume_index: which of its volumes.
        volume: that volume.
        zone_id: the zone.
        zone_owner: the party that owns it.
        time_start_t_s: the volume's start (a zone holds at all times).
        time_end_t_s: the volume's end.
        altitude_overlap_lower_ft: bottom of the overlap with the zone's floor and
            ceiling.
        altitude_overlap_upper_ft: its top.
        place: the part of the outline inside the zone.
    """

    operation_id: str
    party: str
    volume_index: int
    volume: Volume4D
    zone_id: str
    zone_owner: str
    time_start_t_s: float
    time_end_t_s: float
    altitude_overlap_lower_ft: float
    altitude_overlap_upper_ft: float
    place: Place


@dataclass(frozen=True, slots=True)
class LineConflict:
    """A volume that reaches into a line's buffer or onto its other side.

    Attributes:
        operation_id: the filed operation.
        party: its party (named in the line's ``sides``).
        volume_index: which of its volumes.
        volume: that volume.
        line_id: the line.
        line_parties: the other parties the line names (those it protects).
        reaches_other_side: True when the volume reaches past the line onto the
            side the party does not keep, False when only into the buffer.
        time_start_t_s: the volume's start (a line holds at all times).
        time_end_t_s: the volume's end.
        altitude_lower_ft: the volume's bottom (a line holds at every altitude).
        altitude_upper_ft: its top.
        place: the part of the outline in the buffer or on the other side.
    """

    operation_id: str
    party: str
    volume_index: int
    volume: Volume4D
    line_id: str
    line_parties: tuple[str, ...]
    reaches_other_side: bool
    time_start_t_s: float
    time_end_t_s: float
    altitude_lower_ft: float
    altitude_upper_ft: float
    place: Place


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Everything :func:`check_operation` found, each kind sorted by volume."""

    operations: tuple[VolumeConflict, ...]
    zones: tuple[ZoneConflict, ...]
    lines: tuple[LineConflict, ...]

    @property
    def is_clear(self) -> bool:
        """No conflict of any kind.

        >>> CheckResult((), (), ()).is_clear
        True
        """
        return not (self.operations or self.zones or self.lines)

    def __len__(self) -> int:
        return len(self.operations) + len(self.zones) + len(self.lines)


class ConflictKind(StrEnum):
    """What a conflict is with: another operation, a zone or a line."""

    OPERATION = "operation"
    ZONE = "zone"
    LINE = "line"


@dataclass(frozen=True, slots=True)
class ConflictView:
    """A conflict as one party may see it (see :func:`redact_for`).

    "Own" is the viewer's side, "other" the other side; a field the viewer may
    not see is None.

    Attributes:
        kind: operation, zone or line.
        operation_id: the viewer's operation in the conflict (None for the owner
            of a zone or line, who has none in it).
        volume_index: the viewer's volume.
        boundary_id: the zone or line.
        other_party: the other side's party (for the filer of a zone or line
            conflict: the zone's owner, or the line's other parties joined by
            ", ").
        other_operation_id: the other operation.
        other_volume_index: which of its volumes.
        other_volume: that volume.
        time_start_t_s: when (start).
        time_end_t_s: when (end).
        altitude_lower_ft: the altitude overlap (bottom).
        altitude_upper_ft: its top.
        horizontal_distance_nm: between the outlines (operation conflicts).
        reaches_other_side: onto the line's other side (line conflicts).
        place: where.
    """

    kind: ConflictKind
    operation_id: str | None = None
    volume_index: int | None = None
    boundary_id: str | None = None
    other_party: str | None = None
    other_operation_id: str | None = None
    other_volume_index: int | None = None
    other_volume: Volume4D | None = None
    time_start_t_s: float | None = None
    time_end_t_s: float | None = None
    altitude_lower_ft: float | None = None
    altitude_upper_ft: float | None = None
    horizontal_distance_nm: float | None = None
    reaches_other_side: bool | None = None
    place: Place | None = None


# ------------------------------------------------------------------ validation


def outline_problems(outline: Outline) -> list[str]:
    """Why an outline cannot be checked or indexed, in words (empty when fine).

    A polygon needs three distinct vertices and must not cross itself (in a local
    projection around it); any outline must be at most
    :data:`MAX_VOLUME_ACROSS_NM` across and stay within
    :data:`MAX_VOLUME_ABS_LAT_DEG` of latitude.

    >>> outline_problems(Circle(35.0, 38.0, 300.0))
    ['600 NM across; at most 500 NM is accepted (split it into several volumes)']
    >>> outline_problems(Polygon((0.0, 1.0, 0.0, 1.0), (0.0, 1.0, 1.0, 0.0)))
    ['the outline crosses itself (Self-intersection near 0.5001 N, 0.5000 E)']
    """
    center_lat, center_lon, radius_nm = _bounding_circle(outline)
    problems = _extent_problems(center_lat, radius_nm)
    if isinstance(outline, Polygon) and not problems:
        projection = LocalProjection(center_lat, center_lon)
        x_m, y_m = projection.to_xy_m(
            np.asarray(outline.vertices_lat_deg), np.asarray(outline.vertices_lon_deg)
        )
        distinct = {
            (round(float(a), 3), round(float(b), 3))
            for a, b in zip(x_m, y_m, strict=True)
        }
        polygon = shapely.Polygon(np.column_stack([x_m, y_m]))
        if len(distinct) < 3:
            problems.append("fewer than 3 distinct vertices")
        elif not polygon.is_valid:
            problems.append(
                "the outline crosses itself ("
                + _located_reason(shapely.is_valid_reason(polygon), projection)
                + ")"
            )
        elif not polygon.area > TOUCH_TOLERANCE_M * polygon.length:
            # Thinner than the touch tolerance on average: nothing could overlap it.
            problems.append("the outline has no area")
    return problems


def volume_problems(volume: Volume4D) -> list[tuple[str, str]]:
    """Why a volume cannot be checked or indexed, as (field, message) pairs.

    The field is ``outline`` or ``time``; the adapters map it to
    their own field paths.

    >>> v = Volume4D(Volume3D(Circle(35.0, 38.0, 5.0), 0.0, 1e4), 0.0, 8 * 86400.0)
    >>> volume_problems(v)
    [('time', 'lasts 192.0 h; at most 168 h is accepted (split it into several volumes)')]
    """  # noqa: E501
    return [("outline", p) for p in outline_problems(volume.volume.outline)] + [
        ("time", p) for p in _duration_problems(volume)
    ]


def _extent_problems(center_lat_deg: float, radius_nm: float) -> list[str]:
    problems: list[str] = []
    if 2.0 * radius_nm > MAX_VOLUME_ACROSS_NM:
        problems.append(
            f"{2.0 * radius_nm:.0f} NM across; at most {MAX_VOLUME_ACROSS_NM:g} NM is "
            "accepted (split it into several volumes)"
        )
    reach_deg = math.degrees(radius_nm * M_PER_NM / _MIN_MERIDIAN_RADIUS_M)
    if abs(center_lat_deg) + reach_deg > MAX_VOLUME_ABS_LAT_DEG:
        problems.append(
            f"reaches beyond {MAX_VOLUME_ABS_LAT_DEG:g} deg of latitude; polar "
            "volumes are not supported"
        )
    return problems


def _duration_problems(volume: Volume4D) -> list[str]:
    duration_s = volume.time_end_t_s - volume.time_start_t_s
    if duration_s <= MAX_VOLUME_DURATION_S:
        return []
    return [
        f"lasts {duration_s / S_PER_H:.1f} h; at most "
        f"{MAX_VOLUME_DURATION_S / S_PER_H:g} h is accepted (split it into several "
        "volumes)"
    ]


def _located_reason(reason: str, projection: LocalProjection) -> str:
    # shapely reports "Self-intersection[x y]" in projected metres: give lat/lon.
    head, _, rest = reason.partition("[")
    parts = rest.rstrip("]").split()
    if len(parts) != 2:
        return reason
    lat, lon = projection.to_lat_lon_deg(float(parts[0]), float(parts[1]))
    ns = "N" if float(lat) >= 0 else "S"
    ew = "E" if float(lon) >= 0 else "W"
    return (
        f"{head} near {abs(float(lat)):.4f} {ns}, {abs(float(lon)):.4f} {ew}"
    ).strip()


# ------------------------------------------------------------------ routes


def route_to_volumes(
    route: Route,
    *,
    max_segment_s: float = ROUTE_MAX_SEGMENT_S,
    time_margin_s: float = ROUTE_TIME_MARGIN_S,
) -> tuple[Volume4D, ...]:
    """The volumes a route reserves: a corridor piece per leg, cut into short pieces.

    Each leg (consecutive waypoints) is cut into pieces of at most
    ``max_segment_s`` and :data:`ROUTE_MAX_PIECE_NM`, evenly along the geodesic
    (altitude and time linear along it). Each piece becomes a polygon around it:
    the piece buffered by ``lateral_half_width_nm`` with round ends (a circle when
    the piece has no length, a hold), drawn in a projection centred on the piece.
    Its altitudes cover both ends plus and minus ``vertical_half_width_ft``, its
    time window the piece's times padded by ``time_margin_s`` on both sides.

    >>> route = Route((Waypoint(35.0, 38.0, 1e4, 0.0), Waypoint(35.0, 39.0, 2e4, 900.0)),
    ...               lateral_half_width_nm=2.0, vertical_half_width_ft=500.0)
    >>> [(v.volume.altitude_lower_ft, v.volume.altitude_upper_ft, v.time_start_t_s)
    ...  for v in route_to_volumes(route)]
    [(9500.0, 15500.0, -60.0), (14500.0, 20500.0, 390.0)]

    Raises:
        GeometryError: if ``max_segment_s`` is not positive or ``time_margin_s``
            is negative.
    """  # noqa: E501
    if not max_segment_s > 0.0:
        raise GeometryError(f"max_segment_s must be positive, got {max_segment_s:g}")
    if not time_margin_s >= 0.0:
        raise GeometryError(f"time_margin_s must not be negative: {time_margin_s:g}")
    lateral_m = route.lateral_half_width_nm * M_PER_NM
    vertical_ft = route.vertical_half_width_ft
    volumes: list[Volume4D] = []
    for a, b in zip(route.waypoints[:-1], route.waypoints[1:], strict=True):
        dist_nm = float(
            geodesic_distance_nm(a.lat_deg, a.lon_deg, b.lat_deg, b.lon_deg)
        )
        duration_s = b.t_s - a.t_s
        pieces = max(
            1,
            math.ceil(duration_s / max_segment_s - 1e-9),
            math.ceil(dist_nm / ROUTE_MAX_PIECE_NM - 1e-9),
        )
        fraction = np.linspace(0.0, 1.0, pieces + 1)
        if dist_nm > 0.0:
            azimuth = float(
                geodesic_azimuth_deg(a.lat_deg, a.lon_deg, b.lat_deg, b.lon_deg)
            )
            lat, lon = destination(
                np.full(pieces + 1, a.lat_deg),
                np.full(pieces + 1, a.lon_deg),
                np.full(pieces + 1, azimuth),
                fraction * dist_nm,
            )
        else:
            lat = np.full(pieces + 1, a.lat_deg)
            lon = np.full(pieces + 1, a.lon_deg)
        alt = a.alt_ft + fraction * (b.alt_ft - a.alt_ft)
        t = a.t_s + fraction * duration_s
        for k in range(pieces):
            outline = _corridor(
                lat[k : k + 2], lon[k : k + 2], lateral_m, route.lateral_half_width_nm
            )
            lower = float(min(alt[k], alt[k + 1])) - vertical_ft
            upper = float(max(alt[k], alt[k + 1])) + vertical_ft
            volumes.append(
                Volume4D(
                    Volume3D(outline, lower, upper),
                    float(t[k]) - time_margin_s,
                    float(t[k + 1]) + time_margin_s,
                )
            )
    return tuple(volumes)


def _corridor(
    lat_deg: FloatArray, lon_deg: FloatArray, half_width_m: float, half_width_nm: float
) -> Outline:
    projection = LocalProjection.around(lat_deg, lon_deg)
    x_m, y_m = projection.to_xy_m(lat_deg, lon_deg)
    if math.hypot(float(x_m[1] - x_m[0]), float(y_m[1] - y_m[0])) < 1.0:
        return Circle(float(lat_deg[0]), float(lon_deg[0]), half_width_nm)
    piece = shapely.LineString(np.column_stack([x_m, y_m]))
    area = piece.buffer(half_width_m * _CIRCUMSCRIBE, quad_segs=_QUAD_SEGS)
    return _polygon_to_lat_lon(area, projection)


# ------------------------------------------------------------------ geometry helpers


def _bounding_circle(outline: Outline) -> tuple[float, float, float]:
    """(centre lat, centre lon, radius NM) of a geodesic circle around the outline."""
    if isinstance(outline, Circle):
        return outline.center_lat_deg, outline.center_lon_deg, outline.radius_nm
    lat, lon, radius = _bounding_circles(
        np.asarray(outline.vertices_lat_deg, dtype=np.float64),
        np.asarray(outline.vertices_lon_deg, dtype=np.float64),
        np.zeros(1, dtype=np.int64),
    )
    return float(lat[0]), float(lon[0]), float(radius[0])


def _bounding_circles(
    lat_deg: FloatArray, lon_deg: FloatArray, starts: IntArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Bounding circles of many polygons whose vertices are concatenated.

    The centre is the normalised mean of the vertices' unit vectors (so polygons
    across the antimeridian get a centre between their vertices), the radius the
    largest geodesic distance from it to a vertex. A straight edge in any local
    projection within 700 NM stays inside (checked numerically: the chord of a
    geodesic circle never leaves it there).
    """
    _, _, up = enu_basis(lat_deg, lon_deg)
    mean = np.add.reduceat(up, starts, axis=0)
    mean /= np.linalg.norm(mean, axis=1, keepdims=True)
    c_lat = np.degrees(np.arcsin(np.clip(mean[:, 2], -1.0, 1.0)))
    c_lon = np.degrees(np.arctan2(mean[:, 1], mean[:, 0]))
    counts = np.diff(np.r_[starts, lat_deg.size])
    dist_nm = geodesic_distance_nm(
        np.repeat(c_lat, counts), np.repeat(c_lon, counts), lat_deg, lon_deg
    )
    radius_nm = np.maximum.reduceat(dist_nm, starts)
    return c_lat, c_lon, radius_nm


@dataclass(frozen=True, slots=True)
class _Bounds:
    """Bounding circles of many outlines (struct of arrays)."""

    lat_deg: FloatArray
    lon_deg: FloatArray
    radius_nm: FloatArray

    @classmethod
    def of(cls, outlines: Sequence[Outline]) -> _Bounds:
        n = len(outlines)
        lat = np.zeros(n)
        lon = np.zeros(n)
        radius = np.zeros(n)
        polygons: list[int] = []
        shapes: list[Polygon] = []
        for k, o in enumerate(outlines):
            if isinstance(o, Circle):
                lat[k], lon[k], radius[k] = (
                    o.center_lat_deg,
                    o.center_lon_deg,
                    o.radius_nm,
                )
            else:
                polygons.append(k)
                shapes.append(o)
        if polygons:
            v_lat, v_lon, counts = _concatenated(shapes)
            starts = np.r_[0, np.cumsum(counts)[:-1]].astype(np.int64)
            p_lat, p_lon, p_radius = _bounding_circles(v_lat, v_lon, starts)
            lat[polygons], lon[polygons], radius[polygons] = p_lat, p_lon, p_radius
        return cls(lat, lon, radius)

    def near(self, lat_deg: float, lon_deg: float, reach_nm: float) -> BoolArray:
        """Which circles may come within ``reach_nm`` of the given circle centre.

        ``reach_nm`` is the other circle's radius plus the margin; both radii are
        grown by the bounding slack.
        """
        dist = geodesic_distance_nm(
            np.full(self.lat_deg.size, lat_deg),
            np.full(self.lat_deg.size, lon_deg),
            self.lat_deg,
            self.lon_deg,
        )
        grown = (
            self.radius_nm * (1.0 + _BOUND_SLACK_FRACTION)
            + reach_nm * (1.0 + _BOUND_SLACK_FRACTION)
            + 2.0 * _BOUND_SLACK_NM
        )
        result: BoolArray = dist <= grown
        return result


def _concatenated(
    polygons: Sequence[Polygon],
) -> tuple[FloatArray, FloatArray, IntArray]:
    counts = np.fromiter(
        (len(p.vertices_lat_deg) for p in polygons), dtype=np.int64, count=len(polygons)
    )
    lat = np.fromiter(
        (v for p in polygons for v in p.vertices_lat_deg),
        dtype=np.float64,
        count=int(counts.sum()),
    )
    lon = np.fromiter(
        (v for p in polygons for v in p.vertices_lon_deg),
        dtype=np.float64,
        count=int(counts.sum()),
    )
    return lat, lon, counts


def _cores(
    outlines: Sequence[Outline], projection: LocalProjection
) -> tuple[ObjArray, FloatArray]:
    """Outlines in the projection as (core geometry, radius in metres).

    A circle is its centre point and its radius; a polygon is itself with radius 0.
    The distance between two outlines is then the distance between the cores minus
    both radii, exactly.

    Raises:
        GeometryError: if a polygon crosses itself in the projection.
    """
    n = len(outlines)
    cores: ObjArray = np.empty(n, dtype=object)
    radius_m = np.zeros(n)
    circles: list[int] = []
    discs: list[Circle] = []
    polygons: list[int] = []
    shapes: list[Polygon] = []
    for k, o in enumerate(outlines):
        if isinstance(o, Circle):
            circles.append(k)
            discs.append(o)
        else:
            polygons.append(k)
            shapes.append(o)
    if circles:
        x_m, y_m = projection.to_xy_m(
            np.array([c.center_lat_deg for c in discs]),
            np.array([c.center_lon_deg for c in discs]),
        )
        cores[circles] = shapely.points(x_m, y_m)
        radius_m[circles] = [c.radius_nm * M_PER_NM for c in discs]
    if polygons:
        v_lat, v_lon, counts = _concatenated(shapes)
        x_m, y_m = projection.to_xy_m(v_lat, v_lon)
        index = np.repeat(np.arange(len(polygons)), counts)
        rings = shapely.linearrings(np.column_stack([x_m, y_m]), indices=index)
        drawn = shapely.polygons(rings)
        invalid = ~shapely.is_valid(drawn)
        if invalid.any():
            raise GeometryError(
                f"{int(invalid.sum())} polygon outline(s) cross themselves "
                "(check them with outline_problems)"
            )
        cores[polygons] = drawn
    return cores, radius_m


def _region(core: Any, radius_m: float, grow_m: float = 0.0) -> Any:
    """The outline (grown by ``grow_m``) as a polygon containing the true shape."""
    if radius_m > 0.0 or grow_m > 0.0:
        return shapely.buffer(
            core, (radius_m + grow_m) * _CIRCUMSCRIBE, quad_segs=_QUAD_SEGS
        )
    return core


def _overlaps(
    core: Any, radius_m: float, other: Any, other_radius_m: float = 0.0
) -> bool:
    """Whether two outlines (core and radius) overlap by more than 1 cm.

    With a circle on either side this is exact: the distance between the cores is
    below the sum of the radii less the tolerance. Two polygons overlap when the
    first, shrunk by the tolerance, shares interior with the second.
    """
    radii_m = radius_m + other_radius_m
    if radii_m > 0.0:
        return bool(shapely.distance(core, other) < radii_m - TOUCH_TOLERANCE_M)
    shrunk = shapely.buffer(core, -TOUCH_TOLERANCE_M, join_style="mitre")
    return not shapely.is_empty(shrunk) and bool(
        shapely.relate_pattern(shrunk, other, "T********")
    )


def _polygon_to_lat_lon(polygon: Any, projection: LocalProjection) -> Polygon:
    coords = np.asarray(shapely.get_coordinates(shapely.get_exterior_ring(polygon)))
    lat, lon = projection.to_lat_lon_deg(coords[:-1, 0], coords[:-1, 1])
    return Polygon(tuple(lat.tolist()), tuple(lon.tolist()))


def _place(geometry: Any, projection: LocalProjection, fallback: Any) -> Place:
    """The place of an overlap: polygons in lat/lon, simplified, and the centroid.

    ``fallback`` (a point in metres) stands for an overlap too thin to have area.
    """
    parts: list[Any] = [
        p
        for p in shapely.get_parts(geometry)
        if isinstance(p, shapely.Polygon) and not p.is_empty and p.area > 0.0
    ]
    if not parts:
        centre = fallback
        simplified: list[Any] = []
    else:
        whole = shapely.multipolygons(parts) if len(parts) > 1 else parts[0]
        centre = shapely.centroid(whole)
        if len(parts) > PLACE_MAX_VERTICES // 4:
            parts = [shapely.convex_hull(whole)]
        simplified = _simplify(parts)
    lat, lon = projection.to_lat_lon_deg(shapely.get_x(centre), shapely.get_y(centre))
    return Place(
        tuple(_polygon_to_lat_lon(p, projection) for p in simplified),
        float(lat),
        float(lon),
    )


def _simplify(parts: list[Any]) -> list[Any]:
    def vertices(ps: list[Any]) -> int:
        return sum(len(p.exterior.coords) - 1 for p in ps)

    # Holes are dropped: the place then covers a little more, never less.
    shells: list[Any] = [shapely.Polygon(p.exterior) for p in parts]
    tolerance_m = 1.0
    out = shells
    while vertices(out) > PLACE_MAX_VERTICES:
        out = [
            q
            for q in (
                shapely.simplify(p, tolerance_m, preserve_topology=True) for p in shells
            )
            if isinstance(q, shapely.Polygon) and not q.is_empty
        ]
        if not out:  # simplified away entirely: keep the hull, simplified
            shells = [shapely.convex_hull(shapely.multipolygons(shells))]
            out = shells
        tolerance_m *= 2.0
    return out


def _interval_gap(
    lower: float, upper: float, others_lower: FloatArray, others_upper: FloatArray
) -> FloatArray:
    """Gap between ``[lower, upper]`` and each other interval (negative: overlap).

    >>> _interval_gap(0.0, 10.0, np.array([10.0, 5.0, 12.0]), np.array([20.0, 6.0, 13.0]))
    array([ 0., -5.,  2.])
    """  # noqa: E501
    gap: FloatArray = np.maximum(others_lower - upper, lower - others_upper)
    return gap


def _projection_for(outline: Outline) -> LocalProjection:
    lat, lon, _ = _bounding_circle(outline)
    return LocalProjection(lat, lon)


# ------------------------------------------------------------------ operations


@dataclass(frozen=True, slots=True)
class _Others:
    """The other operations' volumes that are in force, flattened."""

    operations: list[Operation]
    op_index: IntArray
    volume_index: IntArray
    volumes: list[Volume4D]
    t_start_s: FloatArray
    t_end_s: FloatArray
    lower_ft: FloatArray
    upper_ft: FloatArray

    @classmethod
    def of(cls, op: Operation, others: Iterable[Operation]) -> _Others:
        # One pass in Python over the objects, the rest in arrays: with 100,000
        # stored operations this flattening is most of an unindexed check.
        over = {OperationState.ENDED, OperationState.CANCELLED}
        kept = [
            o
            for o in others
            if o.id != op.id and o.party != op.party and o.state not in over
        ]
        counts = np.fromiter((len(o.volumes) for o in kept), np.int64, len(kept))
        volumes = [v for o in kept for v in o.volumes]
        bounds = np.array(
            [
                (
                    v.time_start_t_s,
                    v.time_end_t_s,
                    v.volume.altitude_lower_ft,
                    v.volume.altitude_upper_ft,
                )
                for v in volumes
            ],
            dtype=np.float64,
        ).reshape(-1, 4)
        op_index = np.repeat(np.arange(len(kept), dtype=np.int64), counts)
        first = np.r_[0, np.cumsum(counts)[:-1]].astype(np.int64)
        return cls(
            operations=kept,
            op_index=op_index,
            volume_index=np.arange(len(volumes), dtype=np.int64) - first[op_index],
            volumes=volumes,
            t_start_s=bounds[:, 0],
            t_end_s=bounds[:, 1],
            lower_ft=bounds[:, 2],
            upper_ft=bounds[:, 3],
        )


def check_against_operations(
    op: Operation,
    others: Iterable[Operation],
    minima: SeparationMinima,
    time_margin_s: float = 0.0,
) -> list[VolumeConflict]:
    """Pairs of volumes of ``op`` and of other parties' operations that conflict.

    A pair conflicts when, at once, its time windows are less than
    ``time_margin_s`` apart (overlap, with no margin), its altitude ranges less
    than ``minima.vertical_ft`` apart, and its outlines less than
    ``minima.horizontal_nm`` apart (by more than :data:`TOUCH_TOLERANCE_M`).
    Operations of ``op``'s own party, ``op`` itself (an earlier version of it) and
    operations ended or cancelled are skipped.

    Candidates are narrowed down in arrays first (time, altitude, bounding
    circles); only those left are drawn in the projection around the filer's
    volume.

    Args:
        op: the operation filed or updated.
        others: the stored operations (any number; the index narrows them down).
        minima: the horizontal and vertical margins.
        time_margin_s: the time margin, 0 by default.

    Returns:
        Conflicts sorted by (volume, time overlap start, other operation, other
        volume).

    Raises:
        GeometryError: if a margin is negative or a candidate polygon crosses
            itself.
    """
    horizontal_m = minima.horizontal_nm * M_PER_NM
    if not (horizontal_m >= 0.0 and minima.vertical_ft >= 0.0 and time_margin_s >= 0):
        raise GeometryError(
            f"margins must not be negative: {minima.horizontal_nm:g} NM, "
            f"{minima.vertical_ft:g} ft, {time_margin_s:g} s"
        )
    table = _Others.of(op, others)
    if not table.volumes:
        return []
    # Time and altitude first: cheap, and they remove most of a theatre's plans.
    masks: list[BoolArray] = []
    for v in op.volumes:
        time_gap = _interval_gap(
            v.time_start_t_s, v.time_end_t_s, table.t_start_s, table.t_end_s
        )
        alt_gap = _interval_gap(
            v.volume.altitude_lower_ft,
            v.volume.altitude_upper_ft,
            table.lower_ft,
            table.upper_ft,
        )
        masks.append((time_gap < time_margin_s) & (alt_gap < minima.vertical_ft))
    survivors = np.flatnonzero(np.logical_or.reduce(masks))
    if survivors.size == 0:
        return []
    bounds = _Bounds.of([table.volumes[k].volume.outline for k in survivors])
    conflicts: list[VolumeConflict] = []
    for i, v in enumerate(op.volumes):
        c_lat, c_lon, radius_nm = _bounding_circle(v.volume.outline)
        near = masks[i][survivors] & bounds.near(
            c_lat, c_lon, radius_nm + minima.horizontal_nm
        )
        candidates = survivors[near]
        if candidates.size == 0:
            continue
        conflicts.extend(
            _pair_conflicts(op, i, table, candidates, minima, time_margin_s)
        )
    conflicts.sort(
        key=lambda c: (
            c.volume_index,
            c.time_overlap_start_t_s,
            c.other_operation_id,
            c.other_volume_index,
        )
    )
    return conflicts


def _pair_conflicts(
    op: Operation,
    i: int,
    table: _Others,
    candidates: IntArray,
    minima: SeparationMinima,
    time_margin_s: float,
) -> list[VolumeConflict]:
    v = op.volumes[i]
    projection = _projection_for(v.volume.outline)
    own_cores, own_radius = _cores([v.volume.outline], projection)
    own_core, own_r = own_cores[0], float(own_radius[0])
    cores, radius_m = _cores(
        [table.volumes[k].volume.outline for k in candidates], projection
    )
    horizontal_m = minima.horizontal_nm * M_PER_NM
    distance_m = shapely.distance(own_core, cores) - own_r - radius_m
    if horizontal_m > TOUCH_TOLERANCE_M:
        hit = distance_m < horizontal_m - TOUCH_TOLERANCE_M
    else:
        hit = np.array(
            [
                _overlaps(own_core, own_r, c, float(r))
                for c, r in zip(cores, radius_m, strict=True)
            ],
            dtype=np.bool_,
        )
    out: list[VolumeConflict] = []
    half_m = horizontal_m / 2.0
    own_area = _region(own_core, own_r, half_m)
    for k in np.flatnonzero(hit):
        j = int(candidates[k])
        other_op = table.operations[int(table.op_index[j])]
        w = table.volumes[j]
        lens = shapely.intersection(
            own_area, _region(cores[k], float(radius_m[k]), half_m)
        )
        nearest = shapely.shortest_line(own_core, cores[k])
        fallback = shapely.line_interpolate_point(nearest, 0.5, normalized=True)
        half_t = time_margin_s / 2.0
        half_v = minima.vertical_ft / 2.0
        out.append(
            VolumeConflict(
                operation_id=op.id,
                party=op.party,
                volume_index=i,
                volume=v,
                other_operation_id=other_op.id,
                other_party=other_op.party,
                other_volume_index=int(table.volume_index[j]),
                other_volume=w,
                time_overlap_start_t_s=max(v.time_start_t_s, w.time_start_t_s) - half_t,
                time_overlap_end_t_s=min(v.time_end_t_s, w.time_end_t_s) + half_t,
                altitude_overlap_lower_ft=max(
                    v.volume.altitude_lower_ft, w.volume.altitude_lower_ft
                )
                - half_v,
                altitude_overlap_upper_ft=min(
                    v.volume.altitude_upper_ft, w.volume.altitude_upper_ft
                )
                + half_v,
                horizontal_distance_nm=max(0.0, float(distance_m[k])) / M_PER_NM,
                place=_place(lens, projection, fallback),
            )
        )
    return out


# ------------------------------------------------------------------ zones and lines


@dataclass(frozen=True, slots=True)
class _PlanningLine:
    line: DeconflictionLine
    projection: LocalProjection
    geometry: Any  # the line in metres
    buffer_m: float
    other_side: dict[str, Any]  # party -> the band on the side it does not keep
    forbidden: dict[str, Any]  # party -> that band and the buffer (for the place)
    center_lat_deg: float  # a circle around the line's points
    center_lon_deg: float
    radius_nm: float

    def near(
        self, lat_deg: float, lon_deg: float, radius_nm: float, reach_nm: float
    ) -> bool:
        """Whether a circle may come within ``reach_nm`` of the line's circle."""
        dist_nm = float(
            geodesic_distance_nm(
                lat_deg, lon_deg, self.center_lat_deg, self.center_lon_deg
            )
        )
        return dist_nm <= radius_nm + reach_nm


@dataclass(frozen=True, slots=True)
class PlanningBoundaries:
    """A protocol's zones and lines prepared once for many checks.

    Building the other-side bands of the lines takes some tens of milliseconds
    per line; a service checking many operations under one protocol builds this
    once with :meth:`from_protocol`. Every check accepts it in place of the
    protocol.
    """

    zones: tuple[Zone, ...]
    zone_bounds: _Bounds
    lines: tuple[_PlanningLine, ...]

    @classmethod
    def from_protocol(cls, protocol: Protocol) -> PlanningBoundaries:
        """Prepare the protocol's zones and lines.

        Raises:
            GeometryError: if a line has fewer than two distinct points.
        """
        zone_outlines: list[Outline] = [
            Polygon(z.lat_deg, z.lon_deg) for z in protocol.zones
        ]
        return cls(
            zones=protocol.zones,
            zone_bounds=_Bounds.of(zone_outlines),
            lines=tuple(_prepare_line(line) for line in protocol.lines),
        )


def _as_boundaries(protocol: Protocol | PlanningBoundaries) -> PlanningBoundaries:
    if isinstance(protocol, PlanningBoundaries):
        return protocol
    return PlanningBoundaries.from_protocol(protocol)


def check_against_zones(
    op: Operation, protocol: Protocol | PlanningBoundaries
) -> list[ZoneConflict]:
    """Volumes of ``op`` that enter a zone owned by another party.

    A volume enters a zone when its outline overlaps the zone's by more than
    :data:`TOUCH_TOLERANCE_M` and its altitude range overlaps the zone's floor to
    ceiling (strictly: a volume whose top is the zone's floor stays out). Zones
    apply at all times. The owner's own operations never conflict with its zone.

    Returns:
        Conflicts sorted by (volume, zone).

    Raises:
        GeometryError: if a polygon crosses itself.
    """
    boundaries = _as_boundaries(protocol)
    out: list[ZoneConflict] = []
    for i, v in enumerate(op.volumes):
        lower, upper = v.volume.altitude_lower_ft, v.volume.altitude_upper_ft
        c_lat, c_lon, radius_nm = _bounding_circle(v.volume.outline)
        near = boundaries.zone_bounds.near(c_lat, c_lon, radius_nm)
        projection: LocalProjection | None = None
        for z, zone in enumerate(boundaries.zones):
            if zone.owner == op.party or not near[z]:
                continue
            if not (lower < zone.ceiling_ft and upper > zone.floor_ft):
                continue
            if projection is None:
                projection = _projection_for(v.volume.outline)
                cores, radius = _cores([v.volume.outline], projection)
                core, r = cores[0], float(radius[0])
            x_m, y_m = projection.to_xy_m(
                np.asarray(zone.lat_deg), np.asarray(zone.lon_deg)
            )
            zone_area = shapely.Polygon(np.column_stack([x_m, y_m]))
            if not _overlaps(core, r, zone_area):
                continue
            lens = shapely.intersection(_region(core, r), zone_area)
            out.append(
                ZoneConflict(
                    operation_id=op.id,
                    party=op.party,
                    volume_index=i,
                    volume=v,
                    zone_id=zone.id,
                    zone_owner=zone.owner,
                    time_start_t_s=v.time_start_t_s,
                    time_end_t_s=v.time_end_t_s,
                    altitude_overlap_lower_ft=max(lower, zone.floor_ft),
                    altitude_overlap_upper_ft=min(upper, zone.ceiling_ft),
                    place=_place(lens, projection, shapely.centroid(zone_area)),
                )
            )
    return out


def check_against_lines(
    op: Operation, protocol: Protocol | PlanningBoundaries
) -> list[LineConflict]:
    """Volumes of ``op`` that reach into a line's buffer or onto its other side.

    Only lines that name ``op``'s party in their ``sides`` apply, at every
    altitude and time. As in :mod:`deconfliction.domain.conformance`, the
    forbidden region of a (line, party) is the buffer (points closer to the line
    than ``buffer_nm``, with round caps past the ends) and the band on the side the
    party does not keep, alongside the line only: a point is on a side when its
    nearest point on the line (carried on past its ends) lies within the line's
    extent, and up to the line's reach away (``effective_reach_nm``).
    A volume conflicts when it comes closer to the line than the buffer (by more
    than :data:`TOUCH_TOLERANCE_M`) or overlaps the band by more than that.

    Returns:
        Conflicts sorted by (volume, line).

    Raises:
        GeometryError: if a line has fewer than two distinct points or a polygon
            crosses itself.
    """
    boundaries = _as_boundaries(protocol)
    out: list[LineConflict] = []
    for pl in boundaries.lines:
        if op.party not in pl.line.sides:
            continue
        band = pl.other_side[op.party]
        others = tuple(sorted(p for p in pl.line.sides if p != op.party))
        # Volumes beyond the line's reach are not drawn: far from its centre the
        # line's projection distorts them (near the antipode, beyond repair).
        reach_nm = pl.radius_nm + pl.line.effective_reach_nm + pl.buffer_m / M_PER_NM
        within = [
            i
            for i, v in enumerate(op.volumes)
            if pl.near(*_bounding_circle(v.volume.outline), reach_nm)
        ]
        if not within:
            continue
        cores, radius_m = _cores(
            [op.volumes[i].volume.outline for i in within], pl.projection
        )
        distance_m = shapely.distance(cores, pl.geometry) - radius_m
        for k, i in enumerate(within):
            v = op.volumes[i]
            core, r = cores[k], float(radius_m[k])
            in_buffer = bool(distance_m[k] < pl.buffer_m - TOUCH_TOLERANCE_M)
            across = _overlaps(core, r, band)
            if not (in_buffer or across):
                continue
            lens = shapely.intersection(_region(core, r), pl.forbidden[op.party])
            nearest = shapely.shortest_line(core, pl.geometry)
            out.append(
                LineConflict(
                    operation_id=op.id,
                    party=op.party,
                    volume_index=i,
                    volume=v,
                    line_id=pl.line.id,
                    line_parties=others,
                    reaches_other_side=across,
                    time_start_t_s=v.time_start_t_s,
                    time_end_t_s=v.time_end_t_s,
                    altitude_lower_ft=v.volume.altitude_lower_ft,
                    altitude_upper_ft=v.volume.altitude_upper_ft,
                    place=_place(
                        lens,
                        pl.projection,
                        shapely.line_interpolate_point(nearest, 1.0, normalized=True),
                    ),
                )
            )
    out.sort(key=lambda c: (c.volume_index, c.line_id))
    return out


def _prepare_line(line: DeconflictionLine) -> _PlanningLine:
    if len(line.lat_deg) != len(line.lon_deg) or len(line.lat_deg) < 2:
        raise GeometryError(f"line {line.id!r}: needs at least two points")
    projection = LocalProjection.around(line.lat_deg, line.lon_deg)
    x, y = projection.to_xy_m(
        np.asarray(line.lat_deg, dtype=np.float64),
        np.asarray(line.lon_deg, dtype=np.float64),
    )
    keep = np.r_[True, np.hypot(np.diff(x), np.diff(y)) > 0.0]
    x, y = x[keep], y[keep]
    if x.size < 2:
        raise GeometryError(f"line {line.id!r}: needs at least two distinct points")
    geometry = shapely.LineString(np.column_stack([x, y]))
    buffer_m = line.buffer_nm * M_PER_NM
    buffer_area = (
        shapely.buffer(geometry, buffer_m * _CIRCUMSCRIBE, quad_segs=_QUAD_SEGS)
        if buffer_m > 0.0
        else shapely.Polygon()
    )
    bands = {
        side: _other_side_band(
            x,
            y,
            wrong_is_left=side is LineSide.RIGHT,
            reach_m=line.effective_reach_nm * M_PER_NM,
        )
        for side in set(line.sides.values())
    }
    other_side = {party: bands[side] for party, side in line.sides.items()}
    forbidden = {
        party: shapely.union(buffer_area, band) for party, band in other_side.items()
    }
    for band in other_side.values():
        shapely.prepare(band)
    c_lat, c_lon, radius_nm = _bounding_circles(
        np.asarray(line.lat_deg, dtype=np.float64),
        np.asarray(line.lon_deg, dtype=np.float64),
        np.zeros(1, dtype=np.int64),
    )
    return _PlanningLine(
        line,
        projection,
        geometry,
        buffer_m,
        other_side,
        forbidden,
        float(c_lat[0]),
        float(c_lon[0]),
        float(radius_nm[0]) * (1.0 + _BOUND_SLACK_FRACTION) + _BOUND_SLACK_NM,
    )


def _other_side_band(
    x_m: FloatArray, y_m: FloatArray, *, wrong_is_left: bool, reach_m: float
) -> Any:
    """The points on one side of a line, alongside it, within reach (a polygon).

    Which side a point is on is decided by its nearest point on the line, as in
    conformance; where two parts of the line are equally near (a bend, or a line
    that comes back) the nearest part decides. That partition is the Voronoi
    diagram of the line's segments; it is approximated by the Voronoi diagram of
    sites every :data:`_LINE_SITE_SPACING_M` along the line (and, more and more
    sparsely, along its extensions past the ends, which are on no side). Near the
    line each site's cell is a slab perpendicular to its segment, exact; each
    cell is cut by the half-plane of the wrong side of its segment (at a vertex:
    the union of the two half-planes on the outer side of the bend, their
    intersection on the inner side; at an end: also the half-plane before the
    end). The union is clipped to ``reach_m`` from the line (the line's reach).
    """
    dx, dy = np.diff(x_m), np.diff(y_m)
    length = np.hypot(dx, dy)
    ux, uy = dx / length, dy / length
    sign = 1.0 if wrong_is_left else -1.0
    nx, ny = -uy * sign, ux * sign  # unit normals pointing to the wrong side
    n_seg = dx.size
    sites: list[tuple[float, float]] = []
    owner: list[tuple[str, int]] = []  # ("vertex", v) | ("segment", k) | ("end", -1)
    for k in range(n_seg):
        parts = max(1, math.ceil(float(length[k]) / _LINE_SITE_SPACING_M))
        for j in range(parts):
            f = j / parts
            sites.append((float(x_m[k] + f * dx[k]), float(y_m[k] + f * dy[k])))
            owner.append(("vertex", k) if j == 0 else ("segment", k))
    sites.append((float(x_m[-1]), float(y_m[-1])))
    owner.append(("vertex", n_seg))
    d = _LINE_SITE_SPACING_M
    while d <= LINE_EXTENSION_M:
        sites.append((float(x_m[0] - ux[0] * d), float(y_m[0] - uy[0] * d)))
        sites.append((float(x_m[-1] + ux[-1] * d), float(y_m[-1] + uy[-1] * d)))
        owner += [("end", -1), ("end", -1)]
        d = d * _LINE_SITE_GROWTH + _LINE_SITE_SPACING_M
    line = shapely.LineString(np.column_stack([x_m, y_m]))
    reach = shapely.buffer(line, reach_m)
    frame = shapely.box(*shapely.bounds(shapely.buffer(line, 2.0 * LINE_EXTENSION_M)))
    cells = shapely.get_parts(
        shapely.voronoi_polygons(
            shapely.multipoints(np.asarray(sites)), extend_to=frame, ordered=True
        )
    )
    far = 8.0 * LINE_EXTENSION_M

    def half_plane(
        px: float, py: float, ax: float, ay: float, bx: float, by: float
    ) -> Any:
        # The half-plane through (px, py) along (ax, ay), on the side of (bx, by).
        a = (px - ax * far, py - ay * far)
        b = (px + ax * far, py + ay * far)
        return shapely.Polygon(
            [
                a,
                b,
                (b[0] + bx * far, b[1] + by * far),
                (a[0] + bx * far, a[1] + by * far),
            ]
        )

    wrong = [
        half_plane(float(x_m[k]), float(y_m[k]), ux[k], uy[k], nx[k], ny[k])
        for k in range(n_seg)
    ]
    pieces: list[Any] = []
    for cell, (what, k) in zip(cells, owner, strict=True):
        if what == "segment":
            pieces.append(shapely.intersection(cell, wrong[k]))
        elif what == "vertex" and k == 0:
            start = half_plane(
                float(x_m[0]), float(y_m[0]), -uy[0], ux[0], ux[0], uy[0]
            )
            pieces.append(
                shapely.intersection(shapely.intersection(cell, wrong[0]), start)
            )
        elif what == "vertex" and k == n_seg:
            end = half_plane(
                float(x_m[-1]), float(y_m[-1]), -uy[-1], ux[-1], -ux[-1], -uy[-1]
            )
            pieces.append(
                shapely.intersection(shapely.intersection(cell, wrong[-1]), end)
            )
        elif what == "vertex":
            turn = ux[k - 1] * uy[k] - uy[k - 1] * ux[k]  # > 0: a left turn
            outer_is_left = turn < 0.0
            if outer_is_left == wrong_is_left:
                sector = shapely.union(wrong[k - 1], wrong[k])
            else:
                sector = shapely.intersection(wrong[k - 1], wrong[k])
            pieces.append(shapely.intersection(cell, sector))
    return shapely.intersection(shapely.union_all(pieces), reach)


def check_operation(
    op: Operation,
    others: Iterable[Operation],
    protocol: Protocol | PlanningBoundaries,
    *,
    minima: SeparationMinima | None = None,
    time_margin_s: float = 0.0,
) -> CheckResult:
    """All the checks at once: other operations, zones and lines.

    Args:
        op: the operation filed or updated.
        others: the stored operations (see :func:`check_against_operations`).
        protocol: the protocol in effect (or its prepared boundaries; then
            ``minima`` is required).
        minima: the margins between operations; the protocol's by default.
        time_margin_s: the time margin between operations.

    Raises:
        GeometryError: as the three checks, or if ``protocol`` is prepared and
            ``minima`` is not given.
    """
    if minima is None:
        if not isinstance(protocol, Protocol):
            raise GeometryError("give minima with prepared boundaries")
        minima = protocol.minima
    boundaries = _as_boundaries(protocol)
    return CheckResult(
        operations=tuple(check_against_operations(op, others, minima, time_margin_s)),
        zones=tuple(check_against_zones(op, boundaries)),
        lines=tuple(check_against_lines(op, boundaries)),
    )


# ------------------------------------------------------------------ index


def index_cells(
    volume: Volume4D, margin_nm: float, *, time_margin_s: float = 0.0
) -> list[tuple[int, int]]:
    """The (spatial cell, hour bucket) keys under which a volume is indexed.

    The grid is fixed: cells of :data:`INDEX_CELL_DEG` in latitude and longitude,
    numbered ``row * 720 + column`` from (-90, -180), and UTC hour buckets
    ``floor(t_s / 3600)``. The keys cover a lat/lon box around the volume's
    bounding circle grown by ``margin_nm`` (and 2 % + 1 NM of slack), during its
    time window grown by ``time_margin_s`` on both sides; a box across the
    antimeridian wraps around.

    Guarantee: two volumes whose outlines come closer than ``m1 + m2`` while their
    windows are less than ``t1 + t2`` apart share at least one key when indexed
    with margins ``(m1, t1)`` and ``(m2, t2)``. So a store can index every volume
    with margin 0 and query with the protocol's minimum (minima may change with
    the protocol; the index need not).

    >>> v = Volume4D(Volume3D(Circle(35.2, 38.2, 5.0), 0.0, 1e4), 7200.0, 10800.0)
    >>> index_cells(v, 0.0)
    [(180436, 2), (180436, 3)]

    Raises:
        InputError: if the margin is negative or above
            :data:`MAX_INDEX_MARGIN_NM`, or the volume is larger, longer or nearer
            a pole than :func:`volume_problems` accepts.
    """
    # Only what the index needs: the extent and the duration (a polygon crossing
    # itself is the checks' concern, and costs a projection to find).
    c_lat, c_lon, radius_nm = _bounding_circle(volume.volume.outline)
    problems = [
        Problem("index", None, "volume.outline", message)
        for message in _extent_problems(c_lat, radius_nm)
    ] + [
        Problem("index", None, "volume.time", message)
        for message in _duration_problems(volume)
    ]
    if not 0.0 <= margin_nm <= MAX_INDEX_MARGIN_NM:
        problems.append(
            Problem(
                "index",
                None,
                "margin_nm",
                f"must be within [0, {MAX_INDEX_MARGIN_NM:g}], got {margin_nm:g}",
            )
        )
    if not 0.0 <= time_margin_s <= MAX_VOLUME_DURATION_S:
        problems.append(
            Problem(
                "index",
                None,
                "time_margin_s",
                f"must be within [0, {MAX_VOLUME_DURATION_S:g}], got {time_margin_s:g}",
            )
        )
    if problems:
        raise InputError(problems)
    grown_nm = radius_nm * (1.0 + _BOUND_SLACK_FRACTION) + _BOUND_SLACK_NM + margin_nm
    angle_rad = grown_nm * M_PER_NM / _MIN_MERIDIAN_RADIUS_M
    lat_lo = c_lat - math.degrees(angle_rad)
    lat_hi = c_lat + math.degrees(angle_rad)
    # A spherical cap of angular radius a around latitude c spans
    # asin(sin a / cos c) of longitude either side; the cap stays clear of the
    # poles (volume_problems refuses volumes near them).
    half_lon_deg = math.degrees(
        math.asin(min(1.0, math.sin(angle_rad) / math.cos(math.radians(c_lat))))
    )
    rows = range(_row(lat_lo), _row(lat_hi) + 1)
    col_lo = math.floor((c_lon - half_lon_deg + 180.0) / INDEX_CELL_DEG)
    col_hi = math.floor((c_lon + half_lon_deg + 180.0) / INDEX_CELL_DEG)
    cols = sorted({c % _INDEX_COLS for c in range(col_lo, col_hi + 1)})
    b_lo = math.floor((volume.time_start_t_s - time_margin_s) / INDEX_BUCKET_S)
    b_hi = math.floor((volume.time_end_t_s + time_margin_s) / INDEX_BUCKET_S)
    return [
        (row * _INDEX_COLS + col, bucket)
        for row in rows
        for col in cols
        for bucket in range(b_lo, b_hi + 1)
    ]


def _row(lat_deg: float) -> int:
    return min(_INDEX_ROWS - 1, max(0, math.floor((lat_deg + 90.0) / INDEX_CELL_DEG)))


# ------------------------------------------------------------------ disclosure


def redact_for(
    viewer_party: str,
    conflict: VolumeConflict | ZoneConflict | LineConflict,
    sharing: SharingLevel,
) -> ConflictView | None:
    """What ``viewer_party`` may learn of a conflict under a sharing level.

    ``sharing`` is the level that applies to the viewer (a party the protocol
    does not name gets ``zones``). None: nothing at all.

    Conflict with another operation, seen by either of the two parties (by the
    other party, mirrored: its own operation is "own"):

    * ``zones``: only which of its own volumes conflicts;
    * ``conflicts``: also where and when (place, time and altitude overlap,
      distance) and the other party, but not the other operation (no id, no
      volume);
    * ``plans``, ``full``: also the other operation's id and conflicting volume.

    Conflict with a zone or a line: the filer sees all of it at every level (the
    zones and lines are everyone's). The zone's owner, or the other parties a
    line names, see from ``conflicts`` up where and when and the filer's party,
    from ``plans`` up also the filer's operation and volume. Anyone else: None.
    """
    if isinstance(conflict, VolumeConflict):
        return _operation_view(viewer_party, conflict, sharing)
    if isinstance(conflict, ZoneConflict):
        concerned: tuple[str, ...] = (conflict.zone_owner,)
        kind, boundary_id = ConflictKind.ZONE, conflict.zone_id
        alt = (conflict.altitude_overlap_lower_ft, conflict.altitude_overlap_upper_ft)
        across: bool | None = None
    else:
        concerned = conflict.line_parties
        kind, boundary_id = ConflictKind.LINE, conflict.line_id
        alt = (conflict.altitude_lower_ft, conflict.altitude_upper_ft)
        across = conflict.reaches_other_side
    where_when = {
        "boundary_id": boundary_id,
        "time_start_t_s": conflict.time_start_t_s,
        "time_end_t_s": conflict.time_end_t_s,
        "altitude_lower_ft": alt[0],
        "altitude_upper_ft": alt[1],
        "reaches_other_side": across,
        "place": conflict.place,
    }
    if viewer_party == conflict.party:
        return ConflictView(
            kind,
            operation_id=conflict.operation_id,
            volume_index=conflict.volume_index,
            other_party=", ".join(concerned) or None,
            **where_when,  # type: ignore[arg-type]
        )
    if viewer_party not in concerned or not sharing.allows(SharingLevel.CONFLICTS):
        return None
    if not sharing.allows(SharingLevel.PLANS):
        return ConflictView(kind, other_party=conflict.party, **where_when)  # type: ignore[arg-type]
    return ConflictView(
        kind,
        other_party=conflict.party,
        other_operation_id=conflict.operation_id,
        other_volume_index=conflict.volume_index,
        other_volume=conflict.volume,
        **where_when,  # type: ignore[arg-type]
    )


def _operation_view(
    viewer_party: str, c: VolumeConflict, sharing: SharingLevel
) -> ConflictView | None:
    if viewer_party == c.party:
        own = (c.operation_id, c.volume_index)
        other = (c.other_party, c.other_operation_id, c.other_volume_index)
        other_volume = c.other_volume
    elif viewer_party == c.other_party:
        own = (c.other_operation_id, c.other_volume_index)
        other = (c.party, c.operation_id, c.volume_index)
        other_volume = c.volume
    else:
        return None
    view = ConflictView(
        ConflictKind.OPERATION, operation_id=own[0], volume_index=own[1]
    )
    if not sharing.allows(SharingLevel.CONFLICTS):
        return view
    where_when = ConflictView(
        ConflictKind.OPERATION,
        operation_id=own[0],
        volume_index=own[1],
        other_party=other[0],
        time_start_t_s=c.time_overlap_start_t_s,
        time_end_t_s=c.time_overlap_end_t_s,
        altitude_lower_ft=c.altitude_overlap_lower_ft,
        altitude_upper_ft=c.altitude_overlap_upper_ft,
        horizontal_distance_nm=c.horizontal_distance_nm,
        place=c.place,
    )
    if not sharing.allows(SharingLevel.PLANS):
        return where_when
    return replace(
        where_when,
        other_operation_id=other[1],
        other_volume_index=other[2],
        other_volume=other_volume,
    )

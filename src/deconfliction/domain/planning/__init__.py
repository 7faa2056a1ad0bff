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

from deconfliction.domain.planning.check import (
    PlanningBoundaries,
    check_against_lines,
    check_against_operations,
    check_against_zones,
    check_operation,
)
from deconfliction.domain.planning.geometry import (
    outline_problems,
    route_to_volumes,
    volume_problems,
)
from deconfliction.domain.planning.index import (
    INDEX_BUCKET_S,
    INDEX_CELL_DEG,
    MAX_INDEX_MARGIN_NM,
    index_cells,
)
from deconfliction.domain.planning.operations import (
    Operation,
    OperationState,
)
from deconfliction.domain.planning.records import (
    CheckResult,
    ConflictKind,
    ConflictView,
    LineConflict,
    Place,
    VolumeConflict,
    ZoneConflict,
)
from deconfliction.domain.planning.redaction import (
    redact_for,
)
from deconfliction.domain.planning.shapes import (
    CIRCLE_VERTICES,
    MAX_VOLUME_ABS_LAT_DEG,
    MAX_VOLUME_ACROSS_NM,
    MAX_VOLUME_DURATION_S,
    PLACE_MAX_VERTICES,
    ROUTE_MAX_PIECE_NM,
    ROUTE_MAX_SEGMENT_S,
    ROUTE_TIME_MARGIN_S,
    TOUCH_TOLERANCE_M,
    Circle,
    Outline,
    Polygon,
    Route,
    Volume3D,
    Volume4D,
    Waypoint,
)

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

"""WGS-84 geodesy: the only module of the core that calls pyproj.

Three tools, each for one job:

* Earth-centred, Earth-fixed (ECEF) coordinates of surface points and the local
  east/north/up frame of each point, for tactical detection. A chord between two
  surface points differs from the geodesic by under 1 m at 100 km, and the frame has
  no seam at the antimeridian. Only the poles are refused (see :data:`MAX_ABS_LAT_DEG`).
* :class:`LocalProjection`, an azimuthal equidistant projection centred on a region,
  for lines and zones (shapely works in its metres, never in degrees).
* Geodesic distance, azimuth and destination on the ellipsoid (``pyproj.Geod``).

:func:`chord_m` and :func:`geodesic_of_chord_m` convert between a geodesic distance
and the straight line between its ends, so that detection, which measures chords,
compares with minima that are geodesic distances.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from pyproj import CRS, Geod, Transformer

from deconfliction.domain.model import FloatArray
from deconfliction.errors import PolarRegionError
from deconfliction.units import M_PER_NM

MAX_ABS_LAT_DEG: float = 89.9
"""Positions within 0.1 deg (6 NM) of a pole are refused: there every track angle
points almost the same way and a reported track has no stable meaning."""

_WGS84_GEOD = Geod(ellps="WGS84")

MEAN_RADIUS_M: float = (2.0 * _WGS84_GEOD.a + _WGS84_GEOD.b) / 3.0
"""The mean radius of WGS-84 (IUGG R1, 6,371,008.8 m): the sphere on which
:func:`chord_m` converts. The radius of curvature along a geodesic is within 0.6 %
of it anywhere, so the conversion is exact to 0.6 % of the chord's shortfall (under
0.4 mm at 20 NM)."""


@lru_cache(maxsize=1)
def _to_ecef() -> Transformer:
    # EPSG:4979 is WGS 84 geographic 3D (lat, lon, h); EPSG:4978 is WGS 84 geocentric.
    return Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)


def check_latitudes(lat_deg: FloatArray) -> None:
    """Refuse latitudes too close to a pole.

    Raises:
        PolarRegionError: if any ``|lat_deg|`` exceeds :data:`MAX_ABS_LAT_DEG`.
    """
    if lat_deg.size and float(np.max(np.abs(lat_deg))) > MAX_ABS_LAT_DEG:
        worst = float(lat_deg[np.argmax(np.abs(lat_deg))])
        raise PolarRegionError(worst, MAX_ABS_LAT_DEG)


def ecef_surface_m(lat_deg: FloatArray, lon_deg: FloatArray) -> FloatArray:
    """ECEF coordinates (metres, shape ``(n, 3)``) of points on the ellipsoid."""
    x, y, z = _to_ecef().transform(lon_deg, lat_deg, np.zeros_like(lat_deg))
    return np.column_stack([x, y, z]).astype(np.float64, copy=False)


def enu_basis(
    lat_deg: FloatArray, lon_deg: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Unit east, north and up vectors in ECEF at each point, each ``(n, 3)``.

    Up is the ellipsoid normal at the geodetic latitude.

    >>> e, n, u = enu_basis(np.array([0.0]), np.array([0.0]))
    >>> [(v.round(6) + 0.0).tolist() for v in (e, n, u)]
    [[[0.0, 1.0, 0.0]], [[0.0, 0.0, 1.0]], [[1.0, 0.0, 0.0]]]
    """
    lat = np.radians(lat_deg)
    lon = np.radians(lon_deg)
    sin_lat, cos_lat = np.sin(lat), np.cos(lat)
    sin_lon, cos_lon = np.sin(lon), np.cos(lon)
    east = np.column_stack([-sin_lon, cos_lon, np.zeros_like(lat)])
    north = np.column_stack([-sin_lat * cos_lon, -sin_lat * sin_lon, cos_lat])
    up = np.column_stack([cos_lat * cos_lon, cos_lat * sin_lon, sin_lat])
    return east, north, up


def geodesic_distance_nm(
    lat1_deg: Any, lon1_deg: Any, lat2_deg: Any, lon2_deg: Any
) -> FloatArray:
    """Geodesic distance on the WGS-84 ellipsoid, scalars or arrays.

    >>> round(float(geodesic_distance_nm(0.0, 0.0, 0.0, 1.0)), 3)
    60.108
    """
    _, _, dist_m = _WGS84_GEOD.inv(lon1_deg, lat1_deg, lon2_deg, lat2_deg)
    return np.asarray(dist_m, dtype=np.float64) / M_PER_NM


def geodesic_azimuth_deg(
    lat1_deg: Any, lon1_deg: Any, lat2_deg: Any, lon2_deg: Any
) -> FloatArray:
    """Initial azimuth from point 1 to point 2, degrees in ``[0, 360)``."""
    az_deg, _, _ = _WGS84_GEOD.inv(lon1_deg, lat1_deg, lon2_deg, lat2_deg)
    return np.mod(np.asarray(az_deg, dtype=np.float64), 360.0)


def destination(
    lat_deg: Any, lon_deg: Any, azimuth_deg: Any, dist_nm: Any
) -> tuple[FloatArray, FloatArray]:
    """The point reached by following the geodesic for ``dist_nm``.

    >>> lat, lon = destination(35.0, 38.0, 90.0, 60.0)
    >>> round(float(lat), 4), round(float(lon), 4)
    (34.9939, 39.2172)
    """
    lon2, lat2, _ = _WGS84_GEOD.fwd(
        lon_deg, lat_deg, azimuth_deg, np.asarray(dist_nm, dtype=np.float64) * M_PER_NM
    )
    return np.asarray(lat2, dtype=np.float64), np.asarray(lon2, dtype=np.float64)


def chord_m(geodesic_m: Any) -> Any:
    """The straight-line distance between two surface points a geodesic
    ``geodesic_m`` apart (shorter by ``s^3 / 24 R^2``: 0.8 mm at 5 NM), scalars or
    arrays.

    >>> round(float(9260.0 - chord_m(9260.0)), 4)
    0.0008
    """
    return 2.0 * MEAN_RADIUS_M * np.sin(np.asarray(geodesic_m) / (2.0 * MEAN_RADIUS_M))


def geodesic_of_chord_m(chord: Any) -> Any:
    """The inverse of :func:`chord_m`: the geodesic distance between two surface
    points ``chord`` metres apart in a straight line.

    >>> round(float(geodesic_of_chord_m(chord_m(9260.0))), 9)
    9260.0
    """
    ratio = np.clip(np.asarray(chord) / (2.0 * MEAN_RADIUS_M), -1.0, 1.0)
    return 2.0 * MEAN_RADIUS_M * np.arcsin(ratio)


@dataclass(frozen=True, slots=True)
class LocalProjection:
    """Azimuthal equidistant projection centred on a region, in metres.

    Distances from the centre are exact; elsewhere the scale error grows with the
    square of the distance (about 0.1 % at 300 NM). Good for the lines and zones of
    one theatre; build one per protocol region, not one for the world.
    """

    center_lat_deg: float
    center_lon_deg: float

    def _forward(self) -> Transformer:
        return _aeqd(self.center_lat_deg, self.center_lon_deg)

    def to_xy_m(self, lat_deg: Any, lon_deg: Any) -> tuple[FloatArray, FloatArray]:
        """Project WGS-84 positions to (east, north) metres.

        >>> p = LocalProjection(35.0, 38.0)
        >>> [round(float(v), 6) for v in p.to_xy_m(35.0, 38.0)]
        [0.0, 0.0]
        """
        x, y = self._forward().transform(lon_deg, lat_deg)
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)

    def to_lat_lon_deg(self, x_m: Any, y_m: Any) -> tuple[FloatArray, FloatArray]:
        """Back from projected metres to WGS-84 (lat, lon)."""
        lon, lat = self._forward().transform(x_m, y_m, direction="INVERSE")
        return np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)

    @classmethod
    def around(cls, lat_deg: Any, lon_deg: Any) -> LocalProjection:
        """A projection centred on the middle of the given points.

        The centre is the normalised mean of their ECEF unit vectors, so points on
        both sides of the antimeridian get a centre between them.
        """
        lat = np.atleast_1d(np.asarray(lat_deg, dtype=np.float64))
        lon = np.atleast_1d(np.asarray(lon_deg, dtype=np.float64))
        _, _, up = enu_basis(lat, lon)
        mean = up.mean(axis=0)
        mean /= np.linalg.norm(mean)
        center_lat = float(np.degrees(np.arcsin(np.clip(mean[2], -1.0, 1.0))))
        center_lon = float(np.degrees(np.arctan2(mean[1], mean[0])))
        return cls(center_lat, center_lon)


@lru_cache(maxsize=64)
def _aeqd(center_lat_deg: float, center_lon_deg: float) -> Transformer:
    crs = CRS.from_proj4(
        f"+proj=aeqd +lat_0={center_lat_deg} +lon_0={center_lon_deg} "
        "+datum=WGS84 +units=m +no_defs"
    )
    return Transformer.from_crs("EPSG:4326", crs, always_xy=True)


DAIDALUS_SPHERE_RADIUS_M: float = 1852.0 * 60.0 * 180.0 / 3.141592653589793
"""The sphere on which one minute of arc is one nautical mile (6,366,707 m): the Earth
of NASA DAIDALUS and of the scenarios written for it (``.daa`` files)."""


@lru_cache(maxsize=256)
def _ortho(
    center_lat_deg: float, center_lon_deg: float, radius_m: float
) -> Transformer:
    crs = CRS.from_proj4(
        f"+proj=ortho +lat_0={center_lat_deg} +lon_0={center_lon_deg} "
        f"+R={radius_m} +units=m +no_defs"
    )
    return Transformer.from_crs(
        CRS.from_proj4(f"+proj=longlat +R={radius_m} +no_defs"), crs, always_xy=True
    )


def tangent_plane_m(
    center_lat_deg: float,
    center_lon_deg: float,
    lat_deg: Any,
    lon_deg: Any,
    radius_m: float = DAIDALUS_SPHERE_RADIUS_M,
) -> tuple[FloatArray, FloatArray]:
    """East/north metres of points projected orthographically on the plane tangent to
    a sphere at the centre (DAIDALUS's projection, by default on its sphere).

    >>> x, y = tangent_plane_m(34.0, -117.0, [34.0 + 1 / 60], [-117.0])
    >>> round(float(x[0]), 6), round(float(y[0]), 1)
    (0.0, 1852.0)
    """
    x, y = _ortho(
        float(center_lat_deg), float(center_lon_deg), float(radius_m)
    ).transform(
        np.asarray(lon_deg, dtype=np.float64), np.asarray(lat_deg, dtype=np.float64)
    )
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)

"""BlueSky 1.1.1's state-based conflict detection, called on our snapshots.

BlueSky's detectors read the traffic through attributes of an ``ownship`` and an
``intruder`` object (``bs.traf`` in the simulator). Both versions read ``lat``,
``lon`` (deg), ``trk`` (deg), ``gs`` (m/s), ``alt`` (m), ``vs`` (m/s); ``ownship``
also gives ``id`` (list of str) and ``ntraf``. The separation minima and lookahead
are per-aircraft arrays (m, m, s). No ``bs.init`` is needed: importing the modules
registers the settings defaults, and those are all they read.

* ``bluesky.traffic.asas.cstatebased.detect`` (C++): a double loop over all
  ordered pairs, vertical test first; per-pair flat-earth geometry on a sphere of
  6,371 km.
* ``bluesky.traffic.asas.statebased.StateBased.detect`` (numpy): n x n matrices;
  its geometry comes from ``bluesky.tools.geo.kwikqdrdist_matrix``. BlueSky's
  compiled ``kwikqdrdist_matrix`` (used only with the ``prefer_compiled`` setting,
  off by default) mirrors the bearings of the lower triangle when ownship and
  intruder are the same arrays, so the intruder here is always a copy.

Both return every conflict twice, once per ordered pair. This module imports
neither numpy's BlueSky nor deconfliction at import time, so the stand-alone
BlueSky process (``_bluesky_process.py``) pays only for BlueSky's own start-up.
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class StandInTraffic:
    """The attributes of ``bs.traf`` that BlueSky's detectors read (SI units)."""

    lat: FloatArray
    lon: FloatArray
    trk: FloatArray
    gs: FloatArray
    alt: FloatArray
    vs: FloatArray
    id: list[str]
    ntraf: int

    def copy(self) -> StandInTraffic:
        """Deep copy, for use as the intruder."""
        return replace(
            self,
            lat=self.lat.copy(),
            lon=self.lon.copy(),
            trk=self.trk.copy(),
            gs=self.gs.copy(),
            alt=self.alt.copy(),
            vs=self.vs.copy(),
            id=list(self.id),
        )


@dataclass(frozen=True, slots=True)
class BlueSkyRun:
    """What one BlueSky detection call returned, as reported (ordered pairs).

    Attributes:
        pairs: ``(ownship id, intruder id)`` of every conflict.
        dcpa_nm: horizontal distance at closest approach, one per pair.
        tcpa_s: time to closest approach.
        tin_s: start of the predicted loss of separation.
    """

    pairs: list[tuple[str, str]]
    dcpa_nm: FloatArray
    tcpa_s: FloatArray
    tin_s: FloatArray


def import_bluesky_quietly() -> None:
    """Import BlueSky's detectors, sending its start-up chatter to stderr.

    Raises:
        ImportError: if BlueSky (the project's ``bench`` extra) is not installed.
    """
    with contextlib.redirect_stdout(sys.stderr):
        import bluesky.traffic.asas.statebased  # noqa: F401
        from bluesky.traffic.asas import cstatebased  # noqa: F401


def stand_in_traffic(
    ids: Sequence[str],
    lat_deg: Any,
    lon_deg: Any,
    alt_ft: Any,
    gs_kt: Any,
    trk_deg: Any,
    vs_fpm: Any,
) -> StandInTraffic:
    """Convert aviation units to BlueSky's SI with BlueSky's own constants."""
    import_bluesky_quietly()
    from bluesky.tools.aero import fpm, ft, kts

    def arr(values: Any, scale: float = 1.0) -> FloatArray:
        return np.ascontiguousarray(np.asarray(values, dtype=np.float64) * scale)

    return StandInTraffic(
        lat=arr(lat_deg),
        lon=arr(lon_deg),
        trk=arr(trk_deg),
        gs=arr(gs_kt, kts),
        alt=arr(alt_ft, ft),
        vs=arr(vs_fpm, fpm),
        id=list(ids),
        ntraf=len(ids),
    )


def _zone_arrays(
    n: int, horizontal_nm: float, vertical_ft: float, lookahead_s: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    from bluesky.tools.aero import ft, nm

    return (
        np.full(n, horizontal_nm * nm),
        np.full(n, vertical_ft * ft),
        np.full(n, float(lookahead_s)),
    )


def detect_compiled(
    traffic: StandInTraffic,
    horizontal_nm: float,
    vertical_ft: float,
    lookahead_s: float,
) -> BlueSkyRun:
    """BlueSky's compiled ``cstatebased.detect`` on ``traffic`` (against a copy).

    Raises:
        ImportError: if BlueSky or its compiled detector is missing.
    """
    import_bluesky_quietly()
    from bluesky.tools.aero import nm
    from bluesky.traffic.asas import cstatebased

    rpz, hpz, tlook = _zone_arrays(
        traffic.ntraf, horizontal_nm, vertical_ft, lookahead_s
    )
    out = cstatebased.detect(traffic, traffic.copy(), rpz, hpz, tlook)
    confpairs, _los, _inconf, _tcpamax, _qdr, _dist, dcpa, tcpa, tin = out
    return BlueSkyRun(
        pairs=list(confpairs),
        dcpa_nm=np.asarray(dcpa, dtype=np.float64) / nm,
        tcpa_s=np.asarray(tcpa, dtype=np.float64),
        tin_s=np.asarray(tin, dtype=np.float64),
    )


def detect_numpy(
    traffic: StandInTraffic,
    horizontal_nm: float,
    vertical_ft: float,
    lookahead_s: float,
) -> BlueSkyRun:
    """BlueSky's numpy ``StateBased.detect`` (n x n matrices: mind the memory).

    ``detect`` does not use ``self``, so it is called on the class with ``None``
    rather than building a ``StateBased``, which needs a running simulator. It uses
    ``np.asmatrix``, whose PendingDeprecationWarning is silenced here.

    Raises:
        ImportError: if BlueSky is missing.
        MemoryError: if its matrices do not fit.
    """
    import_bluesky_quietly()
    from bluesky.tools.aero import nm
    from bluesky.traffic.asas.statebased import StateBased

    rpz, hpz, tlook = _zone_arrays(
        traffic.ntraf, horizontal_nm, vertical_ft, lookahead_s
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        out = StateBased.detect(None, traffic, traffic.copy(), rpz, hpz, tlook)
    confpairs, _los, _inconf, _tcpamax, _qdr, _dist, dcpa, tcpa, tin = out
    return BlueSkyRun(
        pairs=[(str(a), str(b)) for a, b in confpairs],
        dcpa_nm=np.asarray(dcpa, dtype=np.float64) / nm,
        tcpa_s=np.asarray(tcpa, dtype=np.float64),
        tin_s=np.asarray(tin, dtype=np.float64),
    )

"""What a CoT event read from a stream is, and the format's constants."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from deconfliction.adapters.track_stream import (
    TrackRecord,
)
from deconfliction.units import M_PER_FT, MPS_PER_KT

SOURCE_NAME: str = "cot"
MAX_EVENT_BYTES: int = 256 * 1024  # a CoT event is a few kB; a shape with many
# vertices some tens of kB. Anything larger is refused unparsed.
UNKNOWN_M: float = 9999999.0  # CoT's "unknown" for hae, ce and le
DETAIL_TAG: str = "__deconfliction"
_AIR_POI_TYPE = "b-m-p-s-p-i"
_SHAPE_TYPE = "u-d-f"
_TIME_CACHE_MAX = 4096


@dataclass(frozen=True, slots=True)
class CotEvent:
    """One valid CoT event, as read.

    Attributes:
        uid: the event's identity (a newer event with the same uid replaces it).
        type: the CoT type (``a-f-A-M-F``, ``b-m-p-s-p-i``, ``u-d-f``...).
        how: how the position was obtained (``m-g``, ``h-e``...).
        t_s: ``time``, when the event was generated.
        start_t_s: ``start``, when it becomes valid.
        stale_t_s: ``stale``, when it stops being valid.
        lat_deg: ``point@lat``.
        lon_deg: ``point@lon``.
        hae_m: height above the ellipsoid, NaN when unknown.
        ce_m: circular error, NaN when unknown.
        le_m: linear (vertical) error, NaN when unknown.
        callsign: ``detail/contact@callsign``.
        course_deg: ``detail/track@course``, NaN when absent.
        speed_mps: ``detail/track@speed``, NaN when absent.
        icao24: from ``detail/_aircot_@icao`` or a ``uid`` like ``ICAO-4CA2D6``.
        remarks: ``detail/remarks`` text.
        link_lat_deg: latitudes of ``detail/link@point`` (shape vertices).
        link_lon_deg: their longitudes.
        facts: the attributes of the ``__deconfliction`` detail, if any.
    """

    uid: str
    type: str
    how: str
    t_s: float
    start_t_s: float
    stale_t_s: float
    lat_deg: float
    lon_deg: float
    hae_m: float = math.nan
    ce_m: float = math.nan
    le_m: float = math.nan
    callsign: str | None = None
    course_deg: float = math.nan
    speed_mps: float = math.nan
    icao24: str | None = None
    remarks: str | None = None
    link_lat_deg: tuple[float, ...] = ()
    link_lon_deg: tuple[float, ...] = ()
    facts: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_stale(self) -> bool:
        """True when the event says its object is gone (stale not after time)."""
        return self.stale_t_s <= self.t_s

    @property
    def is_air_track(self) -> bool:
        """True for an atom in the air (``a-?-A...``)."""
        parts = self.type.split("-", 3)
        return len(parts) >= 3 and parts[0] == "a" and parts[2] == "A"

    def track_record(self) -> TrackRecord:
        """The event as a position (for an air track)."""
        alt_ft = self.hae_m / M_PER_FT if not math.isnan(self.hae_m) else math.nan
        gs_kt = (
            self.speed_mps / MPS_PER_KT if not math.isnan(self.speed_mps) else math.nan
        )
        vs = self.facts.get("vs_fpm")
        try:
            vs_fpm = float(vs) if vs is not None else math.nan
        except ValueError:
            vs_fpm = math.nan
        # An event this module wrote carries the original id and party.
        own = self.facts.get("kind") == "track"
        return TrackRecord(
            self.facts.get("id", self.uid) if own else self.uid,
            self.t_s,
            self.lat_deg,
            self.lon_deg,
            alt_ft,
            gs_kt,
            self.course_deg % 360.0 if not math.isnan(self.course_deg) else math.nan,
            vs_fpm,
            self.callsign,
            self.icao24,
            None,
            SOURCE_NAME,
            (self.facts.get("party") or None) if own else None,
            self.type,
        )

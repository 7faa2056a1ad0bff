"""The agreement between the parties, as frozen domain values.

A :class:`Protocol` is what a protocol file says once it has been validated (see
``deconfliction.adapters.protocol_file``). Nothing here reads files.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from deconfliction.domain.model import (
    AlertLevelSpec,
    DetectionSettings,
    SeparationMinima,
)


class SharingLevel(StrEnum):
    """How much each party sees of the others, in increasing order.

    ``zones``: zones and lines only. ``conflicts``: also the conflicts and violations
    that involve the caller. ``plans``: also the others' planned volumes. ``full``:
    also their live tracks.
    """

    ZONES = "zones"
    CONFLICTS = "conflicts"
    PLANS = "plans"
    FULL = "full"

    @property
    def rank(self) -> int:
        """0 for ``zones`` up to 3 for ``full``.

        >>> [level.rank for level in SharingLevel]
        [0, 1, 2, 3]
        """
        return _SHARING_RANK[self]

    def allows(self, other: SharingLevel) -> bool:
        """True when this level shares at least as much as ``other``.

        >>> SharingLevel.PLANS.allows(SharingLevel.CONFLICTS)
        True
        >>> SharingLevel.ZONES.allows(SharingLevel.FULL)
        False
        """
        return self.rank >= other.rank


# Each level's place in the order (looked up for every alert and incident view:
# counting through the members each time cost a tick 0.6 s at 10,000 alerts).
_SHARING_RANK: Mapping[SharingLevel, int] = MappingProxyType(
    {level: rank for rank, level in enumerate(SharingLevel)}
)

LINE_REACH_MARGIN_NM: float = 150.0
"""A line's default reach is its buffer plus 150 NM: deep enough for any excursion
across a line (those over Syria were 5 to 25 NM deep), short of the next theatre."""

MAX_LINE_REACH_NM: float = 1000.0
"""The largest reach a protocol may give a line: beyond it the projection around
the line distorts distances by over 1 %, and no side of a line means anything."""


class LineSide(StrEnum):
    """A side of a deconfliction line, relative to the order of its points."""

    LEFT = "left"
    RIGHT = "right"


@dataclass(frozen=True, slots=True)
class Party:
    """A party to the agreement.

    Attributes:
        id: short identifier used everywhere (``coalition``).
        name: full name.
        language: the language its duty officers read (``en``, ``ru``, ``ar``).
    """

    id: str
    name: str
    language: str


REFEREE: str = "referee"
# How long a referee keeps a party's tracks without a newer picture from it: two
# rounds of a link of a few seconds each, with room for a slow round.
REFEREE_WINDOW_S: float = 60.0


@dataclass(frozen=True, slots=True)
class RefereeNode:
    """A neutral node both sides name (``[nodes.referee]``) for ``conflicts``: it
    receives each node's tracks, returns to each only the conflicts of its own
    aircraft, and keeps nothing longer than ``window_s``.

    Attributes:
        address: where it listens and its certificate (``party`` is ``referee``).
        window_s: the longest it holds a party's tracks.
    """

    address: NodeAddress
    window_s: float


@dataclass(frozen=True, slots=True)
class NodeAddress:
    """Where a party's node listens, and the certificate it must present.

    Attributes:
        party: the party that runs the node.
        url: ``https://HOST:PORT`` of the node.
        fingerprint: ``sha256:`` and the SHA-256 (64 lowercase hex digits) of the
            node's TLS certificate (DER), exchanged out of band.
    """

    party: str
    url: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class DeconflictionLine:
    """A line the parties keep to their own side of, with a buffer nobody enters.

    Attributes:
        id: identifier.
        name: human-readable name.
        lat_deg: latitudes of the polyline's points, in order.
        lon_deg: longitudes of the polyline's points.
        buffer_nm: half-width of the band along the line that no party enters.
        sides: the side each party keeps, as resolved left/right of the point order.
        declared_sides: the sides as the file wrote them (``east``, ``left``...).
        reach_nm: how far from the line its sides extend, as the protocol states it
            (None: the default, :attr:`effective_reach_nm`). Further away a position
            is on neither side: an aircraft 1,000 km away is not across the line.
            The buffer applies whatever the reach.
    """

    id: str
    name: str
    lat_deg: tuple[float, ...]
    lon_deg: tuple[float, ...]
    buffer_nm: float
    sides: dict[str, LineSide]
    declared_sides: dict[str, str] = field(default_factory=dict)
    reach_nm: float | None = None

    @property
    def effective_reach_nm(self) -> float:
        """The line's reach: ``reach_nm``, or by default the buffer plus
        :data:`LINE_REACH_MARGIN_NM`.

        >>> line = DeconflictionLine("l", "l", (35.0, 36.0), (40.0, 40.0), 10.0, {})
        >>> line.effective_reach_nm
        160.0
        """
        if self.reach_nm is not None:
            return self.reach_nm
        return self.buffer_nm + LINE_REACH_MARGIN_NM


@dataclass(frozen=True, slots=True)
class Zone:
    """A zone of responsibility: only its owner's aircraft may be inside.

    The zone is the polygon extruded from ``floor_ft`` to ``ceiling_ft``, in force
    from ``active_from_t_s`` (included) until ``active_until_t_s`` (excluded): a
    zone made from a NOTAM holds only while the NOTAM does. Without limits a zone is
    in force at all times.
    """

    id: str
    name: str
    owner: str
    lat_deg: tuple[float, ...]
    lon_deg: tuple[float, ...]
    floor_ft: float
    ceiling_ft: float
    active_from_t_s: float = -math.inf
    active_until_t_s: float = math.inf

    @property
    def always_active(self) -> bool:
        """In force at all times (no time limits)."""
        return self.active_from_t_s == -math.inf and self.active_until_t_s == math.inf


@dataclass(frozen=True, slots=True)
class HotlineRules:
    """How the duty officers talk.

    Attributes:
        ack_deadline_s: acknowledgement deadline per message priority
            (``routine``, ``urgent``, ``flash``).
        daily_checkin_utc: ``HH:MM`` by which each party checks in every day, or None.
    """

    ack_deadline_s: dict[str, float]
    daily_checkin_utc: str | None = None


@dataclass(frozen=True, slots=True)
class ConformanceRules:
    """How conformance monitoring turns positions into violations.

    Attributes:
        exit_debounce_s: an excursion ends only after the aircraft has conformed for
            this long; a return inside that time continues the same violation, so a
            track jittering across a boundary opens one violation, not one per crossing.
        max_gap_s: a gap in a track longer than this ends an open excursion at the
            last sample seen (the aircraft is not assumed to have stayed out).
    """

    exit_debounce_s: float = 60.0
    max_gap_s: float = 300.0


NOTICE_DETAILS: tuple[str, ...] = ("area", "altitudes", "times", "aircraft_count")
"""What a notice of operation may give of it besides its id and kind."""


@dataclass(frozen=True, slots=True)
class PlanningRules:
    """How planned operations are filed and notified.

    Attributes:
        min_lead_time_s: the least notice before an operation starts, by operation
            kind; ``default`` for kinds not listed. Filed later, an operation is
            ``short_notice``, visible as such to everyone.
        notice_priority: the hotline priority of a notice of operation.
        accept_on_deadline: an operation is accepted when every notified party has
            acknowledged its notice, or (when True) when the notice's deadline has
            passed without acknowledgement.
        allow_conflicted_activation: whether an operation whose check found
            conflicts may still be activated.
    """

    min_lead_time_s: dict[str, float] = field(
        default_factory=lambda: {"default": 3600.0}
    )
    notice_priority: str = "urgent"
    accept_on_deadline: bool = True
    allow_conflicted_activation: bool = False
    notice_discloses: tuple[str, ...] = ()
    """What a notice of operation tells a party that may not see the operation
    (below ``plans``), of ``NOTICE_DETAILS``; by default nothing but the
    operation's id and kind. From ``plans`` up a notice gives everything."""

    def lead_time_s(self, kind: str) -> float:
        """The minimum lead time for an operation kind.

        >>> PlanningRules({"default": 60.0, "airlift": 600.0}).lead_time_s("airlift")
        600.0
        """
        return self.min_lead_time_s.get(kind, self.min_lead_time_s.get("default", 0.0))


@dataclass(frozen=True, slots=True)
class TerminationRules:
    """How a party may leave this version of the agreement on its own.

    Attributes:
        notice_s: a party of the version may give notice of withdrawal; the version
            then ends this long after the notice. None (the default): the version
            ends only when a version accepted by all its parties replaces it.
    """

    notice_s: float | None = None


@dataclass(frozen=True, slots=True)
class GuidanceRules:
    """Manoeuvre guidance (detect-and-avoid bands) the live server gives each party
    for its own aircraft in an alert.

    Attributes:
        config: the DAA configuration the bands are computed with (``do-365a``,
            ``do-365b`` or ``tcas2``, see :mod:`deconfliction.domain.daa.config`);
            None (the default): no guidance.
    """

    config: str | None = None


GUIDANCE_CONFIGS: tuple[str, ...] = ("do-365a", "do-365b", "tcas2")
"""The DAA configurations a protocol may name in ``[guidance] config`` (the ones
Deconfliction ships: a file path would not mean the same on every party's server)."""


@dataclass(frozen=True, slots=True)
class NotamRules:
    """Which operations are public, and how they are published as NOTAMs.

    Attributes:
        public_kinds: the operation kinds that are public (a NOTAM is drawn up for
            each); empty: none.
        fir: the FIR's ICAO designator (Q-line and item A).
        location: item A when it is not the FIR, or "".
        q_code: the Q-code of the NOTAMs.
        series: the NOTAM series letter.
    """

    public_kinds: tuple[str, ...] = ()
    fir: str = ""
    location: str = ""
    q_code: str = "QRTCA"
    series: str = "A"


@dataclass(frozen=True, slots=True)
class Protocol:
    """A version of the agreement.

    Attributes:
        id: identifier of the agreement (``euphrates-2017``).
        version: increases with every change.
        title: human-readable title.
        sharing: the sharing level in effect under this version.
        parties: the parties, by id.
        minima: separation minima.
        lookahead_s: how far ahead tactical detection looks.
        alert_levels: advisory and warning thresholds.
        lines: deconfliction lines.
        zones: zones of responsibility.
        hotline: hotline rules.
        conformance: conformance rules.
        planning: rules for planned operations and their advance notice.
        termination: how a party may end this version on its own (by notice).
        notam: which operations are public, published as NOTAMs.
        guidance: the manoeuvre guidance given with alerts (none by default).
        detection_interval_s: how often live detection runs.
        stale_after_s: a track with no position for this long is dropped.
        nodes: each party's node, by party (empty: one server for every party).
        referee: the referee node for ``conflicts`` between nodes, if named.
    """

    id: str
    version: int
    title: str
    sharing: SharingLevel
    parties: dict[str, Party]
    minima: SeparationMinima
    lookahead_s: float
    alert_levels: tuple[AlertLevelSpec, ...]
    lines: tuple[DeconflictionLine, ...] = ()
    zones: tuple[Zone, ...] = ()
    hotline: HotlineRules = field(
        default_factory=lambda: HotlineRules(
            ack_deadline_s={"routine": 3600.0, "urgent": 900.0, "flash": 300.0}
        )
    )
    conformance: ConformanceRules = field(default_factory=ConformanceRules)
    planning: PlanningRules = field(default_factory=PlanningRules)
    termination: TerminationRules = field(default_factory=TerminationRules)
    notam: NotamRules = field(default_factory=NotamRules)
    guidance: GuidanceRules = field(default_factory=GuidanceRules)
    detection_interval_s: float = 5.0
    stale_after_s: float = 60.0
    nodes: dict[str, NodeAddress] = field(default_factory=dict)
    referee: RefereeNode | None = None

    @property
    def federated(self) -> bool:
        """True when each party runs its own node (the protocol names nodes)."""
        return bool(self.nodes)

    def detection_settings(self, *, cross_party_only: bool = True) -> DetectionSettings:
        """The tactical detection settings this protocol prescribes."""
        return DetectionSettings(
            minima=self.minima,
            lookahead_s=self.lookahead_s,
            alert_levels=self.alert_levels,
            cross_party_only=cross_party_only,
        )

"""A day's report as data: what :mod:`deconfliction.service.daily_report` gathers
from the store (with the disclosure rules it applies) and :mod:`.render` draws."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from typing import Any

import numpy as np

from deconfliction.domain.model import (
    AircraftStates,
    AlertLevel,
    FloatArray,
    SeparationMinima,
)
from deconfliction.domain.protocol import Protocol, SharingLevel
from deconfliction.errors import InputError, Problem

DAY_S: float = 86_400.0
MAP_STEP_S: float = 30.0
"""The map draws one position per aircraft every 30 s: at 480 kt that is 4 NM, finer
than a line on a map of the theatre, and it keeps a busy day's map quick to draw."""
MAX_INCIDENTS: int = 100_000  # per query; a day of a real theatre has far fewer
DEFAULT_STALE_S: float = 60.0  # the protocol default, when no protocol was in effect
VIOLATION_KINDS: tuple[str, ...] = ("line_violation", "zone_incursion")


@dataclass(frozen=True, slots=True)
class AlertItem:
    """One alert raised during the day, as the reader may see it.

    Attributes:
        id: the public alert id.
        raised_t_s: when it was raised.
        cleared_t_s: when it was cleared (None: still active).
        max_level: the highest level reached (``conflict``, ``advisory``, ``warning``).
        min_dcpa_nm: the smallest predicted miss distance.
        sides: the two aircraft, each a dict with ``party``, ``id`` (None when hidden)
            and ``lat_deg``/``lon_deg``/``alt_ft`` (its position, or the point the
            reader is allowed).
    """

    id: str
    raised_t_s: float
    cleared_t_s: float | None
    max_level: str
    min_dcpa_nm: float
    sides: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class IncidentItem:
    """One incident, as the reader may see it.

    Attributes:
        id: the incident number.
        kind: ``line_violation``, ``zone_incursion`` or ``loss_of_separation``.
        status: its status now.
        party_id: the party at fault (violations) or the first party (losses).
        involved: every party it concerns.
        boundary_id: the line or zone (violations).
        start_t_s: when it started.
        end_t_s: when it ended (None: ongoing).
        severity_nm: depth (violations) or smallest distance (losses).
        sides: its aircraft, each with ``party``, ``id`` (None when hidden) and a
            point ``lat_deg``/``lon_deg``/``alt_ft``/``t_s``.
        depth_across_line_nm: a line violation's depth across the line.
        depth_from_buffer_edge_nm: its depth from the buffer's edge.
        depth_inside_zone_nm: a zone incursion's depth inside the zone.
    """

    id: int
    kind: str
    status: str
    party_id: str
    involved: tuple[str, ...]
    boundary_id: str | None
    start_t_s: float
    end_t_s: float | None
    severity_nm: float | None
    sides: tuple[dict[str, Any], ...]
    depth_across_line_nm: float | None = None
    depth_from_buffer_edge_nm: float | None = None
    depth_inside_zone_nm: float | None = None


@dataclass(frozen=True, slots=True)
class ReceiptItem:
    """One recipient's receipt of one hotline message.

    Attributes:
        message_id: the message.
        sender: the sending party.
        recipient: the receiving party.
        kind: the message kind.
        priority: ``routine``, ``urgent`` or ``flash``.
        sent_t_s: when it was sent.
        deadline_t_s: the acknowledgement deadline.
        acknowledged_t_s: when it was acknowledged (None: not yet).
        escalated_t_s: when it escalated (None: never).
    """

    message_id: int
    sender: str
    recipient: str
    kind: str
    priority: str
    sent_t_s: float
    deadline_t_s: float
    acknowledged_t_s: float | None
    escalated_t_s: float | None

    @property
    def ack_s(self) -> float | None:
        """Seconds from sending to acknowledgement."""
        if self.acknowledged_t_s is None:
            return None
        return self.acknowledged_t_s - self.sent_t_s

    @property
    def late(self) -> bool:
        """Acknowledged after its deadline."""
        return (
            self.acknowledged_t_s is not None
            and self.acknowledged_t_s > self.deadline_t_s
        )

    def overdue(self, now_t_s: float) -> bool:
        """Not acknowledged, and past its deadline (or escalated)."""
        return self.acknowledged_t_s is None and (
            self.escalated_t_s is not None or now_t_s > self.deadline_t_s
        )


@dataclass(frozen=True, slots=True)
class HotlineStats:
    """Acknowledgement figures of some receipts.

    Attributes:
        messages: distinct messages.
        receipts: receipts (one per recipient party).
        acknowledged: receipts acknowledged.
        median_ack_s: median acknowledgement time (None: none acknowledged).
        worst_ack_s: longest acknowledgement time.
        late: acknowledged after the deadline.
        overdue: not acknowledged and past the deadline now.
    """

    messages: int
    receipts: int
    acknowledged: int
    median_ack_s: float | None
    worst_ack_s: float | None
    late: int
    overdue: int


def hotline_stats(items: list[ReceiptItem], now_t_s: float) -> HotlineStats:
    """The figures of ``items``.

    >>> r = ReceiptItem(1, "a", "b", "free_text", "flash", 0.0, 300.0, 120.0, None)
    >>> hotline_stats([r], 1000.0).median_ack_s
    120.0
    """
    acks = [r.ack_s for r in items if r.ack_s is not None]
    return HotlineStats(
        messages=len({r.message_id for r in items}),
        receipts=len(items),
        acknowledged=len(acks),
        median_ack_s=float(np.median(acks)) if acks else None,
        worst_ack_s=max(acks) if acks else None,
        late=sum(r.late for r in items),
        overdue=sum(r.overdue(now_t_s) for r in items),
    )


@dataclass(frozen=True, slots=True)
class MapTracks:
    """Positions to draw on the map (thinned), struct of arrays.

    Attributes:
        t_s: time of each position.
        states: the positions (ids are aircraft ids; they repeat).
    """

    t_s: FloatArray
    states: AircraftStates


@dataclass(frozen=True, slots=True)
class DailyReport:
    """Everything the daily report shows.

    Attributes:
        day: the UTC day.
        viewer: the party it is for, or None for the operator's report.
        generated_t_s: when the data was read.
        protocol: the protocol of the day (None when none was in effect).
        sharing: the sharing level that applied to the reader (``full`` for the
            operator).
        parties: the parties shown, in order.
        party_names: their full names, where registered.
        sorties: sorties per party, None where not shared with the reader.
        positions: positions per party, None where not shared.
        alerts: alerts raised during the day, oldest first.
        incidents: incidents that started during the day, oldest first.
        open_incidents: incidents not resolved, started before the day ended.
        receipts: hotline receipts of messages sent during the day.
        tracks: what the map draws.
        agreements: with several agreements naming the reader during the day (or,
            for the operator, in effect during it), each of them, oldest first:
            the report has a section for each. Empty otherwise.
    """

    day: date
    viewer: str | None
    generated_t_s: float
    protocol: Protocol | None
    sharing: SharingLevel
    parties: tuple[str, ...]
    party_names: dict[str, str]
    sorties: dict[str, int | None]
    positions: dict[str, int | None]
    alerts: tuple[AlertItem, ...]
    incidents: tuple[IncidentItem, ...]
    open_incidents: tuple[IncidentItem, ...]
    receipts: tuple[ReceiptItem, ...]
    tracks: MapTracks
    extra: dict[str, Any] = field(default_factory=dict)
    agreements: tuple[Protocol, ...] = ()

    @property
    def start_t_s(self) -> float:
        """The day's first second (epoch seconds)."""
        return day_start_t_s(self.day)

    def of_agreement(self, protocol: Protocol) -> DailyReport:
        """The part of the report one agreement covers: its parties' tracks, the
        alerts and losses of separation between its parties, the violations of its
        lines and zones by its parties; ``protocol`` as the protocol of the day."""
        named = set(protocol.parties)
        boundaries = {line.id for line in protocol.lines} | {
            zone.id for zone in protocol.zones
        }

        def covered(i: IncidentItem) -> bool:
            if i.kind in VIOLATION_KINDS:
                return i.party_id in named and i.boundary_id in boundaries
            return set(i.involved) <= named

        states = self.tracks.states
        keep = np.isin(states.party, sorted(named))
        return replace(
            self,
            protocol=protocol,
            parties=tuple(p for p in self.parties if p in named),
            alerts=tuple(
                a for a in self.alerts if {s["party"] for s in a.sides} <= named
            ),
            incidents=tuple(i for i in self.incidents if covered(i)),
            open_incidents=tuple(i for i in self.open_incidents if covered(i)),
            receipts=(),
            tracks=MapTracks(self.tracks.t_s[keep], states.take(keep)),
            agreements=(),
        )

    def conflicts_by_level(self) -> dict[str, int]:
        """Alerts raised during the day by the highest level they reached."""
        counts = {level.label: 0 for level in AlertLevel}
        for a in self.alerts:
            counts[a.max_level] = counts.get(a.max_level, 0) + 1
        return counts

    def violations(self) -> tuple[IncidentItem, ...]:
        """The line and zone violations that started during the day."""
        return tuple(i for i in self.incidents if i.kind in VIOLATION_KINDS)

    def losses(self) -> tuple[IncidentItem, ...]:
        """The losses of separation that started during the day."""
        return tuple(i for i in self.incidents if i.kind == "loss_of_separation")

    def violations_by_party_hour(self) -> dict[str, list[int]]:
        """Violations per party at fault and UTC hour of their start (24 counts)."""
        out: dict[str, list[int]] = {}
        for v in self.violations():
            hour = int((v.start_t_s - self.start_t_s) // 3600.0)
            row = out.setdefault(v.party_id, [0] * 24)
            row[min(max(hour, 0), 23)] += 1
        return out

    def closest_predicted_nm(self) -> list[float]:
        """Each alert's smallest predicted miss distance, sorted."""
        return sorted(a.min_dcpa_nm for a in self.alerts)

    def closest_actual_nm(self) -> list[float]:
        """Each loss of separation's smallest distance, sorted."""
        return sorted(i.severity_nm for i in self.losses() if i.severity_nm is not None)

    def hotline_by_direction(self) -> dict[str, HotlineStats]:
        """Figures of the receipts: for a party, ``received`` (its own
        acknowledgements) and ``sent`` (the others' acknowledgements of its
        messages); for the operator, one entry per recipient party."""
        now = self.generated_t_s
        if self.viewer is None:
            return {
                p: hotline_stats([r for r in self.receipts if r.recipient == p], now)
                for p in sorted({r.recipient for r in self.receipts})
            }
        return {
            "received": hotline_stats(
                [r for r in self.receipts if r.recipient == self.viewer], now
            ),
            "sent": hotline_stats(
                [r for r in self.receipts if r.sender == self.viewer], now
            ),
        }


def parse_day(text: str) -> date:
    """A ``YYYY-MM-DD`` day.

    >>> parse_day("2017-12-13")
    datetime.date(2017, 12, 13)

    Raises:
        InputError: for anything else.
    """
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC).date()
    except (TypeError, ValueError):
        raise InputError(
            [Problem("request", None, "day", f"expected YYYY-MM-DD, got {text!r}")]
        ) from None


def day_start_t_s(day: date) -> float:
    """Epoch seconds of the day's first second, UTC.

    >>> day_start_t_s(date(2017, 12, 13))
    1513123200.0
    """
    return datetime.combine(day, time(0, 0), tzinfo=UTC).timestamp()


def placeholder_protocol() -> Protocol:
    """An empty protocol, to draw a map when none was in effect."""
    return Protocol(
        id="none",
        version=0,
        title="",
        sharing=SharingLevel.ZONES,
        parties={},
        minima=SeparationMinima(5.0, 1000.0),
        lookahead_s=300.0,
        alert_levels=(),
    )


def is_finite(value: Any) -> bool:
    """A number that can be drawn."""
    return isinstance(value, int | float) and math.isfinite(value)

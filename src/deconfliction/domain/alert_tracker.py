"""Conflict alerts with hysteresis: from one detection to the next.

Tactical detection (:func:`deconfliction.domain.detect.detect_conflicts`) judges each
snapshot on its own. A controller wants an *alert* per encounter instead: raised once
when a pair first comes into conflict, updated while it lasts, and cleared only after
the pair has been out of conflict for ``clear_after_s``, so that a pair flickering at
the edge of the minima (or jitter in a reported position) keeps one alert rather than
raising a new one at every detection.

:class:`AlertTracker` is that state machine. It is pure: time is passed in, nothing is
read from the clock, and the only state is the tracker's own alerts. The work per
update is a loop over the conflicts found (a short list) and the alerts open, never
over pairs of aircraft. :meth:`AlertTracker.restore` takes over the alerts an earlier
run left active (read back from a store), so that a restart continues them.

Alert ids are ``{a}-{b}-{first seen, whole epoch seconds}``: stable for the life of
the alert, the same on a replay of the same data, and unique as long as a pair's
alerts start in different seconds (a pair's next alert can start only after the
previous one has been cleared, ``clear_after_s`` later).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from deconfliction.domain.model import AircraftStates, AlertLevel, Conflicts

DCPA_RESOLUTION_NM: float = 0.01
"""Predicted miss distances differing by less than this (about 18 m) count as the
same figure: finer changes are noise of the extrapolation, not news."""

TCPA_RESOLUTION_S: float = 1.0
"""Times of closest approach are compared to the second. What is compared is the
time *of* the closest approach (detection time plus ``tcpa_s``), not the time *to*
it: a pair closing as predicted counts down to the same moment and is no news (a
client counts down from ``updated_t_s + tcpa_s``); a pair that speeds up, slows or
turns moves that moment and is updated."""

DALT_RESOLUTION_FT: float = 10.0
"""Vertical separations at CPA are compared to 10 ft, below altimetry resolution."""


class AlertEventKind(StrEnum):
    """What happened to an alert at an update."""

    RAISED = "raised"
    UPDATED = "updated"
    CLEARED = "cleared"


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert: a pair of aircraft in conflict, from first detection to clearing.

    Attributes:
        id: stable identifier (see the module docstring).
        a_id: the first aircraft of the pair (``a_id < b_id``).
        b_id: the second aircraft.
        party_a: party of ``a_id``.
        party_b: party of ``b_id``.
        first_seen_t_s: the first detection of the pair in conflict.
        last_seen_t_s: the latest detection of the pair in conflict.
        level: the level at the latest detection.
        max_level: the highest level reached.
        dcpa_nm: predicted horizontal miss distance at the latest detection.
        min_dcpa_nm: the smallest predicted horizontal miss distance so far.
        tcpa_s: predicted time to closest approach at the latest detection.
        dalt_ft_at_cpa: predicted vertical separation at that closest approach.
        a_lat_deg: position of ``a_id`` at the latest detection.
        a_lon_deg: its longitude.
        a_alt_ft: its altitude.
        b_lat_deg: position of ``b_id`` at the latest detection.
        b_lon_deg: its longitude.
        b_alt_ft: its altitude.
        detections: number of detections that found the pair in conflict.
    """

    id: str
    a_id: str
    b_id: str
    party_a: str
    party_b: str
    first_seen_t_s: float
    last_seen_t_s: float
    level: AlertLevel
    max_level: AlertLevel
    dcpa_nm: float
    min_dcpa_nm: float
    tcpa_s: float
    dalt_ft_at_cpa: float
    a_lat_deg: float
    a_lon_deg: float
    a_alt_ft: float
    b_lat_deg: float
    b_lon_deg: float
    b_alt_ft: float
    detections: int

    @property
    def duration_s(self) -> float:
        """From the first to the latest detection of the pair in conflict."""
        return self.last_seen_t_s - self.first_seen_t_s


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """A change of one alert at one update.

    Attributes:
        kind: raised, updated (level or figures changed) or cleared.
        t_s: the time of the update.
        alert: the alert as it stands after the update.
    """

    kind: AlertEventKind
    t_s: float
    alert: Alert


def alert_id(a_id: str, b_id: str, first_seen_t_s: float) -> str:
    """The id of the alert of pair (a, b) first seen at ``first_seen_t_s``.

    >>> alert_id("COA019", "RUS023", 1513144880.0)
    'COA019-RUS023-1513144880'
    """
    return f"{a_id}-{b_id}-{math.floor(first_seen_t_s):d}"


def _figures(alert: Alert) -> tuple[int, float, float, float]:
    """What an update is judged on: the level, the predicted miss, the moment of
    closest approach and the vertical separation then."""
    return (
        int(alert.level),
        alert.dcpa_nm,
        alert.last_seen_t_s + alert.tcpa_s,
        alert.dalt_ft_at_cpa,
    )


def _news(
    now: tuple[int, float, float, float], said: tuple[int, float, float, float]
) -> bool:
    """Whether figures differ from those last said by a resolution or more (a
    threshold, not rounding: noise around a rounding boundary is no news)."""
    return (
        now[0] != said[0]
        or abs(now[1] - said[1]) >= DCPA_RESOLUTION_NM
        or abs(now[2] - said[2]) >= TCPA_RESOLUTION_S
        or abs(now[3] - said[3]) >= DALT_RESOLUTION_FT
    )


class AlertTracker:
    """Turns the conflicts of successive detections into alerts with hysteresis.

    >>> from deconfliction.domain.model import AircraftStates, Conflicts
    >>> import numpy as np
    >>> states = AircraftStates.from_columns(
    ...     ["A", "B"], [35.0, 35.0], [38.0, 38.1], [20000, 20000], [400, 400],
    ...     [90, 270], [0, 0], party=["blue", "red"])
    >>> one = Conflicts(np.array([0]), np.array([1]), np.array([40.0]),
    ...     np.array([0.1]), np.array([0.0]), np.array([0.0]), np.array([80.0]),
    ...     np.array([2]))
    >>> none = Conflicts(*(np.array([], dtype=a.dtype) for a in (
    ...     one.a_index, one.b_index, one.tcpa_s, one.dcpa_nm, one.dalt_ft_at_cpa,
    ...     one.tin_s, one.tout_s, one.level)))
    >>> tracker = AlertTracker(clear_after_s=10.0)
    >>> [e.kind.value for e in tracker.update(0.0, states, one)]
    ['raised']
    >>> [e.kind.value for e in tracker.update(5.0, states, none)]
    []
    >>> [e.kind.value for e in tracker.update(10.0, states, none)]
    ['cleared']
    """

    def __init__(self, clear_after_s: float) -> None:
        """Start with no alerts.

        Args:
            clear_after_s: an alert is cleared once its pair has not been in
                conflict for this long.

        Raises:
            ValueError: if ``clear_after_s`` is negative or not finite.
        """
        if not (math.isfinite(clear_after_s) and clear_after_s >= 0.0):
            raise ValueError(
                f"clear_after_s must be finite and >= 0, got {clear_after_s}"
            )
        self._clear_after_s = clear_after_s
        self._active: dict[tuple[str, str], Alert] = {}
        # The figures each active alert was last raised or updated with: a change
        # is judged against what was last said, so slow drift is said too.
        self._said: dict[tuple[str, str], tuple[int, float, float, float]] = {}
        # Restored alerts: from when this tracker has watched their pair.
        self._watched_from_t_s: dict[tuple[str, str], float] = {}
        self._last_t_s = -math.inf

    @property
    def clear_after_s(self) -> float:
        """How long a pair must be out of conflict before its alert is cleared."""
        return self._clear_after_s

    def active(self) -> list[Alert]:
        """The alerts not yet cleared, sorted by (first seen, id)."""
        return sorted(self._active.values(), key=lambda a: (a.first_seen_t_s, a.id))

    def restore(self, alerts: Iterable[Alert], t_s: float) -> None:
        """Take over alerts an earlier run left active, watching them from ``t_s``.

        A restored alert continues under its id, level and figures. Its pair must
        then be out of conflict for ``clear_after_s`` *as watched from* ``t_s`` to
        be cleared: the time between the earlier run's last detection and ``t_s``
        was not watched, so it never counts as out of conflict, and a restart
        clears nothing that did not clear in the sky.

        >>> import numpy as np
        >>> stored = Alert("A-B-90", "A", "B", "blue", "red", 90.0, 100.0,
        ...     AlertLevel.CONFLICT, AlertLevel.CONFLICT, 1.0, 1.0, 60.0, 0.0,
        ...     35.0, 38.0, 2e4, 35.0, 38.1, 2e4, 4)
        >>> tracker = AlertTracker(clear_after_s=10.0)
        >>> tracker.restore([stored], t_s=500.0)
        >>> [a.id for a in tracker.active()]
        ['A-B-90']
        >>> empty = AircraftStates.from_columns([], [], [], [], [], [], [], party=[])
        >>> none = Conflicts(*(np.zeros(0, dtype=t) for t in (
        ...     np.int64, np.int64, float, float, float, float, float, np.int64)))
        >>> tracker.update(505.0, empty, none)  # 405 s after its last detection
        []
        >>> [e.kind.value for e in tracker.update(510.0, empty, none)]
        ['cleared']

        Args:
            alerts: the alerts, as stored (``a_id < b_id``).
            t_s: the time this tracker starts watching; not earlier than its
                previous update.

        Raises:
            ValueError: if ``t_s`` is earlier than the previous update, an alert's
                pair is not in order, or a pair is already active here.
        """
        if t_s < self._last_t_s:
            raise ValueError(
                f"restore at {t_s} s is earlier than the previous update "
                f"({self._last_t_s} s)"
            )
        restored: dict[tuple[str, str], Alert] = {}
        for alert in alerts:
            key = (alert.a_id, alert.b_id)
            if not alert.a_id < alert.b_id:
                raise ValueError(f"alert {alert.id}: aircraft not in order a < b")
            if key in self._active or key in restored:
                raise ValueError(f"alert {alert.id}: its pair is already active")
            restored[key] = alert
        self._active.update(restored)
        self._said.update({key: _figures(a) for key, a in restored.items()})
        self._watched_from_t_s.update(dict.fromkeys(restored, t_s))
        self._last_t_s = t_s

    def update(
        self, t_s: float, states: AircraftStates, conflicts: Conflicts
    ) -> list[AlertEvent]:
        """Take the conflicts found in ``states`` at ``t_s``.

        Args:
            t_s: time of the detection; not earlier than the previous update.
            states: the snapshot the conflicts were detected in.
            conflicts: the conflicts, indexing into ``states``.

        Returns:
            The events of this update: raised and updated alerts in the order of
            ``conflicts``, then cleared ones sorted by id.

        Raises:
            ValueError: if ``t_s`` is earlier than the previous update, or a
                conflict indexes outside ``states``.
        """
        if t_s < self._last_t_s:
            raise ValueError(
                f"update at {t_s} s is earlier than the previous one "
                f"({self._last_t_s} s)"
            )
        n = len(states)
        if len(conflicts) and (
            int(max(conflicts.a_index.max(), conflicts.b_index.max())) >= n
            or int(min(conflicts.a_index.min(), conflicts.b_index.min())) < 0
        ):
            raise ValueError(f"a conflict indexes outside the {n} states given")
        self._last_t_s = t_s

        events: list[AlertEvent] = []
        seen: set[tuple[str, str]] = set()
        for k in range(len(conflicts)):
            ia, ib = int(conflicts.a_index[k]), int(conflicts.b_index[k])
            a_id, b_id = str(states.ids[ia]), str(states.ids[ib])
            if b_id < a_id:  # the contract says a < b; hold to it whatever comes in
                ia, ib, a_id, b_id = ib, ia, b_id, a_id
            key = (a_id, b_id)
            seen.add(key)
            level = AlertLevel(int(conflicts.level[k]))
            dcpa_nm = float(conflicts.dcpa_nm[k])
            before = self._active.get(key)
            alert = Alert(
                id=before.id if before else alert_id(a_id, b_id, t_s),
                a_id=a_id,
                b_id=b_id,
                party_a=before.party_a if before else str(states.party[ia]),
                party_b=before.party_b if before else str(states.party[ib]),
                first_seen_t_s=before.first_seen_t_s if before else t_s,
                last_seen_t_s=t_s,
                level=level,
                max_level=max(before.max_level, level) if before else level,
                dcpa_nm=dcpa_nm,
                min_dcpa_nm=min(before.min_dcpa_nm, dcpa_nm) if before else dcpa_nm,
                tcpa_s=float(conflicts.tcpa_s[k]),
                dalt_ft_at_cpa=float(conflicts.dalt_ft_at_cpa[k]),
                a_lat_deg=float(states.lat_deg[ia]),
                a_lon_deg=float(states.lon_deg[ia]),
                a_alt_ft=float(states.alt_ft[ia]),
                b_lat_deg=float(states.lat_deg[ib]),
                b_lon_deg=float(states.lon_deg[ib]),
                b_alt_ft=float(states.alt_ft[ib]),
                detections=before.detections + 1 if before else 1,
            )
            if before is None:
                events.append(AlertEvent(AlertEventKind.RAISED, t_s, alert))
                self._said[key] = _figures(alert)
            elif key not in self._said or _news(_figures(alert), self._said[key]):
                events.append(AlertEvent(AlertEventKind.UPDATED, t_s, alert))
                self._said[key] = _figures(alert)
            self._active[key] = alert
            self._watched_from_t_s.pop(key, None)

        cleared = [
            key
            for key, alert in self._active.items()
            if key not in seen
            and t_s
            - max(alert.last_seen_t_s, self._watched_from_t_s.get(key, -math.inf))
            >= self._clear_after_s
        ]
        for key in sorted(cleared, key=lambda k: self._active[k].id):
            self._watched_from_t_s.pop(key, None)
            self._said.pop(key, None)
            events.append(
                AlertEvent(AlertEventKind.CLEARED, t_s, self._active.pop(key))
            )
        return events

    def clear_all(self, t_s: float) -> list[AlertEvent]:
        """Clear every alert still active (at the end of a run).

        Returns:
            One ``cleared`` event per alert, sorted by (first seen, id).
        """
        events = [
            AlertEvent(AlertEventKind.CLEARED, t_s, alert) for alert in self.active()
        ]
        self._active.clear()
        self._said.clear()
        self._watched_from_t_s.clear()
        return events

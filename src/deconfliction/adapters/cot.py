"""Cursor-on-Target (CoT) XML events: read aircraft tracks and shapes, write tracks,
alerts, violations, zones and lines for TAK servers and clients.

Reading. A stream (a file, a TCP connection, UDP datagrams) is a sequence of
``<event>`` documents, each optionally with its own XML declaration. The stream is
cut into documents at ``</event>``; each document is parsed with defusedxml's
hardened expat parser (no DTD, no entity declarations, no external references:
entity-expansion attacks are refused), and a document larger than
:data:`MAX_EVENT_BYTES` is refused before any parsing. A bad document is counted and
skipped; the events around it are kept. For speed, the documents of one read are
parsed in one pass, and one by one only when that pass fails.

An event is an aircraft track when its type is an atom in the air (``a-?-A...``):
``uid`` is the track id, ``time`` its time, ``point`` its position (``hae`` in
metres, 9999999 for unknown), ``detail/track`` its course (deg) and speed (m/s),
``detail/contact@callsign`` its callsign, ``detail/_aircot_@icao`` (as written by
ADS-B-to-CoT gateways) its ICAO address. An event whose ``stale`` is not after its
``time`` marks the end of what it described: such a track event gives no position.

Writing. Aircraft are atoms ``a-<affiliation>-A``: ``f`` (friend) for the own
party's aircraft and, for everyone else's, :attr:`CotOptions.other_affiliation`,
``u`` (unknown) by default, or ``n`` (neutral): never ``h`` (hostile) unless a
configuration says so. Alerts and violations are points of interest
(``b-m-p-s-p-i``) at the pair's midpoint or the deepest point; zones and lines are
drawn shapes (``u-d-f``, with ``link`` vertices). Every event the writer makes
carries a ``__deconfliction`` detail with its facts, so it reads back. An alert that
clears, or a violation that closes, is sent once more with ``stale`` equal to
``time``: TAK clients then drop it.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from deconfliction.adapters.track_stream import (
    COT_AFFILIATIONS,
    PartyRules,
    ReadStats,
    TrackRecord,
    icao24_of,
    parse_rfc3339_s,
    rfc3339_ms,
)
from deconfliction.domain.alert_tracker import Alert
from deconfliction.domain.conformance import Violation
from deconfliction.domain.protocol import DeconflictionLine, Zone
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


# --------------------------------------------------------------------------------------
# Framing and parsing


class _Collector:
    """Expat callbacks that keep only what an event needs (no tree is built).

    Only element starts are handled (each callback costs): an ``event`` start
    begins a new event, and the text of ``remarks`` is collected until the next
    element starts, by switching the text callback on and off.
    """

    __slots__ = ("current", "events", "expat", "remarks")

    def __init__(self, expat: Any) -> None:
        self.expat = expat
        self.events: list[dict[str, Any]] = []
        self.current: dict[str, Any] = {}
        self.remarks: list[str] | None = None

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if self.remarks is not None:
            self.current["remarks"] = "".join(self.remarks).strip()
            self.remarks = None
            self.expat.CharacterDataHandler = None
        if tag == "event":
            self.current = {"event": attrs}
            self.events.append(self.current)
            return
        cur = self.current
        if tag == "point":
            cur.setdefault("point", attrs)
        elif tag in ("contact", "track", "_aircot_", DETAIL_TAG):
            cur.setdefault(tag, attrs)
        elif tag == "link":
            if "point" in attrs:
                cur.setdefault("links", []).append(attrs["point"])
        elif tag == "remarks" and self.events:
            self.remarks = []
            self.expat.CharacterDataHandler = self.remarks.append

    def finish(self) -> None:
        if self.remarks is not None:
            self.current["remarks"] = "".join(self.remarks).strip()
            self.remarks = None


def _parse(document: bytes) -> list[dict[str, Any]]:
    """Parse with defusedxml's hardened expat; raises on malformed or hostile XML."""
    from defusedxml.ElementTree import (  # type: ignore[import-untyped]
        DefusedXMLParser,
    )

    defused = DefusedXMLParser(
        forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    expat = defused.parser
    collector = _Collector(expat)
    # defusedxml installed its DTD, entity and external-reference guards on this
    # expat parser; only the element callbacks are replaced, to skip the tree.
    expat.ordered_attributes = False
    expat.StartElementHandler = collector.start
    expat.EndElementHandler = None
    expat.CharacterDataHandler = None
    # Without a DTD expat itself refuses an undefined entity; ElementTree's
    # default handler (a Python call for every piece of text) is not needed.
    expat.DefaultHandlerExpand = None
    expat.Parse(document, True)
    collector.finish()
    return collector.events


def _why(exc: Exception) -> tuple[str, str]:
    from defusedxml import DefusedXmlException  # type: ignore[import-untyped]

    if isinstance(exc, DefusedXmlException):
        return "hostile XML", f"{type(exc).__name__}: {exc}"
    return "malformed XML", str(exc)[:200]


_DECLARATION_RE = re.compile(rb"<\?xml[^<>]*\?>\s*")
_DOCTYPE_RE = re.compile(rb"<!DOCTYPE\s[^\[<>]*(\[.*\])?\s*>\s*", re.DOTALL)


def _prolog_start(region: bytes) -> int:
    """Where the document before an ``<event`` starts within ``region``.

    At a complete DOCTYPE right before the event (kept, so that the parser refuses
    it as hostile: entity attacks need one), with the XML declaration before it;
    else at a complete XML declaration right before the event; else at the event.
    Anything earlier is junk between events.
    """
    doctype = region.rfind(b"<!DOCTYPE")
    if doctype >= 0 and _DOCTYPE_RE.fullmatch(region, doctype):
        declaration = region.rfind(b"<?xml", 0, doctype)
        if declaration >= 0 and _DECLARATION_RE.fullmatch(region, declaration, doctype):
            return declaration
        return doctype
    declaration = region.rfind(b"<?xml")
    if declaration >= 0 and _DECLARATION_RE.fullmatch(region, declaration):
        return declaration
    return len(region)


class CotFramer:
    """Cuts a byte stream into event documents at ``</event>``."""

    _END = b"</event>"

    def __init__(self) -> None:
        self._buf = b""
        self._skipping = False

    def feed(self, data: bytes) -> list[bytes | tuple[str, str]]:
        """In stream order: complete documents, and (reason, message) problems for
        what had to be cut away."""
        buf = self._buf + data
        out: list[bytes | tuple[str, str]] = []
        pos = 0
        if self._skipping:
            # Inside a refused oversized event: resume at its end or at the next
            # event, whichever comes first.
            end = buf.find(self._END)
            start = buf.find(b"<event")
            if end < 0 and start < 0:
                self._buf = buf[-16:]
                return out
            if start >= 0 and (end < 0 or start < end):
                pos = start
            else:
                pos = end + len(self._END)
            self._skipping = False
        while True:
            end = buf.find(self._END, pos)
            if end < 0:
                break
            stop = end + len(self._END)
            doc_start = buf.rfind(b"<event", pos, end)
            if doc_start < 0:
                out.append(("malformed XML", "</event> without <event"))
                pos = stop
                continue
            doc_start = pos + _prolog_start(buf[pos:doc_start])
            junk = buf[pos:doc_start]
            if junk.strip():
                out.append(
                    (
                        "malformed XML",
                        f"{len(junk)} bytes between events: {junk[:40]!r}",
                    )
                )
            if stop - doc_start > MAX_EVENT_BYTES:
                out.append(
                    ("event too large", f"{stop - doc_start} bytes > {MAX_EVENT_BYTES}")
                )
            else:
                out.append(buf[doc_start:stop])
            pos = stop
        rest = buf[pos:]
        if len(rest) > MAX_EVENT_BYTES:
            out.append(
                (
                    "event too large",
                    f"more than {MAX_EVENT_BYTES} bytes without </event>",
                )
            )
            self._skipping = True
            rest = rest[-16:]
        self._buf = rest
        return out

    def remainder(self) -> bytes:
        """What is left unframed (cleared)."""
        rest, self._buf = self._buf, b""
        skipping, self._skipping = self._skipping, False
        return b"" if skipping else rest


class CotDecoder:
    """Decodes a CoT byte stream into events, and air tracks into positions.

    Args:
        source: the file or feed name, for problems.
        rules: party rules applied to each position (by affiliation, uid, ...).
    """

    def __init__(self, source: str = "<cot>", rules: PartyRules | None = None) -> None:
        self.stats = ReadStats(source=source)
        self.rules = rules or PartyRules()
        self.framer = CotFramer()
        self.event_no = 0
        self._times: dict[str, float] = {}

    # -- events --------------------------------------------------------------------

    def _reject(self, reason: str, message: str, field_name: str = "") -> None:
        self.stats.read += 1
        self.event_no += 1
        self.stats.reject(reason, self.event_no, field_name, message)

    def _documents(self, docs: list[bytes]) -> list[tuple[int, dict[str, Any]]]:
        """Raw events with their number in the stream; bad documents counted."""
        out: list[tuple[int, dict[str, Any]]] = []
        batchable = [
            b"<!" not in d and (not d.startswith(b"<?xml") or b"?>" in d) for d in docs
        ]
        if len(docs) > 1 and all(batchable):
            body = b"".join(
                d[d.index(b"?>") + 2 :] if d.startswith(b"<?xml") else d for d in docs
            )
            try:
                raw = _parse(b"<batch>" + body + b"</batch>")
            except Exception:
                raw = None
            if raw is not None and len(raw) == len(docs):
                for event in raw:
                    self.stats.read += 1
                    self.event_no += 1
                    out.append((self.event_no, event))
                return out
        for doc in docs:
            try:
                raw = _parse(doc)
            except Exception as exc:
                reason, message = _why(exc)
                self._reject(reason, message)
                continue
            if len(raw) != 1:
                self._reject("malformed XML", "the document is not one <event>")
                continue
            self.stats.read += 1
            self.event_no += 1
            out.append((self.event_no, raw[0]))
        return out

    def _time(self, text: str | None) -> float | None:
        if text is None:
            return None
        value = self._times.get(text)
        if value is None:
            try:
                value = parse_rfc3339_s(text)
            except ValueError:
                return None
            if len(self._times) >= _TIME_CACHE_MAX:
                self._times.clear()
            self._times[text] = value
        return value

    def _event(self, number: int, raw: dict[str, Any]) -> CotEvent | None:
        """A valid event from raw attributes, or None (counted as rejected)."""
        stats = self.stats
        attrs = raw["event"]
        uid = attrs.get("uid", "").strip()
        cot_type = attrs.get("type", "").strip()
        point = raw.get("point")
        for name, present in (("uid", uid), ("type", cot_type), ("point", point)):
            if not present:
                stats.reject("missing field", number, name, f"the event has no {name}")
                return None
        times: list[float] = []
        for name in ("time", "start", "stale"):
            t = self._time(attrs.get(name))
            if t is None:
                stats.reject(
                    "bad time", number, name, repr(attrs.get(name, "(missing)")[:40])
                )
                return None
            times.append(t)
        numbers: dict[str, float] = {}
        assert point is not None
        for name in ("lat", "lon", "hae", "ce", "le"):
            text = point.get(name)
            if text is None:
                if name in ("lat", "lon"):
                    stats.reject("missing field", number, f"point.{name}", "absent")
                    return None
                numbers[name] = math.nan
                continue
            try:
                value = float(text)
            except ValueError:
                stats.reject("bad number", number, f"point.{name}", repr(text[:20]))
                return None
            if not math.isfinite(value):
                stats.reject("bad number", number, f"point.{name}", repr(text[:20]))
                return None
            numbers[name] = math.nan if value >= UNKNOWN_M else value
        if not (-90.0 <= numbers["lat"] <= 90.0 and -180.0 <= numbers["lon"] <= 180.0):
            stats.reject(
                "impossible value",
                number,
                "point",
                f"lat {numbers['lat']:g}, lon {numbers['lon']:g}",
            )
            return None
        course = speed = math.nan
        track = raw.get("track")
        if track is not None:
            try:
                course = float(track.get("course", "nan"))
                speed = float(track.get("speed", "nan"))
            except ValueError:
                stats.reject("bad number", number, "detail.track", repr(track)[:60])
                return None
            if not (math.isnan(course) or 0.0 <= course <= 360.0) or not (
                math.isnan(speed) or 0.0 <= speed <= 2000.0
            ):
                stats.reject(
                    "impossible value",
                    number,
                    "detail.track",
                    f"course {course:g}, speed {speed:g} m/s",
                )
                return None
        lats: list[float] = []
        lons: list[float] = []
        for text in raw.get("links", ()):
            parts = text.split(",")
            try:
                lat, lon = float(parts[0]), float(parts[1])
            except (ValueError, IndexError):
                stats.reject("bad number", number, "detail.link.point", repr(text[:40]))
                return None
            if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
                stats.reject("impossible value", number, "detail.link.point", text[:40])
                return None
            lats.append(lat)
            lons.append(lon)
        contact = raw.get("contact") or {}
        aircot = raw.get("_aircot_") or {}
        callsign = (contact.get("callsign") or aircot.get("flight") or "").strip()
        icao = icao24_of(aircot.get("icao"))
        if icao is None and uid.upper().startswith("ICAO-"):
            icao = icao24_of(uid[5:])
        facts = raw.get(DETAIL_TAG) or {}
        if icao is None:
            icao = icao24_of(facts.get("icao24"))
        return CotEvent(
            uid=uid,
            type=cot_type,
            how=attrs.get("how", ""),
            t_s=times[0],
            start_t_s=times[1],
            stale_t_s=times[2],
            lat_deg=numbers["lat"],
            lon_deg=numbers["lon"],
            hae_m=numbers["hae"],
            ce_m=numbers["ce"],
            le_m=numbers["le"],
            callsign=callsign or None,
            course_deg=course,
            speed_mps=speed,
            icao24=icao,
            remarks=raw.get("remarks"),
            link_lat_deg=tuple(lats),
            link_lon_deg=tuple(lons),
            facts=dict(facts),
        )

    def _raw_events(self, data: bytes) -> list[tuple[int, dict[str, Any]]]:
        """Parsed events completed by ``data``, in order; bad documents counted."""
        out: list[tuple[int, dict[str, Any]]] = []
        run: list[bytes] = []
        for item in [*self.framer.feed(data), None]:
            if isinstance(item, bytes):
                run.append(item)
                continue
            out.extend(self._documents(run))
            run = []
            if item is not None:
                self._reject(*item)
        return out

    def feed_events(self, data: bytes) -> list[CotEvent]:
        """Every valid event completed by ``data`` (each counted as accepted)."""
        events = []
        for number, raw in self._raw_events(data):
            event = self._event(number, raw)
            if event is not None:
                events.append(event)
        self.stats.accepted += len(events)
        return events

    # -- tracks --------------------------------------------------------------------

    def _fast_track(self, raw: dict[str, Any]) -> TrackRecord | None:
        """The common case, a valid live air track, quickly; None for anything else
        (which then goes through :meth:`_event`, with its precise problems)."""
        attrs = raw["event"]
        cot_type = attrs.get("type")
        uid = attrs.get("uid")
        point = raw.get("point")
        if not cot_type or not uid or point is None or "links" in raw:
            return None
        # An air atom: "a-" + one affiliation letter + "-A", then "-..." or nothing.
        if cot_type[:2] != "a-" or cot_type[3:5] != "-A" or cot_type[5:6] not in "-":
            return None
        times = self._times
        time_text = attrs.get("time")
        stale_text = attrs.get("stale")
        start_text = attrs.get("start")
        t_s = times.get(time_text) if time_text else None
        if t_s is None:
            t_s = self._time(time_text)
        stale_t_s = times.get(stale_text) if stale_text else None
        if stale_t_s is None:
            stale_t_s = self._time(stale_text)
        if (
            t_s is None
            or stale_t_s is None
            or stale_t_s <= t_s
            or (start_text not in times and self._time(start_text) is None)
        ):
            return None
        try:
            lat = float(point["lat"])
            lon = float(point["lon"])
            hae = float(point.get("hae", UNKNOWN_M))
            float(point.get("ce", 0.0))
            float(point.get("le", 0.0))
            track = raw.get("track")
            course = speed = math.nan
            if track is not None:
                course = float(track.get("course", "nan"))
                speed = float(track.get("speed", "nan"))
        except (KeyError, ValueError):
            return None
        if not (
            -90.0 <= lat <= 90.0
            and -180.0 <= lon <= 180.0
            and math.isfinite(hae)
            and (math.isnan(course) or 0.0 <= course <= 360.0)
            and (math.isnan(speed) or 0.0 <= speed <= 2000.0)
        ):
            return None
        contact = raw.get("contact")
        callsign = contact.get("callsign", "").strip() if contact else ""
        aircot = raw.get("_aircot_")
        facts = raw.get(DETAIL_TAG)
        if aircot is not None or (facts and facts.get("kind") != "track"):
            return None  # rarer forms: the full path
        ident = uid.strip()
        party = None
        vs_fpm = math.nan
        icao = None
        if facts:
            ident = facts.get("id") or ident
            party = facts.get("party") or None
            icao = icao24_of(facts.get("icao24"))
            try:
                vs_fpm = float(facts.get("vs_fpm", "nan"))
            except ValueError:
                return None
        elif ident[:5].upper() == "ICAO-":
            icao = icao24_of(ident[5:])
        return TrackRecord(
            ident,
            t_s,
            lat,
            lon,
            hae / M_PER_FT if hae < UNKNOWN_M else math.nan,
            speed / MPS_PER_KT,
            course % 360.0,
            vs_fpm,
            callsign or None,
            icao,
            None,
            SOURCE_NAME,
            party,
            cot_type,
        )

    def feed(self, data: bytes) -> list[TrackRecord]:
        """The air-track positions completed by ``data``; other events are ignored."""
        out: list[TrackRecord] = []
        stats = self.stats
        rules = self.rules
        for number, raw in self._raw_events(data):
            record = self._fast_track(raw)
            if record is None:
                event = self._event(number, raw)
                if event is None:
                    continue
                if not event.is_air_track:
                    stats.ignore("not an aircraft track")
                    continue
                if event.is_stale:
                    stats.ignore("stale event (track ended)")
                    continue
                record = event.track_record()
            stats.accepted += 1
            stats.positions += 1
            out.append(rules.apply(record))
        return out

    def feed_datagram(self, data: bytes) -> list[TrackRecord]:
        """One UDP datagram: whole events only; a partial one is counted and dropped."""
        out = self.feed(data)
        self.reset_stream()
        return out

    def reset_stream(self) -> None:
        """The connection dropped (or a datagram ended): a partial event is lost."""
        if self.framer.remainder().strip():
            self._reject("truncated event", "the stream ended inside an event")

    def finish(self) -> list[TrackRecord]:
        """End of input: a partial event is counted as truncated."""
        self.reset_stream()
        return []


# --------------------------------------------------------------------------------------
# Writing


@dataclass(frozen=True, slots=True)
class CotOptions:
    """How events are written.

    Attributes:
        own_party: the party whose picture this is: its aircraft are friends.
        other_affiliation: the affiliation letter of every other party's aircraft
            (and of aircraft of no known party): ``u`` unknown by default, ``n``
            neutral; ``h`` (hostile) only when configured so on purpose.
        uid_prefix: first part of every uid written.
        track_stale_s: how long a track event stays valid.
        marker_stale_s: how long an active alert or violation event stays valid
            (it is re-sent while active).
        shape_stale_s: how long a zone or line event stays valid.
    """

    own_party: str | None = None
    other_affiliation: str = "u"
    uid_prefix: str = "DCF"
    track_stale_s: float = 60.0
    marker_stale_s: float = 120.0
    shape_stale_s: float = 86400.0

    def __post_init__(self) -> None:
        if self.other_affiliation not in COT_AFFILIATIONS:
            raise ValueError(
                "other_affiliation must be one of "
                f"{''.join(sorted(COT_AFFILIATIONS))}, got {self.other_affiliation!r}"
            )

    @classmethod
    def from_rules(cls, rules: PartyRules, own_party: str | None) -> CotOptions:
        """Options with the affiliation the party rules file sets."""
        return cls(own_party=own_party, other_affiliation=rules.cot_other_affiliation)


def _num(value: float, decimals: int) -> str:
    if not math.isfinite(value):
        return f"{UNKNOWN_M:.1f}"
    return f"{value:.{decimals}f}"


def _event(
    uid: str,
    cot_type: str,
    t_s: float,
    stale_t_s: float,
    lat_deg: float,
    lon_deg: float,
    hae_m: float = math.nan,
    how: str = "m-g",
) -> tuple[ET.Element, ET.Element]:
    stamp = rfc3339_ms(t_s)
    event = ET.Element(
        "event",
        {
            "version": "2.0",
            "uid": uid,
            "type": cot_type,
            "how": how,
            "time": stamp,
            "start": stamp,
            "stale": rfc3339_ms(stale_t_s),
        },
    )
    ET.SubElement(
        event,
        "point",
        {
            "lat": _num(lat_deg, 7),
            "lon": _num(lon_deg, 7),
            "hae": _num(hae_m, 1),
            "ce": _num(math.nan, 1),
            "le": _num(math.nan, 1),
        },
    )
    detail = ET.SubElement(event, "detail")
    return event, detail


def _facts(detail: ET.Element, facts: Mapping[str, Any]) -> None:
    ET.SubElement(
        detail,
        DETAIL_TAG,
        {k: _fact(v) for k, v in facts.items() if v is not None},
    )


def _fact(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(round(value, 6)) if math.isfinite(value) else ""
    return str(value)


def to_bytes(event: ET.Element) -> bytes:
    """One event as a document (with its XML declaration), ready to send."""
    body: bytes = ET.tostring(event, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body + b"\n"


def affiliation_of(party: str | None, options: CotOptions) -> str:
    """``f`` for the own party's aircraft, the configured letter for the others'.

    >>> affiliation_of("russia", CotOptions(own_party="coalition"))
    'u'
    >>> affiliation_of("coalition", CotOptions(own_party="coalition"))
    'f'
    """
    if options.own_party is not None and party == options.own_party:
        return "f"
    return options.other_affiliation


def track_event(record: TrackRecord, options: CotOptions) -> ET.Element:
    """An aircraft position as an ``a-?-A`` atom."""
    party = record.party
    uid = f"{options.uid_prefix}-{party or 'unknown'}-{record.id}"
    hae_m = record.alt_ft * M_PER_FT
    event, detail = _event(
        uid,
        f"a-{affiliation_of(party, options)}-A",
        record.t_s,
        record.t_s + options.track_stale_s,
        record.lat_deg,
        record.lon_deg,
        hae_m,
    )
    ET.SubElement(detail, "contact", {"callsign": record.callsign or record.id})
    if not (math.isnan(record.trk_deg) or math.isnan(record.gs_kt)):
        ET.SubElement(
            detail,
            "track",
            {
                "course": f"{record.trk_deg:.1f}",
                "speed": f"{record.gs_kt * MPS_PER_KT:.2f}",
            },
        )
    _facts(
        detail,
        {
            "kind": "track",
            "id": record.id,
            "party": party,
            "icao24": record.icao24,
            "vs_fpm": record.vs_fpm if not math.isnan(record.vs_fpm) else None,
        },
    )
    return event


def _midpoint(
    lat1_deg: float, lon1_deg: float, lat2_deg: float, lon2_deg: float
) -> tuple[float, float]:
    dlon = lon2_deg - lon1_deg
    if dlon > 180.0:
        dlon -= 360.0
    elif dlon < -180.0:
        dlon += 360.0
    lon = lon1_deg + dlon / 2.0
    if lon > 180.0:
        lon -= 360.0
    elif lon < -180.0:
        lon += 360.0
    return (lat1_deg + lat2_deg) / 2.0, lon


def alert_event(
    alert: Alert, t_s: float, options: CotOptions, *, cleared: bool = False
) -> ET.Element:
    """A conflict alert as a point of interest between the two aircraft.

    Args:
        alert: the alert as it stands.
        t_s: the time of this update.
        options: writing options.
        cleared: the alert has cleared: the event is marked stale at once.
    """
    from deconfliction.adapters.result_files import conflict_record

    lat, lon = _midpoint(
        alert.a_lat_deg, alert.a_lon_deg, alert.b_lat_deg, alert.b_lon_deg
    )
    level = alert.level.label
    event, detail = _event(
        f"{options.uid_prefix}-alert-{alert.id}",
        _AIR_POI_TYPE,
        t_s,
        t_s if cleared else t_s + options.marker_stale_s,
        lat,
        lon,
        max(alert.a_alt_ft, alert.b_alt_ft) * M_PER_FT,
    )
    state = "cleared" if cleared else level
    ET.SubElement(
        detail, "contact", {"callsign": f"{state.upper()} {alert.a_id}/{alert.b_id}"}
    )
    ET.SubElement(detail, "remarks").text = (
        f"{level} conflict {alert.a_id} ({alert.party_a}) / {alert.b_id} "
        f"({alert.party_b}): miss {alert.dcpa_nm:.2f} NM and "
        f"{alert.dalt_ft_at_cpa:.0f} ft in {alert.tcpa_s:.0f} s"
        + (" - cleared" if cleared else "")
    )
    ET.SubElement(detail, "color", {"argb": _LEVEL_ARGB.get(level, "-256")})
    facts: dict[str, Any] = {"kind": "alert", "cleared": cleared}
    facts.update(conflict_record(alert))
    _facts(detail, facts)
    return event


_LEVEL_ARGB: dict[str, str] = {
    "conflict": "-256",  # yellow
    "advisory": "-23296",  # amber
    "warning": "-65536",  # red
}


def violation_event(
    violation: Violation, t_s: float, options: CotOptions
) -> ET.Element:
    """A line or zone violation as a point of interest at its deepest point; a
    closed violation is marked stale at once."""
    from deconfliction.adapters.result_files import violation_record

    v = violation
    closed = not v.is_open
    event, detail = _event(
        f"{options.uid_prefix}-violation-{v.aircraft_id}-{v.boundary_id}-"
        f"{int(v.entry_t_s)}",
        _AIR_POI_TYPE,
        t_s,
        t_s if closed else t_s + options.marker_stale_s,
        v.deepest_lat_deg,
        v.deepest_lon_deg,
        v.deepest_alt_ft * M_PER_FT,
    )
    ET.SubElement(
        detail,
        "contact",
        {"callsign": f"{'CLOSED' if closed else 'VIOLATION'} {v.aircraft_id}"},
    )
    ET.SubElement(detail, "remarks").text = (
        f"{v.kind.value} violation of {v.boundary_id} by {v.aircraft_id} ({v.party}): "
        f"{v.max_depth_nm:.1f} NM deep, {v.duration_s:.0f} s"
        + (" - closed" if closed else "")
    )
    ET.SubElement(detail, "color", {"argb": "-65536"})
    facts: dict[str, Any] = {"kind": "violation", "closed": closed}
    facts.update(violation_record(v))
    _facts(detail, facts)
    return event


def _shape(
    uid: str,
    lat_deg: tuple[float, ...],
    lon_deg: tuple[float, ...],
    t_s: float,
    options: CotOptions,
    name: str,
    closed: bool,
    facts: Mapping[str, Any],
) -> ET.Element:
    center_lat = sum(lat_deg) / len(lat_deg)
    center_lon = sum(lon_deg) / len(lon_deg)
    event, detail = _event(
        uid,
        _SHAPE_TYPE,
        t_s,
        t_s + options.shape_stale_s,
        center_lat,
        center_lon,
        how="h-e",
    )
    ET.SubElement(detail, "contact", {"callsign": name})
    points = list(zip(lat_deg, lon_deg, strict=True))
    if closed and points and points[0] != points[-1]:
        points.append(points[0])
    for lat, lon in points:
        ET.SubElement(detail, "link", {"point": f"{lat:.7f},{lon:.7f}"})
    ET.SubElement(detail, "strokeColor", {"value": "-16776961"})  # blue
    ET.SubElement(detail, "strokeWeight", {"value": "3.0"})
    if closed:
        ET.SubElement(detail, "fillColor", {"value": "1140850943"})  # translucent blue
    ET.SubElement(detail, "labels_on", {"value": "true"})
    _facts(detail, facts)
    return event


def zone_event(zone: Zone, t_s: float, options: CotOptions) -> ET.Element:
    """A zone as a closed drawn shape."""
    return _shape(
        f"{options.uid_prefix}-zone-{zone.id}",
        zone.lat_deg,
        zone.lon_deg,
        t_s,
        options,
        zone.name,
        True,
        {
            "kind": "zone",
            "id": zone.id,
            "owner": zone.owner,
            "floor_ft": zone.floor_ft if math.isfinite(zone.floor_ft) else None,
            "ceiling_ft": zone.ceiling_ft if math.isfinite(zone.ceiling_ft) else None,
        },
    )


def line_event(line: DeconflictionLine, t_s: float, options: CotOptions) -> ET.Element:
    """A deconfliction line as an open drawn shape."""
    return _shape(
        f"{options.uid_prefix}-line-{line.id}",
        line.lat_deg,
        line.lon_deg,
        t_s,
        options,
        line.name,
        False,
        {
            "kind": "line",
            "id": line.id,
            "buffer_nm": line.buffer_nm,
            "sides": ";".join(f"{p}={s.value}" for p, s in sorted(line.sides.items())),
        },
    )


def marker_event(
    uid: str,
    t_s: float,
    stale_t_s: float,
    lat_deg: float,
    lon_deg: float,
    alt_ft: float,
    callsign: str,
    remarks: str,
    argb: str,
    facts: Mapping[str, Any],
) -> ET.Element:
    """A point of interest (an alert or a violation as the server's stream shows it);
    a ``stale_t_s`` equal to ``t_s`` withdraws it at once.

    >>> e = marker_event("DCF-x", 0.0, 60.0, 35.0, 39.0, 25000.0, "WARNING", "r",
    ...                  "-65536", {"kind": "alert"})
    >>> e.get("type"), e.find("point").get("lat")
    ('b-m-p-s-p-i', '35.0000000')
    """
    event, detail = _event(
        uid, _AIR_POI_TYPE, t_s, stale_t_s, lat_deg, lon_deg, alt_ft * M_PER_FT
    )
    ET.SubElement(detail, "contact", {"callsign": callsign})
    ET.SubElement(detail, "remarks").text = remarks
    ET.SubElement(detail, "color", {"argb": argb})
    _facts(detail, facts)
    return event

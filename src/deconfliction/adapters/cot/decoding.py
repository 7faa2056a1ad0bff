"""Decoding: :class:`CotDecoder` turns a stream (or datagrams) into tracks."""

from __future__ import annotations

import math
import re
from typing import Any

from deconfliction.adapters.cot.events import (
    _TIME_CACHE_MAX,
    DETAIL_TAG,
    MAX_EVENT_BYTES,
    SOURCE_NAME,
    UNKNOWN_M,
    CotEvent,
)
from deconfliction.adapters.cot.framing import (
    _DTD_FIRST_RE,
    CotFramer,
    _parse,
    _why,
)
from deconfliction.adapters.cot.layouts import (
    _DOC_GROUP,
    _LAYOUT_DECLARATION_RE,
    _LAYOUT_MAX_BYTES,
    _LAYOUTS_ACTIVE,
    _LAYOUTS_LEARNED_MAX,
    _Entry,
    _is_plain_utf8,
    _Layout,
    _layout_pattern,
)
from deconfliction.adapters.track_stream import (
    PartyRules,
    ReadStats,
    TrackRecord,
    icao24_of,
)
from deconfliction.timetext import parse_rfc3339_s
from deconfliction.units import M_PER_FT, MPS_PER_KT


class CotDecoder:
    """Decodes a CoT byte stream into events, and air tracks into positions.

    Every event is checked as the hardened parser would: an event of a layout
    already seen (the same elements and attributes in the same order) is read
    by that layout's regular expression, which admits only plain, well-formed XML
    (see the comment above :class:`_Layout`); anything else is parsed by
    defusedxml.

    Args:
        source: the file or feed name, for problems.
        rules: party rules applied to each position (by affiliation, uid, ...).
        learn_layouts: False parses every event with defusedxml (slower; the
            results are the same).
    """

    def __init__(
        self,
        source: str = "<cot>",
        rules: PartyRules | None = None,
        *,
        learn_layouts: bool = True,
    ) -> None:
        self.stats = ReadStats(source=source)
        self.rules = rules or PartyRules()
        self.framer = CotFramer()
        self.event_no = 0
        self._times: dict[str, float] = {}
        self._byte_times: dict[bytes, float] = {}
        self._icao24s: dict[bytes, str] = {}
        self._air_types: dict[bytes, str] = {}
        self._layouts: list[_Layout] = []
        self._patterns: dict[bytes, _Layout] = {}
        self._learnable = _LAYOUTS_LEARNED_MAX if learn_layouts else 0

    # -- events --------------------------------------------------------------------

    def _reject(self, reason: str, message: str, field_name: str = "") -> None:
        self.stats.read += 1
        self.event_no += 1
        self.stats.reject(reason, self.event_no, field_name, message)

    def _documents(self, docs: list[tuple[int, bytes]], out: list[_Entry]) -> None:
        """Parse numbered documents into raw events onto ``out``; bad ones counted."""
        # A batch is read as UTF-8 without declarations: only documents that mean
        # the same so (no declaration, or version 1.0 in UTF-8) and have no DTD.
        bodies = []
        for _, d in docs:
            declaration = _LAYOUT_DECLARATION_RE.match(d)
            if (declaration is None and d.startswith(b"<?")) or b"<!" in d:
                break
            bodies.append(d[declaration.end() :] if declaration else d)
        if len(docs) > 1 and len(bodies) == len(docs):
            body = b"".join(bodies)
            try:
                raw = _parse(b"<batch>" + body + b"</batch>")
            except Exception:
                raw = None
            if raw is not None and len(raw) == len(docs):
                out.extend(
                    (n, None, event) for (n, _), event in zip(docs, raw, strict=True)
                )
                return
        reject = self.stats.reject
        for number, doc in docs:
            if _DTD_FIRST_RE.match(doc):
                reject(
                    "hostile XML",
                    number,
                    "",
                    "a DOCTYPE: DTDs and entity declarations are refused unparsed",
                )
                continue
            try:
                raw = _parse(doc)
            except Exception as exc:
                reason, message = _why(exc)
                reject(reason, number, "", message)
                continue
            if len(raw) != 1:
                reject("malformed XML", number, "", "the document is not one <event>")
                continue
            out.append((number, None, raw[0]))

    def _learn(
        self, buf: bytes, stop: int, doc: bytes
    ) -> tuple[_Layout, re.Match[bytes]] | None:
        """Learn the layout of ``doc`` (ending at ``stop`` in ``buf``) when it is a
        plain, well-formed event: the layout and its match of ``doc``, or None."""
        declarations = 1 if doc.startswith(b"<?xml") else 0
        if (
            len(doc) > _LAYOUT_MAX_BYTES
            or b"&" in doc
            or b"<!" in doc
            or doc.count(b"<?") > declarations
        ):
            return None
        self._learnable -= 1
        try:
            events = _parse(doc)
        except Exception:
            return None
        if len(events) != 1:
            return None
        learned = _layout_pattern(doc)
        if learned is None:
            return None
        pattern, plan = learned
        layout = self._patterns.get(pattern)
        if layout is None:
            layout = self._patterns[pattern] = _Layout(re.compile(pattern), plan)
        match = layout.match(buf, stop - len(doc))
        if match is None or match.end() != stop:
            return None
        self._layouts.insert(0, layout)
        del self._layouts[_LAYOUTS_ACTIVE:]
        return layout, match

    def _scan(self, data: bytes) -> tuple[list[_Entry], bool]:
        """Frame ``data`` into numbered entries, in stream order, and whether all
        are layout hits."""
        framer = self.framer
        buf, pos = framer.begin(data)
        start = pos
        entries: list[_Entry] = []
        framed: list[Any] = []
        layouts = self._layouts
        number = self.event_no
        hits = others = 0
        # A layout is tried only where an event can end in the buffer: a partial
        # event arriving in small pieces is not scanned again at each piece.
        last_end = buf.rfind(b"</event>")
        layout = layouts[0] if layouts else None
        while True:
            match = None
            if pos < last_end and layout is not None:
                # The layout of the last event first: a producer repeats itself.
                match = layout.match(buf, pos)
                if match is None:
                    for other in layouts[1:]:
                        match = other.match(buf, pos)
                        if match is not None:
                            layouts.remove(other)
                            layouts.insert(0, other)
                            layout = other
                            break
            if match is not None and (
                match.end() - pos <= MAX_EVENT_BYTES
                or match.end(_DOC_GROUP) - match.start(_DOC_GROUP) <= MAX_EVENT_BYTES
            ):
                number += 1
                entries.append((number, layout, match))
                hits += 1
                pos = match.end()
                continue
            stop = framer.step(buf, pos, framed)
            if stop < 0:
                break
            for item in framed:
                number += 1
                if type(item) is bytes:
                    hit = self._learn(buf, stop, item) if self._learnable > 0 else None
                    if hit is not None:
                        entries.append((number, *hit))
                        hits += 1
                        layout = layouts[0]
                        continue
                    entries.append((number, None, item))
                else:
                    entries.append((number, *item))
                others += 1
            framed.clear()
            pos = stop
        framer.keep(buf, pos, framed)
        for item in framed:  # an oversized rest
            number += 1
            entries.append((number, *item))
            others += 1
        self.stats.read += number - self.event_no
        self.event_no = number
        if hits and not _is_plain_utf8(buf[start:pos]):
            # Some bytes are not UTF-8 (or not XML characters): the hits with any
            # such byte go to the parser, which reports them.
            for k, (number, layout, match) in enumerate(entries):
                if type(layout) is _Layout:
                    doc = match.group(_DOC_GROUP)
                    if not _is_plain_utf8(doc):
                        entries[k] = (number, None, doc)
                        others += 1
        return entries, not others

    def _raw_events(self, data: bytes) -> list[_Entry]:
        """Events completed by ``data``, in order and numbered: (number, layout, its
        match) or (number, None, the parser's raw event); bad ones counted."""
        entries, all_hits = self._scan(data)
        if all_hits:
            return entries
        out: list[_Entry] = []
        run: list[tuple[int, bytes]] = []
        reject = self.stats.reject
        for entry in entries:
            number, kind, item = entry
            if kind is None:
                run.append((number, item))
                continue
            if run:
                self._documents(run, out)
                run = []
            if type(kind) is str:
                reject(kind, number, "", item)
            else:
                out.append(entry)
        if run:
            self._documents(run, out)
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

    def _byte_time(self, text: bytes) -> float | None:
        """:meth:`_time` of a layout's value (cached by its bytes)."""
        value = self._time(text.decode())
        if value is not None:
            if len(self._byte_times) >= _TIME_CACHE_MAX:
                self._byte_times.clear()
            self._byte_times[text] = value
        return value

    def _icao24(self, text: bytes) -> str | None:
        """:func:`icao24_of` of a layout's value (cached by its bytes when valid)."""
        value = icao24_of(text.decode())
        if value is not None:
            if len(self._icao24s) >= _TIME_CACHE_MAX:
                self._icao24s.clear()
            self._icao24s[text] = value
        return value

    def _air_type(self, text: bytes) -> str:
        """A layout's CoT type, decoded, when it is an air atom (``a-?-A...``);
        else "" (cached by its bytes)."""
        value = ""
        # "a-" + one affiliation letter + "-A", then "-..." or nothing.
        if text[:2] == b"a-" and text[3:5] == b"-A" and text[5:6] in b"-":
            value = text.decode()
        if len(self._air_types) >= _TIME_CACHE_MAX:
            self._air_types.clear()
        self._air_types[text] = value
        return value

    def feed_events(self, data: bytes) -> list[CotEvent]:
        """Every valid event completed by ``data`` (each counted as accepted)."""
        events = []
        for number, layout, item in self._raw_events(data):
            raw = layout.raw(item) if layout is not None else item
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
        if not ident:
            return None  # the full path reports it
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
        return _track_record(
            ident,
            t_s,
            lat,
            lon,
            hae,
            speed,
            course,
            vs_fpm,
            callsign,
            icao,
            party,
            cot_type,
        )

    def _layout_track(
        self, layout: _Layout, match: re.Match[bytes]
    ) -> TrackRecord | None:
        """:meth:`_fast_track` of an event read by a layout: the same checks on the
        matched bytes, without the raw event."""
        assert layout.fast is not None
        (
            uid,
            cot_type,
            time_text,
            start_text,
            stale_text,
            lat_text,
            lon_text,
            hae_text,
            ce_text,
            le_text,
            course_text,
            speed_text,
            callsign,
            kind,
            fact_id,
            fact_party,
            fact_icao24,
            fact_vs,
        ) = match.group(*layout.fast)
        # Absent attributes read b"" (a layout admits no empty number or time).
        air_type = self._air_types.get(cot_type)
        if air_type is None:
            air_type = self._air_type(cot_type)
        if not air_type:
            return None
        times = self._byte_times
        t_s = times.get(time_text)
        if t_s is None:
            t_s = self._byte_time(time_text)
        stale_t_s = times.get(stale_text)
        if stale_t_s is None:
            stale_t_s = self._byte_time(stale_text)
        if (
            t_s is None
            or stale_t_s is None
            or stale_t_s <= t_s
            or (start_text not in times and self._byte_time(start_text) is None)
        ):
            return None
        try:
            lat = float(lat_text)
            lon = float(lon_text)
            hae = float(hae_text) if hae_text else UNKNOWN_M
            if ce_text:
                float(ce_text)
            if le_text:
                float(le_text)
            course = float(course_text) if course_text else math.nan
            speed = float(speed_text) if speed_text else math.nan
            vs_fpm = float(fact_vs) if fact_vs else math.nan
        except ValueError:
            return None
        if (
            not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0)
            or course < 0.0  # NaN (absent) passes these two
            or course > 360.0
            or speed < 0.0
            or speed > 2000.0
            or not math.isfinite(hae)
        ):
            return None
        ident = uid.decode().strip()
        if not ident:
            return None  # the full path reports it
        party = None
        icao = None
        if layout.facts:
            if kind != b"track":
                return None  # rarer forms: the full path
            ident = fact_id.decode() or ident
            party = fact_party.decode() or None
            if fact_icao24:
                icao = self._icao24s.get(fact_icao24)
                if icao is None:
                    icao = self._icao24(fact_icao24)
        elif ident[:5].upper() == "ICAO-":
            icao = icao24_of(ident[5:])
        return _track_record(
            ident,
            t_s,
            lat,
            lon,
            hae,
            speed,
            course,
            vs_fpm,
            callsign.decode().strip(),
            icao,
            party,
            air_type,
        )

    def feed(self, data: bytes) -> list[TrackRecord]:
        """The air-track positions completed by ``data``; other events are ignored."""
        out: list[TrackRecord] = []
        stats = self.stats
        apply = self.rules.apply
        for number, layout, item in self._raw_events(data):
            record = None
            if layout is None:
                raw = item
                record = self._fast_track(raw)
            else:
                if layout.fast is not None:
                    record = self._layout_track(layout, item)
                if record is None:
                    raw = layout.raw(item)
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
            out.append(apply(record))
        stats.accepted += len(out)
        stats.positions += len(out)
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


def _track_record(
    ident: str,
    t_s: float,
    lat: float,
    lon: float,
    hae: float,
    speed: float,
    course: float,
    vs_fpm: float,
    callsign: str,
    icao: str | None,
    party: str | None,
    cot_type: str,
) -> TrackRecord:
    """A fast path's record: CoT's metres and metres per second in aviation units."""
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

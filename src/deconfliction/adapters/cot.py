"""Cursor-on-Target (CoT) XML events: read aircraft tracks and shapes, write tracks,
alerts, violations, zones and lines for TAK servers and clients.

Reading. A stream (a file, a TCP connection, UDP datagrams) is a sequence of
``<event>`` documents, each optionally with its own XML declaration. The stream is
cut into documents at ``</event>``; a document larger than :data:`MAX_EVENT_BYTES`
is refused before any parsing, and so is one that opens with a DTD. The others are
parsed with defusedxml's hardened expat parser (no DTD, no entity declarations, no
external references: entity-expansion attacks are refused). A bad document is
counted and skipped; the events around it are kept. For speed, an event laid out
like one already parsed (the same elements and attributes, in the same order and
spacing) is read by a regular expression learned from that one, which admits only
plain, well-formed XML (no DTD, entity reference, comment, CDATA or namespace);
the documents of one read that are not are parsed in one pass, and one by one only
when that pass fails.

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
)
from deconfliction.domain.alert_tracker import Alert
from deconfliction.domain.conformance import Violation
from deconfliction.domain.protocol import DeconflictionLine, Zone
from deconfliction.timetext import parse_rfc3339_s, rfc3339_ms
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
    element starts or ends, by switching the text and end callbacks on and off.
    """

    __slots__ = ("current", "events", "expat", "remarks")

    def __init__(self, expat: Any) -> None:
        self.expat = expat
        self.events: list[dict[str, Any]] = []
        self.current: dict[str, Any] = {}
        self.remarks: list[str] | None = None

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if self.remarks is not None:
            self.finish()
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
            self.expat.EndElementHandler = self.end

    def end(self, tag: str) -> None:
        self.finish()

    def finish(self) -> None:
        if self.remarks is not None:
            self.current["remarks"] = "".join(self.remarks).strip()
            self.remarks = None
            self.expat.CharacterDataHandler = None
            self.expat.EndElementHandler = None


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
# A document that opens with a DTD is refused before any parsing: entity expansion
# and external entities need one. (defusedxml would refuse it too.)
_DTD_FIRST_RE = re.compile(rb"(?:<\?xml[^<>]*\?>\s*)?<!DOCTYPE")


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
    """Cuts a byte stream into event documents at ``</event>``.

    :meth:`feed` frames everything; :meth:`begin`, :meth:`step` and :meth:`keep`
    are its parts, for a reader that recognises some documents itself.
    """

    _END = b"</event>"

    def __init__(self) -> None:
        self._buf = b""
        self._skipping = False

    def feed(self, data: bytes) -> list[bytes | tuple[str, str]]:
        """In stream order: complete documents, and (reason, message) problems for
        what had to be cut away."""
        out: list[bytes | tuple[str, str]] = []
        buf, pos = self.begin(data)
        while (stop := self.step(buf, pos, out)) >= 0:
            pos = stop
        self.keep(buf, pos, out)
        return out

    def begin(self, data: bytes) -> tuple[bytes, int]:
        """The buffer with ``data`` appended, and where framing resumes in it."""
        buf = self._buf + data
        if not self._skipping:
            return buf, 0
        # Inside a refused oversized event: resume at its end or at the next
        # event, whichever comes first.
        end = buf.find(self._END)
        start = buf.find(b"<event")
        if end < 0 and start < 0:
            return buf, max(0, len(buf) - 16)
        self._skipping = False
        if start >= 0 and (end < 0 or start < end):
            return buf, start
        return buf, end + len(self._END)

    def step(self, buf: bytes, pos: int, out: list[Any]) -> int:
        """Frame the next document from ``pos``: append it, or the problems met, to
        ``out``; where the next one starts, or -1 when no document ends in ``buf``."""
        end = buf.find(self._END, pos)
        if end < 0:
            return -1
        stop = end + len(self._END)
        doc_start = buf.rfind(b"<event", pos, end)
        if doc_start < 0:
            out.append(("malformed XML", "</event> without <event"))
            return stop
        doc_start = pos + _prolog_start(buf[pos:doc_start])
        junk = buf[pos:doc_start]
        if junk.strip():
            out.append(
                ("malformed XML", f"{len(junk)} bytes between events: {junk[:40]!r}")
            )
        if stop - doc_start > MAX_EVENT_BYTES:
            out.append(
                ("event too large", f"{stop - doc_start} bytes > {MAX_EVENT_BYTES}")
            )
        else:
            out.append(buf[doc_start:stop])
        return stop

    def keep(self, buf: bytes, pos: int, out: list[Any]) -> None:
        """Keep what follows ``pos`` for the next feed (an oversized rest is cut
        away and reported in ``out``)."""
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

    def remainder(self) -> bytes:
        """What is left unframed (cleared)."""
        rest, self._buf = self._buf, b""
        skipping, self._skipping = self._skipping, False
        return b"" if skipping else rest


# --------------------------------------------------------------------------------------
# Learned layouts: the fast path
#
# A producer writes all its events the same way: the same elements and attributes
# in the same order, only the values change. The first event of a layout is parsed
# by the hardened parser; if it is well-formed, plain XML (no DTD, comment, CDATA,
# processing instruction, namespace or entity reference), a regular expression is
# compiled from it that matches, at a position in the stream, exactly the events of
# that layout and captures the values the reader uses. Whatever it matches is
# well-formed XML that means the same to a parser: values and text cannot hold
# "<", "&", control characters or (in text) ">", the declaration must say version
# 1.0 and UTF-8, and the matched bytes are checked to be UTF-8 without U+FFFE or
# U+FFFF. So nothing a DTD, an entity or an oversized event needs can pass: those
# always go to the hardened parser, and so does every event no layout matches.

_LAYOUT_DECLARATION = (
    rb"<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(?:\"1\.0\"|'1\.0')"
    rb"(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(?:\"(?i:utf-8)\"|'(?i:utf-8)'))?"
    rb"(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(?:\"(?:yes|no)\"|'(?:yes|no)'))?"
    rb"[ \t\r\n]*\?>[ \t\r\n]*"
)
_LAYOUT_DECLARATION_RE = re.compile(_LAYOUT_DECLARATION)
_NAME = rb"[A-Za-z_][A-Za-z0-9_.\-]*"  # no ":": namespaces go to the parser
_TOKEN_RE = re.compile(
    rb"<(/?)(" + _NAME + rb")((?:[ \t\r\n]+" + _NAME + rb"[ \t\r\n]*=[ \t\r\n]*"
    rb"(?:\"[^\"<&]*\"|'[^'<&]*'))*)[ \t\r\n]*(/?)>|[^<&]+"
)
_ATTRIBUTE_RE = re.compile(
    rb"[ \t\r\n]+(" + _NAME + rb")[ \t\r\n]*=[ \t\r\n]*(?:\"([^\"]*)\"|'([^']*)')"
)
# Text between elements: no markup, no entity, no control character, and no ">"
# (so no "]]>"). The text of remarks is captured, without "\r" (which a parser
# would turn into "\n").
_GAP = rb"[^<&>\x00-\x08\x0b\x0c\x0e-\x1f]*"
_REMARKS_GAP = rb"([^<&>\x00-\x08\x0b-\x1f]*)"
# Elements whose attributes the reader uses (the others are matched, not captured).
_CAPTURED = frozenset(
    ("event", "point", "contact", "track", "_aircot_", DETAIL_TAG, "link")
)
# Attributes read as numbers or times: an empty one goes to the full path, which
# reports it; so in a layout a captured "" always means "absent".
_NON_EMPTY = frozenset(
    (
        ("event", "uid"),
        ("event", "type"),
        ("event", "time"),
        ("event", "start"),
        ("event", "stale"),
        ("point", "lat"),
        ("point", "lon"),
        ("point", "hae"),
        ("point", "ce"),
        ("point", "le"),
        ("track", "course"),
        ("track", "speed"),
        (DETAIL_TAG, "vs_fpm"),
    )
)
# The values of the track fast path, in the order of CotDecoder._layout_track.
_FAST_FIELDS = (
    ("event", "uid"),
    ("event", "type"),
    ("event", "time"),
    ("event", "start"),
    ("event", "stale"),
    ("point", "lat"),
    ("point", "lon"),
    ("point", "hae"),
    ("point", "ce"),
    ("point", "le"),
    ("track", "course"),
    ("track", "speed"),
    ("contact", "callsign"),
    (DETAIL_TAG, "kind"),
    (DETAIL_TAG, "id"),
    (DETAIL_TAG, "party"),
    (DETAIL_TAG, "icao24"),
    (DETAIL_TAG, "vs_fpm"),
)
_DOC_GROUP = 1  # the document (declaration and event) within a match
_ABSENT_GROUP = 2  # an empty group: the value of an attribute the layout lacks
_LAYOUTS_ACTIVE = 8  # layouts tried at each event, most recently used first
_LAYOUT_MAX_BYTES = 4096  # larger events (shapes of many vertices) are not learned:
# compiling a long pattern costs more than parsing a few such events
_LAYOUTS_LEARNED_MAX = 64  # layouts compiled per decoder, at most: a stream whose
# events all differ costs a bounded number of compilations, then goes the full path


class _Layout:
    """One learned layout: its regular expression and where its values are."""

    __slots__ = ("facts", "fast", "match", "plan")

    def __init__(
        self,
        regex: re.Pattern[bytes],
        plan: tuple[tuple[str, tuple[str, ...], int], ...],
    ) -> None:
        self.match = regex.match
        # (element, attribute names, group of the first) per captured element, in
        # document order; for remarks, the group of its text (0: empty element).
        self.plan = plan
        first: dict[str, tuple[tuple[str, ...], int]] = {}
        for tag, names, group in plan:
            first.setdefault(tag, (names, group))
        groups: list[int] = []
        for tag, name in _FAST_FIELDS:
            names, group = first.get(tag, ((), 0))
            groups.append(group + names.index(name) if name in names else _ABSENT_GROUP)
        required = groups[:7]  # uid, type, times, lat, lon
        links = any(tag == "link" and "point" in names for tag, names, _ in plan)
        fast = _ABSENT_GROUP not in required and "_aircot_" not in first and not links
        # The groups of the fast path's values, or None: every event of this
        # layout takes the full path (a shape, an ADS-B gateway's event...).
        self.fast: tuple[int, ...] | None = tuple(groups) if fast else None
        # Whether the first __deconfliction element has attributes.
        self.facts = bool(first.get(DETAIL_TAG, ((), 0))[0])

    def raw(self, match: re.Match[bytes]) -> dict[str, Any]:
        """The event as the parser's callbacks would have collected it."""
        values = match.groups()
        raw: dict[str, Any] = {}
        for tag, names, group in self.plan:
            if tag == "remarks":
                raw["remarks"] = values[group - 1].decode().strip() if group else ""
                continue
            attrs = {
                name: values[group - 1 + k].decode() for k, name in enumerate(names)
            }
            if tag == "link":
                if "point" in attrs:
                    raw.setdefault("links", []).append(attrs["point"])
            else:
                raw.setdefault(tag, attrs)
        return raw


def _layout_pattern(
    document: bytes,
) -> tuple[bytes, tuple[tuple[str, tuple[str, ...], int], ...]] | None:
    """The regular expression of the layout of one well-formed ``document`` and its
    plan (see :class:`_Layout`); None when the document is not plain enough.

    The layout is the document with its attribute values and its text left open:
    the markup, with its spacing, must be the same byte for byte.
    """
    declaration = _LAYOUT_DECLARATION_RE.match(document)
    pos = declaration.end() if declaration else 0
    # Group 1 is the document, group 2 the empty group of absent attributes. The
    # learned declaration is tried first (the fast way), then any other one.
    seen = document[:pos].rstrip(b" \t\r\n")
    parts = [
        rb"\s*(()(?:(?:"
        + re.escape(seen)
        + rb"[ \t\r\n]*|"
        + _LAYOUT_DECLARATION
        + rb"))?"
        if seen
        else rb"\s*(()(?:" + _LAYOUT_DECLARATION + rb")?"
    ]
    plan: list[tuple[str, tuple[str, ...], int]] = []
    group = _ABSENT_GROUP
    gap = b""  # the pattern of the text before the next element
    for token in _TOKEN_RE.finditer(document, pos):
        if token.start() != pos:
            return None  # something the tokens do not cover (the parser reads it)
        pos = token.end()
        name = token.group(2)
        if name is None:
            continue  # text: every gap between elements admits text
        if not gap and (name != b"event" or token.group(1)):
            return None
        parts.append(gap)
        gap = _GAP
        if token.group(1):
            parts.append(re.escape(token.group()))
            continue
        tag = name.decode("ascii")
        captured = tag in _CAPTURED
        names: list[str] = []
        markup = token.start()
        for attribute in _ATTRIBUTE_RE.finditer(document, *token.span(3)):
            attr = attribute.group(1).decode("ascii")
            if attr.startswith("xmlns"):
                return None
            quoted = 2 if attribute.group(2) is not None else 3
            quote = b'"' if quoted == 2 else b"'"
            value = b"[^" + quote + rb"<&\x00-\x1f]"
            value += b"+" if (tag, attr) in _NON_EMPTY else b"*"
            if captured:
                value = b"(" + value + b")"
                names.append(attr)
            parts.append(re.escape(document[markup : attribute.start(quoted)]))
            parts.append(value)
            markup = attribute.end(quoted)
        parts.append(re.escape(document[markup : token.end()]))
        empty = bool(token.group(4))
        if captured:
            plan.append((tag, tuple(names), group + 1))
            group += len(names)
        if tag == "remarks":
            if not empty:
                gap = _REMARKS_GAP
                group += 1
            plan.append(("remarks", (), 0 if empty else group))
    if pos != len(document) or not document.endswith(b"</event>"):
        return None
    parts.append(b")")
    return b"".join(parts), tuple(plan)


def _is_plain_utf8(data: bytes) -> bool:
    """True when ``data`` is UTF-8 without U+FFFE or U+FFFF (not XML characters)."""
    if data.isascii():
        return True
    try:
        data.decode()
    except UnicodeDecodeError:
        return False
    return b"\xef\xbf\xbe" not in data and b"\xef\xbf\xbf" not in data


# One framed event, numbered in the stream: (number, layout, its match) when a
# layout matched; (number, None, document) for the parser, or (number, None, raw
# event) once parsed; (number, reason, message) for a problem.
_Entry = tuple[int, Any, Any]


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
        return TrackRecord(
            ident,
            t_s,
            lat,
            lon,
            hae / M_PER_FT if hae < UNKNOWN_M else math.nan,
            speed / MPS_PER_KT,
            course % 360.0,
            vs_fpm,
            callsign.decode().strip() or None,
            icao,
            None,
            SOURCE_NAME,
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
    from deconfliction.adapters.result_files import depth_text, violation_record

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
        f"{depth_text(v)}, {v.duration_s:.0f} s" + (" - closed" if closed else "")
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

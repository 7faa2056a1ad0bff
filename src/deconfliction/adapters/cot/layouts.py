"""Learned layouts, the fast path: a regular expression learned from an event read
by the hardened parser reads the events laid out like it."""

from __future__ import annotations

import re
from typing import Any

from deconfliction.adapters.cot.events import (
    DETAIL_TAG,
)

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
# Attributes read as numbers or times: an empty one goes to the full path, which
# reports it; so in a layout a captured "" always means "absent".
_NON_EMPTY = frozenset((*_FAST_FIELDS[:12], (DETAIL_TAG, "vs_fpm")))
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

"""Framing and parsing: a stream cut into ``<event>`` documents at ``</event>``, each
parsed by defusedxml's hardened parser (see the package docstring)."""

from __future__ import annotations

import re
from typing import Any

from deconfliction.adapters.cot.events import (
    DETAIL_TAG,
    MAX_EVENT_BYTES,
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

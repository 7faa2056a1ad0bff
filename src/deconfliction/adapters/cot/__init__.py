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

from deconfliction.adapters.cot.decoding import (
    CotDecoder,
)
from deconfliction.adapters.cot.encoding import (
    CotOptions,
    affiliation_of,
    alert_event,
    line_event,
    marker_event,
    to_bytes,
    track_event,
    violation_event,
    zone_event,
)
from deconfliction.adapters.cot.events import (
    DETAIL_TAG,
    MAX_EVENT_BYTES,
    SOURCE_NAME,
    UNKNOWN_M,
    CotEvent,
)
from deconfliction.adapters.cot.framing import (
    CotFramer,
)

__all__ = [
    "DETAIL_TAG",
    "MAX_EVENT_BYTES",
    "SOURCE_NAME",
    "UNKNOWN_M",
    "CotDecoder",
    "CotEvent",
    "CotFramer",
    "CotOptions",
    "affiliation_of",
    "alert_event",
    "line_event",
    "marker_event",
    "to_bytes",
    "track_event",
    "violation_event",
    "zone_event",
]

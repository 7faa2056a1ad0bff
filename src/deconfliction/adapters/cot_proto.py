"""Cursor-on-Target in TAK protobuf (TAK Protocol Version 1), with ``takproto`` (MIT):
the mesh form (UDP: ``0xBF 0x01 0xBF`` then the message) and the stream form (TCP:
``0xBF``, a varint length, the message).

Out: an event this project writes (``adapters/cot.py``) becomes protobuf; details
without a protobuf field (``__deconfliction``) travel as ``xmlDetail``, so they read
back. In: a protobuf message becomes the same CoT XML event, for ``CotDecoder``;
:class:`TakDecoder` reads what TAK clients send, XML or protobuf, on UDP and TCP.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from deconfliction.adapters.cot import CotDecoder
from deconfliction.adapters.track_stream import PartyRules, ReadStats, TrackRecord
from deconfliction.timetext import rfc3339_ms

MESH_HEADER: bytes = b"\xbf\x01\xbf"


def to_proto(event_xml: bytes, *, stream: bool = False) -> bytes:
    """A CoT XML event as TAK protobuf (mesh, or stream with ``stream``)."""
    from takproto import TAKProtoVer, xml2proto  # type: ignore[import-untyped]

    version = TAKProtoVer.STREAM if stream else TAKProtoVer.MESH
    return bytes(xml2proto(event_xml.decode("utf-8"), version))


def from_proto(data: bytes) -> bytes | None:
    """The CoT XML event of a TAK protobuf message (mesh or stream), or None for
    bytes that are not one."""
    from defusedxml.ElementTree import fromstring  # type: ignore[import-untyped]
    from takproto import parse_proto

    try:
        message: Any = parse_proto(bytearray(data))
    except Exception:  # protobuf's DecodeError and takproto's own
        return None
    if message is None or not message.HasField("cotEvent"):
        return None
    cot = message.cotEvent
    event = ET.Element(
        "event",
        version="2.0",
        uid=cot.uid,
        type=cot.type,
        how=cot.how or "m-g",
        time=rfc3339_ms(cot.sendTime / 1000.0),
        start=rfc3339_ms(cot.startTime / 1000.0),
        stale=rfc3339_ms(cot.staleTime / 1000.0),
    )
    ET.SubElement(
        event,
        "point",
        lat=repr(cot.lat),
        lon=repr(cot.lon),
        hae=repr(cot.hae),
        ce=repr(cot.ce),
        le=repr(cot.le),
    )
    detail = ET.SubElement(event, "detail")
    if cot.detail.HasField("contact"):
        ET.SubElement(detail, "contact", callsign=cot.detail.contact.callsign)
    if cot.detail.HasField("track"):
        ET.SubElement(
            detail,
            "track",
            course=repr(cot.detail.track.course),
            speed=repr(cot.detail.track.speed),
        )
    if cot.detail.xmlDetail:
        try:
            extra = fromstring(f"<x>{cot.detail.xmlDetail}</x>")
        except Exception:  # malformed or hostile (a DTD): the rest is kept
            extra = None
        if extra is not None:
            detail.extend(list(extra))
    text: bytes = ET.tostring(event, encoding="utf-8", xml_declaration=True)
    return text


# --------------------------------------------------------------------------------------
# In: XML or protobuf, as TAK clients send it

MAX_PROTO_BYTES: int = 1 << 20  # a CoT event is a few KiB; a longer frame is garbage
_MAX_VARINT_BYTES: int = 4  # enough for MAX_PROTO_BYTES


def _frame_length(buffer: bytearray) -> tuple[int, int] | None:
    """The (payload length, header length) of a stream frame at the start of
    ``buffer`` (``0xBF``, then a varint), None while the varint is incomplete.

    Raises:
        ValueError: if the varint is too long or the length over the limit.
    """
    length = 0
    for k in range(_MAX_VARINT_BYTES):
        if 1 + k >= len(buffer):
            return None
        byte = buffer[1 + k]
        length |= (byte & 0x7F) << (7 * k)
        if not byte & 0x80:
            if length > MAX_PROTO_BYTES:
                raise ValueError(f"a frame of {length} bytes")
            return length, 2 + k
    raise ValueError("a length of more than four bytes")


class TakDecoder:
    """CoT from TAK clients, in XML or in TAK protobuf (TAK Protocol Version 1).

    A datagram that starts with ``0xBF`` is a protobuf mesh message, any other is
    XML. On a stream (a TCP connection) the first byte that is not white space
    decides for the whole connection: ``0xBF`` means protobuf stream frames
    (``0xBF``, a varint length, the message), anything else XML. Protobuf events
    become the CoT XML of :func:`from_proto` and are read by one
    :class:`~deconfliction.adapters.cot.CotDecoder`, so positions, party rules and
    counts are the same as for XML. A frame that does not parse is counted
    (``malformed protobuf``); after bytes outside any frame the reader skips to the
    next ``0xBF``; a frame longer than :data:`MAX_PROTO_BYTES` is refused before it
    is buffered.

    Args:
        source: the feed's name, for problems.
        rules: party rules applied to each position.
    """

    def __init__(self, source: str = "<cot>", rules: PartyRules | None = None) -> None:
        self.cot = CotDecoder(source, rules)
        # The counts are those of the XML decoder every event goes through.
        self.stats: ReadStats = self.cot.stats
        self._protobuf: bool | None = None
        self._buffer = bytearray()

    def _reject(self, message: str) -> None:
        self.stats.read += 1
        self.stats.reject("malformed protobuf", None, "", message)

    def _message(self, frame: bytes) -> list[TrackRecord]:
        event = from_proto(frame)
        if event is None:
            self._reject("not a TAK protobuf CoT message")
            return []
        return self.cot.feed_datagram(event)

    def feed_datagram(self, data: bytes) -> list[TrackRecord]:
        """One UDP datagram: a protobuf mesh message or XML events."""
        if data[:1] == b"\xbf":
            return self._message(data)
        return self.cot.feed_datagram(data)

    def feed(self, data: bytes) -> list[TrackRecord]:
        """The positions completed by ``data`` on a stream."""
        if self._protobuf is None:
            head = data.lstrip()
            if not head:
                return self.cot.feed(data)
            self._protobuf = head[:1] == b"\xbf"
        if not self._protobuf:
            return self.cot.feed(data)
        buffer = self._buffer
        buffer += data
        out: list[TrackRecord] = []
        while buffer:
            if buffer[0] != 0xBF:
                start = buffer.find(b"\xbf")
                del buffer[: len(buffer) if start < 0 else start]
                self._reject("bytes outside a TAK protobuf frame skipped")
                continue
            try:
                frame = _frame_length(buffer)
            except ValueError as exc:
                del buffer[:1]
                self._reject(f"{exc}: not a frame")
                continue
            if frame is None or len(buffer) < frame[0] + frame[1]:
                break
            end = frame[0] + frame[1]
            message = bytes(buffer[:end])
            del buffer[:end]
            out.extend(self._message(message))
        return out

    def reset_stream(self) -> None:
        """The connection dropped: a partial frame or event is counted and lost."""
        if self._buffer:
            self._reject("the stream ended inside a TAK protobuf frame")
            self._buffer.clear()
        self.cot.reset_stream()
        self._protobuf = None

"""Cursor-on-Target in TAK protobuf (TAK Protocol Version 1), with ``takproto`` (MIT):
the mesh form (UDP: ``0xBF 0x01 0xBF`` then the message) and the stream form (TCP:
``0xBF``, a varint length, the message).

Out: an event this project writes (``adapters/cot.py``) becomes protobuf; details
without a protobuf field (``__deconfliction``) travel as ``xmlDetail``, so they read
back. In: a protobuf message becomes the same CoT XML event, for ``CotDecoder``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

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

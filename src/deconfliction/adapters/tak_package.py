"""TAK data packages: a zip that ATAK, WinTAK and iTAK import (Import Manager), with
``MANIFEST/manifest.xml`` (MissionPackageManifest version 2: a uid, a name, and one
``Content`` per file) and one CoT event file per zone, line and violation, as
``adapters/cot`` writes them.
"""

from __future__ import annotations

import io
import uuid
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Sequence

from deconfliction.adapters.cot import (
    CotOptions,
    line_event,
    to_bytes,
    violation_event,
    zone_event,
)
from deconfliction.domain.conformance import Violation
from deconfliction.domain.protocol import DeconflictionLine, Zone

MANIFEST_PATH: str = "MANIFEST/manifest.xml"


def data_package(
    name: str,
    t_s: float,
    *,
    zones: Sequence[Zone] = (),
    lines: Sequence[DeconflictionLine] = (),
    violations: Sequence[Violation] = (),
    options: CotOptions | None = None,
    package_uid: str | None = None,
) -> bytes:
    """The zip of a data package holding the zones, lines and violations."""
    options = options or CotOptions()
    events = (
        [zone_event(z, t_s, options) for z in zones]
        + [line_event(line, t_s, options) for line in lines]
        + [violation_event(v, t_s, options) for v in violations]
    )
    manifest = ET.Element("MissionPackageManifest", version="2")
    config = ET.SubElement(manifest, "Configuration")
    ET.SubElement(
        config, "Parameter", name="uid", value=package_uid or str(uuid.uuid4())
    )
    ET.SubElement(config, "Parameter", name="name", value=name)
    contents = ET.SubElement(manifest, "Contents")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for k, event in enumerate(events):
            uid = event.get("uid", f"event-{k}")
            entry = f"{k:04d}-{_safe(uid)}.cot"
            archive.writestr(entry, to_bytes(event))
            content = ET.SubElement(contents, "Content", ignore="false", zipEntry=entry)
            ET.SubElement(content, "Parameter", name="uid", value=uid)
        archive.writestr(
            MANIFEST_PATH, ET.tostring(manifest, encoding="utf-8", xml_declaration=True)
        )
    return buffer.getvalue()


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)[:80]

"""TAK data packages (issue 19, item 5): opened and checked structurally: the
manifest names every file, every file is a CoT event our reader reads back."""

from __future__ import annotations

import io
import zipfile

from defusedxml.ElementTree import fromstring

from deconfliction.adapters.cot import CotDecoder
from deconfliction.adapters.protocol_file import builtin_protocol_path, load_protocol
from deconfliction.adapters.tak_package import MANIFEST_PATH, data_package


def test_zones_and_lines_of_a_protocol() -> None:
    protocol = load_protocol(builtin_protocol_path("euphrates-2017"))
    package = data_package(
        "euphrates-2017",
        1513159200.0,
        zones=protocol.zones,
        lines=protocol.lines,
        package_uid="pkg-1",
    )
    archive = zipfile.ZipFile(io.BytesIO(package))
    assert archive.testzip() is None
    manifest = fromstring(archive.read(MANIFEST_PATH))
    assert manifest.tag == "MissionPackageManifest" and manifest.get("version") == "2"
    params = {p.get("name"): p.get("value") for p in manifest.find("Configuration")}
    assert params == {"uid": "pkg-1", "name": "euphrates-2017"}
    entries = [c.get("zipEntry") for c in manifest.find("Contents")]
    assert len(entries) == len(protocol.zones) + len(protocol.lines)
    assert sorted(entries) == sorted(
        n for n in archive.namelist() if n != MANIFEST_PATH
    )
    uids = set()
    for content in manifest.find("Contents"):
        event = fromstring(archive.read(content.get("zipEntry")))
        assert event.tag == "event" and event.get("type") == "u-d-f"
        assert content.find("Parameter").get("value") == event.get("uid")
        uids.add(event.get("uid"))
        decoder = CotDecoder("pkg")
        decoder.feed(archive.read(content.get("zipEntry")))
        assert decoder.stats.rejected_total == 0
    assert len(uids) == len(entries)


def test_the_days_violations() -> None:
    from tests.adapters.interop_samples import sample_violation

    package = data_package(
        "violations",
        1513159200.0,
        violations=[sample_violation(True), sample_violation(False)],
    )
    archive = zipfile.ZipFile(io.BytesIO(package))
    manifest = fromstring(archive.read(MANIFEST_PATH))
    entries = [c.get("zipEntry") for c in manifest.find("Contents")]
    assert len(entries) == 2
    for entry in entries:
        event = fromstring(archive.read(entry))
        assert event.get("type") == "b-m-p-s-p-i"


def test_command(tmp_path) -> None:
    from typer.testing import CliRunner

    from deconfliction.cli.app import build_app

    out = tmp_path / "pkg.zip"
    result = CliRunner().invoke(
        build_app(),
        ["tak-package", "--protocol", "euphrates-2017", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    archive = zipfile.ZipFile(out)
    assert MANIFEST_PATH in archive.namelist()
    bad = CliRunner().invoke(
        build_app(), ["tak-package", "--protocol", "nowhere", "--out", str(out)]
    )
    assert bad.exit_code == 2


def test_command_with_the_days_violations_from_tracks(tmp_path) -> None:
    """--tracks: the violations found in a day's track table go in the package, the
    same as find_violations gives for that table."""
    from typer.testing import CliRunner

    from deconfliction.analysis.engine import find_violations
    from deconfliction.analysis.tracks import read_tracks
    from deconfliction.cli.app import build_app

    rows = ["id,party,time,lat,lon,alt_ft,gs_kt,trk_deg,vs_fpm"]
    for k in range(40):  # a Russian aircraft flies east across the river at 36.1 N
        t = f"2017-12-13T10:{k // 2:02d}:{30 * (k % 2):02d}Z"
        rows.append(f"RU01,russia,{t},36.1,{37.6 + 0.03 * k:.4f},25000,420,90,0")
    tracks = tmp_path / "day.csv"
    tracks.write_text("\n".join(rows) + "\n")
    expected = find_violations(
        load_protocol(builtin_protocol_path("euphrates-2017")), read_tracks(tracks)
    )
    assert expected  # the crossing is a violation

    out = tmp_path / "pkg.zip"
    result = CliRunner().invoke(
        build_app(),
        [
            "tak-package",
            "--protocol",
            "euphrates-2017",
            "--tracks",
            str(tracks),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    archive = zipfile.ZipFile(out)
    types = [
        fromstring(archive.read(n)).get("type")
        for n in archive.namelist()
        if n != MANIFEST_PATH
    ]
    assert types.count("b-m-p-s-p-i") == len(expected)

    tracks.write_text("id,party,time\nRU01,russia,yesterday\n")
    bad = CliRunner().invoke(
        build_app(),
        [
            *("tak-package", "--protocol", "euphrates-2017"),
            *("--tracks", str(tracks), "--out", str(out)),
        ],
    )
    assert bad.exit_code == 2 and "day.csv" in bad.output

"""``deconfliction feed`` and ``deconfliction tak``: live bridges to and from a server.

``feed`` reads a live source (an SBS or raw Mode-S receiver, a TAK server's CoT) and
posts the party's positions to the server in idempotent batches. ``tak`` follows the
server's stream for one party and sends its alerts, violations, zones and lines to a
TAK server or client as Cursor-on-Target events; a cleared alert or a closed violation
is sent again marked stale, so TAK removes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit

import typer

from deconfliction.cli._common import as_option, guarded, stderr
from deconfliction.errors import InputError, Problem

if TYPE_CHECKING:
    from deconfliction.adapters.track_poster import HttpPoster
    from deconfliction.adapters.track_stream import PartyRules

FEED_SCHEMES = (
    "sbs",
    "avr",
    "beast",
    "cot+tcp",
    "cot+udp",
    "cot+listen",
    "asterix+udp",
)
LEVEL_ARGB: dict[str, str] = {
    "conflict": "-256",
    "advisory": "-23296",
    "warning": "-65536",
}

# Options the bridges share, declared once.
_Server = Annotated[str, typer.Option(help="The server, e.g. http://127.0.0.1:8000")]
_Token = Annotated[str, typer.Option(envvar="DECONFLICTION_TOKEN", help="Bearer token")]
_MaxSeconds = Annotated[
    float | None,
    typer.Option(help="Stop after this long (default: run until Ctrl-C)."),
]


def _address(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    if parts.scheme not in FEED_SCHEMES:
        raise InputError(
            [
                Problem(
                    "command line",
                    None,
                    "SOURCE",
                    f"{url!r}: expected one of "
                    + ", ".join(s + "://host:port" for s in FEED_SCHEMES),
                )
            ]
        )
    return parts.scheme, parts.hostname or "0.0.0.0", parts.port


def _source(
    url: str,
    rules: Any,
    sbs_timezone: str,
    reference: tuple[float, float] | None,
    radars: Any = None,
    interface: str = "0.0.0.0",
) -> Any:
    from deconfliction.adapters import live

    scheme, host, port = _address(url)
    if scheme == "asterix+udp":
        if port is None:
            raise InputError(
                [
                    Problem(
                        "command line",
                        None,
                        "SOURCE",
                        f"{url!r}: ASTERIX has no usual port: give one "
                        "(asterix+udp://GROUP:PORT)",
                    )
                ]
            )
        try:
            return live.AsterixUdpListener(
                host, port, interface=interface, radars=radars, rules=rules
            )
        except ValueError:
            raise InputError(
                [Problem("command line", None, "SOURCE", f"{host!r}: not an address")]
            ) from None
    if scheme == "sbs":
        with as_option("--sbs-timezone"):
            return live.sbs_source(
                host, port or live.SBS_PORT, timezone=sbs_timezone, rules=rules
            )
    if scheme == "avr":
        return live.avr_source(
            host, port or live.AVR_PORT, reference=reference, rules=rules
        )
    if scheme == "beast":
        return live.beast_source(host, port or 30005, reference=reference, rules=rules)
    if scheme == "cot+listen":
        return live.CotTcpListener(
            host, port if port is not None else live.COT_TCP_PORT, rules=rules
        )
    if scheme == "cot+tcp":
        return live.cot_tcp_source(host, port or live.COT_TCP_PORT, rules=rules)
    return live.CotUdpListener(
        host, port if port is not None else live.COT_UDP_PORT, rules=rules
    )


@guarded
def feed(
    source: Annotated[
        str,
        typer.Argument(
            help="sbs://HOST:30003, avr://HOST:30002, beast://HOST:30005, "
            "cot+tcp://HOST:8087, cot+udp://HOST:6969, cot+listen://ADDR:8087 (TAK "
            "clients connect here) or asterix+udp://GROUP:PORT "
            "(a multicast group is joined; a local address is bound)"
        ),
    ],
    to: _Server,
    token: _Token,
    party: Annotated[
        str | None,
        typer.Option(
            help="Post only this party's aircraft (by the party rules); it must be "
            "the token's party. Default: the token's party's aircraft and those the "
            "rules give no party."
        ),
    ] = None,
    party_rules: Annotated[
        str | None, typer.Option(help="Party rules file (docs/interop.md).")
    ] = None,
    sbs_timezone: Annotated[str, typer.Option(help="Zone of SBS times.")] = "UTC",
    reference: Annotated[
        str | None, typer.Option(help="LAT,LON of the receiver (raw Mode-S).")
    ] = None,
    radar_sites: Annotated[
        str | None,
        typer.Option(help="ASTERIX radar sites by SAC/SIC (TOML), for CAT048."),
    ] = None,
    interface: Annotated[
        str,
        typer.Option(help="Local address whose interface joins an ASTERIX group."),
    ] = "0.0.0.0",
    flush_s: Annotated[float, typer.Option(help="Seconds between batches.")] = 1.0,
    max_seconds: _MaxSeconds = None,
) -> None:
    """Post a live feed's positions to a server as they arrive."""
    from deconfliction.adapters.track_poster import HttpPoster
    from deconfliction.adapters.track_stream import PartyRules
    from deconfliction.cli._replay import SERVER_HINTS
    from deconfliction.cli.interop import check_party

    rules = PartyRules.load(party_rules) if party_rules else None
    ref = _lat_lon(reference) if reference else None
    radars = None
    if radar_sites:
        from deconfliction.adapters.asterix import RadarSites

        radars = RadarSites.load(radar_sites)
    src = _source(source, rules, sbs_timezone, ref, radars, interface)
    run_id = secrets.token_hex(4)
    counts = dict.fromkeys(
        ("records", "posted", "accepted", "rejected", "other party", "incomplete"), 0
    )

    with HttpPoster(to, token, hints=SERVER_HINTS) as poster:
        own = poster.own_party()
        check_party(own, party)
        mine = {own} if party is not None else {own, ""}
        try:
            asyncio.run(
                _pump(src, poster, rules, mine, counts, run_id, flush_s, max_seconds)
            )
        except KeyboardInterrupt:
            pass
        finally:
            if hasattr(src, "close"):
                src.close()
    stderr.print(
        f"feed {source}: {counts['records']} positions read, "
        f"{counts['posted']} posted, "
        f"{counts['accepted']} accepted, {counts['rejected']} rejected; not sent: "
        f"{counts['other party']} of other parties (this token posts {own}'s), "
        f"{counts['incomplete']} incomplete",
        markup=False,
    )


async def _pump(
    src: Any,
    poster: HttpPoster,
    rules: PartyRules | None,
    mine: set[str],
    counts: dict[str, int],
    run_id: str,
    flush_s: float,
    max_seconds: float | None,
) -> None:
    """Read records and post the party's complete ones every ``flush_s``."""
    pending: list[dict[str, Any]] = []
    seq = 0
    last_flush = time.monotonic()
    started = time.monotonic()
    if hasattr(src, "start"):
        await src.start()
    iterator = src.records().__aiter__()
    while max_seconds is None or time.monotonic() - started < max_seconds:
        try:
            record = await asyncio.wait_for(iterator.__anext__(), timeout=flush_s)
        except TimeoutError:
            record = None
        except StopAsyncIteration:
            break
        if record is not None:
            counts["records"] += 1
            who = (rules.party_of(record) if rules else record.party) or ""
            if who not in mine:
                counts["other party"] += 1
            elif not record.is_complete:
                counts["incomplete"] += 1
            else:
                pending.append(_position(record, who))
        if pending and time.monotonic() - last_flush >= flush_s:
            seq += 1
            result = await asyncio.to_thread(poster, f"feed-{run_id}-{seq}", pending)
            counts["posted"] += len(pending)
            counts["accepted"] += result.accepted
            counts["rejected"] += len(result.rejected)
            pending = []
            last_flush = time.monotonic()
    if pending:
        seq += 1
        result = await asyncio.to_thread(poster, f"feed-{run_id}-{seq}", pending)
        counts["posted"] += len(pending)
        counts["accepted"] += result.accepted
        counts["rejected"] += len(result.rejected)


def _lat_lon(reference: str) -> tuple[float, float]:
    """``--reference LAT,LON`` as a pair."""
    try:
        lat, lon = (float(v) for v in reference.split(","))
    except ValueError:
        raise InputError(
            [Problem("command line", None, "--reference", "expected LAT,LON")]
        ) from None
    return lat, lon


def _position(record: Any, party: str) -> dict[str, Any]:
    row = {
        "id": record.id,
        "time": record.t_s,
        "lat": record.lat_deg,
        "lon": record.lon_deg,
        "alt_ft": record.alt_ft,
        "gs_kt": record.gs_kt,
        "trk_deg": record.trk_deg % 360.0,
        "vs_fpm": record.vs_fpm,
    }
    if party:  # the server refuses a row of another party than the poster's
        row["party"] = party
    return row


# -- the server's stream to TAK -------------------------------------------------------


def alert_marker(alert: dict[str, Any], t_s: float, options: Any) -> Any:
    """A CoT point of interest for an alert as the party's stream shows it."""
    from deconfliction.adapters import cot

    cleared = not alert.get("active", True) or alert.get("cleared_t_s") is not None
    sides = alert["aircraft"]
    point = sides[0].get("cpa") or {}
    names = "/".join(side.get("id") or side["party"] for side in sides)
    level = alert["level"]
    stale = t_s if cleared else t_s + options.marker_stale_s
    return cot.marker_event(
        f"{options.uid_prefix}-alert-{alert['id']}",
        t_s,
        stale,
        point.get("lat_deg", 0.0),
        point.get("lon_deg", 0.0),
        point.get("alt_ft", 0.0),
        f"{'CLEARED' if cleared else level.upper()} {names}",
        f"{level} conflict {names}: predicted miss {alert['dcpa_nm']:.2f} NM and "
        f"{alert['dalt_ft_at_cpa']:.0f} ft in {alert['tcpa_s']:.0f} s"
        + (" - cleared" if cleared else ""),
        LEVEL_ARGB.get(level, "-256"),
        {"kind": "alert", "cleared": cleared, "level": level, "alert_id": alert["id"]},
    )


def _depth_words(incident: dict[str, Any]) -> str:
    """How deep a violation incident went, each depth named (docs/protocol.md)."""
    inside = incident.get("depth_inside_zone_nm")
    across = incident.get("depth_across_line_nm")
    edge = incident.get("depth_from_buffer_edge_nm")
    if inside is not None:
        return f"{inside:.1f} NM inside"
    if across is not None and edge is not None:
        if across > 0.0:
            return (
                f"{across:.1f} NM across the line "
                f"({edge:.1f} NM from the edge of the buffer)"
            )
        return f"{edge:.1f} NM inside the buffer, on its own side"
    return f"{incident['severity_nm']:.1f} NM deep"


def incident_marker(incident: dict[str, Any], t_s: float, options: Any) -> Any | None:
    """A CoT point of interest for a violation (None for other incident kinds)."""
    from deconfliction.adapters import cot

    if incident["kind"] not in ("line_violation", "zone_incursion"):
        return None
    side = incident["aircraft"][0]
    point = side.get("point") or {}
    closed = incident.get("end_t_s") is not None
    who = side.get("id") or side["party"]
    return cot.marker_event(
        f"{options.uid_prefix}-incident-{incident['id']}",
        t_s,
        t_s if closed else t_s + options.marker_stale_s,
        point.get("lat_deg", 0.0),
        point.get("lon_deg", 0.0),
        point.get("alt_ft", 0.0),
        f"{'CLOSED' if closed else 'VIOLATION'} {who}",
        f"{incident['kind'].replace('_', ' ')} of {incident['boundary_id']} by {who} "
        f"({side['party']}): {_depth_words(incident)}"
        + (" - closed" if closed else ""),
        "-65536",
        {"kind": "violation", "closed": closed, "incident_id": incident["id"]},
    )


@guarded
def tak(
    server: _Server,
    token: _Token,
    to: Annotated[
        str,
        typer.Option(
            help="TAK: tcp://HOST:8087, tls://HOST:8089 or udp://239.2.3.1:6969"
        ),
    ],
    other_affiliation: Annotated[
        str, typer.Option(help="CoT affiliation of other parties: u (unknown) or n.")
    ] = "u",
    after: Annotated[int, typer.Option(help="Resume after this stream event id.")] = 0,
    client_p12: Annotated[
        str | None,
        typer.Option(help="TLS client certificate and key, a PKCS#12 file (*.p12)."),
    ] = None,
    p12_password: Annotated[
        str | None,
        typer.Option(
            envvar="DECONFLICTION_TAK_P12_PASSWORD",
            help="The PKCS#12 file's password (better from the environment).",
        ),
    ] = None,
    ca_file: Annotated[
        str | None, typer.Option(help="The TAK server's CA certificates (PEM).")
    ] = None,
    protobuf: Annotated[
        bool,
        typer.Option(
            "--protobuf",
            help="Send TAK protobuf (stream form over TCP/TLS, mesh over UDP), "
            "not XML.",
        ),
    ] = False,
    max_seconds: _MaxSeconds = None,
) -> None:
    """Send the party's alerts, violations, zones and lines to TAK as CoT."""
    import httpx

    from deconfliction.adapters import cot

    if other_affiliation not in ("u", "n"):
        raise InputError(
            [
                Problem(
                    "command line",
                    None,
                    "--other-affiliation",
                    "u or n: another party's aircraft are never shown hostile here",
                )
            ]
        )
    headers = {"Authorization": f"Bearer {token}"}
    me = httpx.get(f"{server.rstrip('/')}/v1/parties/me", headers=headers, timeout=30)
    if me.status_code != 200:
        raise InputError(
            [
                Problem(
                    "command line",
                    None,
                    "--token",
                    f"the server answered {me.status_code}",
                )
            ]
        )
    options = cot.CotOptions(
        own_party=me.json()["party_id"], other_affiliation=other_affiliation
    )
    tls: dict[str, str] = {}
    if client_p12 is not None:
        from deconfliction.adapters.live import pkcs12_tls_config

        tls = pkcs12_tls_config(client_p12, p12_password, ca_file)
    sent = {"events": 0}

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            _send_to_tak(
                server, headers, to, tls, options, protobuf, after, max_seconds, sent
            )
        )
    stderr.print(f"tak: {sent['events']} CoT events sent to {to}")


async def _send_to_tak(
    server: str,
    headers: dict[str, str],
    to: str,
    tls: dict[str, str],
    options: Any,
    protobuf: bool,
    after: int,
    max_seconds: float | None,
    sent: dict[str, int],
) -> None:
    """Send the protocol's zones and lines, then markers from the party's stream."""
    import httpx
    from websockets.asyncio.client import connect

    from deconfliction.adapters import cot
    from deconfliction.adapters.live import CotSender
    from deconfliction.adapters.protocol_file import parse_protocol

    async with CotSender(to, tls) as sender:

        async def send(element: Any) -> None:
            payload = cot.to_bytes(element)
            if protobuf:
                from deconfliction.adapters.cot_proto import to_proto

                payload = to_proto(payload, stream=not to.startswith("udp"))
            await sender.send(payload)
            sent["events"] += 1

        current = httpx.get(
            f"{server.rstrip('/')}/v1/protocols/current", headers=headers
        )
        if current.status_code == 200:
            protocol = parse_protocol(current.json()["toml"], "protocol in effect")
            now = time.time()
            for zone in protocol.zones:
                await send(cot.zone_event(zone, now, options))
            for line in protocol.lines:
                await send(cot.line_event(line, now, options))
        ws_url = (
            server.rstrip("/").replace("http", "ws", 1) + f"/v1/stream?after={after}"
        )
        started = time.monotonic()
        async with connect(ws_url, additional_headers=headers) as ws:
            while max_seconds is None or time.monotonic() - started < max_seconds:
                try:
                    raw = await asyncio.wait_for(ws.recv(), timeout=1.0)
                except TimeoutError:
                    continue
                event = json.loads(raw)
                kind, data, t_s = event["type"], event["data"], event["t_s"]
                if kind.startswith("alert."):
                    await send(alert_marker(data, t_s, options))
                elif kind.startswith("incident."):
                    marker = incident_marker(data, t_s, options)
                    if marker is not None:
                        await send(marker)


@guarded
def asterix(
    server: _Server,
    token: _Token,
    to: Annotated[
        str,
        typer.Option(
            help="udp://HOST:PORT (a multicast group is sent to with --ttl and "
            "--interface)"
        ),
    ],
    sac: Annotated[
        int, typer.Option(help="System Area Code of this system.", min=0, max=255)
    ] = 0,
    sic: Annotated[
        int,
        typer.Option(help="System Identification Code of this system.", min=0, max=255),
    ] = 1,
    interval_s: Annotated[
        float, typer.Option(help="Seconds between updates of the picture.", min=0.1)
    ] = 4.0,
    max_age_s: Annotated[
        float,
        typer.Option(help="Aircraft not heard for longer are left out.", min=1.0),
    ] = 30.0,
    max_datagram_bytes: Annotated[
        int, typer.Option(help="Largest datagram (one data block).", min=64)
    ] = 1400,
    ttl: Annotated[int, typer.Option(help="Multicast time to live.", min=0)] = 1,
    interface: Annotated[
        str | None,
        typer.Option(help="Local address whose interface sends multicast."),
    ] = None,
    max_seconds: _MaxSeconds = None,
) -> None:
    """Send the live picture the token's party may see as ASTERIX CAT062 system
    tracks over UDP, for an ATC display or a C2 system."""
    import ipaddress
    import socket

    import httpx

    from deconfliction.adapters.asterix_out import (
        TrackNumbers,
        datagrams,
    )

    parts = urlsplit(to)
    try:
        if parts.scheme != "udp" or not parts.hostname or parts.port is None:
            raise ValueError
        multicast = ipaddress.ip_address(parts.hostname).is_multicast
    except ValueError:
        raise InputError(
            [Problem("command line", None, "--to", f"{to!r}: expected udp://HOST:PORT")]
        ) from None
    headers = {"Authorization": f"Bearer {token}"}
    base = server.rstrip("/")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    if multicast:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, ttl)
        if interface:
            sock.setsockopt(
                socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(interface)
            )
    numbers = TrackNumbers()
    sent = {"updates": 0, "records": 0, "datagrams": 0}
    started = time.monotonic()
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            while max_seconds is None or time.monotonic() - started < max_seconds:
                tick = time.monotonic()
                answer = client.get("/v1/tracks", params={"max_age_s": max_age_s})
                if answer.status_code != 200:
                    raise InputError(
                        [
                            Problem(
                                "command line",
                                None,
                                "--token"
                                if answer.status_code in (401, 403)
                                else "--server",
                                f"GET /v1/tracks answered {answer.status_code}",
                            )
                        ]
                    )
                picture = answer.json()
                if picture:
                    records = _cat062_records(picture, sac, sic, numbers)
                    for datagram in datagrams(records, max_datagram_bytes):
                        sock.sendto(datagram, (parts.hostname, parts.port))
                        sent["datagrams"] += 1
                    sent["records"] += len(records)
                sent["updates"] += 1
                time.sleep(max(0.0, interval_s - (time.monotonic() - tick)))
    except KeyboardInterrupt:
        pass
    except httpx.HTTPError as exc:
        raise InputError(
            [Problem("command line", None, "--server", f"{base}: {exc}")]
        ) from None
    finally:
        sock.close()
    stderr.print(
        f"asterix: {sent['updates']} updates, {sent['records']} CAT062 records in "
        f"{sent['datagrams']} datagrams to {to}"
    )


def _cat062_records(
    picture: list[dict[str, Any]], sac: int, sic: int, numbers: Any
) -> list[bytes]:
    """The CAT062 records of a picture from GET /v1/tracks."""
    import numpy as np

    from deconfliction.adapters.asterix_out import encode_records
    from deconfliction.domain.positions import NUMBER_NAMES

    column = {
        k: np.array([p[k] for p in picture], dtype=np.float64) for k in NUMBER_NAMES
    }
    return encode_records(
        [p["id"] for p in picture],
        column["t_s"],
        column["lat_deg"],
        column["lon_deg"],
        column["alt_ft"],
        column["gs_kt"],
        column["trk_deg"],
        column["vs_fpm"],
        sac=sac,
        sic=sic,
        track_numbers=numbers,
    )


@guarded
def tak_package(
    protocol: Annotated[
        str, typer.Option(help="Protocol file, or the name of a shipped one.")
    ],
    out: Annotated[str, typer.Option(help="The data package to write (.zip).")],
    name: Annotated[
        str | None,
        typer.Option(help="The package's name (default: the protocol's id)."),
    ] = None,
    tracks: Annotated[
        str | None,
        typer.Option(
            help="A track table (CSV or Parquet, as for analyze): the violations "
            "of the protocol's lines and zones found in it go in the package too."
        ),
    ] = None,
) -> None:
    """Write a TAK data package (zip with manifest) of the protocol's zones and lines,
    and the day's violations found in --tracks, for ATAK, WinTAK or iTAK's Import
    Manager."""
    from pathlib import Path

    from deconfliction.adapters.protocol_file import resolve_protocol
    from deconfliction.adapters.tak_package import data_package

    proto = resolve_protocol(protocol)
    violations = []
    if tracks is not None:
        from deconfliction.analysis.engine import find_violations
        from deconfliction.analysis.tracks import read_tracks

        violations = find_violations(proto, read_tracks(tracks))
    data = data_package(
        name or proto.id,
        time.time(),
        zones=proto.zones,
        lines=proto.lines,
        violations=violations,
    )
    Path(out).write_bytes(data)
    stderr.print(
        f"tak-package: {len(proto.zones)} zones, {len(proto.lines)} lines and "
        f"{len(violations)} violations in {out}"
    )


def register(app: typer.Typer) -> None:
    """Add ``feed`` and ``tak`` to ``app``."""
    app.command("feed")(feed)
    app.command("asterix")(asterix)
    app.command("tak")(tak)
    app.command("tak-package")(tak_package)

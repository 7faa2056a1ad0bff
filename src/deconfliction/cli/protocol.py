"""``deconfliction protocol``: the duty officer's commands for the agreement, against
a running server (``--server URL --token T``), as ``replay``, ``feed`` and ``tak``.

* ``propose FILE`` checks the file here (every problem with its line), then posts it:
  the proposal counts as the proposer's acceptance.
* ``accept VERSION`` accepts a version for the token's party; the last party to
  accept puts it in effect. ``--sha256`` accepts only the text one has reviewed.
* ``show [VERSION]`` the version in effect, or the one named, and ``--toml`` its text.
* ``history`` every version naming the token's party, oldest first.
* ``withdraw VERSION`` gives the token's party's notice of withdrawal from a version
  in effect under its termination clause; it ends ``notice_s`` later.

A version is ``N`` (when the party sees one protocol with a version N) or
``ID/N``. The server's answers (``/v1/protocols``) are read as they come; a refusal
(a token the server does not know, a version the party may not see, a file the server
refuses) is an error with the server's reason, exit status 2.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from deconfliction.cli._common import guarded, stderr
from deconfliction.errors import InputError, Problem

HTTP_TIMEOUT_S: float = 30.0  # a proposal is checked by the server before it answers

protocol_app = typer.Typer(
    help="The agreement on a server: propose, accept, show, history, withdraw.",
    no_args_is_help=True,
)

ServerOpt = Annotated[str, typer.Option(help="The server, e.g. http://127.0.0.1:8000")]
TokenOpt = Annotated[
    str,
    typer.Option(envvar="DECONFLICTION_TOKEN", help="Your party's bearer token."),
]


class _Server:
    """The server's ``/v1/protocols``, its refusals turned into errors."""

    def __init__(self, url: str, token: str, source: str = "server") -> None:
        import httpx

        self.url = url.rstrip("/")
        self.source = source
        self.client = httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=HTTP_TIMEOUT_S,
        )

    def __enter__(self) -> _Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def request(self, method: str, path: str, **kw: Any) -> Any:
        """The JSON of a 2xx answer.

        Raises:
            InputError: for a network failure or any other answer, with the reason.
        """
        import httpx

        try:
            response = self.client.request(method, path, **kw)
        except httpx.HTTPError as exc:
            raise self._problem(f"cannot reach the server: {exc}") from None
        if response.is_success:
            try:
                return response.json()
            except ValueError:
                raise self._problem(f"{path} did not answer JSON") from None
        raise self._refusal(response)

    def _problem(self, message: str) -> InputError:
        return InputError([Problem("server", None, self.url, message)])

    def _refusal(self, response: Any) -> InputError:
        try:
            body = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        listed = body.get("problems")
        if response.status_code == 422 and isinstance(listed, list) and listed:
            return InputError(
                [
                    Problem(
                        self.source,
                        p.get("line") if isinstance(p.get("line"), int) else None,
                        str(p.get("field") or ""),
                        str(p.get("message") or ""),
                    )
                    for p in listed
                    if isinstance(p, dict)
                ]
            )
        detail = str(body.get("detail") or body.get("title") or response.text)[:300]
        hint = {
            401: " (check --token)",
            403: " (check --token: an observer may not do this)",
            404: " (or one your party may not see)",
        }.get(response.status_code, "")
        return self._problem(f"{response.status_code}: {detail}{hint}")


def _utc(t_s: float | None) -> str:
    if t_s is None:
        return "-"
    return datetime.fromtimestamp(t_s, tz=UTC).strftime("%Y-%m-%d %H:%MZ")


def _notice(notice_s: float) -> str:
    """A notice period in seconds, and in days or hours when it is a whole number
    of them.

    >>> _notice(2592000), _notice(7200), _notice(90.5)
    ('2,592,000 s (30 d)', '7,200 s (2 h)', '90.5 s')
    """
    text = f"{notice_s:,.0f} s" if notice_s == int(notice_s) else f"{notice_s:g} s"
    for unit_s, unit in ((86400, "d"), (3600, "h")):
        if notice_s >= unit_s and notice_s % unit_s == 0:
            return f"{text} ({notice_s / unit_s:g} {unit})"
    return text


def _summary(v: dict[str, Any]) -> str:
    """A version as lines of text."""
    status = str(v["status"]).replace("_", " ")
    if v["status"] == "in_effect":
        status += f" since {_utc(v['effective_t_s'])}"
    elif v["status"] == "superseded":
        status += f" at {_utc(v['superseded_t_s'])}"
    rows = [
        ("title", v["title"]),
        ("proposed", f"by {v['proposed_by']} at {_utc(v['proposed_t_s'])}"),
        ("accepted by", ", ".join(v["accepted_by"]) or "-"),
        ("awaiting", ", ".join(v["awaiting"]) or "-"),
        ("parties", ", ".join(v["parties"])),
        ("sharing", v["sharing"]),
        ("sha256", v["sha256"]),
    ]
    notice_s = v.get("notice_s")
    rows.append(
        (
            "termination",
            "by consent only"
            if notice_s is None
            else f"a party may withdraw with {_notice(float(notice_s))} notice",
        )
    )
    if v.get("notice_by"):
        rows.append(
            (
                "notice",
                f"by {v['notice_by']} at {_utc(v.get('notice_t_s'))}, "
                f"ends {_utc(v.get('ends_t_s'))}",
            )
        )
    head = f"{v['protocol_id']} version {v['version']}: {status}"
    return "\n".join([head, *(f"  {k + ':':<12} {value}" for k, value in rows)])


def _resolve(server: _Server, version: str) -> tuple[str, int]:
    """``ID/N``, or ``N`` when the party sees one protocol with a version N.

    Raises:
        InputError: for a malformed version, none or several that match.
    """
    ident, _, number = version.rpartition("/")
    if not number.isdigit():
        raise InputError(
            [Problem("command line", None, "VERSION", f"{version!r}: give N or ID/N")]
        )
    if ident:
        return ident, int(number)
    listed = server.request("GET", "/v1/protocols")
    ids = sorted({v["protocol_id"] for v in listed if v["version"] == int(number)})
    if len(ids) == 1:
        return ids[0], int(number)
    why = (
        f"several protocols have a version {number} ({', '.join(ids)}): give ID/N"
        if ids
        else f"no version {number} your party may see (deconfliction protocol history)"
    )
    raise InputError([Problem("command line", None, "VERSION", why)])


def _read(file: str) -> tuple[str, Path]:
    """The text of a protocol file (or a shipped protocol), checked here first.

    Raises:
        ProtocolError: for a file that does not validate, with every problem.
    """
    from deconfliction.adapters.input_files import read_text
    from deconfliction.adapters.protocol_file import (
        builtin_protocol_path,
        parse_protocol,
    )
    from deconfliction.errors import ProtocolError

    path = Path(file)
    if not path.is_file():
        path = builtin_protocol_path(file)
    text = read_text(path, ProtocolError)
    parse_protocol(text, str(path))
    return text, path


@protocol_app.command("propose")
@guarded
def propose(
    file: Annotated[
        str, typer.Argument(help="The protocol file (TOML), or a shipped name.")
    ],
    server: ServerOpt,
    token: TokenOpt,
) -> None:
    """Propose a version; it counts as your party's acceptance."""
    text, path = _read(file)
    with _Server(server, token, str(path)) as api:
        version = api.request(
            "POST",
            "/v1/protocols",
            content=text.encode("utf-8"),
            headers={"content-type": "application/toml"},
        )
    sys.stdout.write(_summary(version) + "\n")


@protocol_app.command("accept")
@guarded
def accept(
    version: Annotated[str, typer.Argument(help="N, or ID/N.")],
    server: ServerOpt,
    token: TokenOpt,
    sha256: Annotated[
        str | None,
        typer.Option(
            help="Accept only if the version's text has this SHA-256 (or starts "
            "with it): the text you reviewed."
        ),
    ] = None,
) -> None:
    """Accept a version for your party; the last party to accept puts it in effect."""
    with _Server(server, token) as api:
        ident, number = _resolve(api, version)
        path = f"/v1/protocols/{ident}/versions/{number}"
        if sha256 is not None:
            shown = api.request("GET", path)
            if not sha256 or not shown["sha256"].startswith(sha256.lower()):
                raise InputError(
                    [
                        Problem(
                            "command line",
                            None,
                            "--sha256",
                            f"{ident} version {number} has SHA-256 "
                            f"{shown['sha256']}, not the text you reviewed: "
                            "not accepted",
                        )
                    ]
                )
        accepted = api.request("POST", path + "/accept")
    sys.stdout.write(_summary(accepted) + "\n")


@protocol_app.command("show")
@guarded
def show(
    server: ServerOpt,
    token: TokenOpt,
    version: Annotated[
        str | None,
        typer.Argument(help="N, or ID/N (default: the version in effect)."),
    ] = None,
    toml: Annotated[
        bool, typer.Option("--toml", help="Print the version's text only.")
    ] = False,
) -> None:
    """Show the version in effect, or the one named."""
    with _Server(server, token) as api:
        if version is None:
            path = "/v1/protocols/current"
        else:
            ident, number = _resolve(api, version)
            path = f"/v1/protocols/{ident}/versions/{number}"
        shown = api.request("GET", path)
    sys.stdout.write(str(shown["toml"]) if toml else _summary(shown) + "\n")


@protocol_app.command("history")
@guarded
def history(server: ServerOpt, token: TokenOpt) -> None:
    """Every version naming your party, oldest first."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    with _Server(server, token) as api:
        listed = api.request("GET", "/v1/protocols")
    if not listed:
        stderr.print("no protocol names your party yet", markup=False)
        return
    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    for name in ("protocol", "status", "proposed", "in effect"):
        table.add_column(name, overflow="fold")
    for v in listed:
        status = str(v["status"]).replace("_", " ")
        if v["awaiting"]:
            status += "\nawaiting " + ", ".join(v["awaiting"])
        in_effect = "-"
        if v["effective_t_s"] is not None:
            in_effect = f"from {_utc(v['effective_t_s'])}"
            if v["superseded_t_s"] is not None:
                in_effect += f"\nto {_utc(v['superseded_t_s'])}"
        table.add_row(
            f"{v['protocol_id']}\nversion {v['version']}",
            status,
            f"{v['proposed_by']}\n{_utc(v['proposed_t_s'])}",
            in_effect,
        )
    Console(highlight=False).print(table)


@protocol_app.command("withdraw")
@guarded
def withdraw(
    version: Annotated[str, typer.Argument(help="N, or ID/N.")],
    server: ServerOpt,
    token: TokenOpt,
) -> None:
    """Give your party's notice of withdrawal from a version in effect; it ends
    after the notice period its \\[termination] clause sets."""
    with _Server(server, token) as api:
        ident, number = _resolve(api, version)
        noticed = api.request(
            "POST", f"/v1/protocols/{ident}/versions/{number}/withdraw"
        )
    sys.stdout.write(_summary(noticed) + "\n")


@protocol_app.command("import-zones")
@guarded
def import_zones(
    file: Annotated[
        Path, typer.Argument(help="An AIXM 5.1, OpenAir, GeoJSON or NOTAM text file.")
    ],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="aixm, openair, geojson or notam (default: told from the content).",
        ),
    ] = None,
    owner: Annotated[
        str | None,
        typer.Option(
            help="The party that owns every zone (needed for AIXM, OpenAir and "
            "NOTAMs; overrides a GeoJSON zone's owner)."
        ),
    ] = None,
    ground_ft: Annotated[
        float,
        typer.Option(
            help="Terrain elevation added to limits above ground (AGL), in feet."
        ),
    ] = 0.0,
    out: Annotated[
        Path | None,
        typer.Option(help="Write the TOML here (default: standard output)."),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(
            help="NOTAMs: keep those in force at this time or later (RFC 3339)."
        ),
    ] = None,
) -> None:
    """Airspaces as protocol zones: TOML \\[\\[zones]] (and GeoJSON's
    \\[\\[lines]]) to paste into a protocol, each with its name, class and limits
    (as written, in a comment).
    """
    from deconfliction.adapters.airspace_files import (
        AIRSPACE_FORMATS,
        read_airspace,
        zones_toml,
    )

    if fmt is None:
        head = file.read_bytes()[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
        if head.startswith(b"<"):
            fmt = "aixm"
        elif head.startswith(b"{"):
            fmt = "geojson"
        elif b"Q)" in head and b"NOTAM" in head:
            fmt = "notam"
        else:
            fmt = "openair"
    if fmt not in AIRSPACE_FORMATS:
        raise InputError(
            [
                Problem(
                    "command line",
                    None,
                    "--format",
                    f"{fmt!r}: expected {'|'.join(AIRSPACE_FORMATS)}",
                )
            ]
        )
    if owner is None and fmt != "geojson":
        raise InputError(
            [Problem("command line", None, "--owner", "needed: which party owns them")]
        )
    at_t_s = None
    if at is not None:
        from deconfliction.timetext import parse_rfc3339_s

        try:
            at_t_s = parse_rfc3339_s(at)
        except ValueError as exc:
            raise InputError(
                [Problem("command line", None, "--at", str(exc))]
            ) from None
    result = read_airspace(file, fmt, ground_ft, at_t_s)
    for warning in result.warnings[:50]:
        stderr.print(f"  {warning}", markup=False)
    stderr.print(
        f"{file}: {len(result.zones)} zones, {len(result.lines_toml)} lines, "
        f"{result.skipped} left out, {len(result.warnings)} warnings",
        markup=False,
    )
    if not result.zones and not result.lines_toml:
        raise InputError([Problem(str(file), None, "", "no airspace to import")])
    text = zones_toml(result.zones, owner, file.name)
    if result.lines_toml:
        text += "\n" + "\n".join(result.lines_toml)
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, "utf-8")


def register(app: typer.Typer) -> None:
    """Add the ``protocol`` command group to ``app``."""
    app.add_typer(protocol_app, name="protocol")

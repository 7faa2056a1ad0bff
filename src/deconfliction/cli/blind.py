"""``deconfliction blind``: tactical detection without seeing the other's aircraft.

``blind run`` takes part in a run as one of the two parties or as the helper;
``blind plan`` prints the public parameters: frame, quanta, precision and the bit
lengths of the secure comparisons. See docs/blind.md.

``python -m deconfliction.cli.blind run|plan ...`` runs the same commands without
the rest of the command-line application (deployments and tests that run a
participant on its own).
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from deconfliction.cli._common import guarded, stderr

if TYPE_CHECKING:
    from deconfliction.blind.parameters import BlindPlan
    from deconfliction.blind.party import PartyResult

EXIT_PEER_FAILURE: int = 3
"""Exit status when another participant did not connect, went away or fell silent
(2 stays for bad input, as in every command)."""
EXIT_INTERRUPTED: int = 130  # as shells report SIGINT

CSV_FIELDS: tuple[str, ...] = ("id", "other", "tcpa_s", "dcpa_nm", "bearing_deg")

blind_app = typer.Typer(
    name="blind",
    help="Blind deconfliction: conflicts between two parties' aircraft by secure "
    "multiparty computation (MPyC), with a third, non-colluding helper.",
    no_args_is_help=True,
)


class BlindFormat(StrEnum):
    """How ``blind run`` writes its result."""

    JSON = "json"
    CSV = "csv"


ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="blind.toml: peers, frame, maxima, precision (docs/blind.md); "
        "default: the \\[blind] and \\[peers] tables of the protocol file",
    ),
]
ProtocolOption = Annotated[
    str | None,
    typer.Option(
        help="Protocol file or shipped name: minima, lookahead, party names and "
        "(without blind.reference) the frame's centre."
    ),
]


def _plan(config: Path | None, protocol: str | None) -> BlindPlan:
    from deconfliction.blind.config import load_blind_config, parse_blind_config
    from deconfliction.blind.parameters import make_plan
    from deconfliction.errors import InputError, Problem

    proto = None
    if protocol is not None:
        from deconfliction.adapters.protocol_file import resolve_protocol

        proto = resolve_protocol(protocol)
    if config is not None:
        return make_plan(load_blind_config(config), proto)
    if protocol is None:
        raise InputError(
            [Problem("command line", None, "--config", "give --config or --protocol")]
        )
    from deconfliction.adapters.input_files import read_text

    path = _protocol_path(protocol)
    text = read_text(path)
    return make_plan(parse_blind_config(text, str(path), within_protocol=True), proto)


def _protocol_path(protocol: str) -> Path:
    from deconfliction.adapters.protocol_file import builtin_protocol_path

    path = Path(protocol)
    return path if path.is_file() else builtin_protocol_path(protocol)


@blind_app.command("run")
@guarded
def run(
    party: Annotated[
        str, typer.Option(help="Who we are: a party id of \\[peers], or 'helper'.")
    ],
    config: ConfigOption = None,
    states: Annotated[
        Path | None,
        typer.Option(
            help="Our aircraft only: CSV id,lat,lon,alt_ft,gs_kt,trk_deg,vs_fpm"
            "[,party] (not for the helper)."
        ),
    ] = None,
    protocol: ProtocolOption = None,
    listen: Annotated[
        str | None,
        typer.Option(help="Interface to accept connections on \\[default: our host]."),
    ] = None,
    output_format: Annotated[
        BlindFormat, typer.Option("--format", help="Output format.")
    ] = BlindFormat.JSON,
    audit: Annotated[
        Path | None,
        typer.Option(
            help="Also write everything the computation opened to us (JSON), with "
            "our own slot order."
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Report each stage on stderr.")
    ] = False,
    tls_dir: Annotated[
        Path | None,
        typer.Option(
            "--tls-dir",
            help="Our key and certificate and the other two's certificates "
            "(blind keys); the links run over TLS, each peer pinned by \\[pins].",
        ),
    ] = None,
    insecure_loopback: Annotated[
        bool,
        typer.Option(
            "--insecure-loopback",
            help="Plain TCP without --tls-dir (tests, benchmarks): only when all "
            "three participants are on this machine.",
        ),
    ] = False,
) -> None:
    """Take part in a blind run; prints our aircraft's conflicts."""
    from deconfliction.adapters.states_csv import read_states
    from deconfliction.blind.config import HELPER
    from deconfliction.blind.party import run_party
    from deconfliction.blind.session import PeerError
    from deconfliction.errors import Problem, StatesError

    plan = _plan(config, protocol)
    plan.index(party)  # an unknown participant fails before any file is read
    own = None
    if party == HELPER:
        if states is not None:
            raise StatesError(
                [Problem("command line", None, "--states", "the helper has no states")]
            )
    else:
        if states is None:
            raise StatesError(
                [Problem("command line", None, "--states", f"{party} needs its states")]
            )
        own = read_states(states)
        strangers = sorted({str(p) for p in own.party} - {party, *map(str, own.ids)})
        if strangers:
            raise StatesError(
                [
                    Problem(
                        str(states),
                        None,
                        "party",
                        f"only {party}'s own aircraft belong here, found "
                        f"{', '.join(strangers)}",
                    )
                ]
            )
    _check_transport(plan, tls_dir, insecure_loopback)
    try:
        result = run_party(
            plan,
            party,
            own,
            source=str(states or ""),
            listen_host=listen,
            progress=_progress(party) if verbose else None,
            tls_dir=tls_dir,
        )
    except PeerError as exc:
        stderr.print(f"[bold red]error:[/] {exc}", markup=True)
        _leave(EXIT_PEER_FAILURE)
    except KeyboardInterrupt:
        stderr.print("[bold red]error:[/] interrupted", markup=True)
        _leave(EXIT_INTERRUPTED)
    if audit is not None:
        audit.write_text(json.dumps(_audit(result), indent=1) + "\n", encoding="utf-8")
    _write(result, plan, output_format)
    timings = ", ".join(f"{k} {v:.1f} s" for k, v in result.timings_s.items())
    stderr.print(
        f"{party}: {result.counts.pairs} slot pairs, {len(result.conflicts)} "
        f"conflicts of ours ({timings})",
        highlight=False,
    )


def _check_transport(plan: BlindPlan, tls_dir: Path | None, insecure: bool) -> None:
    """Refuse plain TCP unless asked for on loopback, and TLS without pins."""
    import ipaddress

    from deconfliction.errors import InputError, Problem

    if tls_dir is not None:
        if insecure:
            raise InputError(
                [
                    Problem(
                        "command line",
                        None,
                        "--insecure-loopback",
                        "give --tls-dir or --insecure-loopback, not both",
                    )
                ]
            )
        return
    if not insecure:
        raise InputError(
            [
                Problem(
                    "command line",
                    None,
                    "--tls-dir",
                    "the links need TLS: give --tls-dir (keys from 'deconfliction "
                    "blind keys', fingerprints in [pins]); plain TCP only with "
                    "--insecure-loopback, all three on this machine",
                )
            ]
        )

    def loopback(host: str) -> bool:
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False

    remote = [
        a for h, a in zip(plan.hosts, plan.addresses, strict=True) if not loopback(h)
    ]
    if remote:
        raise InputError(
            [
                Problem(
                    "command line",
                    None,
                    "--insecure-loopback",
                    f"plain TCP only on loopback; {', '.join(remote)} is not: "
                    "give --tls-dir",
                )
            ]
        )


@blind_app.command("keys")
@guarded
def keys_command(
    party: Annotated[
        str, typer.Option(help="Whose key: a party id of \\[peers], or 'helper'.")
    ],
    directory: Annotated[
        Path, typer.Option("--dir", help="Where to write PARTY.key and PARTY.crt.")
    ],
    host: Annotated[
        list[str] | None,
        typer.Option(help="Name or address the certificate is for (repeatable)."),
    ] = None,
) -> None:
    """Make our TLS key and certificate for blind runs; prints its fingerprint for
    the \\[pins] table (give the other two the .crt file, never the .key)."""
    from deconfliction.blind.tls import make_keys

    fingerprint = make_keys(party, directory, host or ["127.0.0.1"])
    typer.echo(f'{party} = "{fingerprint}"')


@blind_app.command("plan")
@guarded
def plan_command(config: ConfigOption = None, protocol: ProtocolOption = None) -> None:
    """Print the public parameters, the precision and the comparison bit lengths."""
    plan = _plan(config, protocol)
    json.dump(describe_plan(plan), sys.stdout, indent=1)
    sys.stdout.write("\n")


def _leave(status: int) -> NoReturn:
    """Exit now: MPyC's coroutines still wait for what will not come, and cannot be
    abandoned, so the process ends here rather than at interpreter shutdown."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def describe_plan(plan: BlindPlan) -> dict[str, Any]:
    """The public parameters in words and numbers (``blind plan``)."""
    from deconfliction.blind.parameters import TCPA_FRACTION_BITS
    from deconfliction.units import M_PER_FT, M_PER_NM

    bounds = plan.bounds
    q_nm = plan.horizontal_quantum_m / M_PER_NM
    qv_ft = plan.vertical_quantum_ft
    return {
        "participants": list(plan.participants),
        "digest": plan.digest(),
        "protocol": plan.protocol,
        "minima": {
            "horizontal_nm": plan.horizontal_nm,
            "vertical_ft": plan.vertical_ft,
            "lookahead_s": plan.lookahead_s,
        },
        "frame": {
            "reference": [plan.reference_lat_deg, plan.reference_lon_deg],
            "radius_nm": plan.radius_nm,
        },
        "precision": {
            "position_quantum_nm": round(q_nm, 6),
            "position_quantum_m": round(plan.horizontal_quantum_m, 3),
            "altitude_quantum_ft": qv_ft,
            "altitude_quantum_m": round(qv_ft * M_PER_FT, 3),
            "horizontal_error_nm": round(2 * 2**0.5 * q_nm, 6),
            "vertical_error_ft": 2 * qv_ft,
            "tcpa_step_s": plan.lookahead_s / (1 << TCPA_FRACTION_BITS),
        },
        "slots": {
            "max_aircraft": plan.max_aircraft,
            "max_conflicts": plan.max_conflicts,
            "pairs": plan.max_aircraft**2,
        },
        "comparison_bits": {
            "vertical_start": bounds.start_bits,
            "vertical_end": bounds.end_bits,
            "cpa_against_window": bounds.motion_bits,
            "separation": bounds.separation_bits,
            "per_pair": bounds.comparison_bits_per_pair,
            "per_reported_conflict": bounds.comparison_bits_per_conflict,
            "secure_integer": bounds.secure_bits,
        },
    }


def _records(result: PartyResult) -> list[dict[str, Any]]:
    by_id: dict[str, list[dict[str, Any]]] = {i: [] for i in result.aircraft}
    for c in result.conflicts:
        by_id[c.id].append(
            {
                "other": c.other,
                "tcpa_s": None if c.tcpa_s is None else round(c.tcpa_s, 3),
                "dcpa_nm": None if c.dcpa_nm is None else round(c.dcpa_nm, 4),
                "bearing_deg": None
                if c.bearing_deg is None
                else round(c.bearing_deg, 1),
            }
        )
    return [
        {"id": ident, "in_conflict": bool(by_id[ident]), "conflicts": by_id[ident]}
        for ident in sorted(by_id)
    ]


def _write(result: PartyResult, plan: BlindPlan, output_format: BlindFormat) -> None:
    if output_format is BlindFormat.CSV:
        writer = csv.DictWriter(sys.stdout, fieldnames=CSV_FIELDS, lineterminator="\n")
        writer.writeheader()
        for record in _records(result):
            for conflict in record["conflicts"]:
                writer.writerow({"id": record["id"], **conflict})
        return
    document = {
        "participant": result.participant,
        "protocol": plan.protocol,
        "aircraft": _records(result),
        "unreported": result.unreported,
        "run": {
            "slot_pairs": result.counts.pairs,
            "comparisons": result.counts.comparisons + result.counts.figure_comparisons,
            "comparison_bits": result.counts.comparison_bits
            + result.counts.figure_comparison_bits,
            "timings_s": {k: round(v, 3) for k, v in result.timings_s.items()},
            **result.traffic,
        },
    }
    json.dump(document, sys.stdout, indent=1)
    sys.stdout.write("\n")


def _progress(party: str) -> Callable[[str], None]:
    def report(message: str) -> None:
        stderr.print(f"{party}: {message}", highlight=False)

    return report


def _audit(result: PartyResult) -> dict[str, Any]:
    view = result.view
    return {
        "participant": result.participant,
        "own_slots": {
            str(slot): result.aircraft[k]
            for slot, k in enumerate(result.slot_aircraft)
            if k >= 0
        },
        "conflict_matrix": None
        if view.conflict_matrix is None
        else view.conflict_matrix.tolist(),
        "figures": None if view.figures is None else view.figures.tolist(),
    }


def register(app: typer.Typer) -> None:
    """Add the ``blind`` command group to ``app``."""
    app.add_typer(blind_app)


def main() -> None:
    """Run the ``blind`` command group on its own."""
    blind_app(prog_name="python -m deconfliction.cli.blind")


if __name__ == "__main__":
    main()

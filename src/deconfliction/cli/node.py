"""``deconfliction node``: make and show a party's node (docs/federation.md).

* ``node init --party P --dir NODE_DIR [--host NAME ...]`` makes the node's Ed25519
  signing key and self-signed TLS certificate, and prints the certificate's
  fingerprint (``sha256:...``) to put under ``[nodes.P]`` in the protocol file,
  exchanged with the other parties out of band.
* ``node show --dir NODE_DIR`` prints the party, the fingerprint and the pinned peers.
* ``node links --server URL --token T`` prints the node's links to its peers, as the
  officers see them: ``link to russia down since 2026-12-07T12:04:10Z: why``.

Then ``deconfliction serve --node NODE_DIR`` runs the node over HTTPS and
``deconfliction party add P --node NODE_DIR`` gives its officers their tokens.
"""

from __future__ import annotations

from typing import Annotated

import typer

from deconfliction.cli._common import guarded, stderr

node_app = typer.Typer(
    help="A party's own node (federation): init, show, links.", no_args_is_help=True
)

DirOpt = Annotated[
    str, typer.Option("--dir", help="The node's directory (keys, certificate, store).")
]


@node_app.command("init")
@guarded
def node_init(
    party: Annotated[str, typer.Option(help="The party this node runs for.")],
    directory: DirOpt,
    host: Annotated[
        list[str] | None,
        typer.Option(
            help="A name or address peers reach the node by (repeat; localhost "
            "and 127.0.0.1 always).",
        ),
    ] = None,
) -> None:
    """Make the node's signing key and self-signed TLS certificate; print the
    certificate's fingerprint (for \\[nodes.PARTY] in the protocol file)."""
    from rich.markup import escape

    from deconfliction.federation import certs, node_dir
    from deconfliction.hotline.checkpoints import key_fingerprint

    node = node_dir.init_node(directory, party, list(host or []))
    ident = certs.identity(node.certificate())
    stderr.print(
        f"node of {party!r} made in {node.dir}; signing key "
        f"{key_fingerprint(ident.signing_key)}; certificate fingerprint "
        f"(for {escape(f'[nodes.{party}]')} in the protocol, compare it out of band):"
    )
    typer.echo(node.fingerprint)


@node_app.command("show")
@guarded
def node_show(directory: DirOpt) -> None:
    """The node's party, certificate fingerprint and pinned peers."""
    from deconfliction.federation import certs, node_dir

    node = node_dir.load_node(directory)
    typer.echo(f"party\t{node.party}")
    typer.echo(f"fingerprint\t{node.fingerprint}")
    for party, pem in node_dir.pinned_peers(node).items():
        typer.echo(f"peer {party}\t{certs.fingerprint_pem(pem)}")


@node_app.command("links")
@guarded
def node_links(
    server: Annotated[str, typer.Option(help="Your node, e.g. https://127.0.0.1:8443")],
    token: Annotated[
        str,
        typer.Option(envvar="DECONFLICTION_TOKEN", help="Your party's bearer token."),
    ],
) -> None:
    """The node's links to its peers: up or down, since when, why, what is queued
    (give the node's certificate as SSL_CERT_FILE=NODE_DIR/tls/node.pem)."""
    from deconfliction.cli.protocol import _Server

    with _Server(server, token) as node:
        links = node.request("GET", "/v1/federation/links")
    if not links:
        typer.echo("no peers yet (no protocol naming other nodes accepted)")
    for link in links:
        typer.echo(_link_line(link))


def _link_line(link: dict[str, object]) -> str:
    """``link to russia down since 2026-12-07T12:04:10Z: why; 2 queued since ...``"""
    line = f"link to {link.get('party')} {link.get('status')}"
    since = link.get("since_t_s")
    if isinstance(since, int | float):
        line += f" since {_utc(since)}"
    if link.get("status") == "down" and link.get("reason"):
        line += f": {link['reason']}"
    queued = link.get("queued")
    oldest = link.get("oldest_queued_t_s")
    if isinstance(queued, int) and queued and isinstance(oldest, int | float):
        line += f"; {queued} queued since {_utc(oldest)}"
    return line


def _utc(t_s: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(t_s, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def register(app: typer.Typer) -> None:
    """Add ``node`` to ``app``."""
    app.add_typer(node_app, name="node")

"""``deconfliction node``: make and show a party's node (docs/federation.md).

* ``node init --party P --dir NODE_DIR [--host NAME ...]`` makes the node's Ed25519
  signing key and self-signed TLS certificate, and prints the certificate's
  fingerprint (``sha256:...``) to put under ``[nodes.P]`` in the protocol file,
  exchanged with the other parties out of band.
* ``node show --dir NODE_DIR`` prints the party, the fingerprint and the pinned peers.

Then ``deconfliction serve --node NODE_DIR`` runs the node over HTTPS and
``deconfliction party add P --node NODE_DIR`` gives its officers their tokens.
"""

from __future__ import annotations

from typing import Annotated

import typer

from deconfliction.cli._common import guarded, stderr

node_app = typer.Typer(
    help="A party's own node (federation): init, show.", no_args_is_help=True
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


def register(app: typer.Typer) -> None:
    """Add ``node`` to ``app``."""
    app.add_typer(node_app, name="node")

"""TLS for the three links of a blind run, each peer pinned by its fingerprint.

Each participant makes its own key and self-signed certificate once
(:func:`make_keys`, ``deconfliction blind keys``), the same kind of certificate a
federation node makes (:mod:`deconfliction.federation.certs`). The ``[pins]`` table
of ``blind.toml`` (or of the protocol file) names all three by their ``sha256:``
fingerprints. There is no certificate authority:

- as client (towards the higher indices) a participant checks the certificate the
  server presents against the pin of the participant it dialled, after the
  handshake and before anything but its own index is sent;
- as server it asks for a client certificate and trusts only the pinned
  certificates of the lower indices (their files in the TLS directory, each
  checked against its pin when loaded), then checks that the certificate presented
  is the pin of the index the client names.

The TLS directory holds ``PARTICIPANT.key`` and ``PARTICIPANT.crt`` (ours) and the
other two participants' ``.crt`` (public: exchanged with ``blind keys`` output).
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from deconfliction.blind.parameters import BlindPlan
from deconfliction.errors import InputError, Problem
from deconfliction.federation.certs import (
    fingerprint_der,
    fingerprint_pem,
    make_certificate,
)


class TlsSetupError(InputError):
    """The TLS directory or the pins do not allow a pinned run."""


def make_keys(participant: str, directory: Path, hosts: list[str]) -> str:
    """Write ``participant``'s new key and certificate into ``directory``.

    Returns:
        The certificate's fingerprint (``sha256:...``), for ``[pins]``.

    Raises:
        TlsSetupError: a key is already there (never overwritten).
    """
    key_path = directory / f"{participant}.key"
    cert_path = directory / f"{participant}.crt"
    if key_path.exists() or cert_path.exists():
        raise TlsSetupError(
            [
                Problem(
                    str(key_path),
                    None,
                    "--dir",
                    f"{participant}'s key or certificate exists already; "
                    "not overwritten",
                )
            ]
        )
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = make_certificate(
        participant, Ed25519PrivateKey.generate().public_key(), hosts
    )
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key)
    cert_path.write_bytes(cert)
    return fingerprint_pem(cert)


@dataclass(frozen=True, slots=True)
class PinnedTls:
    """Our TLS contexts and the pins of a run.

    Attributes:
        pins: fingerprint of each participant's certificate (MPyC index order).
        server: the context we accept connections with (None for participant 0).
        client: the context we dial the higher indices with.
    """

    pins: tuple[str, str, str]
    server: ssl.SSLContext | None
    client: ssl.SSLContext

    def mismatch(self, index: int, der: bytes | None) -> str | None:
        """Why the certificate ``der`` is not participant ``index``'s, or None."""
        if der is None:
            return "presented no certificate"
        got = fingerprint_der(der)
        if got != self.pins[index]:
            return (
                f"presented certificate {got}, not the pinned {self.pins[index]}: "
                "refused"
            )
        return None


def load_tls(plan: BlindPlan, index: int, directory: Path) -> PinnedTls:
    """The contexts of participant ``index`` from its TLS directory.

    Raises:
        TlsSetupError: no ``[pins]``, a file missing or unreadable, or a peer's
            certificate file that is not the one pinned for it.
    """
    if plan.pins is None:
        raise TlsSetupError(
            [
                Problem(
                    "blind.toml",
                    None,
                    "pins",
                    "--tls-dir needs [pins]: each participant's certificate "
                    "fingerprint (deconfliction blind keys prints it)",
                )
            ]
        )
    names = plan.participants
    own_cert = directory / f"{names[index]}.crt"
    own_key = directory / f"{names[index]}.key"
    problems: list[Problem] = []
    pems: dict[int, bytes] = {}
    for k, name in enumerate(names):
        path = directory / f"{name}.crt"
        try:
            pem = path.read_bytes()
            got = fingerprint_pem(pem)
        except OSError as exc:
            problems.append(
                Problem(str(path), None, "--tls-dir", f"cannot read: {exc.strerror}")
            )
            continue
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        if got != plan.pins[k]:
            whose = "our" if k == index else f"{name}'s"
            problems.append(
                Problem(
                    str(path),
                    None,
                    f"pins.{name}",
                    f"{whose} certificate here is {got}, but [pins] names "
                    f"{plan.pins[k]}",
                )
            )
        pems[k] = pem
    if not own_key.is_file():
        problems.append(Problem(str(own_key), None, "--tls-dir", "our key is missing"))
    if problems:
        raise TlsSetupError(problems)
    try:
        client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        client.minimum_version = ssl.TLSVersion.TLSv1_3
        client.check_hostname = False
        client.verify_mode = ssl.CERT_NONE  # the pin is checked after the handshake
        client.load_cert_chain(own_cert, own_key)
        server = None
        if index > 0:
            server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            server.minimum_version = ssl.TLSVersion.TLSv1_3
            server.verify_mode = ssl.CERT_REQUIRED
            server.load_cert_chain(own_cert, own_key)
            for k in range(index):  # only the lower indices dial us
                server.load_verify_locations(cadata=pems[k].decode("ascii"))
    except (ssl.SSLError, ValueError) as exc:
        raise TlsSetupError(
            [Problem(str(own_key), None, "--tls-dir", f"unusable key: {exc}")]
        ) from None
    return PinnedTls(plan.pins, server, client)

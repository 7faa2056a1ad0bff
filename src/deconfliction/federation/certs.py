"""A node's TLS certificate and the contexts that pin peers by fingerprint.

Each node makes its own self-signed certificate (ECDSA P-256, which every browser
and TLS library speaks, so the node's console works over HTTPS too). The
certificate also names the node's party and carries its Ed25519 signing public key
(as ``urn:deconfliction:party:P`` and ``urn:deconfliction:ed25519:KEY``
subject-alternative names): pinning the certificate by its fingerprint pins the
signing key with it. The fingerprint is ``sha256:`` and the SHA-256 of the
certificate's DER bytes, in lowercase hex.

There is no certificate authority: a node trusts exactly the certificates of the
peers it pinned (each one its own trust anchor), as server and as client.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.x509.oid import NameOID

from deconfliction.errors import DeconflictionError, InputError, Problem

CERT_VALID_DAYS: int = 3650
PARTY_URN: str = "urn:deconfliction:party:"
SIGNING_KEY_URN: str = "urn:deconfliction:ed25519:"
FETCH_TIMEOUT_S: float = 5.0


class PinningError(DeconflictionError):
    """A peer presented another certificate than the one pinned for it, or none."""


@dataclass(frozen=True, slots=True)
class NodeIdentity:
    """What a node's certificate says about it.

    Attributes:
        party: the party whose node it is.
        signing_key: the node's Ed25519 public key (it signs the node's record).
        fingerprint: ``sha256:...`` of the certificate.
    """

    party: str
    signing_key: Ed25519PublicKey
    fingerprint: str


def fingerprint_der(der: bytes) -> str:
    """The fingerprint of a certificate's DER bytes.

    >>> fingerprint_der(b"x")[:15]
    'sha256:2d711642'
    """
    return "sha256:" + hashlib.sha256(der).hexdigest()


def fingerprint_pem(pem: bytes) -> str:
    """The fingerprint of a PEM certificate.

    Raises:
        InputError: if the bytes are not a PEM certificate.
    """
    return fingerprint_der(_load(pem).public_bytes(serialization.Encoding.DER))


def _load(pem: bytes, source: str = "certificate") -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        raise InputError(
            [Problem(source, None, "certificate", f"not a PEM certificate: {exc}")]
        ) from None


def make_certificate(
    party: str, signing_key: Ed25519PublicKey, hosts: list[str]
) -> tuple[bytes, bytes]:
    """A new self-signed certificate for ``party``'s node and its private key
    (both PEM), valid for ``hosts`` (names or IP addresses)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"deconfliction node {party}"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, party),
        ]
    )
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    raw = signing_key.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    names.append(x509.UniformResourceIdentifier(PARTY_URN + party))
    names.append(
        x509.UniformResourceIdentifier(
            SIGNING_KEY_URN + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
        )
    )
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=CERT_VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    return (
        cert.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


def identity(pem: bytes, source: str = "certificate") -> NodeIdentity:
    """The party and signing key a node certificate names.

    Raises:
        InputError: if it is not a node certificate made by ``node init``.
    """
    cert = _load(pem, source)
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        uris = sans.value.get_values_for_type(x509.UniformResourceIdentifier)
    except x509.ExtensionNotFound:
        uris = []
    party = next((u[len(PARTY_URN) :] for u in uris if u.startswith(PARTY_URN)), None)
    key_text = next(
        (u[len(SIGNING_KEY_URN) :] for u in uris if u.startswith(SIGNING_KEY_URN)),
        None,
    )
    if party is None or key_text is None:
        raise InputError(
            [Problem(source, None, "certificate", "not a deconfliction node's")]
        )
    try:
        raw = base64.urlsafe_b64decode(key_text + "=" * (-len(key_text) % 4))
        key = Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, binascii.Error):
        raise InputError(
            [Problem(source, None, "certificate", "its signing key is not Ed25519")]
        ) from None
    return NodeIdentity(
        party, key, fingerprint_der(cert.public_bytes(serialization.Encoding.DER))
    )


def server_context(
    cert_file: str, key_file: str, peer_pems: list[bytes]
) -> ssl.SSLContext:
    """The node's server side: its certificate; a client certificate asked for but
    optional (officers' browsers and tools have none), and when given it must be
    one of ``peer_pems``. More peers can be pinned later with :func:`pin`."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert_file, key_file)
    ctx.verify_mode = ssl.CERT_OPTIONAL
    for pem in peer_pems:
        pin(ctx, pem)
    return ctx


def pin(ctx: ssl.SSLContext, pem: bytes) -> None:
    """Trust this one certificate (a peer's) in ``ctx`` from now on."""
    ctx.load_verify_locations(cadata=pem.decode("ascii"))


def client_context(cert_file: str, key_file: str, peer_pem: bytes) -> ssl.SSLContext:
    """The node's client side towards one peer: presents the node's certificate and
    accepts only the peer's pinned one (names are not checked: the pin is the
    identity)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_cert_chain(cert_file, key_file)
    pin(ctx, peer_pem)
    return ctx


def fetch_certificate(url: str, fingerprint: str) -> bytes:
    """The certificate the node at ``url`` presents (PEM), if it is the pinned one.

    Nothing is sent over the connection: it is closed once the certificate is read.

    Raises:
        PinningError: if the node presents another certificate.
        OSError: if it cannot be reached.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or 443
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # checked below, against the pin
    with (
        socket.create_connection((host, port), timeout=FETCH_TIMEOUT_S) as raw,
        ctx.wrap_socket(raw, server_hostname=host) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    if der is None:
        raise PinningError(f"{url} presented no certificate")
    got = fingerprint_der(der)
    if got != fingerprint:
        raise PinningError(
            f"{url} presented certificate {got}, not the pinned {fingerprint}"
        )
    return ssl.DER_cert_to_PEM_cert(der).encode("ascii")

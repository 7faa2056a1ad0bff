"""TLS with a client certificate from a PKCS#12 file (issue 19, item 5): CotSender
with pkcs12_tls_config against a loopback TLS listener that requires a client
certificate from its CA; a wrong password or a non-PKCS#12 file is an error naming
it."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import socket
import ssl
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from deconfliction.adapters.live import CotSender, pkcs12_tls_config
from deconfliction.errors import InputError


def _cert(subject: str, key, issuer_name, issuer_key, *, ca: bool = False, san=None):
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if san:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(san), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, Path]:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA")])
    ca = _cert("Test CA", ca_key, ca_name, ca_key, ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = _cert(
        "localhost",
        server_key,
        ca_name,
        ca_key,
        san=[
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        ],
    )
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = _cert("coalition-tak", client_key, ca_name, ca_key)
    pem = serialization.Encoding.PEM
    paths = {
        "ca": tmp_path / "ca.pem",
        "server_cert": tmp_path / "server.pem",
        "server_key": tmp_path / "server.key",
        "p12": tmp_path / "client.p12",
    }
    paths["ca"].write_bytes(ca.public_bytes(pem))
    paths["server_cert"].write_bytes(server.public_bytes(pem))
    paths["server_key"].write_bytes(
        server_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    paths["p12"].write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"client",
            client_key,
            client,
            [ca],
            serialization.BestAvailableEncryption(b"s3cret"),
        )
    )
    return paths


# PyTAK 7 sets ssl.OP_NO_TLSv1 (deprecated since Python 3.10): a warning, not ours.
@pytest.mark.filterwarnings("ignore:ssl.OP_NO_SSL:DeprecationWarning")
def test_a_client_certificate_from_pkcs12(pki: dict[str, Path]) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki["server_cert"], pki["server_key"])
    context.load_verify_locations(pki["ca"])
    context.verify_mode = ssl.CERT_REQUIRED
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    got: dict[str, object] = {}

    def serve() -> None:
        conn, _ = listener.accept()
        with context.wrap_socket(conn, server_side=True) as tls:
            got["peer"] = tls.getpeercert()["subject"]
            data = b""
            while b"</event>" not in data:
                chunk = tls.recv(4096)
                if not chunk:
                    break
                data += chunk
            got["data"] = data

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    config = pkcs12_tls_config(str(pki["p12"]), "s3cret", str(pki["ca"]))

    async def send() -> None:
        async with CotSender(f"tls://localhost:{port}", config) as sender:
            await sender.send(b'<event uid="x" type="a-f-A"></event>\n')
            await asyncio.sleep(0.5)

    try:
        asyncio.run(asyncio.wait_for(send(), 20))
        thread.join(10)
    finally:
        listener.close()
    assert got["peer"] == ((("commonName", "coalition-tak"),),)
    assert b'uid="x"' in got["data"]


def test_a_wrong_password_names_the_file(pki: dict[str, Path]) -> None:
    with pytest.raises(InputError) as info:
        pkcs12_tls_config(str(pki["p12"]), "wrong")
    assert "client.p12" in str(info.value)


def test_not_pkcs12(pki: dict[str, Path]) -> None:
    with pytest.raises(InputError):
        pkcs12_tls_config(str(pki["ca"]), None)

"""Attacks on the browser and the wire: clickjacking the console, loading script
from elsewhere, leaking the URL in a referrer, sniffing a content type, reading
the traffic; and an unauthenticated stream told apart from a refused one only by
an HTTP 403 (a real server on loopback, SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.conftest import Server, add_party, start_server

pytestmark = pytest.mark.slow

WS_UNAUTHORIZED = 4401  # README, the stream


def test_clickjacking_and_foreign_script_are_refused_by_headers(
    server: Server,
) -> None:
    for path in ("/", "/openapi.json", "/v1/alerts", "/static/app.js"):
        r = httpx.get(server.url + path)
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp
        assert "script-src 'self'" in csp
        assert "default-src 'self'" in csp
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert r.headers["x-content-type-options"] == "nosniff"
    # A party's data is never kept by a cache on the way.
    assert httpx.get(server.url + "/v1/alerts").headers["cache-control"] == "no-store"


def test_docs_load_nothing_from_a_cdn(server: Server) -> None:
    """Swagger UI and ReDoc fetch their scripts from a CDN: not served at all; the
    OpenAPI document is."""
    for path in ("/docs", "/redoc"):
        assert httpx.get(server.url + path).status_code == 404
    assert httpx.get(server.url + "/openapi.json").json()["openapi"]
    page = httpx.get(server.url + "/").text
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)


def test_unauthenticated_stream_gets_the_documented_close_code(
    server: Server,
) -> None:
    ws_url = server.url.replace("http://", "ws://") + "/v1/stream"
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        with (
            connect(ws_url, additional_headers=headers) as ws,
            pytest.raises(ConnectionClosed) as closed,
        ):
            ws.recv(timeout=30)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == WS_UNAUTHORIZED


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_server(
    database_url: str, tmp_path: Path
) -> Iterator[tuple[Server, ssl.SSLContext]]:
    cert, key = _self_signed(tmp_path)
    trust = ssl.create_default_context(cafile=str(cert))
    srv = start_server(
        database_url,
        tmp_path / "server.log",
        extra_args=("--tls-cert", str(cert), "--tls-key", str(key)),
        verify=trust,
    )
    try:
        yield srv, trust
    finally:
        srv.stop()


def test_traffic_is_not_readable_on_the_wire(
    tls_server: tuple[Server, ssl.SSLContext],
) -> None:
    server, trust = tls_server
    token = add_party(server.database_url, "coalition", "officer")
    assert server.url.startswith("https://")
    r = httpx.get(
        server.url + "/v1/parties/me",
        headers={"Authorization": f"Bearer {token}"},
        verify=trust,
    )
    assert r.status_code == 200
    assert r.json()["party_id"] == "coalition"
    assert r.headers["strict-transport-security"].startswith("max-age=")
    # Plain HTTP to the TLS port gets no answer; nor does a client that does not
    # trust the certificate.
    plain = server.url.replace("https://", "http://")
    with pytest.raises(httpx.HTTPError):
        httpx.get(plain + "/openapi.json", timeout=5)
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url + "/openapi.json", timeout=5)
    # The stream over WSS.
    ws_url = server.url.replace("https://", "wss://") + "/v1/stream"
    with (
        connect(
            ws_url, additional_headers={"Authorization": f"Bearer {token}"}, ssl=trust
        ) as ws,
        pytest.raises(TimeoutError),
    ):
        ws.recv(timeout=0.5)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--tls-cert", "cert.pem"], "give both or neither"),
        (["--tls-cert", "missing.pem", "--tls-key", "k.pem"], "no such file"),
    ],
)
def test_serve_refuses_half_a_tls_configuration(
    tmp_path: Path, args: list[str], says: str
) -> None:
    exe = Path(sys.executable).parent / "deconfliction"
    (tmp_path / "cert.pem").write_text("not a certificate\n")
    done = subprocess.run(
        [str(exe), "serve", "--database", f"sqlite:///{tmp_path / 'x.db'}", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert says in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_refuses_a_file_that_is_not_a_certificate(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "deconfliction"
    (tmp_path / "cert.pem").write_text("not a certificate\n")
    (tmp_path / "key.pem").write_text("not a key\n")
    done = subprocess.run(
        [
            str(exe),
            "serve",
            "--database",
            f"sqlite:///{tmp_path / 'x.db'}",
            "--tls-cert",
            "cert.pem",
            "--tls-key",
            "key.pem",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "not a PEM certificate" in done.stderr
    assert "Traceback" not in done.stderr

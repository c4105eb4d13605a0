"""TLS certificates are verified: a self-signed site is a failing source, not content."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.httpfixture import FixtureServer
from tests.sitekit import changes, declare, health, run, simple_board


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_self_signed_certificate_is_refused(tmp_path: Path, sqlite_url: str) -> None:
    cert, key = _self_signed(tmp_path)
    with FixtureServer() as site:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        site.httpd.socket = ctx.wrap_socket(site.httpd.socket, server_side=True)
        simple_board(site)
        declare(tmp_path / "src", "tls", site.base.replace("http://", "https://"))
        res = run(["crawl"], sqlite_url, tmp_path / "src", SETTLEWATCH_DOWNLOAD_TIMEOUT="5")
    assert res.exit_code == 0, res.output
    h = health(sqlite_url)["tls"]
    assert h["health"] == "failing"
    # the name matches; only the issuer is untrusted, and that alone must fail the fetch
    assert "certificate" in h["reason"].lower(), h["reason"]
    assert changes(sqlite_url) == []

"""Certificates the TLS tests make themselves: an administrator's own (--tls-cert/--tls-key), one about to expire."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def write_key(key: Any, path: Path) -> Path:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return path


def self_signed(key: Any, path: Path, *, names: tuple[str, ...] = ("localhost",),
                addresses: tuple[str, ...] = ("127.0.0.1",), days: float = 90) -> x509.Certificate:
    """A self-signed server certificate for `names` and `addresses`, valid `days` from now, written to `path`."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "studio.test")])
    now = datetime.now(UTC)
    sans = [*map(x509.DNSName, names), *(x509.IPAddress(ipaddress.ip_address(a)) for a in addresses)]
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert


def fingerprint(cert_pem: Path) -> str:
    cert = x509.load_pem_x509_certificate(cert_pem.read_bytes())
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def subject_names(cert_pem: Path) -> tuple[set[str], set[str]]:
    """The DNS names and IP addresses of a certificate file."""
    cert = x509.load_pem_x509_certificate(cert_pem.read_bytes())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return set(sans.get_values_for_type(x509.DNSName)), set(map(str, sans.get_values_for_type(x509.IPAddress)))

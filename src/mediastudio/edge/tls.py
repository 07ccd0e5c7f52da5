"""HTTPS for `serve --tls`: the certificate (the studio's own, kept in `<data>/tls/`, or an administrator's) and
the server's SSLContext, which accepts TLS 1.3 only.

The studio's own certificate is a self-signed leaf (no CA): ECDSA P-256, valid a year, naming this machine
(`localhost`, its host name, `<name>.local`, the names given with --allowed-host) and its addresses (127.0.0.1,
::1, the --host address, the address of each default route, the addresses given with --allowed-host). It is
made again when it is about to expire or when a name it should hold is missing (the machine got another
address), so its fingerprint changes only then. `cryptography` is imported inside the functions that need it.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from mediastudio.edge.hosts import WILDCARD_ADDRESSES, machine_names

if TYPE_CHECKING:
    from cryptography import x509

    from mediastudio.settings import Settings

CERT_DAYS = 365
RENEW_BEFORE = timedelta(days=30)  # a certificate with less left than this is made again at start
CERT_FILE, KEY_FILE = "cert.pem", "key.pem"
HSTS_VALUE = b"max-age=31536000"  # a year; no includeSubDomains: the studio speaks only for its own name
# Route probes: a UDP connect() only picks the route, nothing is sent; documentation addresses (RFC 5737, 3849).
ROUTE_PROBES = ((socket.AF_INET, "192.0.2.1"), (socket.AF_INET6, "2001:db8::1"))


class TlsProblem(Exception):
    """A certificate or key the server cannot use, said so that a person can fix it."""


@dataclass(frozen=True)
class Certificate:
    """The certificate a studio serves, as people check it."""

    cert_path: Path
    key_path: Path
    self_made: bool
    fingerprint_sha256: str  # "AB:CD:…", as browsers show it
    names: list[str]  # DNS names and IP addresses it is valid for
    not_after: datetime


def route_addresses() -> set[str]:
    """The addresses this machine uses towards its default routes (its LAN addresses); no DNS lookups."""
    found: set[str] = set()
    for family, probe in ROUTE_PROBES:
        with contextlib.suppress(OSError), socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.connect((probe, 9))
            address = ipaddress.ip_address(str(sock.getsockname()[0]).split("%")[0])
            if not (address.is_unspecified or address.is_link_local):
                found.add(str(address))
    return found


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None


def wanted_names(settings: Settings) -> tuple[set[str], set[str]]:
    """The DNS names and IP addresses the studio's own certificate should hold."""
    names = {"localhost", *machine_names()}
    addresses = {"127.0.0.1", "::1", *route_addresses()}
    extra = [settings.host] if settings.host not in WILDCARD_ADDRESSES else []
    for value in [*extra, *settings.allowed_hosts]:
        value = value.strip().lower().rstrip(".")
        if not value or "*" in value:
            continue
        address = _ip(value)
        if address is not None:
            addresses.add(str(address))
        else:
            names.add(value)
    return names, addresses


def _describe(cert: x509.Certificate, cert_path: Path, key_path: Path, self_made: bool) -> Certificate:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [*sans.get_values_for_type(x509.DNSName), *map(str, sans.get_values_for_type(x509.IPAddress))]
    except x509.ExtensionNotFound:
        names = []
    return Certificate(cert_path, key_path, self_made, cert.fingerprint(hashes.SHA256()).hex(":").upper(), names,
                       cert.not_valid_after_utc)


def _read_certificate(path: Path) -> x509.Certificate:
    from cryptography import x509

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TlsProblem(f"Cannot read the TLS certificate {path}: {exc.strerror or exc}.") from exc
    try:
        return x509.load_pem_x509_certificates(data)[0]  # the server's own comes first in a chain file
    except ValueError as exc:
        raise TlsProblem(f"{path} holds no PEM certificate (a file starting with "
                         "'-----BEGIN CERTIFICATE-----').") from exc


def _check_pair(cert_path: Path, key_path: Path) -> None:
    """Loads the pair as the server will: unreadable files and a key of another certificate are refused here."""
    try:
        key_path.read_bytes()
    except OSError as exc:
        raise TlsProblem(f"Cannot read the TLS key {key_path}: {exc.strerror or exc}.") from exc
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert_path, key_path, password=_no_password)
    except ssl.SSLError as exc:
        if "KEY_VALUES_MISMATCH" in str(exc) or "key values mismatch" in str(exc):
            raise TlsProblem(f"The key {key_path} does not belong to the certificate {cert_path}.") from exc
        raise TlsProblem(f"Cannot use the TLS key {key_path} with {cert_path} (an unencrypted PEM private key is "
                         f"needed): {exc.reason or exc}.") from exc


def _no_password() -> bytes:
    return b""  # an encrypted key then fails to load, with the error above, instead of prompting on the terminal


def admin_certificate(cert_path: Path, key_path: Path) -> Certificate:
    """An administrator's certificate and key (--tls-cert, --tls-key), checked."""
    cert = _read_certificate(cert_path)
    _check_pair(cert_path, key_path)
    return _describe(cert, cert_path, key_path, self_made=False)


def _usable(folder: Path, names: set[str], addresses: set[str]) -> Certificate | None:
    """The kept certificate when it can serve on: readable, its key with it, not about to expire, every wanted
    name in it."""
    cert_path, key_path = folder / CERT_FILE, folder / KEY_FILE
    if not (cert_path.is_file() and key_path.is_file()):
        return None
    try:
        kept = _describe(_read_certificate(cert_path), cert_path, key_path, self_made=True)
        _check_pair(cert_path, key_path)
    except TlsProblem:
        return None
    held = {name.lower() for name in kept.names}
    if kept.not_after - datetime.now(UTC) < RENEW_BEFORE or not (names | addresses) <= held:
        return None
    return kept


def _write(path: Path, data: bytes, mode: int) -> None:
    """Write atomically with `mode` from the start (a key is never readable by others, not even for a moment)."""
    partial = path.with_name(path.name + ".partial")
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(partial, path)


def _make(folder: Path, names: set[str], addresses: set[str]) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    host = socket.gethostname() or "localhost"
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Mediastudio on {host}"[:64]),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Mediastudio (self-signed)")])
    sans: list[x509.GeneralName] = [x509.DNSName(name) for name in sorted(names)]
    sans += [x509.IPAddress(ipaddress.ip_address(address)) for address in sorted(addresses)]
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=CERT_DAYS))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    _write(folder / KEY_FILE, key_pem, 0o600)
    _write(folder / CERT_FILE, cert.public_bytes(serialization.Encoding.PEM), 0o644)


def studio_certificate(settings: Settings) -> Certificate:
    """The studio's own certificate in `<data>/tls/`: the kept one while it fits, else a new one."""
    folder = settings.data_dir / "tls"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    names, addresses = wanted_names(settings)
    kept = _usable(folder, names, addresses)
    if kept is None:
        _make(folder, names, addresses)
        kept = _describe(_read_certificate(folder / CERT_FILE), folder / CERT_FILE, folder / KEY_FILE, True)
    with contextlib.suppress(OSError):
        os.chmod(folder / KEY_FILE, 0o600)  # a key copied in with looser rights is closed again
    return kept


def certificate_for(settings: Settings) -> Certificate | None:
    """The certificate `serve` uses with these settings (made or renewed if need be); None without TLS."""
    if settings.tls_cert is not None and settings.tls_key is not None:
        return admin_certificate(settings.tls_cert, settings.tls_key)
    return studio_certificate(settings) if settings.tls else None


def served_certificate(settings: Settings) -> Certificate | None:
    """The certificate a running studio serves, read from its file (nothing is made); None without TLS or when it
    cannot be read."""
    if not settings.https:
        return None
    if settings.tls_cert is not None and settings.tls_key is not None:
        cert_path, key_path, self_made = settings.tls_cert, settings.tls_key, False
    else:
        folder = settings.data_dir / "tls"
        cert_path, key_path, self_made = folder / CERT_FILE, folder / KEY_FILE, True
    try:
        return _describe(_read_certificate(cert_path), cert_path, key_path, self_made)
    except TlsProblem:
        return None


def server_context(certificate: Certificate) -> ssl.SSLContext:
    """The server's TLS settings: TLS 1.3 and nothing older, HTTP/1.1 offered by ALPN."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.load_cert_chain(certificate.cert_path, certificate.key_path, password=_no_password)
    context.set_alpn_protocols(["http/1.1"])
    return context

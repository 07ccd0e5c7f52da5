"""The studio's own HTTPS certificate (edge/tls.py): made for this machine, kept, made again only when it must be."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from mediastudio.edge.tls import TlsProblem, admin_certificate, route_addresses, server_context, studio_certificate
from mediastudio.settings import Settings
from tls_kit import fingerprint, new_key, self_signed, subject_names, write_key


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


def test_the_certificate_names_this_machine_and_its_key_is_private(data: Path) -> None:
    made = studio_certificate(Settings(data_dir=data))
    names, addresses = subject_names(made.cert_path)
    assert {"localhost", socket.gethostname().lower()} <= names
    assert {"127.0.0.1", "::1", *route_addresses()} <= addresses
    assert made.self_made and made.fingerprint_sha256 == fingerprint(made.cert_path)
    assert made.key_path.stat().st_mode & 0o777 == 0o600
    assert made.key_path.parent.stat().st_mode & 0o777 == 0o700


def test_a_fitting_certificate_is_kept_and_a_new_name_makes_a_new_one(data: Path) -> None:
    first = studio_certificate(Settings(data_dir=data))
    written = first.cert_path.read_bytes()
    again = studio_certificate(Settings(data_dir=data))
    assert again.fingerprint_sha256 == first.fingerprint_sha256 and first.cert_path.read_bytes() == written

    named = studio_certificate(Settings(data_dir=data, allowed_hosts=["studio.lan", "10.9.8.7"]))
    assert named.fingerprint_sha256 != first.fingerprint_sha256
    names, addresses = subject_names(named.cert_path)
    assert "studio.lan" in names and "10.9.8.7" in addresses
    # Fewer names than the certificate holds still fit: no new fingerprint for people to compare.
    assert studio_certificate(Settings(data_dir=data)).fingerprint_sha256 == named.fingerprint_sha256


def test_a_certificate_about_to_expire_is_made_again(data: Path) -> None:
    first = studio_certificate(Settings(data_dir=data))
    key = serialization.load_pem_private_key(first.key_path.read_bytes(), None)
    names, addresses = subject_names(first.cert_path)
    self_signed(key, first.cert_path, names=tuple(names), addresses=tuple(addresses), days=10)
    expiring = fingerprint(first.cert_path)
    renewed = studio_certificate(Settings(data_dir=data))
    assert renewed.fingerprint_sha256 != expiring
    assert (renewed.not_after - first.not_after).days > -2  # a full year again


def test_a_damaged_key_is_replaced(data: Path) -> None:
    first = studio_certificate(Settings(data_dir=data))
    first.key_path.write_text("not a key")
    renewed = studio_certificate(Settings(data_dir=data))
    assert renewed.fingerprint_sha256 != first.fingerprint_sha256
    server_context(renewed)  # the pair loads


def test_the_server_context_refuses_anything_older_than_tls_1_3(data: Path) -> None:
    context = server_context(studio_certificate(Settings(data_dir=data)))
    assert context.minimum_version == ssl.TLSVersion.TLSv1_3


def test_an_admins_files_are_checked_with_messages_that_say_what_is_wrong(tmp_path: Path) -> None:
    cert, key, other = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "other.pem"
    real = new_key()
    self_signed(real, cert)
    write_key(real, key)
    write_key(new_key(), other)
    assert admin_certificate(cert, key).fingerprint_sha256 == fingerprint(cert)
    with pytest.raises(TlsProblem, match="does not belong to the certificate"):
        admin_certificate(cert, other)
    with pytest.raises(TlsProblem, match=r"Cannot read the TLS certificate .*missing\.pem"):
        admin_certificate(tmp_path / "missing.pem", key)
    with pytest.raises(TlsProblem, match="Cannot read the TLS key"):
        admin_certificate(cert, tmp_path / "missing.pem")
    with pytest.raises(TlsProblem, match="holds no PEM certificate"):
        admin_certificate(key, key)
    locked = tmp_path / "locked.pem"  # a key with a pass phrase: refused, never a prompt on the terminal
    locked.write_bytes(real.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.BestAvailableEncryption(b"secret")))
    with pytest.raises(TlsProblem, match="an unencrypted PEM private key is needed"):
        admin_certificate(cert, locked)


def test_tls_cert_and_tls_key_go_together(tmp_path: Path) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="go together"):
        Settings(data_dir=tmp_path, tls_cert=tmp_path / "cert.pem")
    assert Settings(data_dir=tmp_path, tls=True).public_url.startswith("https://")
    assert Settings(data_dir=tmp_path).public_url.startswith("http://")

"""/api/v1/admin/server: how this server is reached, as administrators check it (the HTTPS certificate's
fingerprint, to compare with what a browser shows)."""

from __future__ import annotations

from litestar import Controller, get
from pydantic import BaseModel, Field

from mediastudio.auth.identity import admins_only
from mediastudio.common import UtcDatetime
from mediastudio.edge.tls import served_certificate
from mediastudio.settings import SettingsDep


class TlsStatus(BaseModel):
    self_made: bool = Field(description="The studio made this certificate itself (`serve --tls`, self-signed, kept "
                                        "in <data>/tls/); false: the administrator's own (--tls-cert).")
    fingerprint_sha256: str = Field(description="SHA-256 of the certificate, 'AB:CD:…' as browsers show it.")
    names: list[str] = Field(description="The host names and addresses the certificate is valid for.")
    not_after: UtcDatetime = Field(description="When the certificate expires (the studio's own is made again "
                                               "at a start within 30 days of it).")
    certificate_path: str


class ServerStatus(BaseModel):
    url: str = Field(description="The address `serve` printed at start.")
    https: bool = Field(description="The server itself speaks HTTPS (TLS 1.3 only).")
    hsts: bool = Field(description="Strict-Transport-Security is sent on HTTPS answers (`serve --hsts`).")
    tls: TlsStatus | None = Field(description="The certificate served; null without HTTPS (or when its file "
                                              "cannot be read any more).")


class ServerController(Controller):
    path = "/api/v1/admin/server"
    tags = ("admin",)
    guards = [admins_only]  # noqa: RUF012  (Litestar's way)

    @get(summary="How the server is reached: address, HTTPS and its certificate", sync_to_thread=True)
    def server_status(self, settings: SettingsDep) -> ServerStatus:
        certificate = served_certificate(settings)
        tls = None if certificate is None else TlsStatus(
            self_made=certificate.self_made, fingerprint_sha256=certificate.fingerprint_sha256,
            names=certificate.names, not_after=certificate.not_after, certificate_path=str(certificate.cert_path))
        return ServerStatus(url=settings.public_url, https=settings.https, hsts=settings.hsts and settings.https,
                            tls=tls)

"""Browser-test helpers: console watching, screenshots, viewport sizes."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page

from support import REPO

SCREENSHOTS = REPO / "test-results" / "e2e"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
# Chromium reports every 4xx answer as a console error; a test that provokes one on purpose allows it.
FAILED_RESOURCE = re.compile(r"Failed to load resource: the server responded with a status of (\d{3})")


@dataclass(frozen=True)
class Account:
    """Credentials of a user the tests register (usernames are unique per test run)."""

    username: str
    password: str
    display_name: str

    def credentials(self) -> dict[str, str]:
        return {"username": self.username, "password": self.password, "display_name": self.display_name}


# The administrator of the servers the tests set up (the shared one, created once by `studio_url`).
ADMIN = Account("admin", "velvet orbit lantern", "Ada Admin")


def new_account(prefix: str = "user", display_name: str | None = None) -> Account:
    tag = secrets.token_hex(4)
    return Account(
        f"{prefix}-{tag}", f"quiet harbour {tag} lamp", display_name or f"{prefix.title()} {tag[:4].upper()}"
    )


class ConsoleLog:
    """Console errors and uncaught page errors seen during a test."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def watch(self, page: Page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            url = (message.location or {}).get("url") or ""
            where = f" <{url}>" if url and "Failed to load resource" in message.text else ""
            self.errors.append(f"{message.type}: {message.text}{where}")

    def unexpected(self, *allowed_statuses: int) -> list[str]:
        """The errors left once the HTTP refusals a test provoked on purpose are set aside."""

        def expected(error: str) -> bool:
            match = FAILED_RESOURCE.search(error)
            return match is not None and int(match.group(1)) in allowed_statuses

        return [error for error in self.errors if not expected(error)]


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def csrf_headers(context: BrowserContext) -> dict[str, str]:
    """The header a cookie-authenticated write needs, as the studio sends it (from the ms_csrf cookie)."""
    token = next((c["value"] for c in context.cookies() if c["name"] == "ms_csrf"), None)
    return {"X-CSRF-Token": token} if token else {}


def skip_tour(context: BrowserContext, url: str) -> None:
    """Marks the guided tour seen for the context's signed-in user, as someone who took it would have it: tests
    that are not about the tour meet the studio without its card beside what they click."""
    answer = context.request.patch(f"{url}/api/v1/auth/me/preferences", data={"tour_status": "done"},
                                   headers=csrf_headers(context))
    assert answer.ok, answer.text()


def create_project(context: BrowserContext, url: str, name: str, template: str = "blank",
                   **extra: object) -> dict[str, object]:
    """A project of the context's logged-in user, made through the API (its personal workspace by default)."""
    answer = context.request.post(f"{url}/api/v1/projects", data={"name": name, "template": template, **extra},
                                  headers=csrf_headers(context))
    assert answer.status == 201, answer.text()
    return answer.json()  # type: ignore[no-any-return]


def join_project(browser: Browser, owner: BrowserContext, url: str, workspace_id: str, project_id: str, role: str,
                 prefix: str, **options: object) -> tuple[Account, BrowserContext, dict]:
    """Another person: a new account in a fresh browser profile, added by `owner` to the workspace as a member
    and given `role` on the project. Answers the account, the profile and the user (as the API has it)."""
    account = new_account(prefix)
    context = browser.new_context(**({"viewport": DESKTOP} | options))  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    me = context.request.post(f"{url}/api/v1/auth/register", data=account.credentials())
    assert me.status == 201, me.text()
    skip_tour(context, url)
    headers = csrf_headers(owner)
    added = owner.request.post(f"{url}/api/v1/workspaces/{workspace_id}/members",
                               data={"username": account.username, "role": "member"}, headers=headers)
    assert added.status == 201, added.text()
    user = me.json()["user"]
    granted = owner.request.put(f"{url}/api/v1/projects/{project_id}/roles/{user['id']}", data={"role": role},
                                headers=headers)
    assert granted.ok, granted.text()
    return account, context, user


def trust_flags(certificate: Path) -> list[str]:
    """Chromium flags that accept the server key of `certificate` (by the SHA-256 of its public key), as a person
    who compared the fingerprint `serve --tls` printed would: other certificate errors stay errors."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    key = x509.load_pem_x509_certificate(certificate.read_bytes()).public_key()
    spki = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return [f"--ignore-certificate-errors-spki-list={base64.b64encode(hashlib.sha256(spki).digest()).decode()}"]

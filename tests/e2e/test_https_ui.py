"""The studio over HTTPS in real Chromium, always: `serve --tls` with the certificate it made itself, accepted by
its key's fingerprint (Chromium's SPKI list, as a person who compared what `serve` printed; any other certificate
error stays an error). Log in, open a project, the live sockets over wss, Secure cookies, and the fingerprint on
Server settings. MEDIASTUDIO_TEST_HTTPS=1 runs the other browser tests over HTTPS too (tests/support.py)."""

from __future__ import annotations

import shutil
from collections.abc import Callable

from browser_support import CHROMIUM_FLAGS, DESKTOP, ConsoleLog, trust_flags
from playwright.sync_api import Playwright, WebSocket, expect

from support import ADMIN_PASSWORD, RunningServer, set_up_admin, wait_until
from tls_kit import fingerprint


def test_log_in_open_a_project_and_go_live_over_https(playwright: Playwright, console: ConsoleLog,
                                                       server_factory: Callable[..., RunningServer]) -> None:
    server = server_factory(args=["--tls"])
    cert = server.data_dir / "tls" / "cert.pem"
    admin = set_up_admin(server.url, verify=server.trust())
    assert admin.patch("/api/v1/auth/me/preferences", json={"tour_status": "done"}).status_code == 200
    project = admin.post("/api/v1/projects", json={"name": "Over HTTPS", "template": "text-to-image"}).json()

    browser = playwright.chromium.launch(executable_path=shutil.which("chromium"),
                                         args=[*CHROMIUM_FLAGS, *trust_flags(cert)])
    try:
        context = browser.new_context(viewport=DESKTOP)
        context.set_default_timeout(15_000)
        page = context.new_page()
        console.watch(page)
        sockets: list[WebSocket] = []
        greeted: set[str] = set()  # the paths of sockets the server answered on (each greets on joining)

        def opened(socket: WebSocket) -> None:
            sockets.append(socket)
            socket.on("framereceived", lambda _frame: greeted.update(
                path for path in ("/sync", "/presence", "/events") if path in socket.url))

        page.on("websocket", opened)

        page.goto(f"{server.url}/login")
        page.get_by_label("Username").fill("admin")
        page.get_by_label("Password").fill(ADMIN_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_test_id("project-gallery")).to_be_visible()
        session = {c["name"]: c for c in context.cookies()}
        assert session["ms_session"]["secure"] and session["ms_csrf"]["secure"], session

        page.goto(f"{server.url}/projects/{project['id']}")
        expect(page.get_by_test_id("canvas-toolbar")).to_be_visible()
        # Playwright hands events over while it is called: each try asks the page something.
        wait_until(lambda: page.evaluate("1") and {"/sync", "/presence", "/events"} <= greeted, timeout=15,
                   message=lambda: f"the live sockets to answer; opened {[s.url for s in sockets]}, heard {greeted}")
        assert all(s.url.startswith("wss://") for s in sockets), [s.url for s in sockets]
        assert not any(s.is_closed() for s in sockets if "/sync" in s.url)

        page.goto(f"{server.url}/admin")
        expect(page.get_by_test_id("server-fingerprint")).to_have_text(fingerprint(cert))
        assert console.unexpected() == [], console.errors
        context.close()
    finally:
        browser.close()

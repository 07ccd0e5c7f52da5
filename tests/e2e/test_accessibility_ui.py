"""Every main page of the studio passes axe-core (the accessibility engine of browser devtools and CI suites) with
no serious or critical violation, at desktop and phone sizes, in real Chromium: setup, login, register, the
gallery, a project's studio with its scene, the account page, the server settings, the queue and a workspace's
members. axe-core comes from web/node_modules (npm install in web/).

A server of its own: the setup page shows only before the first account exists.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_support import ADMIN, DESKTOP, PHONE, csrf_headers
from playwright.sync_api import Browser, BrowserContext, Page, expect

from support import REPO, start_server

AXE = REPO / "web" / "node_modules" / "axe-core" / "axe.min.js"
# Rules that are off by default in axe-core and that the studio holds to as well.
EXTRA_RULES = {"label-content-name-mismatch": {"enabled": True}}


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = start_server(tmp_path_factory.mktemp("accessibility-ui"), env={"MEDIASTUDIO_PROBE_GPU": "0"})
    yield server.url
    server.stop()


def violations(page: Page) -> list[str]:
    """The serious and critical violations axe-core finds on the page as it is now, one line each."""
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: cd web && npm install")
    page.wait_for_load_state("networkidle")
    page.evaluate(AXE.read_text())  # evaluated by the devtools protocol: the page's CSP does not apply
    result: dict[str, Any] = page.evaluate(
        "rules => axe.run(document, { resultTypes: ['violations'], rules })", EXTRA_RULES)
    found = []
    for violation in result["violations"]:
        if violation["impact"] in ("serious", "critical"):
            for node in violation["nodes"][:5]:
                summary = " ".join((node.get("failureSummary") or "").split())[:300]
                found.append(f"{violation['id']} at {node['target']}: {summary}")
    return found


def _sign_in(context: BrowserContext, url: str) -> None:
    answer = context.request.post(f"{url}/api/v1/auth/login",
                                  data={"username": ADMIN.username, "password": ADMIN.password})
    assert answer.ok, answer.text()


def _context(browser: Browser, size: str) -> BrowserContext:
    """A fresh profile at desktop or phone size (a phone's touch and mobile viewport too)."""
    viewport = DESKTOP if size == "desktop" else PHONE
    context = browser.new_context(viewport=viewport, **({"is_mobile": True, "has_touch": True} if size == "phone"
                                                        else {}))  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    return context


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_every_main_page_has_no_serious_accessibility_violation(browser: Browser, url: str, size: str) -> None:
    context = _context(browser, size)
    found: dict[str, list[str]] = {}
    try:
        page = context.new_page()
        if httpx.get(f"{url}/api/v1/auth/config").json()["setup_required"]:
            page.goto(f"{url}/setup")
            expect(page.get_by_role("button").first).to_be_visible()
            found["setup"] = violations(page)
            setup = httpx.post(f"{url}/api/v1/auth/setup", json=ADMIN.credentials())
            assert setup.status_code == 201, setup.text
        for path in ("/login", "/register"):
            page.goto(url + path)
            expect(page.get_by_role("button").first).to_be_visible()
            found[path] = violations(page)
        _sign_in(context, url)
        project = context.request.post(f"{url}/api/v1/projects", headers=csrf_headers(context),
                                       data={"name": f"Access {size}", "template": "text-to-image"}).json()
        pages = {"gallery": "/", "studio": f"/projects/{project['id']}", "account": "/account",
                 "server settings": "/admin", "queue": "/admin/queue", "models": "/admin/models",
                 "audit log": "/admin/audit",
                 "members": f"/workspaces/{project['workspace_id']}/members"}
        for name, path in pages.items():
            page.goto(url + path)
            expect(page.locator("main").first).to_be_visible()
            if name == "studio":
                expect(page.get_by_test_id("graph-node").first).to_be_attached()
                models = page.get_by_test_id("asset-models").locator("summary")
                if models.is_visible():  # the installed models, open (a phone shows the canvas first)
                    models.click()
            if name == "models":
                expect(page.get_by_test_id("catalog-sd-turbo")).to_be_visible()
            found[name] = violations(page)
        Path("/tmp/shots-accessibility").mkdir(exist_ok=True)
        page.goto(f"{url}/")
        expect(page.get_by_role("article").first).to_be_visible()
        page.screenshot(path=f"/tmp/shots-accessibility/gallery-{size}.png")
    finally:
        context.close()
    assert {name: lines for name, lines in found.items() if lines} == {}


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_guests_pages_have_no_serious_accessibility_violation(browser: Browser, url: str, size: str) -> None:
    """A guest's gallery (the guest banner with their limits, the samples copied into the sandbox) and studio: the
    account button's initials are those of a guest's name ("G" and a number)."""
    context = _context(browser, size)
    found: dict[str, list[str]] = {}
    try:
        if httpx.get(f"{url}/api/v1/auth/config").json()["setup_required"]:
            assert httpx.post(f"{url}/api/v1/auth/setup", json=ADMIN.credentials()).status_code == 201
        answer = context.request.post(f"{url}/api/v1/auth/guest")
        assert answer.ok, answer.text()
        page = context.new_page()
        page.goto(url)
        expect(page.get_by_test_id("guest-banner")).to_be_visible()
        expect(page.get_by_role("article").first).to_be_visible()  # a sample's copy
        found["guest gallery"] = violations(page)
        page.get_by_role("article").first.get_by_role("link").first.click()
        expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")
        found["guest studio"] = violations(page)
    finally:
        context.close()
    assert {name: lines for name, lines in found.items() if lines} == {}

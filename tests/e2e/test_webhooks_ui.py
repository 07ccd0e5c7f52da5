"""Webhooks on the account page in real Chromium: created with the secret shown once, refused URLs explained
at the field, a signed test ping to a real receiver on 127.0.0.1 and its delivery log, deletion, guests, phones."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from browser_support import ADMIN, PHONE, SCREENSHOTS, Account, ConsoleLog, create_project, csrf_headers, screenshot
from playwright.sync_api import BrowserContext, Locator, Page, expect

from kinds_for_tests import ENV as TEST_KINDS
from support import ApiClient, start_server, wait_for_task, wait_until
from support import WebhookReceiver as Receiver

DEFAULT_EVENTS = ["task.succeeded", "task.failed", "task.cancelled"]


@pytest.fixture(scope="module")
def studio_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server of this module's own: the receivers listen on 127.0.0.1, a private address, which a studio
    refuses unless its administrator allows LAN targets."""
    server = start_server(tmp_path_factory.mktemp("webhooks-ui"), env={
        "MEDIASTUDIO_WEBHOOK_ALLOW_PRIVATE": "true", **TEST_KINDS, "MEDIASTUDIO_PROBE_GPU": "0"})
    setup = httpx.post(f"{server.url}/api/v1/auth/setup", json=ADMIN.credentials())
    assert setup.status_code == 201, setup.text
    yield server.url
    server.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.close()


def _open_webhooks(page: Page, url: str) -> Locator:
    page.goto(f"{url}/account")
    card = page.get_by_test_id("webhooks-card")
    expect(card.get_by_role("heading", name="Webhooks")).to_be_visible()
    return card


def _refused(card: Locator, url: str, message: str) -> None:
    card.get_by_label("Payload URL").fill(url)
    card.get_by_role("button", name="Add webhook").click()
    expect(card.get_by_test_id("webhook-url-error")).to_have_text(message)
    expect(card.get_by_label("Payload URL")).to_have_attribute("aria-invalid", "true")


def _signed_ping(receiver: Receiver, secret: str) -> dict[str, Any]:
    (request,) = receiver.wait(1)
    headers = {name.lower(): value for name, value in request["headers"].items()}
    expected = "sha256=" + hmac.new(secret.encode(), request["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["x-mediastudio-signature"], expected)
    assert headers["x-mediastudio-event"] == "ping"
    body: dict[str, Any] = json.loads(request["body"])
    assert body["event"] == "ping"
    return body


def _card_shot(card: Locator, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    card.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def test_a_webhook_is_created_pinged_with_a_signed_body_and_deleted(
        desktop: BrowserContext, page: Page, studio_url: str, receiver: Receiver, console: ConsoleLog) -> None:
    desktop.grant_permissions(["clipboard-read", "clipboard-write"], origin=studio_url)
    card = _open_webhooks(page, studio_url)
    expect(card).to_contain_text("You have no webhooks yet.")
    for box in DEFAULT_EVENTS:
        expect(card.get_by_label(box)).to_be_checked()

    # The server's refusals are shown at the field they are about.
    _refused(card, "ftp://example.com/hook", "A webhook URL starts with http:// or https://.")
    _refused(card, "http://bot:hunter2@example.com/hook",
             "Put no user name or password in the URL; check the signature header instead.")
    expect(card).to_contain_text("Each delivery is signed with your secret in X-Mediastudio-Signature.")
    _refused(card, "http://169.254.169.254/latest",
             "Refused: link-local, multicast and reserved addresses are never webhook targets.")
    screenshot(page, "webhooks-refused-desktop")

    card.get_by_label("Payload URL").fill(receiver.url)
    card.get_by_label("task.started").check()
    card.get_by_label("task.cancelled").uncheck()
    card.get_by_label("Description").fill("render farm bot")
    card.get_by_role("button", name="Add webhook").click()

    dialog = page.get_by_role("dialog", name="Copy your webhook secret")
    expect(dialog).to_contain_text("only time the secret is shown")
    expect(dialog.get_by_test_id("webhook-verify-help")).to_contain_text("X-Mediastudio-Signature")
    secret = dialog.get_by_test_id("webhook-secret").input_value()
    assert len(secret) >= 32
    dialog.get_by_role("button", name="Copy").click()
    expect(dialog.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    screenshot(page, "webhooks-secret-desktop")
    dialog.get_by_role("button", name="I have stored it").click()
    expect(dialog).to_be_hidden()

    row = card.get_by_test_id("webhook-row")
    expect(row.get_by_test_id("webhook-url")).to_have_text(receiver.url)
    expect(row.get_by_test_id("webhook-scope")).to_have_text("My tasks, in any project")
    expect(row.get_by_role("list", name="Events").get_by_role("listitem")).to_have_text(
        ["task.started", "task.succeeded", "task.failed"])
    expect(row).to_contain_text("render farm bot")
    expect(card.get_by_label("Payload URL")).to_have_value("")
    assert secret not in page.content(), "the secret is shown once only"

    row.get_by_role("button", name="Send test").click()
    expect(row.get_by_role("status")).to_have_text("Test ping sent.")
    body = _signed_ping(receiver, secret)
    delivery = row.get_by_test_id("delivery-row").filter(has_text="ping")
    expect(delivery.get_by_test_id("delivery-status")).to_have_text("delivered")
    expect(delivery).to_contain_text("204")
    expect(delivery).to_have_attribute("data-status", "delivered")
    assert body["webhook_id"] == row.get_attribute("data-webhook-id")
    row.scroll_into_view_if_needed()
    screenshot(page, "webhooks-desktop")
    _card_shot(card, "webhooks-card-desktop")

    page.reload()
    expect(row.get_by_test_id("webhook-url")).to_have_text(receiver.url)
    assert secret not in page.content()
    deliveries = row.get_by_role("button", name="Recent deliveries")
    deliveries.click()
    expect(deliveries).to_have_attribute("aria-expanded", "true")
    expect(row.get_by_test_id("delivery-row")).to_have_count(1)
    row.get_by_role("button", name="Refresh").click()
    expect(row.get_by_test_id("delivery-status")).to_have_text("delivered")

    row.get_by_role("button", name=f"Delete webhook {receiver.url}").click()
    confirm = page.get_by_role("dialog", name="Delete this webhook?")
    expect(confirm).to_contain_text(receiver.url)
    confirm.get_by_role("button", name="Delete webhook").click()
    expect(confirm).to_be_hidden()
    expect(row).to_have_count(0)
    expect(card).to_contain_text("You have no webhooks yet.")
    assert page.request.get(f"{studio_url}/api/v1/webhooks").json()["items"] == []
    assert console.unexpected(400, 422) == []


def test_a_refused_delivery_shows_its_error_and_next_retry(
        page: Page, studio_url: str, receiver: Receiver, console: ConsoleLog) -> None:
    receiver.status = 500
    card = _open_webhooks(page, studio_url)
    card.get_by_label("Payload URL").fill(receiver.url)
    card.get_by_role("button", name="Add webhook").click()
    page.get_by_role("dialog", name="Copy your webhook secret").get_by_role("button", name="I have stored it").click()

    row = card.get_by_test_id("webhook-row")
    row.get_by_role("button", name="Send test").click()
    receiver.wait(1)
    delivery = row.get_by_test_id("delivery-row")
    expect(delivery).to_have_attribute("data-status", "pending")
    expect(delivery).to_contain_text("The receiver answered 500")
    expect(delivery).to_contain_text(re.compile(r"In \d+ s"))  # the first retry comes 10 s later
    expect(delivery.get_by_role("cell").nth(2)).to_have_text("1")  # attempts
    _card_shot(card, "webhooks-retry-desktop")
    row.get_by_role("button", name=f"Delete webhook {receiver.url}").click()
    page.get_by_role("dialog", name="Delete this webhook?").get_by_role("button", name="Delete webhook").click()
    expect(row).to_have_count(0)
    assert console.errors == []


def test_a_project_webhook_fits_a_phone(
        phone: BrowserContext, studio_url: str, receiver: Receiver, console: ConsoleLog) -> None:
    project = create_project(phone, studio_url, "Harbour film")
    page = phone.new_page()
    console.watch(page)
    card = _open_webhooks(page, studio_url)
    card.get_by_label("Payload URL").fill(receiver.url)
    card.get_by_label("Which tasks").select_option(label="Every task of “Harbour film”")
    expect(card).to_contain_text("Everyone’s tasks in this project")
    card.evaluate("card => card.scrollIntoView({block: 'start'})")
    screenshot(page, "webhooks-form-phone")
    card.get_by_role("button", name="Add webhook").tap()
    dialog = page.get_by_role("dialog", name="Copy your webhook secret")
    secret = dialog.get_by_test_id("webhook-secret").input_value()
    screenshot(page, "webhooks-secret-phone")
    dialog.get_by_role("button", name="I have stored it").tap()

    row = card.get_by_test_id("webhook-row")
    expect(row.get_by_test_id("webhook-scope")).to_have_text("Every task of “Harbour film”")
    listed = page.request.get(f"{studio_url}/api/v1/webhooks").json()["items"]
    assert [(w["project_id"], w["events"], w["secret"]) for w in listed] == [(project["id"], DEFAULT_EVENTS, None)]

    row.get_by_role("button", name="Send test").tap()
    _signed_ping(receiver, secret)
    expect(row.get_by_test_id("delivery-status")).to_have_text("delivered")
    expect(row.get_by_test_id("delivery-row")).to_contain_text("204")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for control in (card.get_by_label("Payload URL"), card.get_by_role("button", name="Add webhook"),
                    row.get_by_role("button", name="Send test"), row.get_by_role("button", name="Refresh"),
                    card.locator("label").filter(has_text="task.queued")):
        box = control.bounding_box()
        assert box is not None and box["height"] >= 44, "too small to tap"
    row.scroll_into_view_if_needed()
    buttons = [row.get_by_role("button", name=name).bounding_box() for name in ("Send test", "Deliveries", "Delete")]
    assert len({box["y"] for box in buttons if box}) == 1, "a webhook's actions fit one line"
    screenshot(page, "webhooks-phone")
    assert console.errors == []


def test_a_guest_sees_a_note_instead_of_the_form(anonymous: BrowserContext, studio_url: str,
                                                 console: ConsoleLog) -> None:
    assert anonymous.request.post(f"{studio_url}/api/v1/auth/guest").status == 201
    refused = anonymous.request.post(f"{studio_url}/api/v1/webhooks", data={"url": "https://example.com/hook"},
                                     headers=csrf_headers(anonymous))
    assert refused.status == 403 and refused.json()["hint"] == "Register an account to use webhooks."
    page = anonymous.new_page()
    console.watch(page)
    card = _open_webhooks(page, studio_url)
    expect(card.get_by_test_id("webhooks-guest-note")).to_contain_text("Webhooks need an account")
    expect(card.get_by_role("link", name="Register your account")).to_have_attribute("href", "/register")
    expect(card.get_by_label("Payload URL")).to_have_count(0)
    assert console.errors == []


def test_a_hook_whose_owner_left_the_workspace_shows_why_it_is_off(
        page: Page, studio_url: str, account: Account, receiver: Receiver, console: ConsoleLog) -> None:
    admin = ApiClient(studio_url)
    assert admin.post("/api/v1/auth/login", json={"username": ADMIN.username, "password": ADMIN.password}).is_success
    team = admin.post("/api/v1/workspaces", json={"name": "Dock crew"}).json()
    project = admin.post("/api/v1/projects", json={"name": "Dock film", "workspace_id": team["id"]}).json()
    member = admin.post(f"/api/v1/workspaces/{team['id']}/members", json={"username": account.username}).json()
    hook = page.request.post(f"{studio_url}/api/v1/webhooks", data={"url": receiver.url, "project_id": project["id"]},
                             headers=csrf_headers(page.context))
    assert hook.status == 201, hook.text()
    assert admin.delete(f"/api/v1/workspaces/{team['id']}/members/{member['user']['id']}").status_code == 204
    task = admin.post("/api/v1/tasks", json={"kind": "test.project_sleep", "project_id": project["id"],
                                             "params": {"steps": 1, "step_seconds": 0.01}}).json()
    wait_for_task(admin, task["id"])
    # The task's last event turns the hook off, a moment after the task ends.
    wait_until(lambda: page.request.get(f"{studio_url}/api/v1/webhooks").json()["items"][0],
               until=lambda hook: not hook["active"], message="the hook to be turned off")

    card = _open_webhooks(page, studio_url)
    row = card.get_by_test_id("webhook-row")
    expect(row).to_contain_text("Inactive")
    expect(row.get_by_test_id("webhook-disabled-reason")).to_contain_text("can no longer edit this project")
    expect(row.get_by_role("button", name="Send test")).to_be_disabled()
    assert receiver.received == []
    _card_shot(card, "webhooks-turned-off-desktop")
    assert console.errors == []

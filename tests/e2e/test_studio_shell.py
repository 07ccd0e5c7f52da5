"""The studio shell in real Chromium: panels, resizing, persistence, phone layout, PWA, keyboard."""

import json

import pytest
from browser_support import ConsoleLog, create_project, screenshot
from playwright.sync_api import BrowserContext, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout


def _open(page: Page, url: str) -> None:
    """The studio of a fresh project (the address "/" is the project gallery)."""
    project = create_project(page.context, url, "Shell test")
    page.goto(f"{url}/projects/{project['id']}")
    expect(page.get_by_test_id("panel-center")).to_be_visible()


def _width(page: Page, test_id: str) -> float:
    box = page.get_by_test_id(test_id).bounding_box()
    assert box is not None, f"{test_id} is not rendered"
    return box["width"]


def _layout(page: Page) -> dict[str, object]:
    return json.loads(page.evaluate("localStorage.getItem('mediastudio.layout.v1')") or "{}")


def test_the_studio_loads_with_its_three_panels(page: Page, studio_url: str, console: ConsoleLog) -> None:
    _open(page, studio_url)
    for test_id in ("panel-left", "panel-center", "panel-right"):
        expect(page.get_by_test_id(test_id)).to_be_visible()
    for heading in ("Project Browser", "Asset Browser", "Properties Inspector", "Progress"):
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
    expect(page.get_by_role("tab", name="Scene View")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tab", name="Asset View")).to_be_visible()
    expect(page.locator(".svelte-flow")).to_be_visible()
    expect(page.get_by_test_id("tabbar")).to_be_hidden()
    page.wait_for_load_state("networkidle")
    screenshot(page, "studio-desktop")
    assert console.errors == []


def test_the_center_tabs_switch_by_click_and_keyboard(page: Page, studio_url: str) -> None:
    _open(page, studio_url)
    page.get_by_role("tab", name="Asset View").click()
    expect(page.get_by_role("tab", name="Asset View")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tabpanel")).to_contain_text("Select an asset")
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_role("tab", name="Board")).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_role("tab", name="Scene View")).to_have_attribute("aria-selected", "true")
    expect(page.locator(".svelte-flow")).to_be_visible()


def test_a_resized_panel_stays_resized_after_reload(page: Page, studio_url: str) -> None:
    _open(page, studio_url)
    before = _width(page, "panel-left")
    handle = page.get_by_test_id("resize-left").bounding_box()
    assert handle is not None
    x, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(x + 12 * step, y)
    page.mouse.up()
    after = _width(page, "panel-left")
    assert abs(after - (before + 120)) <= 2, (before, after)
    assert abs(float(_layout(page)["leftWidth"]) - after) <= 1  # type: ignore[arg-type]

    page.reload()
    expect(page.get_by_test_id("panel-left")).to_be_visible()
    assert abs(_width(page, "panel-left") - after) <= 1


def test_a_panel_resizes_with_the_keyboard(page: Page, studio_url: str) -> None:
    _open(page, studio_url)
    before = _width(page, "panel-right")
    separator = page.get_by_test_id("resize-right")
    expect(separator).to_have_attribute("role", "separator")
    separator.focus()
    page.keyboard.press("ArrowLeft")  # the right panel grows towards the left
    page.keyboard.press("ArrowLeft")
    assert _width(page, "panel-right") > before
    assert int(separator.get_attribute("aria-valuenow") or 0) == round(_width(page, "panel-right"))


def test_a_collapsed_panel_stays_collapsed_and_reopens(page: Page, studio_url: str) -> None:
    _open(page, studio_url)
    page.get_by_test_id("collapse-right").click()
    expect(page.get_by_test_id("panel-right")).to_be_hidden()
    expect(page.get_by_test_id("expand-right")).to_be_visible()
    assert _layout(page)["rightCollapsed"] is True

    page.reload()
    expect(page.get_by_test_id("expand-right")).to_be_visible()
    expect(page.get_by_test_id("panel-right")).to_be_hidden()
    page.get_by_test_id("expand-right").click()
    expect(page.get_by_test_id("panel-right")).to_be_visible()
    assert _layout(page)["rightCollapsed"] is False


def test_a_phone_shows_a_bottom_tab_bar(phone: BrowserContext, studio_url: str, console: ConsoleLog) -> None:
    page = phone.new_page()
    console.watch(page)
    _open(page, studio_url)
    tabbar = page.get_by_test_id("tabbar")
    expect(tabbar).to_be_visible()
    expect(page.get_by_role("navigation", name="Views")).to_be_visible()
    box = tabbar.bounding_box()
    assert box is not None and box["y"] + box["height"] >= 844 - 1, "the tab bar sits at the bottom"
    expect(page.get_by_test_id("panel-left")).to_be_hidden()
    expect(page.get_by_test_id("resize-left")).to_be_hidden()
    screenshot(page, "studio-phone-canvas")

    page.get_by_test_id("tab-browser").tap()
    expect(page.get_by_test_id("panel-left")).to_be_visible()
    expect(page.get_by_test_id("panel-center")).to_be_hidden()
    screenshot(page, "studio-phone-browser")

    page.get_by_test_id("tab-properties").tap()
    expect(page.get_by_test_id("panel-right")).to_be_visible()
    expect(page.get_by_test_id("panel-left")).to_be_hidden()
    for test_id in ("tab-browser", "tab-canvas", "tab-properties"):
        button = page.get_by_test_id(test_id).bounding_box()
        assert button is not None and button["height"] >= 44, f"{test_id} is too small to tap"
    assert console.errors == []


def test_the_service_worker_caches_the_app_shell_for_offline_use(
        desktop: BrowserContext, studio_url: str) -> None:
    page = desktop.new_page()
    _open(page, studio_url)
    scope = page.evaluate("navigator.serviceWorker.ready.then(r => r.active && r.scope)")
    assert scope == f"{studio_url}/"
    page.reload()  # a project's address: the service worker answers it with the app shell too
    expect(page.get_by_test_id("panel-center")).to_be_visible()
    assert page.evaluate("!!navigator.serviceWorker.controller")

    desktop.set_offline(True)
    try:
        page.reload()
        expect(page.get_by_test_id("panel-left")).to_be_visible()
        expect(page.get_by_role("heading", name="Project Browser")).to_be_visible()
    finally:
        desktop.set_offline(False)


def test_the_manifest_makes_the_studio_installable(page: Page, studio_url: str) -> None:
    _open(page, studio_url)
    href = page.locator("link[rel=manifest]").get_attribute("href")
    assert href
    manifest = page.request.get(f"{studio_url}/{href.lstrip('/')}").json()
    assert manifest["name"] == "Mediastudio"
    assert manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes


FOCUS_VISIBLE = """() => {
    const el = document.activeElement;
    const s = getComputedStyle(el);
    const opaque = (color) => color && !/rgba\\([^)]*,\\s*0\\)|transparent/.test(color);
    const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0 && opaque(s.outlineColor);
    const shadow = s.boxShadow !== 'none' && s.boxShadow.split(/,(?![^(]*\\))/).some(part => opaque(part));
    const before = opaque(getComputedStyle(el, '::before').backgroundColor);
    return outline || shadow || before;
}"""
FOCUSED_NAME = """() => {
    const el = document.activeElement;
    const label = el.labels && el.labels.length ? el.labels[0].textContent.trim() : null;
    return el.getAttribute('aria-label') || label || el.textContent.trim().slice(0, 30);
}"""


def test_keyboard_focus_starts_at_the_skip_link_and_is_always_visible(page: Page, studio_url: str) -> None:
    _open(page, studio_url)
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_contain_text("Skip")
    seen: list[str] = []
    while "Scene View" not in seen and len(seen) < 40:  # every control up to the center tabs
        name = page.evaluate(FOCUSED_NAME)
        try:  # polled: an indicator may fade in with a (very short) colour transition
            page.wait_for_function(FOCUS_VISIBLE, timeout=2_000)
        except PlaywrightTimeout:
            pytest.fail(f"no visible focus indicator on {name!r}")
        seen.append(name)
        page.keyboard.press("Tab")
    assert "Scene View" in seen, seen
    # Focus walks the header left to right (the inbox beside the account menu it belongs with), then the
    # panels in reading order: browser, then the center tabs.
    header = [seen.index("Mediastudio home"), next(i for i, n in enumerate(seen) if n.startswith("Workspace: ")),
              seen.index("Inbox"), next(i for i, n in enumerate(seen) if n.startswith("Account: "))]
    assert header == sorted(header) and header[-1] < seen.index("Search assets"), seen
    assert seen.index("Search assets") < seen.index("Resize Browser panel") < seen.index("Scene View"), seen
    assert page.get_by_role("banner").count() == 1
    assert page.get_by_role("main").count() == 1
    expect(page.get_by_role("complementary", name="Browser")).to_be_visible()
    expect(page.get_by_role("complementary", name="Inspector")).to_be_visible()


def test_the_interactive_api_docs_work_offline_in_the_browser(page: Page, studio_url: str) -> None:
    page.goto(f"{studio_url}/api/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Mediastudio API")
    expect(page.get_by_text("/api/v1/health").first).to_be_visible()

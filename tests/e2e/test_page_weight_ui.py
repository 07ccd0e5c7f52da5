"""What each page makes the browser download: the live-collaboration library (Yjs, its WebSocket provider and
its IndexedDB store) is code of the studio's scene view; the gallery and the account pages never load it."""

from __future__ import annotations

from browser_support import create_project
from playwright.sync_api import BrowserContext, Page, expect

# A string that Yjs's build keeps whatever the minifier does: its guard against being loaded twice.
YJS_MARKER = "Yjs was already imported"


def loaded_scripts(page: Page) -> list[str]:
    """The URLs of the JavaScript files the page has fetched (module preloads and imports alike)."""
    urls: list[str] = page.evaluate(
        "() => performance.getEntriesByType('resource').map((e) => e.name).filter((n) => /\\.m?js(\\?|$)/.test(n))"
    )
    return sorted(set(urls))


def scripts_with_yjs(context: BrowserContext, urls: list[str]) -> list[str]:
    return [url for url in urls if YJS_MARKER in context.request.get(url).text()]


def test_the_gallery_loads_no_collaboration_code_and_the_scene_view_does(
    desktop: BrowserContext, studio_url: str, page: Page
) -> None:
    page.goto(f"{studio_url}/")
    expect(page.get_by_test_id("project-gallery")).to_be_visible()
    page.wait_for_load_state("networkidle")
    gallery = loaded_scripts(page)
    assert gallery, "the gallery's scripts were not seen"
    assert scripts_with_yjs(desktop, gallery) == []

    page.goto(f"{studio_url}/account")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert scripts_with_yjs(desktop, loaded_scripts(page)) == []

    # The scene view does load it: the check above looks for something that is there to be found.
    project = create_project(desktop, studio_url, "Weighed")
    page.goto(f"{studio_url}/projects/{project['id']}")
    expect(page.get_by_test_id("scene-canvas")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert len(scripts_with_yjs(desktop, loaded_scripts(page))) == 1

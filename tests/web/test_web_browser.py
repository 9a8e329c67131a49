"""A real browser: Playwright drives Debian's Chromium against ``syncframe web``
started on a free loopback port, with a state store and a connector on the
MEMORY/memory test plugins. Sign in, open the connector, see the plan, release one
held removal, run, see the history update, sign out.

Set ``SYNCFRAME_WEB_SCREENSHOTS=docs/images`` to refresh the guide's screenshots.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterator

import pytest

from web_support import ADMIN, NAME, PASSWORD, build_world, serve_console

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("SYNCFRAME_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def console(tmp_path: Path) -> Iterator[str]:
    """``syncframe web`` in a child process on the world's state; yields its base URL."""
    world = build_world(tmp_path)
    world.store.close()
    with serve_console(world.state) as base:
        yield base


@pytest.fixture
def browser_page():  # type: ignore[no-untyped-def]
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but no Chromium was found: .ci/run installs the 'chromium' package")
        pytest.skip("no Chromium found (apt-get install chromium, or set SYNCFRAME_CHROMIUM to its path)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--disable-gpu"])
        context = browser.new_context(viewport={"width": 1200, "height": 820})
        context.set_default_timeout(20_000)
        page = context.new_page()
        try:
            yield page
        finally:
            context.close()
            browser.close()


def _shot(page, name: str, tmp: Path) -> None:  # type: ignore[no-untyped-def]
    """A screenshot: always taken (it must work), kept for the guide when asked to."""
    path = tmp / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    target = os.environ.get("SYNCFRAME_WEB_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(target) / path.name)


def test_sign_in_plan_release_run_history_sign_out(console, browser_page, tmp_path):
    from playwright.sync_api import expect

    page = browser_page
    page.goto(f"{console}/")
    expect(page).to_have_url(f"{console}/login")  # not signed in yet
    _shot(page, "web-sign-in", tmp_path)
    page.fill("#name", ADMIN)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#who")).to_have_text(ADMIN)
    expect(page.locator("#connectors")).to_contain_text("Contoso users")
    expect(page.locator("#connectors")).to_contain_text("MEMORY → memory")
    _shot(page, "web-connectors", tmp_path)

    # adding a connector: the template's form with every setting of the schemas
    page.click("text=Add a connector")
    page.click("a[href='/connectors/new?template=microsoft365']")
    expect(page.locator("#f-interval")).to_be_visible()
    expect(page.locator("#f-mode")).to_have_value("sync")
    _shot(page, "web-add-connector", tmp_path)
    page.goto(f"{console}/")

    page.click("text=Contoso users")
    expect(page).to_have_url(f"{console}/connectors/{NAME}")
    plan = page.locator("#plan-items")
    expect(plan.locator("tr.item-create")).to_contain_text("user5@contoso.com")
    expect(plan.locator("tr.item-held")).to_have_count(2)
    expect(plan.locator("tr.item-conflict")).to_contain_text("2 accounts match")
    expect(page.locator("svg.chart")).to_be_visible()
    _shot(page, "web-connector", tmp_path)

    # the filter by kind
    page.select_option("#kind-filter", "held")
    expect(plan.locator("tr.item-create")).to_have_count(0)
    expect(page.locator("#plan-items tr.item-held")).to_have_count(2)

    # release one held removal (htmx sends the CSRF token in its header)
    page.locator("#plan-items tr.item-held", has_text="user3@contoso.com").locator("button.release").click()
    expect(page.locator("#actions-result")).to_contain_text("Released the removal of user3@contoso.com for the next run (alice)")

    # run now: progress by polling, then the history shows run #2
    expect(page.locator("#runs tbody tr")).to_have_count(1)
    page.click("#run-now")
    expect(page.locator("#run-result")).to_contain_text("Finished: run 2: held")
    expect(page.locator("#runs tbody tr")).to_have_count(2)
    expect(page.locator("#runs tbody tr").first).to_contain_text("#2")
    expect(page.locator("#decisions")).to_contain_text("release")
    # the status and the plan follow the run: user3's removal is done, user4's still held
    expect(page.locator("#status")).to_have_text("held")
    expect(page.locator("#plan-items tr.item-held")).to_have_count(1)
    expect(page.locator("#plan-items tr.item-held")).to_contain_text("user4@contoso.com")
    _shot(page, "web-after-run", tmp_path)

    page.click("#runs >> text=#2")
    expect(page.locator("#journal")).to_contain_text("user3@contoso.com")
    expect(page.locator("#journal")).to_contain_text("user5@contoso.com")
    _shot(page, "web-run-journal", tmp_path)

    page.click("text=Sign out")
    expect(page).to_have_url(f"{console}/login")
    page.goto(f"{console}/connectors/{NAME}")
    expect(page).to_have_url(f"{console}/login")

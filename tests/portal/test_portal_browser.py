"""The portal in a real browser (Debian's Chromium, headless): a supplier and a customer
at work, live levels, tenancy by URL, CSRF, Chinese, a phone-sized screen. Every page
is saved as a screenshot in build/screenshots/."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from playwright.sync_api import Page, expect

from cloud.orders import OrderStatus
from cloud.portal.i18n import MESSAGES
from cloud.timeseries import LevelPoint
from tests.cloud.portal.world import PASSWORD, World, make_world
from tests.portal.conftest import LiveApi, NewContext, Screenshot


def sign_in(page: Page, login: str) -> None:
    page.goto("/portal/stock")
    expect(page).to_have_url(re.compile(r"/portal/login\?next="))
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/portal/stock$"))


def world_of(live_api: LiveApi) -> World:
    return make_world(live_api.context)


def test_the_supplier_confirms_and_ships_and_the_customer_sees_it_shipped(
    live_api: LiveApi, new_context: NewContext, screenshot: Screenshot
) -> None:
    world = world_of(live_api)
    supplier = new_context(base_url=live_api.url).new_page()
    customer = new_context(base_url=live_api.url).new_page()
    sign_in(supplier, world.supplier)
    sign_in(customer, world.customer)

    rows = supplier.locator("#stock tbody tr")
    expect(rows).to_have_count(1)  # only its own shelf
    expect(rows.first).to_have_attribute("data-key", "north|BOLT-M8")
    expect(rows.first.locator(".pill")).to_have_text("OK")  # 79 on hand, reorder point 60
    screenshot(supplier, "portal-stock")

    supplier.get_by_role("link", name="Orders").click()
    row = supplier.locator(f'tr[data-order="{world.north_order}"]')
    expect(row.locator(".status")).to_have_text("Proposed")
    screenshot(supplier, "portal-orders")
    row.get_by_role("button", name="Confirm").click()
    expect(supplier.locator(".notice")).to_have_text(f"Order {world.north_order} is now Confirmed.")
    row = supplier.locator(f'tr[data-order="{world.north_order}"]')
    row.locator("input[name=expected_arrival]").fill("2030-05-01")
    row.get_by_role("button", name="Ship").click()
    expect(supplier.locator(".notice")).to_have_text(f"Order {world.north_order} is now Shipped.")
    assert live_api.context.orders.get(world.north_order).status == OrderStatus.SHIPPED

    customer.goto("/portal/orders")
    row = customer.locator(f'tr[data-order="{world.north_order}"]')
    expect(row.locator(".status")).to_have_text("Shipped")
    expect(row.get_by_role("button", name="Receive")).to_be_visible()
    expect(row.get_by_role("button", name="Confirm")).to_have_count(0)  # not the customer's


def test_a_new_level_appears_without_a_reload(
    live_api: LiveApi, new_context: NewContext, screenshot: Screenshot
) -> None:
    world = world_of(live_api)
    page = new_context(base_url=live_api.url).new_page()
    sign_in(page, world.customer)
    cell = page.locator('tr[data-key="north|BOLT-M8"] .on-hand')
    expect(cell).to_have_text("79")
    expect(page.locator(".live")).to_be_visible()  # the stream is open
    page.evaluate("window.__sameDocument = true")

    live_api.context.store.write_levels(
        [LevelPoint("north", "gw-1", "A-01", "BOLT-M8", datetime.now(UTC), 41)]
    )

    expect(cell).to_have_text("41")
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    screenshot(page, "portal-stock-live")


def test_another_tenants_page_is_404_by_url(live_api: LiveApi, new_context: NewContext) -> None:
    world = world_of(live_api)
    page = new_context(base_url=live_api.url).new_page()
    sign_in(page, world.customer)
    response = page.goto("/portal/shelf/south/NUT-M8")
    assert response is not None
    assert response.status == 404
    expect(page.locator(".error")).to_have_text("Not found.")
    response = page.goto("/portal/shelf/north/BOLT-M8")
    assert response is not None
    assert response.status == 200


def test_a_form_without_its_csrf_token_is_refused(
    live_api: LiveApi, new_context: NewContext
) -> None:
    world = world_of(live_api)
    page = new_context(base_url=live_api.url).new_page()
    sign_in(page, world.supplier)
    page.goto("/portal/orders")
    row = page.locator(f'tr[data-order="{world.north_order}"]')
    row.locator("form.action-confirm input[name=csrf]").evaluate("input => input.remove()")
    row.get_by_role("button", name="Confirm").click()
    expect(page.locator(".error")).to_have_text(
        "This form has expired. Reload the page and try again."
    )
    assert live_api.context.orders.get(world.north_order).status == OrderStatus.PROPOSED


def test_the_chinese_pages_have_every_label_translated(
    live_api: LiveApi, new_context: NewContext, screenshot: Screenshot
) -> None:
    world = world_of(live_api)
    page = new_context(base_url=live_api.url, locale="zh-CN").new_page()
    page.goto("/portal/login")
    expect(page.locator("h1")).to_have_text("登录")
    screenshot(page, "portal-login-zh")
    sign_in_zh(page, world.supplier)
    english = {
        text
        for key, text in MESSAGES["en"].items()
        if "{" not in text and key not in {"nav.language", "state.ok"}  # 中文 / "OK" is a word
    }
    for path, name in (
        ("/portal/stock", "portal-stock-zh"),
        ("/portal/orders", "portal-orders-zh"),
        ("/portal/shelf/north/BOLT-M8", "portal-shelf-zh"),
        ("/portal/alerts", "portal-alerts-zh"),
        ("/portal/devices", "portal-devices-zh"),
        ("/portal/kpis", "portal-kpis-zh"),
        ("/portal/suggestions", "portal-suggestions-zh"),
        ("/portal/account", "portal-account-zh"),
    ):
        page.goto(path)
        shown = page.locator("body").inner_text()
        labels = {line.strip() for line in re.split(r"[\n\t]", shown) if line.strip()}
        left = sorted(labels & english)
        assert left == [], f"{path}: English left on the Chinese page: {left}"
        screenshot(page, name)
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    # The switch takes the reader back to English, and remembers it.
    page.get_by_role("link", name="English").click()
    expect(page.locator("h1")).to_have_text("My account")


def sign_in_zh(page: Page, login: str) -> None:
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/portal/stock$"))


def test_pages_fit_a_phone_screen(
    live_api: LiveApi, new_context: NewContext, screenshot: Screenshot
) -> None:
    world = world_of(live_api)
    phone = new_context(
        base_url=live_api.url,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    ).new_page()
    sign_in(phone, world.supplier)
    for path, name in (
        ("/portal/stock", "portal-stock-phone"),
        ("/portal/orders", "portal-orders-phone"),
        ("/portal/shelf/north/BOLT-M8", "portal-shelf-phone"),
        ("/portal/alerts", "portal-alerts-phone"),
        ("/portal/kpis", "portal-kpis-phone"),
        ("/portal/suggestions", "portal-suggestions-phone"),
    ):
        phone.goto(path)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width} px wide on a 390 px screen"
        screenshot(phone, name)
    phone.goto("/portal/orders")
    expect(phone.get_by_role("button", name="Confirm")).to_be_visible()


def test_each_page_in_english(
    live_api: LiveApi, new_context: NewContext, screenshot: Screenshot
) -> None:
    world = world_of(live_api)
    page = new_context(base_url=live_api.url).new_page()
    sign_in(page, world.customer)
    for link, heading in (
        ("Alerts", "Alerts"),
        ("Devices", "Devices"),
        ("KPIs", "KPIs"),
        ("Suggestions", "Suggestions"),
    ):
        page.get_by_role("navigation").get_by_role("link", name=link).click()
        expect(page.locator("h1")).to_contain_text(heading)
        screenshot(page, f"portal-{link.lower()}")
    expect(page.locator("tr[data-suggestion]")).to_have_count(1)
    page.get_by_role("button", name="Accept").click()
    expect(page.locator(".notice")).to_have_text(f"Suggestion {world.north_suggestion} accepted.")


def test_sign_out_from_the_page(live_api: LiveApi, new_context: NewContext) -> None:
    world = world_of(live_api)
    page = new_context(base_url=live_api.url).new_page()
    sign_in(page, world.admin)
    expect(page.locator("#stock tbody tr")).to_have_count(2)  # an admin sees both sites
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/portal/login$"))
    page.goto("/portal/stock")
    expect(page).to_have_url(re.compile(r"/portal/login\?next="))

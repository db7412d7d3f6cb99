"""The browser-test fixtures themselves, against the API app as it is: a live
server the browser reaches, isolated contexts, screenshots, Chinese glyphs."""

from __future__ import annotations

import json
import re

from playwright.sync_api import Request, expect

from tests.portal.conftest import LiveApi, NewContext, Screenshot

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_the_browser_reads_the_live_api(
    live_api: LiveApi, new_context: NewContext, screenshot: Screenshot
) -> None:
    page = new_context(base_url=live_api.url).new_page()
    failed: list[Request] = []
    page.on("requestfailed", lambda request: failed.append(request))

    # Swagger UI's page is served; its script and style come from a CDN,
    # which the context blocks (pages reach only loopback).
    response = page.goto("/docs")
    assert response is not None
    assert response.ok
    expect(page).to_have_title(re.compile(r"VMI stock monitoring API"))
    expect(page.locator("#swagger-ui")).to_be_attached()
    assert failed, "the CDN requests of /docs should have been blocked"
    for request in failed:
        assert not request.url.startswith(live_api.url), request.url
        assert (request.failure or "").startswith("net::ERR_BLOCKED_BY_CLIENT"), request.failure

    response = page.goto("/health")
    assert response is not None
    assert response.status == 200
    # Chromium shows JSON as text in a <pre> (plus, in new versions, a
    # pretty-print toggle outside it).
    shown = json.loads(page.locator("pre").first.inner_text())
    assert shown == {"status": "ok", "database": "ok", "timeseries": "ok"}

    path = screenshot(page, "browser-infra-health")
    assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_contexts_are_isolated(live_api: LiveApi, new_context: NewContext) -> None:
    supplier = new_context(base_url=live_api.url)
    customer = new_context(base_url=live_api.url, locale="zh-CN")
    supplier.add_cookies([{"name": "session", "value": "supplier-1", "url": live_api.url}])

    assert [cookie["value"] for cookie in supplier.cookies()] == ["supplier-1"]
    assert customer.cookies() == []

    supplier_page = supplier.new_page()
    supplier_page.goto("/health")
    customer_page = customer.new_page()
    customer_page.goto("/health")
    assert supplier_page.evaluate("document.cookie") == "session=supplier-1"
    assert customer_page.evaluate("document.cookie") == ""
    assert supplier_page.evaluate("navigator.language") == "en-US"
    assert customer_page.evaluate("navigator.language") == "zh-CN"


def test_chinese_text_renders(new_context: NewContext, screenshot: Screenshot) -> None:
    """Two different characters look different only if a font has them: without
    one (fonts-noto-cjk, see scripts/install-servers.sh) both are the same box."""
    page = new_context(locale="zh-CN").new_page()
    page.set_content(
        '<p style="font-size:32px"><span id="a">库</span> <span id="b">存</span></p>'
        '<p style="font-size:32px">库存 补货订单 供应商 客户</p>'
    )
    first = page.locator("#a").screenshot()
    second = page.locator("#b").screenshot()
    screenshot(page, "browser-infra-chinese")
    assert first != second, (
        "Chinese characters render as empty boxes: install fonts-noto-cjk "
        "(scripts/install-servers.sh)"
    )

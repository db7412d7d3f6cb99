"""What the portal issue asks of the demo, in a real browser: the demo serves the portal,
prints its URL and the demo sign-ins, and the demo supplier confirms the demo's first
order from the page while the simulated site runs."""

from __future__ import annotations

import io
import re
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect

from cloud.orders import OrderStatus
from firmware_sim.demo import Demo, DemoOptions
from firmware_sim.demo_cli import run_demo
from tests.portal.conftest import NewContext, Screenshot
from tests.waiting import wait_for

pytestmark = pytest.mark.e2e


def test_the_demo_supplier_confirms_the_first_order_from_the_portal(
    tmp_path: Path, new_context: NewContext, screenshot: Screenshot
) -> None:
    # A simulated day every 5 s: the first order comes within seconds and stays
    # proposed until its delivery, two simulated days (10 s) later.
    demo = Demo(DemoOptions(speed=17_280.0, data_dir=tmp_path, portal_port=0))
    stop = threading.Event()
    with demo.running():
        assert demo.portal is not None
        runner = threading.Thread(target=demo.run, args=(stop,), daemon=True)
        runner.start()
        try:
            wait_for(lambda: bool(demo.orders()), 30, "the demo's first order")
            supplier = next(p for p in demo.portal.sign_ins if p.login == "supplier")
            page = new_context().new_page()
            page.goto(demo.portal.url)
            page.locator("input[name=login]").fill(supplier.login)
            page.locator("input[name=password]").fill(supplier.password)
            page.get_by_role("button", name="Sign in").click()
            expect(page.locator("#stock tbody tr")).to_have_count(3)  # the demo's shelves
            screenshot(page, "demo-portal-stock")
            page.get_by_role("link", name="Orders").click()
            first = min(o.id for o in demo.orders())
            row = page.locator(f'tr[data-order="{first}"]')
            row.get_by_role("button", name="Confirm").click()
            expect(page.locator(".notice")).to_have_text(f"Order {first} is now Confirmed.")
            screenshot(page, "demo-portal-orders")
            assert demo.cloud is not None
            assert demo.cloud.orders.get(first).status == OrderStatus.CONFIRMED
        finally:
            stop.set()
            runner.join(10)


def test_the_demo_prints_the_portal_and_its_sign_ins(tmp_path: Path) -> None:
    out = io.StringIO()
    options = DemoOptions(speed=17_280.0, duration_s=2.0, data_dir=tmp_path, portal_port=0)
    code = run_demo(options, out)
    assert code == 0
    line = next(x for x in out.getvalue().splitlines() if x.startswith("Portal: "))
    assert re.fullmatch(
        r"Portal: http://127\.0\.0\.1:\d+/portal \(sign in as supplier DEMO-SUPPLY: supplier / "
        r"\S+; customer DEMO-PLANT: customer / \S+\)",
        line,
    ), line

"""The portal over HTTP (no browser): who sees which page, who may act on orders, CSRF,
sign-in and out, and the security headers; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient

from cloud.api.context import ApiContext
from cloud.orders import OrderStatus
from cloud.portal.web import SESSION_COOKIE
from tests.cloud.portal.conftest import csrf_of
from tests.cloud.portal.world import PASSWORD, World

People = Callable[..., TestClient]


def post(client: TestClient, path: str, **fields: str) -> tuple[int, str]:
    """A form posted with the page's CSRF token; (status, where it redirects)."""
    page = client.get("/portal/orders")
    response = client.post(
        path, data={"csrf": csrf_of(page.text), **fields}, follow_redirects=False
    )
    return response.status_code, response.headers.get("location", "")


def test_every_page_sends_a_stranger_to_sign_in_and_back(people: People, world: World) -> None:
    stranger = people()
    for path in ("/portal/stock", "/portal/orders", "/portal/shelf/north/BOLT-M8"):
        response = stranger.get(path + "?x=1", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/portal/login?next=%2Fportal%2F")
    response = stranger.post(f"/portal/orders/{world.north_order}/confirm", follow_redirects=False)
    assert response.status_code == 303  # to sign in; nothing moved


def test_each_person_sees_only_their_shelves_and_orders(people: People, world: World) -> None:
    supplier = people(world.supplier)
    stock = supplier.get("/portal/stock").text
    assert 'data-key="north|BOLT-M8"' in stock
    assert "south" not in stock
    orders = supplier.get("/portal/orders").text
    assert f'data-order="{world.north_order}"' in orders
    assert f'data-order="{world.south_order}"' not in orders

    other = people(world.other_customer)
    assert 'data-key="south|NUT-M8"' in other.get("/portal/stock").text
    assert "north" not in other.get("/portal/stock").text

    admin = people(world.admin)
    assert {"north|BOLT-M8", "south|NUT-M8"} <= {
        key for key in ("north|BOLT-M8", "south|NUT-M8") if key in admin.get("/portal/stock").text
    }


def test_another_tenants_pages_are_404_by_url(people: People, world: World) -> None:
    customer = people(world.customer)
    assert customer.get("/portal/shelf/south/NUT-M8").status_code == 404
    assert customer.get("/portal/shelf/north/BOLT-M8").status_code == 200
    status, _ = post(customer, f"/portal/orders/{world.south_order}/receive")
    assert status == 404
    status, _ = post(customer, "/portal/orders/999999/confirm")
    assert status == 404


def test_the_supplier_confirms_and_ships_and_the_customer_receives(
    people: People, world: World, context: ApiContext
) -> None:
    supplier, customer = people(world.supplier), people(world.customer)
    order = world.north_order

    status, where = post(customer, f"/portal/orders/{order}/confirm")
    assert status == 403  # the customer may not confirm
    assert context.orders.get(order).status == OrderStatus.PROPOSED

    status, where = post(supplier, f"/portal/orders/{order}/confirm")
    assert (status, where.split("?")[0]) == (303, "/portal/orders")
    assert "done=" in where
    assert context.orders.get(order).status == OrderStatus.CONFIRMED
    status, _ = post(supplier, f"/portal/orders/{order}/ship", expected_arrival="2030-05-01")
    shipped = context.orders.get(order)
    assert (shipped.status, shipped.expected_arrival.isoformat()) == (
        OrderStatus.SHIPPED,
        "2030-05-01T12:00:00+00:00",
    )
    assert f'data-order="{order}" class="status-shipped"' in customer.get("/portal/orders").text

    status, _ = post(customer, f"/portal/orders/{order}/receive", quantity="118")
    received = context.orders.get(order)
    assert (received.status, received.received_quantity) == (OrderStatus.RECEIVED, 118)


def test_a_move_the_lifecycle_refuses_is_said_on_the_page(
    people: People, world: World, context: ApiContext
) -> None:
    supplier = people(world.supplier)
    status, where = post(supplier, f"/portal/orders/{world.north_order}/ship")
    assert status == 303
    page = supplier.get(where).text
    assert "Not done:" in page
    assert "cannot become shipped" in page
    assert context.orders.get(world.north_order).status == OrderStatus.PROPOSED


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(
    people: People, world: World, context: ApiContext
) -> None:
    supplier = people(world.supplier)
    for fields in ({"reason": "x"}, {"csrf": "forged"}, {"csrf": ""}):
        response = supplier.post(
            f"/portal/orders/{world.north_order}/confirm", data=fields, follow_redirects=False
        )
        assert response.status_code == 403
        assert "This form has expired" in response.text
    assert context.orders.get(world.north_order).status == OrderStatus.PROPOSED
    # Another session's token does not do either.
    other = people(world.admin)
    foreign = csrf_of(other.get("/portal/orders").text)
    response = supplier.post(
        f"/portal/orders/{world.north_order}/confirm",
        data={"csrf": foreign},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert "vmi_api_portal_csrf_refused_total 4" in context.metrics.render()


def test_sign_in_fails_alike_for_a_wrong_password_and_an_unknown_login(
    people: People, world: World
) -> None:
    client = people()
    for login, password in ((world.supplier, "wrong password!"), ("nobody", PASSWORD)):
        page = client.get("/portal/login")
        response = client.post(
            "/portal/login",
            data={"csrf": csrf_of(page.text), "login": login, "password": password},
            follow_redirects=False,
        )
        assert response.status_code == 401
        assert "Wrong login or password." in response.text
        assert SESSION_COOKIE not in response.cookies


def test_sign_in_attempts_are_limited_per_login(people: People, world: World) -> None:
    client = people()
    for _ in range(5):
        page = client.get("/portal/login")
        client.post(
            "/portal/login",
            data={"csrf": csrf_of(page.text), "login": world.supplier, "password": "guess-guess"},
        )
    page = client.get("/portal/login")
    response = client.post(
        "/portal/login",
        data={"csrf": csrf_of(page.text), "login": world.supplier, "password": PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 429  # even the right password, until the window moves
    assert "Too many attempts" in response.text
    people(world.customer)  # another login is not held up


def test_the_sign_in_form_needs_its_own_csrf_cookie(people: People, world: World) -> None:
    client = people()
    response = client.post(
        "/portal/login",
        data={"csrf": "made-up", "login": world.supplier, "password": PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert SESSION_COOKIE not in response.cookies


def test_sign_out_ends_the_session_for_good(people: People, world: World) -> None:
    supplier = people(world.supplier)
    token = supplier.cookies.get(SESSION_COOKIE)
    assert token
    status, where = post(supplier, "/portal/logout")
    assert (status, where) == (303, "/portal/login")
    replay = people()
    replay.cookies.set(SESSION_COOKIE, token, path="/portal")
    assert replay.get("/portal/stock", follow_redirects=False).status_code == 303


def test_sessions_end_when_idle_or_when_the_user_is_disabled(
    people: People, world: World, context: ApiContext
) -> None:
    supplier = people(world.supplier)
    token = supplier.cookies.get(SESSION_COOKIE)
    assert token
    now = context.clock.now()
    assert context.accounts.session(token, now) is not None
    assert context.accounts.session(token, now + timedelta(hours=9)) is None  # idle 8 h
    assert context.accounts.session(token, now) is None  # and gone for good

    customer = people(world.customer)
    context.accounts.set_active(world.customer, False)
    assert customer.get("/portal/stock", follow_redirects=False).status_code == 303


def test_cookies_and_headers_are_safe(people: People, world: World) -> None:
    client = people()
    page = client.get("/portal/login")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    response = client.post(
        "/portal/login",
        data={"csrf": csrf_of(page.text), "login": world.supplier, "password": PASSWORD},
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/portal" in cookie
    assert "Secure" not in cookie  # plain http here; see the next test

    tls = people(base_url="https://portal.example")
    page = tls.get("/portal/login")
    response = tls.post(
        "/portal/login",
        data={"csrf": csrf_of(page.text), "login": world.supplier, "password": PASSWORD},
        follow_redirects=False,
    )
    assert "Secure" in response.headers["set-cookie"]


def test_next_never_leaves_the_portal(people: People, world: World) -> None:
    client = people()
    for target in ("https://evil.example/", "//evil.example/x", "/api-keys", "/portal\\..\\x"):
        page = client.get("/portal/login", params={"next": target})
        assert 'name="next" value="/portal/stock"' in page.text
    switch = client.get(
        "/portal/lang/zh", params={"next": "https://evil.example"}, follow_redirects=False
    )
    assert switch.headers["location"] == "/portal/stock"


def test_the_shelf_page_says_why_the_order_was_raised(people: People, world: World) -> None:
    page = people(world.customer).get("/portal/shelf/north/BOLT-M8").text
    assert "3.3 days of cover &lt;= 3.5 (lead 2 + safety 1.5)" in page
    assert '<polyline class="level"' in page
    assert '<polygon class="band"' in page
    assert "95 %" in page  # the agreement's service level
    assert '<g class="alert-mark alert-reorder"><title>reorder 120 x BOLT-M8</title>' in page
    assert f"#{world.north_order}" in page


def test_a_person_changes_their_password_and_every_session_ends(
    people: People, world: World, context: ApiContext
) -> None:
    here, elsewhere = people(world.customer), people(world.customer)
    page = here.get("/portal/account").text
    token = csrf_of(page)

    def change(current: str, new: str, repeat: str | None = None) -> str:
        response = here.post(
            "/portal/account/password",
            data={
                "csrf": token,
                "current_password": current,
                "new_password": new,
                "repeat_password": new if repeat is None else repeat,
            },
            follow_redirects=False,
        )
        assert response.status_code == 303
        return response.headers["location"]

    assert "current+password+is+wrong" in change("not it at all", "a new long password")
    assert "differ" in change(PASSWORD, "a new long password", "another one!!")
    assert "at+least+10+characters" in change(PASSWORD, "short")
    assert change(PASSWORD, "a new long password").startswith("/portal/login")
    assert elsewhere.get("/portal/stock", follow_redirects=False).status_code == 303
    assert context.accounts.check_password(world.customer, PASSWORD) is None
    people(world.customer, password="a new long password")

"""The portal's Alerts, Devices, KPIs and Suggestions pages over HTTP: each person sees
their own, and decides suggestions as the API lets them."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from cloud.api.context import ApiContext
from cloud.catalog import AgreementSpec
from tests.cloud.portal.conftest import csrf_of
from tests.cloud.portal.world import World

People = Callable[..., TestClient]


def test_alerts_are_each_persons_own(people: People, world: World) -> None:
    supplier = people(world.supplier).get("/portal/alerts").text
    assert "reorder 120 x BOLT-M8" in supplier
    assert "NUT-M8 at south is empty" not in supplier
    other = people(world.other_customer)
    assert "NUT-M8 at south is empty" in other.get("/portal/alerts").text
    assert "NUT-M8 at south is empty" not in other.get("/portal/alerts?kind=reorder").text
    assert other.get("/portal/alerts?kind=<script>").status_code == 200  # unknown: all


def test_devices_show_health_within_the_view(people: People, world: World) -> None:
    page = people(world.customer).get("/portal/devices").text
    assert 'data-device="north|gw-1"' in page
    assert 'class="device-fault"' in page  # online, one driver of two faulted
    assert "1 / 2" in page
    assert "gw-2" not in page
    other = people(world.other_customer).get("/portal/devices").text
    assert 'class="device-offline" data-device="south|gw-2"' in other
    # The supplier sees devices only through the catalog's bindings: none here.
    assert "gw-1" not in people(world.supplier).get("/portal/devices").text


def test_kpis_per_shelf_and_rolled_up(people: People, world: World) -> None:
    supplier = people(world.supplier)
    page = supplier.get("/portal/kpis").text
    assert "north/BOLT-M8" in page
    assert "south" not in page
    by_site = supplier.get("/portal/kpis?by=site").text
    assert '<td data-label="Shelf or group">north</td>' in by_site


def test_a_suggestion_is_accepted_from_the_page_into_the_agreement(
    people: People, world: World, context: ApiContext
) -> None:
    supplier = people(world.supplier)
    page = supplier.get("/portal/suggestions").text
    assert f'data-suggestion="{world.north_suggestion}"' in page
    assert f'data-suggestion="{world.south_suggestion}"' not in page
    response = supplier.post(
        f"/portal/suggestions/{world.north_suggestion}/accept",
        data={"csrf": csrf_of(page)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert "done=" in response.headers["location"]
    agreement = context.catalog.get(AgreementSpec, ("north", "BOLT-M8"))
    assert (agreement.service_level, agreement.review_period_days) == (0.98, 1.0)
    decided = context.suggestions.get(world.north_suggestion)
    assert (decided.status, decided.decided_by) == ("accepted", "supplier ACME (user acme-user)")


def test_deciding_follows_the_apis_rules(people: People, world: World, context: ApiContext) -> None:
    customer = people(world.customer)
    token = csrf_of(customer.get("/portal/suggestions").text)
    # Another tenant's suggestion: not found.
    response = customer.post(
        f"/portal/suggestions/{world.south_suggestion}/dismiss", data={"csrf": token}
    )
    assert response.status_code == 404
    # The other customer may dismiss its own; accepting has no agreement to write into.
    other = people(world.other_customer)
    token = csrf_of(other.get("/portal/suggestions").text)
    response = other.post(
        f"/portal/suggestions/{world.south_suggestion}/accept",
        data={"csrf": token},
        follow_redirects=False,
    )
    assert "has+no+VMI+agreement" in response.headers["location"]
    response = other.post(
        f"/portal/suggestions/{world.south_suggestion}/dismiss",
        data={"csrf": token, "note": "we move that shelf"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    row = context.suggestions.get(world.south_suggestion)
    assert (row.status, row.note) == ("dismissed", "we move that shelf")
    # Without the CSRF token, nothing.
    response = people(world.supplier).post(
        f"/portal/suggestions/{world.north_suggestion}/dismiss", data={"note": "x"}
    )
    assert response.status_code == 403
    assert context.suggestions.get(world.north_suggestion).status == "open"

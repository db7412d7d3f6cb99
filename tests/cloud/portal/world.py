"""A small world for the portal tests: two customers' sites, one supplier managing one
of them, a shelf each with levels and a projection, an open order each, and a user per
role (passwords below)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cloud.api.context import ApiContext
from cloud.api.security import Role
from cloud.catalog.schema import AgreementSpec, CustomerSpec, SiteSpec, SkuSpec, SupplierSpec
from cloud.suggest.suggest import Effect, Suggestion, Terms
from cloud.timeseries import LevelPoint
from cloud.timeseries.measurements import ALERT, DEVICE_STATUS, PROJECTION

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class World:
    """Order ids and logins of the world."""

    north_order: int  # ACME's order at north (customer NORTHCO)
    south_order: int  # at south (customer SOUTHCO), no supplier of ours
    north_suggestion: int  # better terms for north/BOLT-M8 (an agreement of ACME)
    south_suggestion: int  # for south/NUT-M8 (no agreement)
    supplier: str = "acme-user"
    customer: str = "north-user"
    other_customer: str = "south-user"
    admin: str = "admin-user"


def make_world(context: ApiContext) -> World:
    now = datetime.now(UTC)
    catalog = context.catalog
    catalog.create(SupplierSpec(code="ACME", name="Acme Supplies"))
    for code in ("NORTHCO", "SOUTHCO"):
        catalog.create(CustomerSpec(code=code, name=code.title()))
    catalog.create(SiteSpec(code="north", customer="NORTHCO", name="North plant"))
    catalog.create(SiteSpec(code="south", customer="SOUTHCO", name="South plant"))
    for sku in ("BOLT-M8", "NUT-M8"):
        catalog.create(SkuSpec(code=sku, name=sku))
    catalog.create(
        AgreementSpec(
            supplier="ACME",
            site="north",
            sku="BOLT-M8",
            lead_time_days=2,
            service_level=0.95,
            min_level=10,
            max_level=200,
        )
    )
    levels = [
        LevelPoint("north", "gw-1", "A-01", "BOLT-M8", now - timedelta(hours=h), 80 - h)
        for h in range(48, 0, -1)
    ] + [LevelPoint("south", "gw-2", "B-01", "NUT-M8", now - timedelta(hours=1), 5)]
    context.store.write_levels(levels)
    context.store.write_points(
        [
            PROJECTION.point(
                tags={"site": "north", "sku": "BOLT-M8", "supplier": "ACME"},
                fields={
                    "on_hand": 79.0,
                    "rate_per_day": 24.0,
                    "days_of_cover": 3.3,
                    "stockout_days_p10": 2.8,
                    "stockout_days_p90": 3.9,
                    "reorder_point": 60.0,
                },
                time=now - timedelta(minutes=30),
            )
        ]
    )
    orders = []
    for site, sku, supplier in (("north", "BOLT-M8", "ACME"), ("south", "NUT-M8", None)):
        made = context.orders.create(
            site=site,
            sku=sku,
            quantity=120,
            reason="3.3 days of cover <= 3.5 (lead 2 + safety 1.5)",
            on_hand=79,
            rate_per_day=24,
            at=now - timedelta(minutes=30),
            supplier=supplier,
        )
        assert made is not None
        orders.append(made.id)
    context.store.write_points(
        [
            ALERT.point(
                tags={"site": "north", "sku": "BOLT-M8", "kind": "reorder"},
                fields={"message": "reorder 120 x BOLT-M8", "order_id": orders[0]},
                time=now - timedelta(minutes=30),
            ),
            ALERT.point(
                tags={"site": "south", "sku": "NUT-M8", "kind": "stockout"},
                fields={"message": "NUT-M8 at south is empty"},
                time=now - timedelta(minutes=20),
            ),
            DEVICE_STATUS.point(
                tags={"site": "north", "device": "gw-1"},
                fields={
                    "online": True,
                    "agent_version": "0.9.1",
                    "drivers_total": 2,
                    "drivers_faulted": 1,
                    "outbox_pending": 3,
                },
                time=now - timedelta(minutes=5),
            ),
            DEVICE_STATUS.point(
                tags={"site": "south", "device": "gw-2"},
                fields={"online": False},
                time=now - timedelta(minutes=5),
            ),
        ]
    )
    today = Terms(0.95, 0.0, 60.0, 200.0)
    better = Terms(0.98, 1.0, 70.0, 180.0)
    effect = Effect(90.0, 0.97, 6.0, 40.0)
    rows = context.suggestions.record(
        [
            Suggestion(
                "north", "BOLT-M8", today, effect, better, Effect(80.0, 0.99, 1.0, 30.0), 0.98
            ),
            Suggestion("south", "NUT-M8", today, effect, better, Effect(5.0, 0.99, 1.0, 9.0), 0.98),
        ],
        ["ACME", None],
        now,
        window_days=90,
    )
    world = World(
        north_order=orders[0],
        south_order=orders[1],
        north_suggestion=rows[0].id,
        south_suggestion=rows[1].id,
    )
    accounts = context.accounts
    for login, role, tenant in (
        (world.supplier, Role.SUPPLIER, "ACME"),
        (world.customer, Role.CUSTOMER, "NORTHCO"),
        (world.other_customer, Role.CUSTOMER, "SOUTHCO"),
        (world.admin, Role.ADMIN, None),
    ):
        accounts.create_user(login=login, password=PASSWORD, role=role, tenant=tenant, at=now)
    return world

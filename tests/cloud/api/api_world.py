"""Two tenant groups and a third supplier, with catalog, keys, orders, levels,
projections, alerts and webhooks, for tests of what each role sees.

* alpha: customer `cust-alpha` with site `site-alpha`; supplier `sup-alpha`
  manages `sku-alpha` there (device `dev-alpha` at `loc-alpha-1`);
* gamma: supplier `sup-gamma` manages `sku-gamma` at the same site
  (`dev-gamma` at `loc-gamma-1`): sku-level separation at one site;
* beta: customer `cust-beta`, site `site-beta`, supplier `sup-beta`,
  `sku-beta`, `dev-beta` at `loc-beta-1`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from cloud.api.context import ApiContext
from cloud.api.security import Role
from cloud.notify.subscriptions import WebhookSubscriptionCreate
from cloud.timeseries import LevelPoint
from cloud.timeseries.measurements import ALERT, PROJECTION
from tests.cloud.api.conftest import new_token


@dataclass(frozen=True)
class Group:
    """The objects of one tenant group (a field None: the group has none of its own)."""

    supplier: str | None
    customer: str | None
    site: str | None
    location: str | None
    sku: str | None
    device: str | None
    order_id: int | None = None
    webhook_id: int | None = None
    key_id: int | None = None
    markers: frozenset[str] = field(default_factory=frozenset)
    """Strings only this group's data contains (codes, order reasons, messages, URLs)."""


@dataclass
class Principal:
    name: str
    role: Role
    tenant: str | None
    token: str
    own: Group | None
    foreign: list[Group]
    forbidden: frozenset[str]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


ALPHA = Group("sup-alpha", "cust-alpha", "site-alpha", "loc-alpha-1", "sku-alpha", "dev-alpha")
GAMMA = Group("sup-gamma", None, "site-alpha", "loc-gamma-1", "sku-gamma", "dev-gamma")
BETA = Group("sup-beta", "cust-beta", "site-beta", "loc-beta-1", "sku-beta", "dev-beta")


def _markers(g: Group, tag: str) -> frozenset[str]:
    own = {g.supplier, g.sku, g.device, f"reason-{tag}", f"msg-{tag}", f"hook-{tag}"}
    if g.customer is not None:
        own |= {g.customer, g.site, g.location}
    else:
        own.add(g.location)
    return frozenset(m for m in own if m is not None)


def _terms(supplier: str, site: str, sku: str) -> dict[str, object]:
    return {
        "supplier": supplier,
        "site": site,
        "sku": sku,
        "lead_time_days": 2,
        "service_level": 0.95,
        "min_level": 1,
        "max_level": 10,
    }


def need(value: str | None) -> str:
    assert value is not None
    return value


def _ok(response: object) -> None:
    status = getattr(response, "status_code", 0)
    assert 200 <= status < 300, getattr(response, "text", "")


def build_world(client: TestClient, context: ApiContext, admin: dict[str, str]) -> World:
    """Create everything through the API (catalog) and the stores (data)."""
    for customer, site in (("cust-alpha", "site-alpha"), ("cust-beta", "site-beta")):
        _ok(client.post("/customers", json={"code": customer, "name": "C"}, headers=admin))
        _ok(client.post("/sites", json={"code": site, "customer": customer}, headers=admin))
    for g in (ALPHA, GAMMA, BETA):
        _ok(client.post("/suppliers", json={"code": g.supplier, "name": "S"}, headers=admin))
        _ok(client.post(f"/sites/{g.site}/locations", json={"code": g.location}, headers=admin))
        _ok(client.post("/skus", json={"code": g.sku}, headers=admin))
        _ok(client.post("/agreements", json=_terms(g.supplier, g.site, g.sku), headers=admin))
        binding = {"location": g.location, "sku": g.sku}
        device = {"code": g.device, "site": g.site, "bindings": [binding]}
        _ok(client.post("/devices", json=device, headers=admin))

    now = datetime.now(UTC)
    groups = {}
    for tag, g in (("alpha", ALPHA), ("gamma", GAMMA), ("beta", BETA)):
        site, sku, device, location = need(g.site), need(g.sku), need(g.device), need(g.location)
        order = context.orders.create(
            site=site,
            sku=sku,
            quantity=10,
            reason=f"reason-{tag}",
            on_hand=1.0,
            rate_per_day=2.0,
            at=now,
            supplier=g.supplier,
        )
        assert order is not None
        context.store.write_levels(
            [
                LevelPoint(site, device, location, sku, now - timedelta(minutes=m), q)
                for m, q in ((30, 12.0), (20, 11.0), (10, 9.0))
            ]
        )
        context.store.write_points(
            [
                PROJECTION.point(
                    tags={"site": g.site, "sku": g.sku, "supplier": g.supplier},
                    fields={"on_hand": 9.0, "rate_per_day": 2.0, "days_of_cover": 4.5},
                    time=now - timedelta(minutes=5),
                ),
                ALERT.point(
                    tags={"site": g.site, "sku": g.sku, "kind": "reorder"},
                    fields={"message": f"msg-{tag} reorder", "order_id": order.id},
                    time=now - timedelta(minutes=4),
                ),
                ALERT.point(
                    tags={"site": g.site, "device": g.device, "kind": "sensor_silent"},
                    fields={"message": f"msg-{tag} silent"},
                    time=now - timedelta(minutes=3),
                ),
            ]
        )
        tenant = g.supplier
        hook = context.webhooks.create(
            WebhookSubscriptionCreate(url=f"https://hook-{tag}.example/in", tenant=tenant)
        )
        groups[tag] = replace(
            g, order_id=order.id, webhook_id=hook.subscription.id, markers=_markers(g, tag)
        )
    customer_hooks = {}
    for tag, g in (("alpha", ALPHA), ("beta", BETA)):
        assert g.customer is not None
        hook = context.webhooks.create(
            WebhookSubscriptionCreate(url=f"https://hook-{tag}.example/c", tenant=g.customer)
        )
        customer_hooks[g.customer] = hook.subscription.id
    return World(context, groups, customer_hooks)


class World:
    """The groups, and a principal (API key) per role and tenant."""

    def __init__(
        self, context: ApiContext, groups: dict[str, Group], customer_hooks: dict[str, int]
    ) -> None:
        self.context = context
        self.groups = groups
        self.customer_hooks = customer_hooks
        self.alpha, self.gamma, self.beta = groups["alpha"], groups["gamma"], groups["beta"]

    def principals(self) -> list[Principal]:
        """Admin, and each supplier and customer with its own and foreign objects."""
        a, g, b = self.alpha, self.gamma, self.beta
        # The parts of a group another group at the same site may legitimately see.
        gamma_only = replace(g, customer=None, site=None, location=None)
        alpha_only = replace(a, customer=None, site=None, location=None)
        plans = [
            ("admin", Role.ADMIN, None, a, [b], frozenset()),
            ("sup-alpha", Role.SUPPLIER, "sup-alpha", a, [b, gamma_only], b.markers | _pair(g)),
            ("sup-gamma", Role.SUPPLIER, "sup-gamma", g, [b, alpha_only], b.markers | _pair(a)),
            ("cust-alpha", Role.CUSTOMER, "cust-alpha", a, [b], b.markers),
            ("sup-beta", Role.SUPPLIER, "sup-beta", b, [a, g], a.markers | g.markers),
            ("cust-beta", Role.CUSTOMER, "cust-beta", b, [a, g], a.markers | g.markers),
        ]
        found = []
        for name, role, tenant, own, foreign, forbidden in plans:
            token = new_token(self.context, role, tenant)
            key_id = self.context.keys.entries()[-1].id
            own_with_key = None if own is None else replace(own, key_id=key_id)
            if own_with_key is not None and role is Role.CUSTOMER:
                own_with_key = replace(own_with_key, webhook_id=self.customer_hooks[tenant or ""])
            found.append(Principal(name, role, tenant, token, own_with_key, foreign, forbidden))
        # Each principal's foreign objects include the other principals' keys.
        for p in found:
            others = [q.own.key_id for q in found if q is not p and q.own is not None]
            p.foreign = [replace(f, key_id=others[0]) for f in p.foreign]
        return found


def _pair(g: Group) -> frozenset[str]:
    """What is a group's own at a shared site: its supplier, SKU, device and data."""
    return frozenset(m for m in g.markers if not m.startswith(("site-", "cust-", "loc-")))

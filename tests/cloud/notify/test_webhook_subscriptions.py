"""Webhook subscriptions: create (the secret once), read (never the secret), revoke,
delete, filters, and tenants from the catalog; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from cloud.catalog import Catalog
from cloud.notify import (
    CatalogTenants,
    InvalidSubscription,
    Tenant,
    TenantRole,
    UnknownSubscription,
    WebhookSubscriptionCreate,
    WebhookSubscriptions,
)
from tests.cloud.notify.sample_alerts import sample_alert
from vmi.wire import Alert, AlertKind

SAMPLE_CATALOG = Path(__file__).parents[3] / "cloud" / "sample-catalog.yaml"


def supplier(code: str) -> Tenant:
    return Tenant(TenantRole.SUPPLIER, code)


def customer(code: str) -> Tenant:
    return Tenant(TenantRole.CUSTOMER, code)


@pytest.fixture
def subs(sql_url: str) -> Iterator[WebhookSubscriptions]:
    service = WebhookSubscriptions(sql_url)
    yield service
    service.close()


def test_create_returns_a_strong_secret_once(subs: WebhookSubscriptions) -> None:
    created = subs.create(WebhookSubscriptionCreate(url="https://erp.example.com/hooks"))
    assert created.secret.startswith("whsec_")
    assert len(created.secret) >= 40
    assert created.secret not in repr(created)
    public = subs.get(created.subscription.id)
    assert public == created.subscription
    assert public.active
    assert public.revoked_at is None
    assert "secret" not in public.model_dump()
    assert created.secret not in public.model_dump_json()
    listed = subs.entries()
    assert [s.id for s in listed] == [public.id]
    assert all(created.secret not in s.model_dump_json() for s in listed)


def test_secrets_differ_and_a_given_one_is_kept(subs: WebhookSubscriptions) -> None:
    a = subs.create(WebhookSubscriptionCreate(url="https://a.example/h"))
    b = subs.create(WebhookSubscriptionCreate(url="https://b.example/h"))
    assert a.secret != b.secret
    mine = "whsec_chosen-by-the-receiver-000000"
    c = subs.create(WebhookSubscriptionCreate(url="https://c.example/h", secret=mine))
    assert c.secret == mine
    assert subs.target(c.subscription.id) is not None
    assert subs.target(c.subscription.id).secret == mine  # type: ignore[union-attr]
    assert mine not in repr(subs.target(c.subscription.id))


@pytest.mark.parametrize(
    "fields",
    [
        {"url": "ftp://erp.example.com/hooks"},
        {"url": "https:///no-host"},
        {"url": "https://erp.example.com/h#frag"},
        {"url": "https://erp.example.com/h", "secret": "short"},
        {"url": "https://erp.example.com/h", "kinds": ["restock"]},
        {"url": "https://erp.example.com/h", "sites": ["a/b"]},
        {"url": "https://erp.example.com/h", "extra": 1},
    ],
)
def test_bad_subscriptions_are_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        WebhookSubscriptionCreate.model_validate(fields)


def test_revoke_and_delete(subs: WebhookSubscriptions) -> None:
    kept = subs.create(WebhookSubscriptionCreate(url="https://a.example/h")).subscription
    gone = subs.create(WebhookSubscriptionCreate(url="https://b.example/h")).subscription
    revoked = subs.revoke(kept.id)
    assert not revoked.active
    assert revoked.revoked_at is not None
    assert subs.target(kept.id) is None
    assert [s.id for s in subs.entries(include_revoked=False)] == [gone.id]
    subs.delete(gone.id)
    assert [s.id for s in subs.entries()] == [kept.id]
    with pytest.raises(UnknownSubscription, match=f"#{gone.id}"):
        subs.get(gone.id)
    with pytest.raises(UnknownSubscription):
        subs.revoke(gone.id)
    with pytest.raises(KeyError):  # an UnknownSubscription is a KeyError too
        subs.delete(gone.id)


def test_rotate_secret(subs: WebhookSubscriptions) -> None:
    created = subs.create(WebhookSubscriptionCreate(url="https://a.example/h"))
    new = subs.rotate_secret(created.subscription.id)
    assert new != created.secret
    assert subs.target(created.subscription.id).secret == new  # type: ignore[union-attr]
    with pytest.raises(InvalidSubscription):
        subs.rotate_secret(created.subscription.id, "short")


def test_filters(subs: WebhookSubscriptions) -> None:
    def make(**fields: object) -> int:
        spec = WebhookSubscriptionCreate.model_validate({"url": "https://x.example/h"} | fields)
        return subs.create(spec).subscription.id

    everything = make()
    north = make(sites=["acme-north"])
    stock = make(kinds=["reorder", "stockout"])
    boltwerk = make(tenant="boltwerk", tenant_role="supplier")
    north_sensors = make(sites=["acme-north"], kinds=["sensor_silent", "sensor_anomaly"])
    revoked = make()
    subs.revoke(revoked)

    def matched(a: Alert, tenants: set[Tenant] | None = None) -> set[int]:
        return {t.id for t in subs.match(a, tenants or set())}

    assert matched(sample_alert()) == {everything, north, stock}
    both = {supplier("boltwerk"), customer("acme")}
    assert matched(sample_alert(), both) == {everything, north, stock, boltwerk}
    # The same code as a customer is another tenant.
    assert matched(sample_alert(), {customer("boltwerk")}) == {everything, north, stock}
    assert matched(sample_alert(site="acme-south")) == {everything, stock}
    silent = sample_alert(AlertKind.SENSOR_SILENT, device="gw-acme-north-01")
    assert matched(silent) == {everything, north, north_sensors}
    assert matched(
        sample_alert(AlertKind.STOCKOUT_IMMINENT, site="nordwerk-hh"), {supplier("safeguard")}
    ) == {everything}


def test_tenants_come_from_the_catalog(sql_url: str) -> None:
    catalog = Catalog(sql_url)
    try:
        catalog.load_file(SAMPLE_CATALOG)
        tenants = CatalogTenants(catalog)
        acme = customer("acme")
        assert tenants(sample_alert(sku="BOLT-M8")) == {acme, supplier("boltwerk")}
        assert tenants(sample_alert(sku="GLOVE-L")) == {acme, supplier("safeguard")}
        assert tenants(sample_alert(sku="EARPLUG-200")) == {acme}  # no agreement at this site
        gateway = sample_alert(AlertKind.SENSOR_SILENT, device="gw-acme-north-01")
        assert tenants(gateway) == {acme, supplier("boltwerk"), supplier("safeguard")}
        at_a03 = sample_alert(AlertKind.SENSOR_ANOMALY, device="gw-acme-north-01", location="A-03")
        assert tenants(at_a03) == {acme, supplier("safeguard")}
        assert tenants(sample_alert(site="unknown-site")) == set()
    finally:
        catalog.close()

"""The demo's web portal: the API and its portal served beside the simulated site, with a
catalog that names who manages what and one person each on the supplier's and the
customer's side.

The catalog goes into the demo's orders database, which only the API reads as a
catalog (the cloud service runs without one, as the demo always has), so the
replenishment the demo shows is unchanged; the agreements repeat the demo's
rule so the portal shows the terms the orders are raised on.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from cloud.api import ApiSettings, create_app
from cloud.api.background import BackgroundServer
from cloud.api.security import Role
from cloud.catalog import Catalog
from cloud.catalog.schema import (
    AgreementSpec,
    CatalogFile,
    CustomerSpec,
    LocationEntry,
    SiteEntry,
    SkuSpec,
    SupplierSpec,
)
from cloud.db import make_engine
from cloud.migrations import upgrade
from cloud.portal.accounts import Accounts
from vmi.clock import Clock

SUPPLIER = "DEMO-SUPPLY"
CUSTOMER = "DEMO-PLANT"


@dataclass(frozen=True)
class SignIn:
    """One demo person: who, and how they sign in."""

    role: Role
    tenant: str
    login: str
    password: str


@dataclass(frozen=True)
class DemoShelfTerms:
    """What the demo's agreement for one shelf says."""

    sku: str
    location: str
    pack_size: int


@dataclass(frozen=True)
class Portal:
    """The served portal: where, and who may sign in."""

    url: str
    sign_ins: tuple[SignIn, ...]


def demo_catalog(
    site: str,
    shelves: Sequence[DemoShelfTerms],
    *,
    lead_time_days: float,
    service_level: float,
    review_period_days: float,
) -> CatalogFile:
    """The demo site's catalog: one supplier managing every shelf of one customer's site."""
    return CatalogFile(
        suppliers=(SupplierSpec(code=SUPPLIER, name="Demo Supplies Ltd"),),
        customers=(CustomerSpec(code=CUSTOMER, name="Demo Plant Co."),),
        sites=(
            SiteEntry(
                code=site,
                customer=CUSTOMER,
                name="Demo plant, stores",
                locations=tuple(LocationEntry(code=s.location) for s in shelves),
            ),
        ),
        skus=tuple(SkuSpec(code=s.sku, pack_size=s.pack_size) for s in shelves),
        agreements=tuple(
            AgreementSpec(
                supplier=SUPPLIER,
                site=site,
                sku=s.sku,
                lead_time_days=lead_time_days,
                service_level=service_level,
                review_period_days=review_period_days,
                min_level=0,
                max_level=100_000,  # no contractual cap: the demo's rule has none
            )
            for s in shelves
        ),
    )


def start_portal(
    stack: contextlib.ExitStack,
    *,
    orders_url: str,
    store_url: str,
    catalog: CatalogFile,
    clock: Clock,
    port: int,
) -> Portal:
    """Load the catalog, make the two demo people, serve the API on 127.0.0.1:`port` (a
    free port if that one is taken; 0: any) until `stack` closes."""
    upgrade(orders_url)  # the service made its tables; the API's own come on top
    book = Catalog(orders_url)
    try:
        book.load(catalog, "demo")
    finally:
        book.close()
    engine = make_engine(orders_url)
    try:
        accounts = Accounts(engine)
        sign_ins = tuple(
            SignIn(role, tenant, login, secrets.token_urlsafe(9))
            for role, tenant, login in (
                (Role.SUPPLIER, SUPPLIER, "supplier"),
                (Role.CUSTOMER, CUSTOMER, "customer"),
            )
        )
        for person in sign_ins:
            accounts.create_user(
                login=person.login,
                password=person.password,
                role=person.role,
                tenant=person.tenant,
                at=clock.now(),
            )
    finally:
        engine.dispose()
    settings = ApiSettings(
        database_url=orders_url, timeseries_url=store_url, migrate_on_start=False
    )
    app = create_app(settings, clock=clock)
    try:
        server = BackgroundServer(app, port=port)
    except OSError:  # the port is taken: any free one
        server = BackgroundServer(app, port=0)
    server.start()
    stack.callback(server.stop)
    return Portal(f"{server.url}/portal", sign_ins)

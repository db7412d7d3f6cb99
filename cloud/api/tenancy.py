"""What a principal may see: the one place every router asks.

`view_of(principal, session)` reads the catalog once per request and answers
"may this principal see site S / the pair (S, SKU) / device D / ...". The
rules:

**admin** sees everything, and is the only role that creates, changes or
deletes catalog entries (suppliers, customers, sites, locations, SKUs,
agreements, devices) and API keys.

**supplier** (tenant = a supplier code) sees the (site, SKU) pairs of its VMI
agreements, and:

* the sites of those agreements, their locations and their customers (the
  site is where it delivers; locations carry no stock data);
* those SKUs, its own supplier entry and its own agreements (not other
  suppliers' agreements at the same site);
* a device only when every (location, SKU) the device reports is one of its
  pairs: a device that also reports another supplier's SKU would show that
  SKU's place at the site, and objects are never shown in part;
* levels, history, projections, orders and stock alerts of its pairs; sensor
  alerts of the devices it sees.

**customer** (tenant = a customer code) sees its own customer entry and sites
and everything on them: locations, devices, levels, history, projections,
orders and alerts of any SKU there; the agreements at its sites, with the
suppliers named by them, and the SKUs of those agreements and of its devices.

Order actions follow the roles: the managing supplier confirms, ships and
cancels; the customer receives (the goods arrive at its site); admin may do
all four. Webhook subscriptions belong to a tenant (see
`cloud.api.routes.webhooks`).

Anything outside the view answers 404, exactly as if it did not exist; an
action on a visible object that the role may not take answers 403. Lists
contain only what the view holds, and an object is shown whole or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud.api.security import Principal, Role
from cloud.catalog.models import (
    Agreement,
    Customer,
    Device,
    DeviceBinding,
    Location,
    Site,
    Sku,
    Supplier,
)

Pair = tuple[str, str]
"""(site code, SKU code)."""


@dataclass(frozen=True)
class View:
    """The catalog codes one principal may see. `everything` for admins."""

    principal: Principal
    everything: bool = False
    sites: frozenset[str] = frozenset()
    pairs: frozenset[Pair] | None = None
    """A supplier's pairs; None: every SKU at the visible sites (customers)."""
    skus: frozenset[str] = frozenset()
    devices: frozenset[str] = frozenset()
    suppliers: frozenset[str] = frozenset()
    customers: frozenset[str] = frozenset()

    # -- catalog entries ------------------------------------------------------

    def sees_site(self, site: str) -> bool:
        return self.everything or site in self.sites

    def sees_sku(self, sku: str) -> bool:
        return self.everything or sku in self.skus

    def sees_supplier(self, supplier: str) -> bool:
        return self.everything or supplier in self.suppliers

    def sees_customer(self, customer: str) -> bool:
        return self.everything or customer in self.customers

    def sees_device(self, device: str) -> bool:
        return self.everything or device in self.devices

    def sees_agreement(self, supplier: str, site: str, sku: str) -> bool:
        """A supplier sees its own agreements; a customer those at its sites."""
        if self.everything:
            return True
        if self.principal.role is Role.SUPPLIER:
            return supplier == self.principal.tenant and self.sees_pair(site, sku)
        return self.sees_site(site)

    # -- stock data -----------------------------------------------------------

    def sees_pair(self, site: str, sku: str) -> bool:
        """Levels, history, projections, orders and stock alerts of (site, SKU)."""
        if self.everything:
            return True
        if self.pairs is None:
            return site in self.sites
        return (site, sku) in self.pairs

    def sees_alert(self, site: str, sku: str | None, device: str | None) -> bool:
        """A stock alert by its pair; a sensor alert by its device (or site, for customers)."""
        if self.everything:
            return True
        if sku is not None:
            return self.sees_pair(site, sku)
        if self.pairs is None:
            return site in self.sites
        return device is not None and device in self.devices and site in self.sites

    def visible_sites(self, wanted: str | None = None) -> list[str] | None:
        """The sites to read stock data of: None for "all" (admin, no filter), else a list.

        With `wanted`, only that site if visible (an empty list if not).
        """
        if wanted is not None:
            return [wanted] if self.sees_site(wanted) else []
        return None if self.everything else sorted(self.sites)


ORDER_ACTION_ROLE: dict[str, Role] = {
    "confirm": Role.SUPPLIER,
    "ship": Role.SUPPLIER,
    "cancel": Role.SUPPLIER,
    "receive": Role.CUSTOMER,
}
"""Who moves an order (besides admins): the managing supplier confirms, ships and
cancels; the customer whose site it is receives. The API and the portal both ask here."""


def may_move_order(view: View, action: str) -> bool:
    """True if the view's principal may `action` (confirm, ship, cancel, receive) an order
    it can see."""
    return view.everything or view.principal.role is ORDER_ACTION_ROLE[action]


def view_of(principal: Principal, session: Session) -> View:
    """The view of `principal`, read from the catalog now."""
    if principal.role is Role.ADMIN:
        return View(principal, everything=True)
    tenant = principal.tenant or ""
    if principal.role is Role.SUPPLIER:
        return _supplier_view(principal, tenant, session)
    return _customer_view(principal, tenant, session)


def _supplier_view(principal: Principal, supplier: str, s: Session) -> View:
    rows = s.execute(
        select(Site.code, Sku.code, Customer.code)
        .select_from(Agreement)
        .join(Supplier, Agreement.supplier_id == Supplier.id)
        .join(Site, Agreement.site_id == Site.id)
        .join(Sku, Agreement.sku_id == Sku.id)
        .join(Customer, Site.customer_id == Customer.id)
        .where(Supplier.code == supplier)
    ).all()
    pairs = frozenset((site, sku) for site, sku, _ in rows)
    sites = frozenset(site for site, _ in pairs)
    exists = s.scalars(select(Supplier.id).where(Supplier.code == supplier)).first() is not None
    bindings = _device_bindings(s, sites)
    devices = frozenset(
        code for code, reported in bindings.items() if reported and reported <= pairs
    )
    return View(
        principal,
        sites=sites,
        pairs=pairs,
        skus=frozenset(sku for _, sku in pairs),
        devices=devices,
        suppliers=frozenset({supplier}) if exists else frozenset(),
        customers=frozenset(customer for _, _, customer in rows),
    )


def _customer_view(principal: Principal, customer: str, s: Session) -> View:
    sites = frozenset(
        s.scalars(
            select(Site.code)
            .join(Customer, Site.customer_id == Customer.id)
            .where(Customer.code == customer)
        )
    )
    agreements = s.execute(
        select(Supplier.code, Sku.code)
        .select_from(Agreement)
        .join(Supplier, Agreement.supplier_id == Supplier.id)
        .join(Site, Agreement.site_id == Site.id)
        .join(Sku, Agreement.sku_id == Sku.id)
        .where(Site.code.in_(sites))
    ).all()
    bindings = _device_bindings(s, sites)
    exists = s.scalars(select(Customer.id).where(Customer.code == customer)).first() is not None
    bound_skus = {sku for reported in bindings.values() for _, sku in reported}
    return View(
        principal,
        sites=sites,
        pairs=None,
        skus=frozenset({sku for _, sku in agreements} | bound_skus),
        devices=frozenset(bindings),
        suppliers=frozenset(supplier for supplier, _ in agreements),
        customers=frozenset({customer}) if exists else frozenset(),
    )


def _device_bindings(s: Session, sites: Iterable[str]) -> dict[str, set[Pair]]:
    """Every device at `sites` with the (site, SKU) pairs it reports (maybe none)."""
    site_list = sorted(sites)
    if not site_list:
        return {}
    rows = s.execute(
        select(Device.code, Site.code, Sku.code)
        .select_from(Device)
        .join(Site, Device.site_id == Site.id)
        .outerjoin(DeviceBinding, DeviceBinding.device_id == Device.id)
        .outerjoin(Location, DeviceBinding.location_id == Location.id)
        .outerjoin(Sku, DeviceBinding.sku_id == Sku.id)
        .where(Site.code.in_(site_list))
    ).all()
    found: dict[str, set[Pair]] = {}
    for device, site, sku in rows:
        reported = found.setdefault(device, set())  # a device with no bindings is still there
        if sku is not None:
            reported.add((site, sku))
    return found

"""How each kind of catalog entry maps to its table: find a row by natural key,
turn a row into an entry, write an entry into a row (resolving the codes it
names), and say what still refers to a row. The loader and the `Catalog` both
work through these, so a file and a runtime change are written the same way.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar, cast

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from cloud.catalog.errors import DuplicateEntry, Key, UnknownEntry
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
from cloud.catalog.schema import (
    AgreementSpec,
    BindingSpec,
    CatalogEntry,
    CustomerSpec,
    DeviceKind,
    DeviceSpec,
    LevelUnit,
    LocationKind,
    LocationSpec,
    SiteSpec,
    SkuSpec,
    SupplierSpec,
)

S = TypeVar("S", bound=CatalogEntry)
M = TypeVar("M")

_SHOWN_USERS = 5


class Kind(Generic[S, M]):
    """One kind of entry and its table."""

    spec: type[S]
    model: type[M]

    def find(self, s: Session, key: Key) -> M | None:
        """The row with this natural key, if any."""
        return s.scalars(self.select_all().where(*self._key_filter(key))).first()

    def select_all(self, site: str | None = None) -> Select[M]:
        """Every row (of one site, for kinds that belong to a site), in key order."""
        raise NotImplementedError

    def _key_filter(self, key: Key) -> list[Any]:
        raise NotImplementedError

    def to_spec(self, row: M) -> S:
        raise NotImplementedError

    def write(self, s: Session, row: M | None, spec: S) -> M:
        """Set `row` (a new one if None) from `spec`; add it to the session."""
        raise NotImplementedError

    def used_by(self, s: Session, row: M) -> list[str]:
        """What refers to `row` and would stop its deletion."""
        return []


def _code(key: Key) -> str:
    assert isinstance(key, str)
    return key


def _pair(key: Key) -> tuple[str, str]:
    assert isinstance(key, tuple)
    return key


def _ref(s: Session, model: type[Any], entity: str, code: str) -> Any:
    row = s.scalars(select(model).where(model.code == code)).first()
    if row is None:
        raise UnknownEntry(entity, code)
    return row


def _names(what: str, names: list[str]) -> list[str]:
    if not names:
        return []
    shown = ", ".join(names[:_SHOWN_USERS])
    more = f" and {len(names) - _SHOWN_USERS} more" if len(names) > _SHOWN_USERS else ""
    return [f"{len(names)} {what} ({shown}{more})"]


class _SupplierKind(Kind[SupplierSpec, Supplier]):
    spec, model = SupplierSpec, Supplier

    def select_all(self, site: str | None = None) -> Select[Supplier]:
        stmt = select(Supplier).order_by(Supplier.code)
        if site is not None:
            stmt = stmt.join(Agreement).join(Site).where(Site.code == site).distinct()
        return stmt

    def _key_filter(self, key: Key) -> list[Any]:
        return [Supplier.code == _code(key)]

    def to_spec(self, row: Supplier) -> SupplierSpec:
        return SupplierSpec(code=row.code, name=row.name, email=row.email)

    def write(self, s: Session, row: Supplier | None, spec: SupplierSpec) -> Supplier:
        row = row or Supplier()
        row.code, row.name, row.email = spec.code, spec.name, spec.email
        s.add(row)
        return row

    def used_by(self, s: Session, row: Supplier) -> list[str]:
        stmt = select(Agreement).where(Agreement.supplier_id == row.id)
        return _names("agreements", [f"{a.site.code}/{a.sku.code}" for a in s.scalars(stmt)])


class _CustomerKind(Kind[CustomerSpec, Customer]):
    spec, model = CustomerSpec, Customer

    def select_all(self, site: str | None = None) -> Select[Customer]:
        stmt = select(Customer).order_by(Customer.code)
        if site is not None:
            stmt = stmt.join(Site).where(Site.code == site)
        return stmt

    def _key_filter(self, key: Key) -> list[Any]:
        return [Customer.code == _code(key)]

    def to_spec(self, row: Customer) -> CustomerSpec:
        return CustomerSpec(code=row.code, name=row.name)

    def write(self, s: Session, row: Customer | None, spec: CustomerSpec) -> Customer:
        row = row or Customer()
        row.code, row.name = spec.code, spec.name
        s.add(row)
        return row

    def used_by(self, s: Session, row: Customer) -> list[str]:
        stmt = select(Site.code).where(Site.customer_id == row.id).order_by(Site.code)
        return _names("sites", list(s.scalars(stmt)))


class _SiteKind(Kind[SiteSpec, Site]):
    spec, model = SiteSpec, Site

    def select_all(self, site: str | None = None) -> Select[Site]:
        stmt = select(Site).order_by(Site.code)
        return stmt if site is None else stmt.where(Site.code == site)

    def _key_filter(self, key: Key) -> list[Any]:
        return [Site.code == _code(key)]

    def to_spec(self, row: Site) -> SiteSpec:
        return SiteSpec(code=row.code, customer=row.customer.code, name=row.name)

    def write(self, s: Session, row: Site | None, spec: SiteSpec) -> Site:
        row = row or Site()
        row.code, row.name = spec.code, spec.name
        row.customer = _ref(s, Customer, "customer", spec.customer)
        s.add(row)
        return row

    def used_by(self, s: Session, row: Site) -> list[str]:
        agreements = s.scalars(select(Agreement).where(Agreement.site_id == row.id))
        devices = s.scalars(select(Device.code).where(Device.site_id == row.id))
        return _names("agreements", [f"{a.site.code}/{a.sku.code}" for a in agreements]) + (
            _names("devices", sorted(devices))
        )


class _LocationKind(Kind[LocationSpec, Location]):
    spec, model = LocationSpec, Location

    def select_all(self, site: str | None = None) -> Select[Location]:
        stmt = select(Location).join(Location.site).order_by(Site.code, Location.code)
        return stmt if site is None else stmt.where(Site.code == site)

    def _key_filter(self, key: Key) -> list[Any]:
        site, code = _pair(key)
        return [Site.code == site, Location.code == code]

    def to_spec(self, row: Location) -> LocationSpec:
        return LocationSpec(
            site=row.site.code,
            code=row.code,
            kind=LocationKind(row.kind),
            description=row.description,
        )

    def write(self, s: Session, row: Location | None, spec: LocationSpec) -> Location:
        row = row or Location()
        row.site = _ref(s, Site, "site", spec.site)
        row.code, row.kind, row.description = spec.code, spec.kind.value, spec.description
        s.add(row)
        return row


class _SkuKind(Kind[SkuSpec, Sku]):
    spec, model = SkuSpec, Sku

    def select_all(self, site: str | None = None) -> Select[Sku]:
        stmt = select(Sku).order_by(Sku.code)
        if site is not None:
            stmt = stmt.join(Agreement).join(Site).where(Site.code == site)
        return stmt

    def _key_filter(self, key: Key) -> list[Any]:
        return [Sku.code == _code(key)]

    def to_spec(self, row: Sku) -> SkuSpec:
        return SkuSpec(
            code=row.code,
            name=row.name,
            gtin=row.gtin,
            unit_weight_g=row.unit_weight_g,
            pack_size=row.pack_size,
            min_order_qty=row.min_order_qty,
        )

    def write(self, s: Session, row: Sku | None, spec: SkuSpec) -> Sku:
        if spec.gtin is not None:
            other = s.scalars(select(Sku).where(Sku.gtin == spec.gtin)).first()
            if other is not None and other is not row:
                raise DuplicateEntry("sku", spec.code, f"GTIN {spec.gtin} is SKU {other.code}'s")
        row = row or Sku()
        row.code, row.name, row.gtin = spec.code, spec.name, spec.gtin
        row.unit_weight_g, row.pack_size = spec.unit_weight_g, spec.pack_size
        row.min_order_qty = spec.min_order_qty
        s.add(row)
        return row

    def used_by(self, s: Session, row: Sku) -> list[str]:
        agreements = s.scalars(select(Agreement).where(Agreement.sku_id == row.id))
        devices = s.scalars(
            select(Device.code).join(DeviceBinding).where(DeviceBinding.sku_id == row.id)
        )
        return _names("agreements", [f"{a.site.code}/{a.sku.code}" for a in agreements]) + (
            _names("devices", sorted(set(devices)))
        )


class _AgreementKind(Kind[AgreementSpec, Agreement]):
    spec, model = AgreementSpec, Agreement

    def select_all(self, site: str | None = None) -> Select[Agreement]:
        stmt = (
            select(Agreement)
            .join(Site, Agreement.site_id == Site.id)
            .join(Sku, Agreement.sku_id == Sku.id)
            .order_by(Site.code, Sku.code)
        )
        return stmt if site is None else stmt.where(Site.code == site)

    def _key_filter(self, key: Key) -> list[Any]:
        site, sku = _pair(key)
        return [Site.code == site, Sku.code == sku]

    def to_spec(self, row: Agreement) -> AgreementSpec:
        return AgreementSpec(
            supplier=row.supplier.code,
            site=row.site.code,
            sku=row.sku.code,
            lead_time_days=row.lead_time_days,
            lead_time_sigma_days=row.lead_time_sigma_days,
            service_level=row.service_level,
            review_period_days=row.review_period_days,
            min_level=row.min_level,
            max_level=row.max_level,
            level_unit=LevelUnit(row.level_unit),
        )

    def write(self, s: Session, row: Agreement | None, spec: AgreementSpec) -> Agreement:
        row = row or Agreement()
        row.supplier = _ref(s, Supplier, "supplier", spec.supplier)
        row.site = _ref(s, Site, "site", spec.site)
        row.sku = _ref(s, Sku, "sku", spec.sku)
        row.lead_time_days = spec.lead_time_days
        row.lead_time_sigma_days = spec.lead_time_sigma_days
        row.service_level = spec.service_level
        row.review_period_days = spec.review_period_days
        row.min_level, row.max_level = spec.min_level, spec.max_level
        row.level_unit = spec.level_unit.value
        s.add(row)
        return row


class _DeviceKind(Kind[DeviceSpec, Device]):
    spec, model = DeviceSpec, Device

    def select_all(self, site: str | None = None) -> Select[Device]:
        stmt = select(Device).order_by(Device.code)
        if site is not None:
            stmt = stmt.join(Device.site).where(Site.code == site)
        return stmt

    def _key_filter(self, key: Key) -> list[Any]:
        return [Device.code == _code(key)]

    def to_spec(self, row: Device) -> DeviceSpec:
        bindings = [BindingSpec(location=b.location.code, sku=b.sku.code) for b in row.bindings]
        return DeviceSpec(
            code=row.code, site=row.site.code, kind=DeviceKind(row.kind), bindings=tuple(bindings)
        )

    def write(self, s: Session, row: Device | None, spec: DeviceSpec) -> Device:
        row = row or Device()
        site: Site = _ref(s, Site, "site", spec.site)
        row.code, row.site, row.kind = spec.code, site, spec.kind.value
        wanted: dict[tuple[int, int], tuple[Location, Sku]] = {}
        for b in spec.bindings:
            location = s.scalars(
                select(Location).where(Location.site_id == site.id, Location.code == b.location)
            ).first()
            if location is None:
                raise UnknownEntry("location", (spec.site, b.location))
            sku: Sku = _ref(s, Sku, "sku", b.sku)
            wanted[(location.id, sku.id)] = (location, sku)
        # Keep the bindings that stay, drop the rest, add the new: re-adding
        # one that exists would clash with the unique constraint mid-flush.
        kept = [b for b in row.bindings if (b.location_id, b.sku_id) in wanted]
        have = {(b.location_id, b.sku_id) for b in kept}
        added = [
            DeviceBinding(location=loc, sku=sku)
            for key, (loc, sku) in wanted.items()
            if key not in have
        ]
        row.bindings = kept + added
        s.add(row)
        return row


KINDS: dict[type[CatalogEntry], Kind[Any, Any]] = {
    kind.spec: kind
    for kind in (
        _SupplierKind(),
        _CustomerKind(),
        _SiteKind(),
        _LocationKind(),
        _SkuKind(),
        _AgreementKind(),
        _DeviceKind(),
    )
}
"""Every kind of entry, by its spec class."""


def kind_of(spec_type: type[S]) -> Kind[S, Any]:
    """The kind whose entries are exactly `spec_type`.

    Subclasses are refused: a file's `SiteEntry` carries locations that a
    site's table does not hold (the loader writes them as `LocationSpec`s).
    """
    try:
        return cast(Kind[S, Any], KINDS[spec_type])
    except KeyError:
        raise TypeError(f"{spec_type.__name__} is not a kind of catalog entry") from None

"""The catalog as a service: the lookups replenishment needs, and runtime changes.

    catalog = Catalog("sqlite:///vmi.db")
    catalog.load_file("cloud/sample-catalog.yaml")
    terms = catalog.agreement_for("acme-north", "BOLT-M8")
    catalog.create(SkuSpec(code="WASHER-M8", pack_size=500))
    catalog.update(SkuSpec, "WASHER-M8", min_order_qty=1000)
    catalog.delete(SkuSpec, "WASHER-M8")

Entries go in and come out as the typed specs of `cloud.catalog.schema`, never
as database rows, so callers hold no session. Every change is one
transaction; the database's constraints make concurrent writers safe.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from cloud.catalog.entities import Kind, kind_of
from cloud.catalog.errors import (
    DuplicateEntry,
    EntryInUse,
    InvalidEntry,
    Key,
    UnknownEntry,
    key_text,
)
from cloud.catalog.loader import LoadReport, load_catalog_file, load_into
from cloud.catalog.models import Device, Site
from cloud.catalog.schema import (
    AgreementSpec,
    BindingSpec,
    CatalogEntry,
    CatalogFile,
    DeviceSpec,
    SupplierSpec,
    validation_problems,
)
from cloud.db import create_schema, make_engine, store_errors
from cloud.errors import StoreUnavailable

_DATABASE = "catalog database"  # named in StoreUnavailable messages

S = TypeVar("S", bound=CatalogEntry)


class Catalog:
    """Suppliers, customers, sites, locations, SKUs, agreements and devices in SQL."""

    def __init__(self, url: str) -> None:
        """`url`: an SQLAlchemy URL (`sqlite:///vmi.db`, `postgresql://...`)."""
        try:
            self._engine = make_engine(url)
            create_schema(self._engine)
        except (SQLAlchemyError, OSError) as exc:
            raise StoreUnavailable(f"catalog database {url}: {exc}") from exc
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)

    def close(self) -> None:
        """Release the database connections."""
        self._engine.dispose()

    # -- loading ----------------------------------------------------------

    def load_file(self, path: str | Path) -> LoadReport:
        """Upsert a YAML catalog file (see `cloud.catalog.loader`); all or nothing."""
        return load_catalog_file(self._engine, path)

    def load(self, catalog: CatalogFile, source: str = "<catalog>") -> LoadReport:
        """Upsert an already parsed catalog; all or nothing."""
        return load_into(self._engine, catalog, source)

    # -- what replenishment asks ------------------------------------------

    def agreement_for(self, site: str, sku: str) -> AgreementSpec | None:
        """The VMI agreement for `sku` at `site`, if there is one."""
        return self.find(AgreementSpec, (site, sku))

    def supplier_for(self, site: str, sku: str) -> SupplierSpec | None:
        """The supplier that manages `sku` at `site`, if any."""
        agreement = self.agreement_for(site, sku)
        return None if agreement is None else self.find(SupplierSpec, agreement.supplier)

    def site_of_device(self, device: str) -> str | None:
        """The code of the site `device` is registered at; None if it is not registered."""
        stmt = select(Site.code).join(Device, Device.site_id == Site.id)
        with store_errors(_DATABASE), self._sessions() as s:
            return s.scalars(stmt.where(Device.code == device)).first()

    def bindings_of(self, device: str) -> tuple[BindingSpec, ...]:
        """The (location, SKU)s `device` reports; empty if it is not registered."""
        found = self.find(DeviceSpec, device)
        return () if found is None else found.bindings

    # -- any kind of entry --------------------------------------------------

    def find(self, entry_type: type[S], key: Key) -> S | None:
        """The entry of this kind with this natural key, or None."""
        k = kind_of(entry_type)
        with store_errors(_DATABASE), self._sessions() as s:
            row = k.find(s, key)
            return None if row is None else k.to_spec(row)

    def get(self, entry_type: type[S], key: Key) -> S:
        """The entry of this kind with this natural key; `UnknownEntry` if none."""
        found = self.find(entry_type, key)
        if found is None:
            raise UnknownEntry(entry_type.entity, key)
        return found

    def entries(self, entry_type: type[S], *, site: str | None = None) -> list[S]:
        """Every entry of this kind in key order; with `site`, those of (or used at) it."""
        k = kind_of(entry_type)
        with store_errors(_DATABASE), self._sessions() as s:
            return [k.to_spec(row) for row in s.scalars(k.select_all(site)).unique()]

    def create(self, entry: S) -> S:
        """Add a new entry and return it as stored (e.g. a GTIN-13 as GTIN-14).

        `DuplicateEntry` if its key (or GTIN) is taken; `InvalidEntry` if it
        names an entry that does not exist.
        """
        k = kind_of(type(entry))
        with self._transaction() as s:
            if k.find(s, entry.key) is not None:
                raise DuplicateEntry(entry.entity, entry.key, "already in the catalog")
            return self._write(s, k, None, entry)

    def update(self, entry_type: type[S], key: Key, /, **changes: Any) -> S:
        """Change some fields of an entry and return it as stored.

        `catalog.update(SkuSpec, "BOLT-M8", pack_size=50)`. Keys cannot
        change (delete and create instead: codes are in the time series).
        `UnknownEntry` if there is no such entry; `InvalidEntry` for bad
        values, an unknown field or a reference to a missing entry.
        """
        k = kind_of(entry_type)
        with self._transaction() as s:
            row = k.find(s, key)
            if row is None:
                raise UnknownEntry(entry_type.entity, key)
            data = {**k.to_spec(row).model_dump(), **changes}
            try:
                entry = entry_type.model_validate(data)
            except ValidationError as exc:
                raise InvalidEntry(
                    entry_type.entity, key, "; ".join(validation_problems(exc, data))
                ) from exc
            if entry.key != key:
                raise InvalidEntry(entry_type.entity, key, "a key cannot change; delete and create")
            return self._write(s, k, row, entry)

    def delete(self, entry_type: type[CatalogEntry], key: Key) -> None:
        """Delete an entry (a site's locations and a device's bindings go with it).

        `UnknownEntry` if there is none; `EntryInUse` if other entries refer to it.
        """
        k = kind_of(entry_type)
        with self._transaction() as s:
            row = k.find(s, key)
            if row is None:
                raise UnknownEntry(entry_type.entity, key)
            used_by = k.used_by(s, row)
            if used_by:
                raise EntryInUse(entry_type.entity, key, used_by)
            s.delete(row)
            try:
                s.flush()
            except IntegrityError as exc:  # referred to since we looked
                raise EntryInUse(entry_type.entity, key, [str(exc.orig)]) from exc

    # -- internals ----------------------------------------------------------

    def _write(self, s: Session, k: Kind[S, Any], row: Any, entry: S) -> S:
        try:
            written = k.write(s, row, entry)
            s.flush()
        except UnknownEntry as exc:
            detail = f"unknown {exc.entity} {key_text(exc.key)!r}"
            raise InvalidEntry(entry.entity, entry.key, detail) from exc
        except IntegrityError as exc:  # another writer took the key meanwhile
            raise DuplicateEntry(entry.entity, entry.key, f"clashes: {exc.orig}") from exc
        return k.to_spec(written)

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        with store_errors(_DATABASE), self._sessions.begin() as s:
            yield s

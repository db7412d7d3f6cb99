"""The catalog's entries as typed values: what a YAML catalog file holds, what the
`Catalog` takes and gives back. See `cloud/sample-catalog.yaml`.

Entries name each other by natural key (codes), never by database id. Each
kind of entry is validated on its own here; references between entries are
resolved against the database when written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from cloud.catalog.errors import Key
from vmi.wire import Identifier

Code = Identifier
"""Codes travel in MQTT topics and InfluxDB tags: letters, digits, `. _ : -`, 1-64 long."""

Name = Annotated[str, Field(min_length=1, max_length=200)]


def gs1_check_digit(body: str) -> int:
    """The GS1 check digit of `body` (all digits of a GTIN but the last)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def _gtin14(value: Any) -> str:
    if not isinstance(value, str):
        # ValueError, not TypeError: pydantic reports only the former.
        raise ValueError("write the GTIN as a quoted string: as a number it loses leading zeros")
    digits = value.replace(" ", "")
    if not digits.isdigit() or len(digits) not in (8, 12, 13, 14):
        raise ValueError(f"a GTIN has 8, 12, 13 or 14 digits, not {value!r}")
    digits = digits.zfill(14)
    expected = gs1_check_digit(digits[:-1])
    if int(digits[-1]) != expected:
        raise ValueError(f"GTIN {value}: check digit should be {expected}, not {digits[-1]}")
    return digits


Gtin14 = Annotated[str, BeforeValidator(_gtin14)]
"""A GTIN-8/12/13/14 with a valid check digit, stored as GTIN-14 (zero-padded)."""


class LocationKind(StrEnum):
    SHELF = "shelf"
    BIN = "bin"


class LevelUnit(StrEnum):
    """What an agreement's min and max count in."""

    UNITS = "units"
    DAYS_OF_SUPPLY = "days_of_supply"


class DeviceKind(StrEnum):
    GATEWAY = "gateway"  # an edge agent publishing for the scales and readers behind it
    SCALE = "scale"
    RFID_READER = "rfid_reader"
    SENSOR_NODE = "sensor_node"


class CatalogEntry(BaseModel):
    """Base of every entry: strict (unknown keys are errors) and immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    entity: ClassVar[str]
    """What kind of entry this is, as errors and reports name it ("sku")."""

    @property
    def key(self) -> Key:
        """The natural key: unique among entries of this kind."""
        raise NotImplementedError


class _Coded(CatalogEntry):
    code: Code

    @property
    def key(self) -> Key:
        return self.code


class SupplierSpec(_Coded):
    """A supplier that manages stock at customer sites."""

    entity: ClassVar[str] = "supplier"
    name: Name
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class CustomerSpec(_Coded):
    """A customer whose sites hold the stock."""

    entity: ClassVar[str] = "customer"
    name: Name


class SiteSpec(_Coded):
    """A customer's warehouse or plant; its code is the `<site>` of the MQTT topics."""

    entity: ClassVar[str] = "site"
    customer: Code
    name: Name | None = None


class LocationEntry(CatalogEntry):
    """A location as written inside its site in a catalog file."""

    code: Code
    kind: LocationKind = LocationKind.SHELF
    description: Name | None = None


class LocationSpec(CatalogEntry):
    """A shelf or bin at a site; its code is unique within the site."""

    entity: ClassVar[str] = "location"
    site: Code
    code: Code
    kind: LocationKind = LocationKind.SHELF
    description: Name | None = None

    @property
    def key(self) -> Key:
        return (self.site, self.code)


class SkuSpec(_Coded):
    """A stock-keeping unit: what is counted, packed and ordered."""

    entity: ClassVar[str] = "sku"
    name: Name | None = None
    gtin: Gtin14 | None = None
    unit_weight_g: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    pack_size: int = Field(default=1, ge=1, description="Units per pack; orders are whole packs.")
    min_order_qty: int = Field(default=1, ge=1, description="Smallest order, in units.")


class AgreementSpec(CatalogEntry):
    """A VMI agreement: `supplier` keeps `sku` stocked at `site` on these terms.

    One managing supplier per (site, SKU). `min_level` and `max_level` are the
    contractual bounds on stock, counted in `level_unit`.
    """

    entity: ClassVar[str] = "agreement"
    supplier: Code
    site: Code
    sku: Code
    lead_time_days: float = Field(gt=0, allow_inf_nan=False)
    lead_time_sigma_days: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    service_level: float = Field(gt=0, lt=1, description="Chance of no stockout per cycle.")
    review_period_days: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    min_level: float = Field(ge=0, allow_inf_nan=False)
    max_level: float = Field(gt=0, allow_inf_nan=False)
    level_unit: LevelUnit = LevelUnit.UNITS

    @property
    def key(self) -> Key:
        return (self.site, self.sku)

    @model_validator(mode="after")
    def _min_not_above_max(self) -> AgreementSpec:
        if self.min_level > self.max_level:
            raise ValueError(f"min_level {self.min_level} is above max_level {self.max_level}")
        return self


class BindingSpec(CatalogEntry):
    """A device reports `sku` at `location` (a location of the device's site)."""

    location: Code
    sku: Code


class DeviceSpec(_Coded):
    """A device registered at a site, with the (location, SKU)s it reports.

    Codes are unique in the whole catalog (the edge needs them unique only
    within a site), so a device resolves to its site. `bindings` is the
    complete set: writing a device replaces its bindings.
    """

    entity: ClassVar[str] = "device"
    site: Code
    kind: DeviceKind = DeviceKind.GATEWAY
    bindings: tuple[BindingSpec, ...] = ()

    @field_validator("bindings")
    @classmethod
    def _bindings_unique_and_sorted(
        cls, bindings: tuple[BindingSpec, ...]
    ) -> tuple[BindingSpec, ...]:
        _no_duplicates("binding", ((b.location, b.sku) for b in bindings))
        # Sorted, so devices with the same set of bindings compare equal.
        return tuple(sorted(bindings, key=lambda b: (b.location, b.sku)))


class SiteEntry(SiteSpec):
    """A site as written in a catalog file, with its locations."""

    locations: tuple[LocationEntry, ...] = ()

    @model_validator(mode="after")
    def _location_codes_unique(self) -> SiteEntry:
        _no_duplicates("location", (loc.code for loc in self.locations))
        return self

    def site_spec(self) -> SiteSpec:
        """The site without its locations."""
        return SiteSpec(code=self.code, customer=self.customer, name=self.name)

    def location_specs(self) -> list[LocationSpec]:
        """Its locations as stand-alone entries."""
        return [
            LocationSpec(
                site=self.code,
                code=loc.code,
                kind=loc.kind,
                description=loc.description,
            )
            for loc in self.locations
        ]


class CatalogFile(BaseModel):
    """A whole catalog file. Every section is optional; keys are unique per section."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    suppliers: tuple[SupplierSpec, ...] = ()
    customers: tuple[CustomerSpec, ...] = ()
    sites: tuple[SiteEntry, ...] = ()
    skus: tuple[SkuSpec, ...] = ()
    agreements: tuple[AgreementSpec, ...] = ()
    devices: tuple[DeviceSpec, ...] = ()

    @model_validator(mode="after")
    def _keys_unique(self) -> CatalogFile:
        sections: dict[str, tuple[CatalogEntry, ...]] = {
            "supplier": self.suppliers,
            "customer": self.customers,
            "site": self.sites,
            "sku": self.skus,
            "agreement (site/sku)": self.agreements,
            "device": self.devices,
        }
        for what, entries in sections.items():
            _no_duplicates(what, (e.key for e in entries))
        _no_duplicates("GTIN", (s.gtin for s in self.skus if s.gtin is not None))
        return self

    def entries(self) -> list[tuple[str, CatalogEntry]]:
        """Every entry with where it is in the file (`skus[2]`), flattened,
        in an order where what an entry refers to comes before it."""
        out: list[tuple[str, CatalogEntry]] = []
        out += _labelled("suppliers", self.suppliers)
        out += _labelled("customers", self.customers)
        out += [(f"sites[{i}]", site.site_spec()) for i, site in enumerate(self.sites)]
        for i, site in enumerate(self.sites):
            out += _labelled(f"sites[{i}].locations", site.location_specs())
        out += _labelled("skus", self.skus)
        out += _labelled("agreements", self.agreements)
        out += _labelled("devices", self.devices)
        return out


def _labelled(section: str, entries: Iterable[CatalogEntry]) -> list[tuple[str, CatalogEntry]]:
    return [(f"{section}[{i}]", e) for i, e in enumerate(entries)]


def validation_problems(exc: ValidationError, data: Any = None) -> list[str]:
    """One line per error of `exc`, naming the entry of `data` it is in.

    `skus[2] (BOLT-M8): gtin: check digit should be 6, not 7` rather than
    pydantic's `skus.2.gtin  Value error, ...`.
    """
    problems = []
    for err in exc.errors():
        loc = list(err["loc"])
        where = _where(loc, data)
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            where, msg = _where(loc[:-1], data), f"unknown key {loc[-1]!r}"
        elif err["type"] == "missing":
            where, msg = _where(loc[:-1], data), f"{loc[-1]!r} is required"
        problems.append(f"{where}: {msg}" if where else msg)
    return problems


def _where(loc: list[int | str], data: Any) -> str:
    """`sites[0] (acme-north).locations[1] (A-01).code` for a pydantic location."""
    parts: list[str] = []
    node = data
    for step in loc:
        if isinstance(step, int):
            parts[-1:] = [f"{parts[-1] if parts else ''}[{step}]"]
            node = node[step] if isinstance(node, list) and step < len(node) else None
            name = _entry_name(node)
            if name:
                parts[-1] += f" ({name})"
        else:
            parts.append(str(step))
            node = node.get(step) if isinstance(node, dict) else None
    return ".".join(parts)


def _entry_name(node: Any) -> str | None:
    if not isinstance(node, dict):
        return None
    if "code" in node:
        return str(node["code"])
    if "site" in node and "sku" in node:
        return f"{node['site']}/{node['sku']}"
    if "location" in node and "sku" in node:
        return f"{node['location']}/{node['sku']}"
    return None


def _no_duplicates(what: str, keys: Iterable[Key]) -> None:
    repeated = [k for k, n in Counter(keys).items() if n > 1]
    if repeated:
        shown = ", ".join(k if isinstance(k, str) else "/".join(k) for k in repeated)
        raise ValueError(f"duplicate {what}: {shown}")

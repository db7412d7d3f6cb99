"""The Catalog service: lookups, runtime changes, delete rules, concurrent
writers; on SQLite and on PostgreSQL (`sql_url`)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from cloud.catalog import (
    AgreementSpec,
    BindingSpec,
    Catalog,
    CustomerSpec,
    DeviceKind,
    DeviceSpec,
    DuplicateEntry,
    EntryInUse,
    InvalidEntry,
    LevelUnit,
    LocationKind,
    LocationSpec,
    SiteSpec,
    SkuSpec,
    SupplierSpec,
    UnknownEntry,
)
from cloud.errors import StoreUnavailable


@pytest.fixture
def catalog(sql_url: str) -> Iterator[Catalog]:
    catalog = Catalog(sql_url)
    yield catalog
    catalog.close()


def terms(**changes: object) -> AgreementSpec:
    values: dict[str, object] = {
        "supplier": "sup",
        "site": "north",
        "sku": "BOLT",
        "lead_time_days": 2,
        "lead_time_sigma_days": 0.5,
        "service_level": 0.95,
        "review_period_days": 1,
        "min_level": 3,
        "max_level": 10,
        "level_unit": "days_of_supply",
    }
    return AgreementSpec.model_validate({**values, **changes})


@pytest.fixture
def stocked(catalog: Catalog) -> Catalog:
    """One supplier managing BOLT at site north, reported by device gw."""
    catalog.create(SupplierSpec(code="sup", name="Supplier", email="vmi@sup.example"))
    catalog.create(CustomerSpec(code="cust", name="Customer"))
    catalog.create(SiteSpec(code="north", customer="cust"))
    catalog.create(LocationSpec(site="north", code="A-01"))
    catalog.create(LocationSpec(site="north", code="A-02", kind=LocationKind.BIN))
    catalog.create(SkuSpec(code="BOLT", gtin="4006381333931", pack_size=100, min_order_qty=200))
    catalog.create(terms())
    catalog.create(
        DeviceSpec(code="gw", site="north", bindings=(BindingSpec(location="A-01", sku="BOLT"),))
    )
    return catalog


# -- lookups ---------------------------------------------------------------------


def test_replenishment_lookups(stocked: Catalog) -> None:
    assert stocked.agreement_for("north", "BOLT") == terms()
    supplier = stocked.supplier_for("north", "BOLT")
    assert supplier is not None
    assert supplier.email == "vmi@sup.example"
    assert stocked.site_of_device("gw") == "north"
    assert stocked.bindings_of("gw") == (BindingSpec(location="A-01", sku="BOLT"),)


def test_lookups_of_unknown_things_are_empty(stocked: Catalog) -> None:
    assert stocked.agreement_for("north", "NUT") is None
    assert stocked.agreement_for("south", "BOLT") is None
    assert stocked.supplier_for("north", "NUT") is None
    assert stocked.site_of_device("ghost") is None
    assert stocked.bindings_of("ghost") == ()
    assert stocked.find(SkuSpec, "NUT") is None
    with pytest.raises(UnknownEntry, match="sku 'NUT': not in the catalog") as caught:
        stocked.get(SkuSpec, "NUT")
    assert (caught.value.entity, caught.value.key) == ("sku", "NUT")


def test_entries_come_in_key_order_and_by_site(stocked: Catalog) -> None:
    stocked.create(CustomerSpec(code="other", name="Other"))
    stocked.create(SiteSpec(code="south", customer="other", name="South"))
    stocked.create(LocationSpec(site="south", code="A-00"))
    stocked.create(SkuSpec(code="ANCHOR"))
    assert [s.code for s in stocked.entries(SkuSpec)] == ["ANCHOR", "BOLT"]
    assert [s.code for s in stocked.entries(SkuSpec, site="north")] == ["BOLT"]
    assert [loc.key for loc in stocked.entries(LocationSpec)] == [
        ("north", "A-01"),
        ("north", "A-02"),
        ("south", "A-00"),
    ]
    assert [loc.code for loc in stocked.entries(LocationSpec, site="south")] == ["A-00"]
    assert [c.code for c in stocked.entries(CustomerSpec, site="south")] == ["other"]
    assert [d.code for d in stocked.entries(DeviceSpec, site="south")] == []
    assert [s.code for s in stocked.entries(SupplierSpec, site="north")] == ["sup"]


# -- create and update -----------------------------------------------------------


def test_create_returns_the_entry_as_stored(catalog: Catalog) -> None:
    stored = catalog.create(SkuSpec(code="NUT", gtin="614141000012"))
    assert stored.gtin == "00614141000012"
    assert catalog.get(SkuSpec, "NUT") == stored


def test_a_taken_key_or_gtin_is_a_duplicate(stocked: Catalog) -> None:
    with pytest.raises(DuplicateEntry, match="sku 'BOLT': already in the catalog"):
        stocked.create(SkuSpec(code="BOLT"))
    with pytest.raises(DuplicateEntry, match="GTIN 04006381333931 is SKU BOLT's"):
        stocked.create(SkuSpec(code="BOLT-2", gtin="04006381333931"))
    with pytest.raises(DuplicateEntry, match=r"agreement 'north/BOLT'"):
        stocked.create(terms(supplier="sup", lead_time_days=5))


def test_device_codes_are_unique_across_sites(stocked: Catalog) -> None:
    stocked.create(SiteSpec(code="south", customer="cust"))
    with pytest.raises(DuplicateEntry, match="device 'gw'"):
        stocked.create(DeviceSpec(code="gw", site="south"))


def test_a_reference_to_a_missing_entry_is_invalid(stocked: Catalog) -> None:
    with pytest.raises(InvalidEntry, match="agreement 'north/NUT': unknown sku 'NUT'") as caught:
        stocked.create(terms(sku="NUT"))
    assert caught.value.entity == "agreement"
    with pytest.raises(InvalidEntry, match="unknown location 'north/Z-9'"):
        stocked.update(DeviceSpec, "gw", bindings=[{"location": "Z-9", "sku": "BOLT"}])
    with pytest.raises(InvalidEntry, match="unknown customer 'nobody'"):
        stocked.create(SiteSpec(code="south", customer="nobody"))
    assert stocked.find(SiteSpec, "south") is None


def test_update_changes_fields_and_validates(stocked: Catalog) -> None:
    updated = stocked.update(
        AgreementSpec, ("north", "BOLT"), min_level=50, max_level=400, level_unit="units"
    )
    assert (updated.min_level, updated.max_level, updated.level_unit) == (50, 400, LevelUnit.UNITS)
    assert stocked.agreement_for("north", "BOLT") == updated
    with pytest.raises(InvalidEntry, match="service_level: Input should be less than 1"):
        stocked.update(AgreementSpec, ("north", "BOLT"), service_level=1.2)
    with pytest.raises(InvalidEntry, match=r"min_level 50\.0 is above max_level 20\.0"):
        stocked.update(AgreementSpec, ("north", "BOLT"), max_level=20)
    with pytest.raises(InvalidEntry, match="unknown key 'colour'"):
        stocked.update(SkuSpec, "BOLT", colour="red")
    with pytest.raises(InvalidEntry, match="check digit"):
        stocked.update(SkuSpec, "BOLT", gtin="4006381333932")
    with pytest.raises(UnknownEntry):
        stocked.update(SkuSpec, "NUT", pack_size=5)
    assert stocked.agreement_for("north", "BOLT") == updated, "refused updates change nothing"


def test_keys_cannot_change(stocked: Catalog) -> None:
    with pytest.raises(InvalidEntry, match="a key cannot change"):
        stocked.update(SkuSpec, "BOLT", code="BOLT-2")
    with pytest.raises(InvalidEntry, match="a key cannot change"):
        stocked.update(AgreementSpec, ("north", "BOLT"), sku="NUT")


def test_the_managing_supplier_can_change(stocked: Catalog) -> None:
    stocked.create(SupplierSpec(code="sup-2", name="Second"))
    stocked.update(AgreementSpec, ("north", "BOLT"), supplier="sup-2")
    supplier = stocked.supplier_for("north", "BOLT")
    assert supplier is not None
    assert supplier.code == "sup-2"


def test_updating_bindings_replaces_the_set(stocked: Catalog) -> None:
    stocked.create(SkuSpec(code="NUT"))
    both = [{"location": "A-01", "sku": "BOLT"}, {"location": "A-02", "sku": "NUT"}]
    device = stocked.update(DeviceSpec, "gw", bindings=both, kind="scale")
    assert device.kind is DeviceKind.SCALE
    assert len(stocked.bindings_of("gw")) == 2
    stocked.update(DeviceSpec, "gw", bindings=[{"location": "A-02", "sku": "NUT"}])
    assert stocked.bindings_of("gw") == (BindingSpec(location="A-02", sku="NUT"),)


# -- delete rules ------------------------------------------------------------------


def test_what_is_referred_to_cannot_be_deleted(stocked: Catalog) -> None:
    with pytest.raises(EntryInUse, match="still used by 1 agreements \\(north/BOLT\\)"):
        stocked.delete(SupplierSpec, "sup")
    with pytest.raises(EntryInUse, match="1 sites \\(north\\)"):
        stocked.delete(CustomerSpec, "cust")
    with pytest.raises(EntryInUse) as caught:
        stocked.delete(SiteSpec, "north")
    assert caught.value.used_by == ["1 agreements (north/BOLT)", "1 devices (gw)"]
    with pytest.raises(EntryInUse, match="1 devices \\(gw\\)"):
        stocked.delete(SkuSpec, "BOLT")
    assert stocked.find(SiteSpec, "north") is not None


def test_deleting_in_order_empties_the_catalog(stocked: Catalog) -> None:
    stocked.delete(DeviceSpec, "gw")
    stocked.delete(AgreementSpec, ("north", "BOLT"))
    stocked.delete(SkuSpec, "BOLT")
    stocked.delete(SupplierSpec, "sup")
    stocked.delete(SiteSpec, "north")  # its locations go with it
    stocked.delete(CustomerSpec, "cust")
    assert stocked.entries(LocationSpec) == []
    with pytest.raises(UnknownEntry):
        stocked.delete(SkuSpec, "BOLT")


def test_deleting_a_location_drops_its_bindings(stocked: Catalog) -> None:
    stocked.delete(LocationSpec, ("north", "A-01"))
    assert stocked.bindings_of("gw") == ()
    assert stocked.find(DeviceSpec, "gw") is not None


def test_the_database_enforces_the_delete_rules_too(stocked: Catalog) -> None:
    # Behind the service's own checks (which name the users), the foreign keys
    # refuse the same deletes: SQLite too, with foreign_keys=ON.
    from sqlalchemy import delete
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm import Session

    from cloud.catalog.models import Sku

    with pytest.raises(IntegrityError), Session(stocked._engine) as s, s.begin():
        s.execute(delete(Sku).where(Sku.code == "BOLT"))


# -- several writers -----------------------------------------------------------------


def test_concurrent_creators_of_one_key_make_one_entry(sql_url: str) -> None:
    catalogs = [Catalog(sql_url) for _ in range(4)]
    outcomes: list[str] = []
    barrier = threading.Barrier(len(catalogs))

    def create(c: Catalog) -> None:
        barrier.wait()
        try:
            c.create(SkuSpec(code="RACE", pack_size=10))
            outcomes.append("created")
        except DuplicateEntry:
            outcomes.append("duplicate")

    threads = [threading.Thread(target=create, args=(c,)) for c in catalogs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["created", "duplicate", "duplicate", "duplicate"]
    assert [s.code for s in catalogs[0].entries(SkuSpec)] == ["RACE"]
    for c in catalogs:
        c.close()


def test_an_unreachable_database_is_a_store_error() -> None:
    with pytest.raises(StoreUnavailable, match="catalog database"):
        Catalog("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")

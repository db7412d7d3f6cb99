"""Loading a catalog file: idempotent upserts by natural key, all or nothing;
on SQLite and on PostgreSQL (`sql_url`)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from cloud.catalog import (
    AgreementSpec,
    BindingSpec,
    Catalog,
    CatalogFileError,
    CustomerSpec,
    DeviceSpec,
    LocationSpec,
    SiteSpec,
    SkuSpec,
    SupplierSpec,
    parse_catalog,
)

SAMPLE = Path(__file__).parents[3] / "cloud" / "sample-catalog.yaml"

BASE = """\
suppliers: [{code: sup, name: Supplier}]
customers: [{code: cust, name: Customer}]
sites:
  - code: north
    customer: cust
    locations: [{code: A-01}, {code: A-02, kind: bin}]
skus:
  - {code: BOLT, gtin: "4006381333931", pack_size: 100}
agreements:
  - {supplier: sup, site: north, sku: BOLT, lead_time_days: 2, service_level: 0.95,
     min_level: 1, max_level: 5, level_unit: days_of_supply}
devices:
  - code: gw
    site: north
    bindings: [{location: A-01, sku: BOLT}]
"""


@pytest.fixture
def catalog(sql_url: str) -> Iterator[Catalog]:
    catalog = Catalog(sql_url)
    yield catalog
    catalog.close()


def write(tmp_path: Path, text: str, name: str = "catalog.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def everything(catalog: Catalog) -> list[object]:
    kinds = (SupplierSpec, CustomerSpec, SiteSpec, LocationSpec, SkuSpec, AgreementSpec)
    return [e for kind in (*kinds, DeviceSpec) for e in catalog.entries(kind)]


def test_the_sample_loads_and_a_second_load_changes_nothing(catalog: Catalog) -> None:
    first = catalog.load_file(SAMPLE)
    assert first.created
    assert not first.updated
    assert first.unchanged == 0
    snapshot = everything(catalog)
    assert len(snapshot) == len(first.created)
    second = catalog.load_file(SAMPLE)
    assert (second.changes, second.unchanged) == ([], len(first.created))
    assert second.summary() == f"{SAMPLE}: 0 created, 0 updated, {second.unchanged} unchanged"
    assert everything(catalog) == snapshot


def test_the_sample_answers_what_replenishment_asks(catalog: Catalog) -> None:
    catalog.load_file(SAMPLE)
    terms = catalog.agreement_for("acme-north", "BOLT-M8")
    assert terms is not None
    assert terms.supplier == "boltwerk"
    supplier = catalog.supplier_for("nordwerk-hh", "GLOVE-L")
    assert supplier is not None
    assert supplier.code == "safeguard"
    assert catalog.site_of_device("gw-acme-north-01") == "acme-north"
    assert BindingSpec(location="A-01", sku="BOLT-M8") in catalog.bindings_of("gw-acme-north-01")


def test_a_changed_file_updates_only_what_changed(catalog: Catalog, tmp_path: Path) -> None:
    catalog.load_file(write(tmp_path, BASE))
    changed = BASE.replace("pack_size: 100", "pack_size: 50").replace(
        "bindings: [{location: A-01, sku: BOLT}]",
        "bindings: [{location: A-02, sku: BOLT}]",
    )
    changed += "  - {code: gw-2, site: north}\n"
    report = catalog.load_file(write(tmp_path, changed))
    assert [str(c) for c in report.changes] == [
        "updated sku BOLT",
        "updated device gw",
        "created device gw-2",
    ]
    assert catalog.get(SkuSpec, "BOLT").pack_size == 50
    assert catalog.bindings_of("gw") == (BindingSpec(location="A-02", sku="BOLT"),)


def test_loading_never_deletes(catalog: Catalog, tmp_path: Path) -> None:
    catalog.load_file(write(tmp_path, BASE))
    report = catalog.load_file(write(tmp_path, "skus: [{code: NUT}]\n"))
    assert [str(c) for c in report.changes] == ["created sku NUT"]
    assert [s.code for s in catalog.entries(SkuSpec)] == ["BOLT", "NUT"]
    assert catalog.find(LocationSpec, ("north", "A-02")) is not None


def test_a_file_may_refer_to_what_the_database_holds(catalog: Catalog, tmp_path: Path) -> None:
    catalog.load_file(write(tmp_path, BASE))
    more = """\
skus: [{code: NUT}]
agreements:
  - {supplier: sup, site: north, sku: NUT, lead_time_days: 1, service_level: 0.9,
     min_level: 10, max_level: 100}
"""
    report = catalog.load_file(write(tmp_path, more))
    assert [str(c) for c in report.changes] == ["created sku NUT", "created agreement north/NUT"]


def test_an_unknown_reference_fails_the_whole_file(catalog: Catalog, tmp_path: Path) -> None:
    bad = BASE.replace(
        "  - {supplier: sup, site: north, sku: BOLT,",
        "  - {supplier: sup, site: north, sku: BOLT-M9,",
    ).replace("{location: A-01, sku: BOLT}", "{location: Z-99, sku: BOLT}")
    with pytest.raises(CatalogFileError) as caught:
        catalog.load_file(write(tmp_path, bad))
    assert caught.value.problems == [
        "agreements[0] (north/BOLT-M9): sku 'BOLT-M9': not in the catalog",
        "devices[0] (gw): location 'north/Z-99': not in the catalog",
    ]
    assert everything(catalog) == [], "nothing of the file was written"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("pack_size: 100", "pack_size: 100, colour: red"),  # unknown key
        ('"4006381333931"', '"4006381333932"'),  # bad GTIN
        ("  - code: gw\n", "  - code: gw\n  - code: gw\n"),  # duplicate key
    ],
    ids=["unknown-key", "bad-gtin", "duplicate"],
)
def test_an_invalid_file_writes_nothing(
    catalog: Catalog, tmp_path: Path, old: str, new: str
) -> None:
    assert old in BASE
    with pytest.raises(CatalogFileError):
        catalog.load_file(write(tmp_path, BASE.replace(old, new)))
    assert everything(catalog) == []


def test_a_clash_with_the_database_writes_nothing(catalog: Catalog, tmp_path: Path) -> None:
    catalog.create(SkuSpec(code="OTHER", gtin="4006381333931"))
    with pytest.raises(CatalogFileError) as caught:
        catalog.load_file(write(tmp_path, BASE))
    assert caught.value.problems == [
        "skus[0] (BOLT): sku 'BOLT': GTIN 04006381333931 is SKU OTHER's"
    ]
    assert list(everything(catalog)) == [catalog.get(SkuSpec, "OTHER")]


def test_a_location_of_another_site_cannot_be_bound(catalog: Catalog, tmp_path: Path) -> None:
    other_site = BASE + "  - {code: gw-s, site: south, bindings: [{location: A-01, sku: BOLT}]}\n"
    other_site = other_site.replace(
        "skus:", "  - {code: south, customer: cust, locations: [{code: B-01}]}\nskus:"
    )
    with pytest.raises(CatalogFileError, match=r"devices\[1\] \(gw-s\): location 'south/A-01'"):
        catalog.load_file(write(tmp_path, other_site))


def test_a_parsed_catalog_loads_too(catalog: Catalog) -> None:
    report = catalog.load(parse_catalog(BASE, "upload"), "upload")
    assert report.summary().startswith("upload: ")
    assert catalog.site_of_device("gw") == "north"
    with pytest.raises(CatalogFileError, match="sku 'NUT': not in the catalog"):
        catalog.load(
            parse_catalog(
                "agreements: []\ndevices: [{code: x, site: north, "
                "bindings: [{location: A-01, sku: NUT}]}]\n"
            )
        )


def test_collectors_loading_the_same_file_together_agree(sql_url: str) -> None:
    catalogs = [Catalog(sql_url) for _ in range(4)]
    reports: list[int] = []
    errors: list[Exception] = []
    barrier = threading.Barrier(len(catalogs))

    def load(c: Catalog) -> None:
        barrier.wait()
        try:
            reports.append(len(c.load_file(SAMPLE).created))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=load, args=(c,)) for c in catalogs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    total = len(everything(catalogs[0]))
    assert sum(reports) == total, "each entry created exactly once"
    for c in catalogs:
        c.close()

"""The catalog: suppliers, customers, sites and locations, SKUs, VMI agreements
and devices, in SQL (SQLite embedded, PostgreSQL in production), loaded from a
YAML file (`cloud/sample-catalog.yaml`) and changeable at run time.
"""

from cloud.catalog.catalog import Catalog
from cloud.catalog.errors import (
    CatalogError,
    CatalogFileError,
    DuplicateEntry,
    EntryError,
    EntryInUse,
    InvalidEntry,
    Key,
    UnknownEntry,
)
from cloud.catalog.loader import Change, LoadReport, parse_catalog, read_catalog_file
from cloud.catalog.schema import (
    AgreementSpec,
    BindingSpec,
    CatalogEntry,
    CatalogFile,
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

__all__ = [
    "AgreementSpec",
    "BindingSpec",
    "Catalog",
    "CatalogEntry",
    "CatalogError",
    "CatalogFile",
    "CatalogFileError",
    "Change",
    "CustomerSpec",
    "DeviceKind",
    "DeviceSpec",
    "DuplicateEntry",
    "EntryError",
    "EntryInUse",
    "InvalidEntry",
    "Key",
    "LevelUnit",
    "LoadReport",
    "LocationKind",
    "LocationSpec",
    "SiteSpec",
    "SkuSpec",
    "SupplierSpec",
    "UnknownEntry",
    "parse_catalog",
    "read_catalog_file",
]

"""`/skus`: admins manage them; a supplier sees the SKUs of its agreements, a
customer those of the agreements and devices at its sites."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from cloud.api.deps import AdminDep, CatalogDep, CodePath, PagingDep, ViewDep
from cloud.api.errors import AUTH_RESPONSES, CONFLICT_RESPONSE, NOT_FOUND_RESPONSE
from cloud.api.routes._catalog import admin_only, as_spec, public, visible
from cloud.api.schemas.common import Page
from cloud.api.schemas.skus import SkuCreate, SkuPublic, SkuUpdate
from cloud.catalog import SkuSpec

router = APIRouter(prefix="/skus", tags=["skus"], responses=AUTH_RESPONSES)


@router.get("")
def list_skus(view: ViewDep, catalog: CatalogDep, paging: PagingDep) -> Page[SkuPublic]:
    """The SKUs this key may see, by code."""
    found = [public(SkuPublic, s) for s in catalog.entries(SkuSpec) if view.sees_sku(s.code)]
    return Page.of(found, paging.offset, paging.limit)


@router.post("", status_code=status.HTTP_201_CREATED, responses=CONFLICT_RESPONSE)
def create_sku(body: SkuCreate, _admin: AdminDep, catalog: CatalogDep) -> SkuPublic:
    """Add a SKU (admin)."""
    return public(SkuPublic, catalog.create(as_spec(SkuSpec, body)))


@router.get("/{code}", responses=NOT_FOUND_RESPONSE)
def read_sku(code: CodePath, view: ViewDep, catalog: CatalogDep) -> SkuPublic:
    """One SKU."""
    found = visible(catalog.find(SkuSpec, code), view.sees_sku(code))
    return public(SkuPublic, found)


@router.patch("/{code}", responses={**NOT_FOUND_RESPONSE, **CONFLICT_RESPONSE})
def update_sku(code: CodePath, body: SkuUpdate, view: ViewDep, catalog: CatalogDep) -> SkuPublic:
    """Change a SKU's name, GTIN, weight, pack size or minimum order (admin)."""
    visible(catalog.find(SkuSpec, code), view.sees_sku(code))
    admin_only(view)
    return public(SkuPublic, catalog.update(SkuSpec, code, **body.changes()))


@router.delete(
    "/{code}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={**NOT_FOUND_RESPONSE, **CONFLICT_RESPONSE},
)
def delete_sku(code: CodePath, view: ViewDep, catalog: CatalogDep) -> None:
    """Delete a SKU that no agreement or device names (admin)."""
    visible(catalog.find(SkuSpec, code), view.sees_sku(code))
    admin_only(view)
    catalog.delete(SkuSpec, code)

"""`/suppliers`: admins manage them; a supplier sees itself, a customer the
suppliers with agreements at its sites."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from cloud.api.deps import AdminDep, CatalogDep, CodePath, PagingDep, ViewDep
from cloud.api.errors import AUTH_RESPONSES, CONFLICT_RESPONSE, NOT_FOUND_RESPONSE
from cloud.api.routes._catalog import admin_only, as_spec, public, visible
from cloud.api.schemas.common import Page
from cloud.api.schemas.suppliers import SupplierCreate, SupplierPublic, SupplierUpdate
from cloud.catalog import SupplierSpec

router = APIRouter(prefix="/suppliers", tags=["suppliers"], responses=AUTH_RESPONSES)


@router.get("")
def list_suppliers(view: ViewDep, catalog: CatalogDep, paging: PagingDep) -> Page[SupplierPublic]:
    """The suppliers this key may see, by code."""
    found = [
        public(SupplierPublic, s)
        for s in catalog.entries(SupplierSpec)
        if view.sees_supplier(s.code)
    ]
    return Page.of(found, paging.offset, paging.limit)


@router.post("", status_code=status.HTTP_201_CREATED, responses=CONFLICT_RESPONSE)
def create_supplier(body: SupplierCreate, _admin: AdminDep, catalog: CatalogDep) -> SupplierPublic:
    """Add a supplier (admin)."""
    return public(SupplierPublic, catalog.create(as_spec(SupplierSpec, body)))


@router.get("/{code}", responses=NOT_FOUND_RESPONSE)
def read_supplier(code: CodePath, view: ViewDep, catalog: CatalogDep) -> SupplierPublic:
    """One supplier."""
    found = visible(catalog.find(SupplierSpec, code), view.sees_supplier(code))
    return public(SupplierPublic, found)


@router.patch("/{code}", responses={**NOT_FOUND_RESPONSE, **CONFLICT_RESPONSE})
def update_supplier(
    code: CodePath, body: SupplierUpdate, view: ViewDep, catalog: CatalogDep
) -> SupplierPublic:
    """Change a supplier's name or email (admin)."""
    visible(catalog.find(SupplierSpec, code), view.sees_supplier(code))
    admin_only(view)
    return public(SupplierPublic, catalog.update(SupplierSpec, code, **body.changes()))


@router.delete(
    "/{code}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={**NOT_FOUND_RESPONSE, **CONFLICT_RESPONSE},
)
def delete_supplier(code: CodePath, view: ViewDep, catalog: CatalogDep) -> None:
    """Delete a supplier that no agreement names (admin)."""
    visible(catalog.find(SupplierSpec, code), view.sees_supplier(code))
    admin_only(view)
    catalog.delete(SupplierSpec, code)

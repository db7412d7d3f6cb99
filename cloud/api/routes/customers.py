"""`/customers`: admins manage them; a customer sees itself, a supplier the
customers owning the sites of its agreements."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from cloud.api.deps import AdminDep, CatalogDep, CodePath, PagingDep, ViewDep
from cloud.api.errors import AUTH_RESPONSES, CONFLICT_RESPONSE, NOT_FOUND_RESPONSE
from cloud.api.routes._catalog import admin_only, as_spec, public, visible
from cloud.api.schemas.common import Page
from cloud.api.schemas.customers import CustomerCreate, CustomerPublic, CustomerUpdate
from cloud.catalog import CustomerSpec

router = APIRouter(prefix="/customers", tags=["customers"], responses=AUTH_RESPONSES)


@router.get("")
def list_customers(view: ViewDep, catalog: CatalogDep, paging: PagingDep) -> Page[CustomerPublic]:
    """The customers this key may see, by code."""
    found = [
        public(CustomerPublic, s)
        for s in catalog.entries(CustomerSpec)
        if view.sees_customer(s.code)
    ]
    return Page.of(found, paging.offset, paging.limit)


@router.post("", status_code=status.HTTP_201_CREATED, responses=CONFLICT_RESPONSE)
def create_customer(body: CustomerCreate, _admin: AdminDep, catalog: CatalogDep) -> CustomerPublic:
    """Add a customer (admin)."""
    return public(CustomerPublic, catalog.create(as_spec(CustomerSpec, body)))


@router.get("/{code}", responses=NOT_FOUND_RESPONSE)
def read_customer(code: CodePath, view: ViewDep, catalog: CatalogDep) -> CustomerPublic:
    """One customer."""
    found = visible(catalog.find(CustomerSpec, code), view.sees_customer(code))
    return public(CustomerPublic, found)


@router.patch("/{code}", responses={**NOT_FOUND_RESPONSE, **CONFLICT_RESPONSE})
def update_customer(
    code: CodePath, body: CustomerUpdate, view: ViewDep, catalog: CatalogDep
) -> CustomerPublic:
    """Change a customer's name (admin)."""
    visible(catalog.find(CustomerSpec, code), view.sees_customer(code))
    admin_only(view)
    return public(CustomerPublic, catalog.update(CustomerSpec, code, **body.changes()))


@router.delete(
    "/{code}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={**NOT_FOUND_RESPONSE, **CONFLICT_RESPONSE},
)
def delete_customer(code: CodePath, view: ViewDep, catalog: CatalogDep) -> None:
    """Delete a customer that has no sites (admin)."""
    visible(catalog.find(CustomerSpec, code), view.sees_customer(code))
    admin_only(view)
    catalog.delete(CustomerSpec, code)

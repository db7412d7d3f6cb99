"""`/sites`: admins manage them; a customer sees its own, a supplier those
where it has an agreement."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from cloud.api.deps import AdminDep, CatalogDep, CodePath, PagingDep, ViewDep
from cloud.api.errors import AUTH_RESPONSES, CONFLICT_RESPONSE, NOT_FOUND_RESPONSE
from cloud.api.routes._catalog import admin_only, as_spec, public, visible
from cloud.api.schemas.common import Page
from cloud.api.schemas.sites import SiteCreate, SitePublic, SiteUpdate
from cloud.catalog import SiteSpec
from vmi.wire import Identifier

router = APIRouter(prefix="/sites", tags=["sites"], responses=AUTH_RESPONSES)


@router.get("")
def list_sites(
    view: ViewDep,
    catalog: CatalogDep,
    paging: PagingDep,
    customer: Annotated[Identifier | None, Query(description="Only this customer's.")] = None,
) -> Page[SitePublic]:
    """The sites this key may see, by code."""
    found = [
        public(SitePublic, s)
        for s in catalog.entries(SiteSpec)
        if view.sees_site(s.code) and customer in (None, s.customer)
    ]
    return Page.of(found, paging.offset, paging.limit)


@router.post("", status_code=status.HTTP_201_CREATED, responses=CONFLICT_RESPONSE)
def create_site(body: SiteCreate, _admin: AdminDep, catalog: CatalogDep) -> SitePublic:
    """Add a site (admin)."""
    return public(SitePublic, catalog.create(as_spec(SiteSpec, body)))


@router.get("/{code}", responses=NOT_FOUND_RESPONSE)
def read_site(code: CodePath, view: ViewDep, catalog: CatalogDep) -> SitePublic:
    """One site."""
    found = visible(catalog.find(SiteSpec, code), view.sees_site(code))
    return public(SitePublic, found)


@router.patch("/{code}", responses={**NOT_FOUND_RESPONSE, **CONFLICT_RESPONSE})
def update_site(code: CodePath, body: SiteUpdate, view: ViewDep, catalog: CatalogDep) -> SitePublic:
    """Change a site's name or customer (admin)."""
    visible(catalog.find(SiteSpec, code), view.sees_site(code))
    admin_only(view)
    return public(SitePublic, catalog.update(SiteSpec, code, **body.changes()))


@router.delete(
    "/{code}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={**NOT_FOUND_RESPONSE, **CONFLICT_RESPONSE},
)
def delete_site(code: CodePath, view: ViewDep, catalog: CatalogDep) -> None:
    """Delete a site with no agreements and no devices; its locations go too (admin)."""
    visible(catalog.find(SiteSpec, code), view.sees_site(code))
    admin_only(view)
    catalog.delete(SiteSpec, code)

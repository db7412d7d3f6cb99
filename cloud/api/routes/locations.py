"""`/sites/{site}/locations`: shelves and bins. Whoever sees a site sees its
locations; admins manage them."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from cloud.api.deps import AdminDep, CatalogDep, CodePath, PagingDep, ViewDep
from cloud.api.errors import AUTH_RESPONSES, CONFLICT_RESPONSE, NOT_FOUND_RESPONSE
from cloud.api.routes._catalog import admin_only, public, visible
from cloud.api.schemas.common import Page
from cloud.api.schemas.locations import LocationCreate, LocationPublic, LocationUpdate
from cloud.catalog import LocationSpec, SiteSpec

router = APIRouter(
    prefix="/sites/{site}/locations",
    tags=["locations"],
    responses={**AUTH_RESPONSES, **NOT_FOUND_RESPONSE},
)


@router.get("")
def list_locations(
    site: CodePath, view: ViewDep, catalog: CatalogDep, paging: PagingDep
) -> Page[LocationPublic]:
    """The locations of a site, by code."""
    visible(catalog.find(SiteSpec, site), view.sees_site(site))
    found = [public(LocationPublic, loc) for loc in catalog.entries(LocationSpec, site=site)]
    return Page.of(found, paging.offset, paging.limit)


@router.post("", status_code=status.HTTP_201_CREATED, responses=CONFLICT_RESPONSE)
def create_location(
    site: CodePath, body: LocationCreate, _admin: AdminDep, catalog: CatalogDep
) -> LocationPublic:
    """Add a location to a site (admin)."""
    visible(catalog.find(SiteSpec, site), True)
    spec = LocationSpec(site=site, **body.model_dump())
    return public(LocationPublic, catalog.create(spec))


@router.get("/{code}")
def read_location(
    site: CodePath, code: CodePath, view: ViewDep, catalog: CatalogDep
) -> LocationPublic:
    """One location."""
    found = visible(catalog.find(LocationSpec, (site, code)), view.sees_site(site))
    return public(LocationPublic, found)


@router.patch("/{code}", responses=CONFLICT_RESPONSE)
def update_location(
    site: CodePath, code: CodePath, body: LocationUpdate, view: ViewDep, catalog: CatalogDep
) -> LocationPublic:
    """Change a location's kind or description (admin)."""
    visible(catalog.find(LocationSpec, (site, code)), view.sees_site(site))
    admin_only(view)
    return public(LocationPublic, catalog.update(LocationSpec, (site, code), **body.changes()))


@router.delete(
    "/{code}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=CONFLICT_RESPONSE,
)
def delete_location(site: CodePath, code: CodePath, view: ViewDep, catalog: CatalogDep) -> None:
    """Delete a location; device bindings to it go too (admin)."""
    visible(catalog.find(LocationSpec, (site, code)), view.sees_site(site))
    admin_only(view)
    catalog.delete(LocationSpec, (site, code))

"""`/devices`: admins manage them; a customer sees those at its sites, a
supplier those whose every binding is one of its (site, SKU) pairs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from cloud.api.deps import AdminDep, CatalogDep, CodePath, PagingDep, ViewDep
from cloud.api.errors import AUTH_RESPONSES, CONFLICT_RESPONSE, NOT_FOUND_RESPONSE
from cloud.api.routes._catalog import admin_only, as_spec, public, visible
from cloud.api.schemas.common import Page
from cloud.api.schemas.devices import DeviceCreate, DevicePublic, DeviceUpdate
from cloud.catalog import DeviceSpec
from vmi.wire import Identifier

router = APIRouter(prefix="/devices", tags=["devices"], responses=AUTH_RESPONSES)


@router.get("")
def list_devices(
    view: ViewDep,
    catalog: CatalogDep,
    paging: PagingDep,
    site: Annotated[Identifier | None, Query(description="Only those at this site.")] = None,
) -> Page[DevicePublic]:
    """The devices this key may see, by code."""
    found = [
        public(DevicePublic, d)
        for d in catalog.entries(DeviceSpec, site=site)
        if view.sees_device(d.code)
    ]
    return Page.of(found, paging.offset, paging.limit)


@router.post("", status_code=status.HTTP_201_CREATED, responses=CONFLICT_RESPONSE)
def create_device(body: DeviceCreate, _admin: AdminDep, catalog: CatalogDep) -> DevicePublic:
    """Add a device (admin)."""
    return public(DevicePublic, catalog.create(as_spec(DeviceSpec, body)))


@router.get("/{code}", responses=NOT_FOUND_RESPONSE)
def read_device(code: CodePath, view: ViewDep, catalog: CatalogDep) -> DevicePublic:
    """One device."""
    found = visible(catalog.find(DeviceSpec, code), view.sees_device(code))
    return public(DevicePublic, found)


@router.patch("/{code}", responses={**NOT_FOUND_RESPONSE, **CONFLICT_RESPONSE})
def update_device(
    code: CodePath, body: DeviceUpdate, view: ViewDep, catalog: CatalogDep
) -> DevicePublic:
    """Change a device's site, kind or bindings (admin)."""
    visible(catalog.find(DeviceSpec, code), view.sees_device(code))
    admin_only(view)
    return public(DevicePublic, catalog.update(DeviceSpec, code, **body.changes()))


@router.delete(
    "/{code}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={**NOT_FOUND_RESPONSE, **CONFLICT_RESPONSE},
)
def delete_device(code: CodePath, view: ViewDep, catalog: CatalogDep) -> None:
    """Delete a device and its bindings (admin)."""
    visible(catalog.find(DeviceSpec, code), view.sees_device(code))
    admin_only(view)
    catalog.delete(DeviceSpec, code)

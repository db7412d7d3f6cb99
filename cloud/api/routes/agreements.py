"""`/agreements/{site}/{sku}`: VMI agreements. A supplier sees its own, a
customer those at its sites; admins manage them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from cloud.api.deps import AdminDep, CatalogDep, CodePath, PagingDep, ViewDep
from cloud.api.errors import AUTH_RESPONSES, CONFLICT_RESPONSE, NOT_FOUND_RESPONSE
from cloud.api.routes._catalog import admin_only, as_spec, public, visible
from cloud.api.schemas.agreements import AgreementCreate, AgreementPublic, AgreementUpdate
from cloud.api.schemas.common import Page
from cloud.api.tenancy import View
from cloud.catalog import AgreementSpec, Catalog
from vmi.wire import Identifier

router = APIRouter(prefix="/agreements", tags=["agreements"], responses=AUTH_RESPONSES)


def _sees(view: View, a: AgreementSpec) -> bool:
    return view.sees_agreement(a.supplier, a.site, a.sku)


def _find(catalog: Catalog, view: View, site: str, sku: str) -> AgreementSpec:
    found = catalog.find(AgreementSpec, (site, sku))
    return visible(found, found is not None and _sees(view, found))


@router.get("")
def list_agreements(
    view: ViewDep,
    catalog: CatalogDep,
    paging: PagingDep,
    site: Annotated[Identifier | None, Query(description="Only at this site.")] = None,
    supplier: Annotated[Identifier | None, Query(description="Only this supplier's.")] = None,
    sku: Annotated[Identifier | None, Query(description="Only of this SKU.")] = None,
) -> Page[AgreementPublic]:
    """The agreements this key may see, by site and SKU."""
    found = [
        public(AgreementPublic, a)
        for a in catalog.entries(AgreementSpec, site=site)
        if _sees(view, a) and supplier in (None, a.supplier) and sku in (None, a.sku)
    ]
    return Page.of(found, paging.offset, paging.limit)


@router.post("", status_code=status.HTTP_201_CREATED, responses=CONFLICT_RESPONSE)
def create_agreement(
    body: AgreementCreate, _admin: AdminDep, catalog: CatalogDep
) -> AgreementPublic:
    """Add an agreement; one per (site, SKU) (admin)."""
    return public(AgreementPublic, catalog.create(as_spec(AgreementSpec, body)))


@router.get("/{site}/{sku}", responses=NOT_FOUND_RESPONSE)
def read_agreement(
    site: CodePath, sku: CodePath, view: ViewDep, catalog: CatalogDep
) -> AgreementPublic:
    """The agreement of (site, SKU)."""
    return public(AgreementPublic, _find(catalog, view, site, sku))


@router.patch("/{site}/{sku}", responses={**NOT_FOUND_RESPONSE, **CONFLICT_RESPONSE})
def update_agreement(
    site: CodePath, sku: CodePath, body: AgreementUpdate, view: ViewDep, catalog: CatalogDep
) -> AgreementPublic:
    """Change an agreement's supplier or terms (admin)."""
    _find(catalog, view, site, sku)
    admin_only(view)
    return public(AgreementPublic, catalog.update(AgreementSpec, (site, sku), **body.changes()))


@router.delete(
    "/{site}/{sku}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={**NOT_FOUND_RESPONSE, **CONFLICT_RESPONSE},
)
def delete_agreement(site: CodePath, sku: CodePath, view: ViewDep, catalog: CatalogDep) -> None:
    """End an agreement (admin)."""
    _find(catalog, view, site, sku)
    admin_only(view)
    catalog.delete(AgreementSpec, (site, sku))

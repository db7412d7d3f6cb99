"""`/suggestions`: better terms for VMI agreements (`cloud.suggest`), and their decisions.

A suggestion shows only when the key sees its (site, SKU) pair (as orders
do): a supplier sees those of the pairs it manages, a customer those at its
sites, an admin all.

Who may accept or dismiss (after the 404 for suggestions outside the view):
an admin, the pair's managing supplier (the supplier its agreement names
now) and the customer whose site it is; others get 403, and so does a
read-only key, as for every write. A suggestion is decided once: one that is
not open any more (accepted, dismissed, superseded by a newer one) answers
409. `decided_by` names the caller as "<role> <tenant> (key #<id>)" or, from the
portal, "<role> <tenant> (user <login>)".

Accepting writes the suggested service level and review period into the
pair's agreement, then marks the suggestion accepted; 409 when the pair has
no agreement, when the suggestion proposes no terms (only flags), or when the
terms do not fit the agreement. These are two transactions (catalog, then
suggestions). When the second refuses because someone decided the
suggestion in between, the route puts back the service level and review
period it replaced, so a suggestion that was not accepted has changed
nothing, and answers 409. It does not put them back when the winner
accepted the same suggestion (the agreement then rightly holds its terms),
nor when the agreement no longer holds what this request wrote (a later
change is not undone). If the second write fails for want of the database
(503), the agreement keeps the new terms and the suggestion stays open: the
same accept, retried, completes it.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Annotated, NoReturn

from fastapi import APIRouter, HTTPException, Query, status

from cloud.api.deps import CatalogDep, ContextDep, IdPath, PagingDep, SuggestionsDep, ViewDep
from cloud.api.errors import (
    AUTH_RESPONSES,
    CONFLICT_RESPONSE,
    NOT_FOUND_RESPONSE,
    forbidden,
    not_found,
)
from cloud.api.schemas.common import Page
from cloud.api.schemas.suggestions import DismissRequest, SuggestionPublic
from cloud.api.security import Principal, Role
from cloud.api.tenancy import View
from cloud.catalog import AgreementSpec, Catalog, InvalidEntry, UnknownEntry
from cloud.suggest.book import (
    StoredSuggestion,
    SuggestionBook,
    SuggestionNotOpen,
    SuggestionStatus,
    UnknownSuggestion,
)
from vmi.wire import Identifier

log = logging.getLogger(__name__)

router = APIRouter(prefix="/suggestions", tags=["suggestions"], responses=AUTH_RESPONSES)
_ACTION_RESPONSES = {**NOT_FOUND_RESPONSE, **CONFLICT_RESPONSE}
_TERMS = ("service_level", "review_period_days")
"""The agreement fields an accepted suggestion writes."""


class StatusFilter(StrEnum):
    """A suggestion status to list, or `any`."""

    OPEN = SuggestionStatus.OPEN.value
    ACCEPTED = SuggestionStatus.ACCEPTED.value
    DISMISSED = SuggestionStatus.DISMISSED.value
    SUPERSEDED = SuggestionStatus.SUPERSEDED.value
    ANY = "any"


def _conflict(detail: str) -> NoReturn:
    raise HTTPException(status.HTTP_409_CONFLICT, detail)


def _visible(book: SuggestionBook, view: View, suggestion_id: int) -> StoredSuggestion:
    """The suggestion if it exists and the caller sees its pair; 404 otherwise."""
    try:
        row = book.get(suggestion_id)
    except UnknownSuggestion:
        not_found()
    if not view.sees_pair(row.site, row.sku):
        not_found()
    return row


def _may_decide(view: View, row: StoredSuggestion, agreement: AgreementSpec | None) -> None:
    """403 unless the caller is an admin, the pair's managing supplier or the site's customer."""
    if view.everything:
        return
    principal = view.principal
    if principal.role is Role.SUPPLIER:
        if agreement is not None and agreement.supplier == principal.tenant:
            return
    elif principal.role is Role.CUSTOMER and view.sees_site(row.site):
        return
    forbidden("only the managing supplier, the site's customer or an admin may decide this")


def _still_open(row: StoredSuggestion) -> None:
    if row.status != SuggestionStatus.OPEN.value:
        _conflict(str(SuggestionNotOpen(row.id, row.status)))


def _decider(principal: Principal) -> str:
    """Who decided, as `decided_by` records it: role, tenant and key id (or portal user)."""
    tenant = f" {principal.tenant}" if principal.tenant else ""
    who = f"user {principal.user}" if principal.user else f"key #{principal.key_id}"
    return f"{principal.role.value}{tenant} ({who})"


def _put_back(catalog: Catalog, written: AgreementSpec, before: dict[str, float]) -> None:
    """Restore the terms an accept replaced, unless the agreement changed again since."""
    now = catalog.find(AgreementSpec, written.key)
    if now is None or any(getattr(now, k) != getattr(written, k) for k in before):
        log.warning(
            "suggestion for %s/%s decided meanwhile; the agreement changed since, left as it is",
            written.site,
            written.sku,
        )
        return
    catalog.update(AgreementSpec, written.key, **before)


@router.get("")
def list_suggestions(
    view: ViewDep,
    book: SuggestionsDep,
    paging: PagingDep,
    site: Annotated[Identifier | None, Query(description="Only at this site.")] = None,
    sku: Annotated[Identifier | None, Query(description="Only of this SKU.")] = None,
    status: Annotated[
        StatusFilter, Query(description="Only in this status (`any`: every status).")
    ] = StatusFilter.OPEN,
) -> Page[SuggestionPublic]:
    """The suggestions this key may see, by site, SKU and age (oldest first); by default
    only the open ones."""
    sites = view.visible_sites(site)
    if sites == []:
        return Page(data=[], count=0)
    wanted = None if status is StatusFilter.ANY else SuggestionStatus(status.value)
    found = [
        SuggestionPublic.of(row)
        for row in book.suggestions(sites=sites, sku=sku, status=wanted)
        if view.sees_pair(row.site, row.sku)
    ]
    return Page.of(found, paging.offset, paging.limit)


@router.post("/{suggestion_id}/accept", responses=_ACTION_RESPONSES)
def accept_suggestion(
    suggestion_id: IdPath,
    view: ViewDep,
    book: SuggestionsDep,
    catalog: CatalogDep,
    context: ContextDep,
) -> SuggestionPublic:
    """Write the suggested service level and review period into the pair's VMI
    agreement, and mark the suggestion accepted."""
    row = _visible(book, view, suggestion_id)
    agreement = catalog.find(AgreementSpec, (row.site, row.sku))
    _may_decide(view, row, agreement)
    _still_open(row)
    if row.service_level is None or row.review_period_days is None:
        _conflict(f"suggestion #{row.id} proposes no terms (only flags); dismiss it instead")
    no_agreement = f"{row.site}/{row.sku} has no VMI agreement to write the terms into"
    if agreement is None:
        _conflict(no_agreement)
    before = {k: float(getattr(agreement, k)) for k in _TERMS}
    try:
        written = catalog.update(
            AgreementSpec,
            agreement.key,
            service_level=row.service_level,
            review_period_days=row.review_period_days,
        )
    except UnknownEntry:  # deleted since we looked
        _conflict(no_agreement)
    except InvalidEntry as exc:
        _conflict(f"the suggested terms do not fit the agreement: {exc.detail}")
    try:
        decided = book.accept(row.id, _decider(view.principal), context.clock.now())
    except SuggestionNotOpen as exc:
        if exc.status != SuggestionStatus.ACCEPTED.value:
            _put_back(catalog, written, before)
        _conflict(str(exc))
    return SuggestionPublic.of(decided)


@router.post("/{suggestion_id}/dismiss", responses=_ACTION_RESPONSES)
def dismiss_suggestion(
    suggestion_id: IdPath,
    body: DismissRequest,
    view: ViewDep,
    book: SuggestionsDep,
    catalog: CatalogDep,
    context: ContextDep,
) -> SuggestionPublic:
    """Mark the suggestion dismissed (the agreement is left as it is), with an optional note."""
    row = _visible(book, view, suggestion_id)
    _may_decide(view, row, catalog.find(AgreementSpec, (row.site, row.sku)))
    _still_open(row)
    try:
        decided = book.dismiss(row.id, _decider(view.principal), context.clock.now(), body.note)
    except SuggestionNotOpen as exc:
        _conflict(str(exc))
    return SuggestionPublic.of(decided)

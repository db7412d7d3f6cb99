"""`/suggestions`: better terms for VMI agreements (`cloud.suggest`), and their decisions.

A suggestion shows only when the key sees its (site, SKU) pair (as orders
do): a supplier sees those of the pairs it manages, a customer those at its
sites, an admin all.

Who may accept or dismiss, and what accepting writes, is
`cloud.api.suggestion_decisions` (the portal decides there too): outside the
view 404; not the managing supplier, the site's customer or an admin 403 (a
read-only key too, as for every write); decided already, no agreement, no
terms, or terms that do not fit 409. `decided_by` names the caller as
"<role> <tenant> (key #<id>)" or, from the portal, "<role> <tenant> (user <login>)".
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, NoReturn

from fastapi import APIRouter, HTTPException, Query

from cloud.api import suggestion_decisions as decisions
from cloud.api.deps import CatalogDep, ContextDep, IdPath, PagingDep, SuggestionsDep, ViewDep
from cloud.api.errors import AUTH_RESPONSES, CONFLICT_RESPONSE, NOT_FOUND, NOT_FOUND_RESPONSE
from cloud.api.schemas.common import Page
from cloud.api.schemas.suggestions import DismissRequest, SuggestionPublic
from cloud.suggest.book import SuggestionStatus
from vmi.wire import Identifier

router = APIRouter(prefix="/suggestions", tags=["suggestions"], responses=AUTH_RESPONSES)
_ACTION_RESPONSES = {**NOT_FOUND_RESPONSE, **CONFLICT_RESPONSE}


class StatusFilter(StrEnum):
    """A suggestion status to list, or `any`."""

    OPEN = SuggestionStatus.OPEN.value
    ACCEPTED = SuggestionStatus.ACCEPTED.value
    DISMISSED = SuggestionStatus.DISMISSED.value
    SUPERSEDED = SuggestionStatus.SUPERSEDED.value
    ANY = "any"


def _refused(exc: decisions.DecisionRefused) -> NoReturn:
    detail = NOT_FOUND if exc.refusal is decisions.Refusal.NOT_FOUND else exc.detail
    raise HTTPException(int(exc.refusal), detail) from None


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
    try:
        decided = decisions.accept(book, catalog, view, suggestion_id, context.clock.now())
    except decisions.DecisionRefused as exc:
        _refused(exc)
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
    try:
        decided = decisions.dismiss(
            book, catalog, view, suggestion_id, context.clock.now(), body.note
        )
    except decisions.DecisionRefused as exc:
        _refused(exc)
    return SuggestionPublic.of(decided)

"""Deciding agreement suggestions: who may, and accepting as one change of the agreement
and the suggestion. The API's `/suggestions` routes and the portal both decide here.

Who may accept or dismiss (after "not found" for suggestions outside the view):
an admin, the pair's managing supplier (the supplier its agreement names
now) and the customer whose site it is. A suggestion is decided once.

Accepting writes the suggested service level and review period into the
pair's agreement, then marks the suggestion accepted; refused when the pair
has no agreement, when the suggestion proposes no terms (only flags), or when
the terms do not fit the agreement. These are two transactions (catalog, then
suggestions). When the second refuses because someone decided the suggestion
in between, the terms it replaced are put back, so a suggestion that was not
accepted has changed nothing. They are not put back when the winner accepted
the same suggestion (the agreement then rightly holds its terms), nor when
the agreement no longer holds what this request wrote (a later change is not
undone). If the second write fails for want of the database, the agreement
keeps the new terms and the suggestion stays open: the same accept, retried,
completes it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from enum import IntEnum

from cloud.api.security import Principal, Role
from cloud.api.tenancy import View
from cloud.catalog import AgreementSpec, Catalog, InvalidEntry, UnknownEntry
from cloud.errors import CloudError
from cloud.suggest.book import (
    StoredSuggestion,
    SuggestionBook,
    SuggestionNotOpen,
    SuggestionStatus,
    UnknownSuggestion,
)

log = logging.getLogger(__name__)

TERMS = ("service_level", "review_period_days")
"""The agreement fields an accepted suggestion writes."""


class Refusal(IntEnum):
    """Why a decision was refused, as the HTTP status the API answers."""

    NOT_FOUND = 404
    FORBIDDEN = 403
    CONFLICT = 409


class DecisionRefused(CloudError):
    """The suggestion cannot be decided by this person now (`refusal` says why)."""

    def __init__(self, refusal: Refusal, detail: str) -> None:
        super().__init__(detail)
        self.refusal = refusal
        self.detail = detail


def visible_suggestion(book: SuggestionBook, view: View, suggestion_id: int) -> StoredSuggestion:
    """The suggestion if it exists and the view holds its pair; else NOT_FOUND."""
    try:
        row = book.get(suggestion_id)
    except UnknownSuggestion:
        raise DecisionRefused(Refusal.NOT_FOUND, "not found") from None
    if not view.sees_pair(row.site, row.sku):
        raise DecisionRefused(Refusal.NOT_FOUND, "not found")
    return row


def may_decide(view: View, row: StoredSuggestion, agreement: AgreementSpec | None) -> bool:
    """True for an admin, the pair's managing supplier and the site's customer."""
    if view.everything:
        return True
    principal = view.principal
    if principal.role is Role.SUPPLIER:
        return agreement is not None and agreement.supplier == principal.tenant
    return principal.role is Role.CUSTOMER and view.sees_site(row.site)


def decider(principal: Principal) -> str:
    """Who decided, as `decided_by` records it: role, tenant and key id (or portal user)."""
    tenant = f" {principal.tenant}" if principal.tenant else ""
    who = f"user {principal.user}" if principal.user else f"key #{principal.key_id}"
    return f"{principal.role.value}{tenant} ({who})"


def _check(view: View, row: StoredSuggestion, agreement: AgreementSpec | None) -> None:
    if not may_decide(view, row, agreement):
        raise DecisionRefused(
            Refusal.FORBIDDEN,
            "only the managing supplier, the site's customer or an admin may decide this",
        )
    if row.status != SuggestionStatus.OPEN.value:
        raise DecisionRefused(Refusal.CONFLICT, str(SuggestionNotOpen(row.id, row.status)))


def accept(
    book: SuggestionBook, catalog: Catalog, view: View, suggestion_id: int, at: datetime
) -> StoredSuggestion:
    """Write the suggestion's terms into the agreement and mark it accepted."""
    row = visible_suggestion(book, view, suggestion_id)
    agreement = catalog.find(AgreementSpec, (row.site, row.sku))
    _check(view, row, agreement)
    if row.service_level is None or row.review_period_days is None:
        raise DecisionRefused(
            Refusal.CONFLICT,
            f"suggestion #{row.id} proposes no terms (only flags); dismiss it instead",
        )
    no_agreement = f"{row.site}/{row.sku} has no VMI agreement to write the terms into"
    if agreement is None:
        raise DecisionRefused(Refusal.CONFLICT, no_agreement)
    before = {k: float(getattr(agreement, k)) for k in TERMS}
    try:
        written = catalog.update(
            AgreementSpec,
            agreement.key,
            service_level=row.service_level,
            review_period_days=row.review_period_days,
        )
    except UnknownEntry:  # deleted since we looked
        raise DecisionRefused(Refusal.CONFLICT, no_agreement) from None
    except InvalidEntry as exc:
        raise DecisionRefused(
            Refusal.CONFLICT, f"the suggested terms do not fit the agreement: {exc.detail}"
        ) from None
    try:
        return book.accept(row.id, decider(view.principal), at)
    except SuggestionNotOpen as exc:
        if exc.status != SuggestionStatus.ACCEPTED.value:
            _put_back(catalog, written, before)
        raise DecisionRefused(Refusal.CONFLICT, str(exc)) from None


def dismiss(
    book: SuggestionBook,
    catalog: Catalog,
    view: View,
    suggestion_id: int,
    at: datetime,
    note: str | None,
) -> StoredSuggestion:
    """Mark the suggestion dismissed (the agreement is left as it is), with an optional note."""
    row = visible_suggestion(book, view, suggestion_id)
    _check(view, row, catalog.find(AgreementSpec, (row.site, row.sku)))
    try:
        return book.dismiss(row.id, decider(view.principal), at, note)
    except SuggestionNotOpen as exc:
        raise DecisionRefused(Refusal.CONFLICT, str(exc)) from None


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

"""Agreement suggestions: better terms for one (site, SKU)'s VMI agreement, with
their replayed effect beside today's, and flags that need a person
(`cloud.suggest`); and the body of a dismissal."""

from __future__ import annotations

import math
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from cloud.api.schemas.common import CleanText
from cloud.suggest.book import StoredSuggestion, SuggestionStatus

NOTE_LIMIT = 500
"""The longest note a dismissal may carry (the column's length)."""


def _finite(value: float | None) -> float | None:
    """`value`, or None when it is missing or not a finite number (JSON has no NaN)."""
    return value if value is not None and math.isfinite(value) else None


class TermsPublic(BaseModel):
    """Agreement terms and the levels they give on today's forecast."""

    service_level: float | None = Field(
        description="Chance of no stockout per replenishment cycle (null: the rule sets none)."
    )
    review_period_days: float | None = Field(
        description="Days between reviews (0: continuous review; null: the rule sets none)."
    )
    reorder_point: float | None = Field(
        description="Order when stock falls to this level (null: no forecast to set it by)."
    )
    order_up_to: float | None = Field(
        description="Order up to this level (null: no forecast to set it by)."
    )


class EffectPublic(BaseModel):
    """What terms did when a year of the pair's own demand was replayed under them
    (a figure that is not a finite number is null)."""

    avg_on_hand: float | None = Field(description="Mean stock on hand.")
    fill_rate: float | None = Field(description="Share of the demand served from stock.")
    stockout_days_per_year: float | None = Field(description="Days a year with demand not served.")
    orders_per_year: float | None = Field(description="Orders placed a year.")


_EXAMPLE: JsonDict = {
    "id": 12,
    "site": "acme-north",
    "sku": "BOLT-M8",
    "supplier": "fastenal",
    "created_at": "2026-12-05T06:00:00Z",
    "status": "open",
    "flags": ["excess_cover"],
    "reason": "31% less stock at a fill rate of at least 98.0%, no more stockout days",
    "target_fill_rate": 0.98,
    "window_days": 90.0,
    "current": {
        "service_level": 0.995,
        "review_period_days": 7.0,
        "reorder_point": 64.0,
        "order_up_to": 150.0,
    },
    "current_effect": {
        "avg_on_hand": 81.2,
        "fill_rate": 0.996,
        "stockout_days_per_year": 1.0,
        "orders_per_year": 52.0,
    },
    "suggested": {
        "service_level": 0.98,
        "review_period_days": 1.0,
        "reorder_point": 41.0,
        "order_up_to": 62.0,
    },
    "suggested_effect": {
        "avg_on_hand": 56.0,
        "fill_rate": 0.991,
        "stockout_days_per_year": 1.0,
        "orders_per_year": 121.0,
    },
    "decided_by": None,
    "decided_at": None,
    "note": None,
}


class SuggestionPublic(BaseModel):
    """A suggestion for one (site, SKU): today's terms and their replayed effect,
    the better terms and theirs (`suggested`, null when only flags are raised),
    and, once decided, who accepted or dismissed it, when, and why.

    Status: `open` until accepted (the suggested service level and review
    period were written into the agreement), dismissed, or superseded by a
    newer suggestion for the same pair.
    """

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    id: int
    site: str
    sku: str
    supplier: str | None = Field(
        description="The managing supplier when it was suggested (null: no agreement)."
    )
    created_at: datetime = Field(description="When the suggestion was computed.")
    status: SuggestionStatus
    flags: list[str] = Field(
        description="Things that need a person whatever the terms: `dead_stock`, "
        "`excess_cover`, `chronic_stockouts`."
    )
    reason: str = Field(description="Why the suggested terms are offered (empty: only flags).")
    target_fill_rate: float = Field(description="The fill rate the suggested terms aim for.")
    window_days: float = Field(description="Days of history the replay drew demand from.")
    current: TermsPublic = Field(description="Today's terms.")
    current_effect: EffectPublic = Field(description="What today's terms did in the replay.")
    suggested: TermsPublic | None = Field(
        default=None, description="The better terms (null: keep today's; only flags)."
    )
    suggested_effect: EffectPublic | None = Field(
        default=None, description="What the better terms did in the replay."
    )
    decided_by: str | None = Field(
        default=None,
        description='Who accepted or dismissed it: role, tenant and API key ("supplier '
        'fastenal (key #3)").',
    )
    decided_at: datetime | None = Field(default=None, description="When it was decided.")
    note: str | None = Field(default=None, description="The note given with a dismissal.")

    @classmethod
    def of(cls, row: StoredSuggestion) -> SuggestionPublic:
        """A stored suggestion."""
        has = row.has_terms
        return cls(
            id=row.id,
            site=row.site,
            sku=row.sku,
            supplier=row.supplier,
            created_at=row.created_at,
            status=SuggestionStatus(row.status),
            flags=[f for f in row.flags.split(",") if f],
            reason=row.reason,
            target_fill_rate=row.target_fill_rate,
            window_days=row.window_days,
            current=_terms(row, "current_"),
            current_effect=_effect(row, "current_"),
            suggested=_terms(row, "") if has else None,
            suggested_effect=_effect(row, "") if has else None,
            decided_by=row.decided_by,
            decided_at=row.decided_at,
            note=row.note,
        )


def _terms(row: StoredSuggestion, prefix: str) -> TermsPublic:
    """The terms in `row`'s columns named `<prefix>service_level` and so on."""
    return TermsPublic(
        service_level=_finite(getattr(row, f"{prefix}service_level")),
        review_period_days=_finite(getattr(row, f"{prefix}review_period_days")),
        reorder_point=_finite(getattr(row, f"{prefix}reorder_point")),
        order_up_to=_finite(getattr(row, f"{prefix}order_up_to")),
    )


def _effect(row: StoredSuggestion, prefix: str) -> EffectPublic:
    """The replayed effect in `row`'s columns named `<prefix>avg_on_hand` and so on."""
    return EffectPublic(
        avg_on_hand=_finite(getattr(row, f"{prefix}avg_on_hand")),
        fill_rate=_finite(getattr(row, f"{prefix}fill_rate")),
        stockout_days_per_year=_finite(getattr(row, f"{prefix}stockout_days")),
        orders_per_year=_finite(getattr(row, f"{prefix}orders")),
    )


class DismissRequest(CleanText):
    """Why the suggestion is dismissed (optional): `{}` dismisses without a note."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"note": "the customer is phasing this SKU out"}]},
    )

    note: str | None = Field(
        default=None, max_length=NOTE_LIMIT, description="Why, for whoever looks later."
    )

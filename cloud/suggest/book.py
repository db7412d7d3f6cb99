"""Suggestions in SQL: what was suggested, and who accepted or dismissed it when.

`record` stores a round of suggestions: the open suggestion of every key in
the round is superseded (kept, with status `superseded`, whether or not the
round keeps a new one for it), so the table is the history of what the
system proposed. Only keys with better terms or a flag are stored; at most
one suggestion per (site, SKU) is open (a partial unique index, as for
orders: a second concurrent round fails and is retried). `accept` and
`dismiss` move an open suggestion once, conditionally (the UPDATE's WHERE is
the check), recording the principal and the time; the caller writes the
terms into the pair's VMI agreement (`cloud.api.routes.suggestions`). Figures
that are not finite (a rule with no service level, say) are stored as NULL.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import CheckConstraint, Float, Index, Integer, String, select, text, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker

from cloud.db import Base, UtcDateTime, create_schema, make_engine, store_errors
from cloud.errors import CloudError, StoreUnavailable
from cloud.suggest.suggest import Suggestion

_DATABASE = "suggestion database"
_TEXT_LIMIT = 500
_OPEN_SQL = text("status = 'open'")


class SuggestionStatus(StrEnum):
    """Where a stored suggestion stands."""

    OPEN = "open"
    ACCEPTED = "accepted"
    DISMISSED = "dismissed"
    SUPERSEDED = "superseded"


class SuggestionNotOpen(CloudError):
    """The suggestion was accepted, dismissed or superseded already."""

    def __init__(self, suggestion_id: int, status: str) -> None:
        super().__init__(f"suggestion #{suggestion_id} is {status}, not open")
        self.suggestion_id = suggestion_id
        self.status = status


class UnknownSuggestion(CloudError, LookupError):
    """No suggestion has this id."""

    def __init__(self, suggestion_id: int) -> None:
        super().__init__(f"no suggestion #{suggestion_id}")
        self.suggestion_id = suggestion_id


class StoredSuggestion(Base):
    """One suggestion for one (site, SKU): today's terms and effect, the better ones."""

    __tablename__ = "agreement_suggestion"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    sku: Mapped[str] = mapped_column(String(64))
    supplier: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    status: Mapped[str] = mapped_column(String(16), default=SuggestionStatus.OPEN.value)
    window_days: Mapped[float] = mapped_column(Float)
    target_fill_rate: Mapped[float] = mapped_column(Float)
    flags: Mapped[str] = mapped_column(String(200), default="")  # comma-separated `Flag`s
    reason: Mapped[str] = mapped_column(String(_TEXT_LIMIT), default="")
    current_service_level: Mapped[float | None] = mapped_column(Float, default=None)
    current_review_period_days: Mapped[float | None] = mapped_column(Float, default=None)
    current_reorder_point: Mapped[float | None] = mapped_column(Float, default=None)
    current_order_up_to: Mapped[float | None] = mapped_column(Float, default=None)
    current_avg_on_hand: Mapped[float | None] = mapped_column(Float, default=None)
    current_fill_rate: Mapped[float | None] = mapped_column(Float, default=None)
    current_stockout_days: Mapped[float | None] = mapped_column(Float, default=None)  # a year
    current_orders: Mapped[float | None] = mapped_column(Float, default=None)  # a year
    service_level: Mapped[float | None] = mapped_column(Float, default=None)
    review_period_days: Mapped[float | None] = mapped_column(Float, default=None)
    reorder_point: Mapped[float | None] = mapped_column(Float, default=None)
    order_up_to: Mapped[float | None] = mapped_column(Float, default=None)
    avg_on_hand: Mapped[float | None] = mapped_column(Float, default=None)
    fill_rate: Mapped[float | None] = mapped_column(Float, default=None)
    stockout_days: Mapped[float | None] = mapped_column(Float, default=None)
    orders: Mapped[float | None] = mapped_column(Float, default=None)
    decided_by: Mapped[str | None] = mapped_column(String(200), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    note: Mapped[str | None] = mapped_column(String(_TEXT_LIMIT), default=None)

    __table_args__ = (
        Index(
            "one_open_suggestion_per_site_sku",
            "site",
            "sku",
            unique=True,
            sqlite_where=_OPEN_SQL,
            postgresql_where=_OPEN_SQL,
        ),
        Index("ix_agreement_suggestion_site_sku_status", "site", "sku", "status"),
        CheckConstraint("status IN ('open', 'accepted', 'dismissed', 'superseded')", name="status"),
    )

    @property
    def has_terms(self) -> bool:
        """True if it proposes terms (not only flags)."""
        return self.service_level is not None and self.review_period_days is not None


def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def _row(s: Suggestion, supplier: str | None, at: datetime, window_days: float) -> StoredSuggestion:
    now, cur = s.current_effect, s.current
    new, eff = s.suggested, s.suggested_effect
    return StoredSuggestion(
        site=s.site,
        sku=s.sku,
        supplier=supplier,
        created_at=at,
        status=SuggestionStatus.OPEN.value,
        window_days=window_days,
        target_fill_rate=s.target_fill_rate,
        flags=",".join(f.value for f in s.flags),
        reason=s.reason[:_TEXT_LIMIT],
        current_service_level=_finite(cur.service_level),
        current_review_period_days=_finite(cur.review_period_days),
        current_reorder_point=_finite(cur.reorder_point),
        current_order_up_to=_finite(cur.order_up_to),
        current_avg_on_hand=_finite(now.avg_on_hand),
        current_fill_rate=_finite(now.fill_rate),
        current_stockout_days=_finite(now.stockout_days_per_year),
        current_orders=_finite(now.orders_per_year),
        service_level=_finite(new.service_level if new else None),
        review_period_days=_finite(new.review_period_days if new else None),
        reorder_point=_finite(new.reorder_point if new else None),
        order_up_to=_finite(new.order_up_to if new else None),
        avg_on_hand=_finite(eff.avg_on_hand if eff else None),
        fill_rate=_finite(eff.fill_rate if eff else None),
        stockout_days=_finite(eff.stockout_days_per_year if eff else None),
        orders=_finite(eff.orders_per_year if eff else None),
    )


class SuggestionBook:
    """The stored suggestions (one SQL table; see the module docstring)."""

    def __init__(self, url: str) -> None:
        try:
            self._engine = make_engine(url)
            create_schema(self._engine)
        except (SQLAlchemyError, OSError) as exc:
            raise StoreUnavailable(f"{_DATABASE} {url}: {exc}") from exc
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)

    def record(
        self,
        suggestions: Sequence[Suggestion],
        suppliers: Sequence[str | None],
        at: datetime,
        *,
        window_days: float,
    ) -> list[StoredSuggestion]:
        """Store the suggestions worth a person's time (better terms or a flag),
        superseding each key's open one; returns the stored rows."""
        keep = [
            _row(s, who, at, window_days)
            for s, who in zip(suggestions, suppliers, strict=True)
            if s.suggested is not None or s.flags
        ]
        keys = {(s.site, s.sku) for s in suggestions}
        with store_errors(_DATABASE), self._sessions.begin() as s:
            for site in sorted({k[0] for k in keys}):
                open_ids = [
                    row.id
                    for row in s.scalars(
                        select(StoredSuggestion).where(
                            StoredSuggestion.site == site,
                            StoredSuggestion.status == SuggestionStatus.OPEN.value,
                        )
                    )
                    if (row.site, row.sku) in keys
                ]
                if open_ids:
                    s.execute(
                        update(StoredSuggestion)
                        .where(StoredSuggestion.id.in_(open_ids))
                        .values(status=SuggestionStatus.SUPERSEDED.value)
                    )
            s.add_all(keep)
        return keep

    def suggestions(
        self,
        *,
        sites: Iterable[str] | None = None,
        sku: str | None = None,
        status: SuggestionStatus | None = SuggestionStatus.OPEN,
    ) -> list[StoredSuggestion]:
        """Stored suggestions (of `sites`, of `sku`, with `status`; None: any), by site,
        SKU, id."""
        stmt = select(StoredSuggestion).order_by(
            StoredSuggestion.site, StoredSuggestion.sku, StoredSuggestion.id
        )
        if sites is not None:
            stmt = stmt.where(StoredSuggestion.site.in_(sorted(set(sites))))
        if sku is not None:
            stmt = stmt.where(StoredSuggestion.sku == sku)
        if status is not None:
            stmt = stmt.where(StoredSuggestion.status == status.value)
        with store_errors(_DATABASE), self._sessions() as s:
            return list(s.scalars(stmt))

    def get(self, suggestion_id: int) -> StoredSuggestion:
        """The suggestion with this id; `UnknownSuggestion` if none."""
        with store_errors(_DATABASE), self._sessions() as s:
            found = s.get(StoredSuggestion, suggestion_id)
        if found is None:
            raise UnknownSuggestion(suggestion_id)
        return found

    def accept(self, suggestion_id: int, by: str, at: datetime) -> StoredSuggestion:
        """Mark an open suggestion accepted by `by` at `at` (the caller updates the
        agreement first); `SuggestionNotOpen` if it is not open any more."""
        return self._decide(suggestion_id, SuggestionStatus.ACCEPTED, by, at, None)

    def dismiss(
        self, suggestion_id: int, by: str, at: datetime, note: str | None = None
    ) -> StoredSuggestion:
        """Mark an open suggestion dismissed by `by` at `at`, with an optional note."""
        return self._decide(suggestion_id, SuggestionStatus.DISMISSED, by, at, note)

    def _decide(
        self,
        suggestion_id: int,
        to: SuggestionStatus,
        by: str,
        at: datetime,
        note: str | None,
    ) -> StoredSuggestion:
        with store_errors(_DATABASE), self._sessions.begin() as s:
            result = cast(
                "CursorResult[Any]",
                s.execute(
                    update(StoredSuggestion)
                    .where(
                        StoredSuggestion.id == suggestion_id,
                        StoredSuggestion.status == SuggestionStatus.OPEN.value,
                    )
                    .values(
                        status=to.value,
                        decided_by=by[:200],
                        decided_at=at,
                        note=None if note is None else note[:_TEXT_LIMIT],
                    )
                    .execution_options(synchronize_session=False)
                ),
            )
            found = s.get(StoredSuggestion, suggestion_id)
            if found is None:
                raise UnknownSuggestion(suggestion_id)
            if result.rowcount != 1:
                raise SuggestionNotOpen(suggestion_id, found.status)
            s.refresh(found)
            return found

    def close(self) -> None:
        self._engine.dispose()

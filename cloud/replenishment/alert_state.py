"""Which alerts are active, in SQL, so each is raised once per episode.

A condition (a shelf at zero, a silent sensor) holds for many evaluations,
and several collectors evaluate the same shelves. The first to see it
inserts a row keyed by (site, subject, kind) and publishes; everyone else's
insert hits the primary key and publishes nothing. When the condition ends
the row is deleted, and the next episode alerts again. Point events (sensor
anomalies) use a cooldown instead of a clear: at most one alert per cooldown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from sqlalchemy import String, delete, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from cloud.db import Base, UtcDateTime, create_schema, make_engine, store_errors
from cloud.errors import StoreUnavailable

_DATABASE = "alert state"  # named in StoreUnavailable messages


class ActiveAlert(Base):
    """One alert condition that holds now (or fired within its cooldown)."""

    __tablename__ = "active_alert"

    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(String(200), primary_key=True)  # SKU or device[/loc]
    kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    since: Mapped[datetime] = mapped_column(UtcDateTime())


def _key(site: str, subject: str, kind: str) -> tuple[ColumnElement[bool], ...]:
    """The WHERE clause of one alert's row."""
    return (ActiveAlert.site == site, ActiveAlert.subject == subject, ActiveAlert.kind == kind)


class AlertState:
    """Raise-once bookkeeping over `ActiveAlert`."""

    def __init__(self, url: str) -> None:
        try:
            self._engine = make_engine(url)
            create_schema(self._engine)
        except (SQLAlchemyError, OSError) as exc:
            raise StoreUnavailable(f"alert state database {url}: {exc}") from exc
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)

    def raise_once(
        self,
        site: str,
        subject: str,
        kind: str,
        at: datetime,
        *,
        cooldown: timedelta | None = None,
        within: Callable[[Session], object] | None = None,
    ) -> bool:
        """True if this call raised the alert; False if it was already active.

        With `cooldown`, an alert older than the cooldown is raised again.
        `within` writes more in the same transaction once the alert is known
        to be raised here (its webhook deliveries: the outbox pattern); if it
        fails, nothing is recorded and the alert is raised on a later call.
        """
        with store_errors(_DATABASE):
            try:
                with self._sessions.begin() as s:
                    if cooldown is not None:
                        s.execute(
                            delete(ActiveAlert).where(
                                *_key(site, subject, kind), ActiveAlert.since <= at - cooldown
                            )
                        )
                    s.add(ActiveAlert(site=site, subject=subject, kind=kind, since=at))
                    s.flush()  # raises IntegrityError here if someone raised it first
                    if within is not None:
                        within(s)
            except IntegrityError:
                return False  # active already: someone raised it first
        return True

    def clear(self, site: str, subject: str, kind: str) -> bool:
        """End the condition; True if it was active."""
        with store_errors(_DATABASE), self._sessions.begin() as s:
            result = s.execute(delete(ActiveAlert).where(*_key(site, subject, kind)))
        return bool(getattr(result, "rowcount", 0))

    def active_among(self, sites: Iterable[str]) -> set[tuple[str, str, str]]:
        """(site, subject, kind) of every active alert of these sites, in one query."""
        wanted = sorted(set(sites))
        if not wanted:
            return set()
        stmt = select(ActiveAlert.site, ActiveAlert.subject, ActiveAlert.kind).where(
            ActiveAlert.site.in_(wanted)
        )
        with store_errors(_DATABASE), self._sessions() as s:
            return {(row[0], row[1], row[2]) for row in s.execute(stmt)}

    def active(self, site: str | None = None) -> list[ActiveAlert]:
        """Active alerts, optionally of one site."""
        stmt = select(ActiveAlert).order_by(ActiveAlert.site, ActiveAlert.subject)
        if site is not None:
            stmt = stmt.where(ActiveAlert.site == site)
        with self._sessions() as s:
            return list(s.scalars(stmt))

    def close(self) -> None:
        self._engine.dispose()

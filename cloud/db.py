"""The cloud's SQL database: one declarative base for every table, engines, schema.

Catalog and orders share `Base.metadata`, so schema tools (Alembic) see the
whole database in one place. SQLite is the embedded default, PostgreSQL the
production database; `make_engine` sets either up the same way for callers.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from cloud.errors import StoreUnavailable

# Stable constraint names: migrations can name what they alter or drop.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Every module that declares tables on `Base`; `create_schema` imports them
# so a database always gets the whole schema, whichever store opened it first.
MODEL_MODULES = (
    "cloud.catalog.models",
    "cloud.orders",
    "cloud.replenishment.alert_state",
    "cloud.notify.models",
    "cloud.suggest.book",
    "cloud.connectors.models",
)

_SCHEMA_ATTEMPTS = 3


class Base(DeclarativeBase):
    """The declarative base of every cloud table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[datetime]):
    """A point in time, stored in UTC and always read back timezone-aware, in UTC.

    SQLite keeps no offset (it hands values back naive) and PostgreSQL answers
    in the session's time zone; with this one column type every reader gets
    aware UTC datetimes, and an aware value in another zone is converted to
    UTC before it is stored, not kept as wall time. Naive values are taken as
    UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else _as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else _as_utc(value)


def _as_utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


@contextmanager
def store_errors(what: str) -> Iterator[None]:
    """Database errors as `StoreUnavailable` naming `what` (e.g. "order database")."""
    try:
        yield
    except SQLAlchemyError as exc:
        raise StoreUnavailable(f"{what}: {exc}") from exc


def normalise_url(url: str) -> str:
    """The SQLAlchemy URL to use for `url`.

    `postgresql://` and `postgres://` (what most tools and hosting services
    hand out) select psycopg 2, which is not installed; this project talks
    to PostgreSQL through psycopg 3.
    """
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> Engine:
    """An engine for `url`, after `normalise_url`.

    SQLite: the database's directory is created, and every connection runs in
    WAL mode (readers do not block the writer), waits up to 5 s for a lock
    instead of failing at once, and enforces foreign keys (off by default in
    SQLite; the catalog's delete rules depend on them).
    """
    engine = create_engine(normalise_url(url))
    if engine.dialect.name == "sqlite":
        _ensure_sqlite_dir(engine)
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def import_models() -> None:
    """Import every module that declares tables, filling `Base.metadata`."""
    for module in MODEL_MODULES:
        importlib.import_module(module)


def create_schema(engine: Engine) -> None:
    """Create every missing table and index; safe while others do the same."""
    import_models()
    # Processes starting together race between "does the table exist?" and
    # "create it"; the loser's second look finds the winner's table.
    # (PostgreSQL reports the clash on its catalog as an IntegrityError.)
    for attempt in range(_SCHEMA_ATTEMPTS):
        try:
            Base.metadata.create_all(engine)
            return
        except (OperationalError, ProgrammingError, IntegrityError):
            if attempt == _SCHEMA_ATTEMPTS - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def _ensure_sqlite_dir(engine: Engine) -> None:
    database = engine.url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_conn: object, _record: object) -> None:
    cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()

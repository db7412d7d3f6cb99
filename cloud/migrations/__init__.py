"""Schema migrations of the cloud database (Alembic), run from code.

    from cloud.migrations import upgrade
    upgrade("postgresql://vmi@db/vmi")    # the API does this at start-up

The scripts live in `cloud/migrations/versions/`; Alembic is configured here,
programmatically, so no `alembic.ini` has to be found. To write a migration
after changing a model, autogenerate one against a database at head:

    uv run python -m cloud.migrations revision "add foo to bar" sqlite:///vmi-orders.db

Databases made before migrations existed (the collector's
`cloud.db.create_schema` creates tables directly) are adopted: a migration
that creates a table creates it only when it is missing, so the first
upgrade of such a database records the baseline without failing.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection

from cloud.db import MODEL_MODULES, Base, make_engine

HERE = Path(__file__).resolve().parent

MIGRATED_MODULES = (*MODEL_MODULES, "cloud.api.security", "cloud.portal.accounts")
"""Every module declaring tables on `Base`: `cloud.db.import_models()`'s, and the
API's keys and the portal's accounts, which only the API creates (importing them
imports FastAPI)."""

# pg_advisory_xact_lock key: API processes starting together migrate one at a time.
_LOCK_KEY = 0x766D695F6D696772  # "vmi_migr"


def target_metadata() -> MetaData:
    """`Base.metadata` with every model module imported: the schema at head."""
    for module in MIGRATED_MODULES:
        importlib.import_module(module)
    return Base.metadata


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for this package's scripts, on `connection` if given."""
    config = Config()
    config.set_main_option("script_location", str(HERE))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head() -> str:
    """The newest revision."""
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert revision is not None
    return revision


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision` (default: the newest).

    On PostgreSQL a transaction-scoped advisory lock serialises processes
    that start together; the whole upgrade is one transaction there.
    """
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
            command.upgrade(alembic_config(connection), revision)
    finally:
        engine.dispose()


def current(url: str) -> str | None:
    """The revision the database at `url` is at; None before any migration."""
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def main(argv: list[str]) -> int:
    """The `python -m cloud.migrations` command."""
    if len(argv) != 3 or argv[0] != "revision":
        print('usage: python -m cloud.migrations revision "message" DATABASE_URL', file=sys.stderr)
        return 2
    _, message, url = argv
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            command.revision(alembic_config(connection), message=message, autogenerate=True)
    finally:
        engine.dispose()
    return 0

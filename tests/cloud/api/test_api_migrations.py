"""Alembic migrations: a fresh database at head has exactly the models' schema
(autogenerate finds nothing to do), on SQLite and PostgreSQL; a database the
collector made with `create_schema` before migrations existed is adopted."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from cloud.catalog import Catalog
from cloud.db import Base, make_engine
from cloud.migrations import current, head, target_metadata, upgrade
from cloud.orders import OrderBook


def schema_diff(url: str) -> list[Any]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, target_metadata()))
    finally:
        engine.dispose()


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_a_fresh_database_at_head_matches_the_models(sql_url: str) -> None:
    assert current(sql_url) is None
    upgrade(sql_url)
    assert current(sql_url) == head()
    assert schema_diff(sql_url) == []
    assert tables(sql_url) == set(target_metadata().tables)
    assert {"api_key", "replenishment_order", "vmi_agreement", "webhook_subscription"} <= tables(
        sql_url
    )


def test_upgrading_twice_changes_nothing(sql_url: str) -> None:
    upgrade(sql_url)
    upgrade(sql_url)
    assert current(sql_url) == head()
    assert schema_diff(sql_url) == []


def test_a_database_made_by_create_schema_is_adopted(sql_url: str) -> None:
    # What the collector does today: tables straight from the models.
    Catalog(sql_url).close()
    OrderBook(sql_url).close()
    made = tables(sql_url)
    assert {"supplier", "replenishment_order"} <= made
    upgrade(sql_url)
    assert current(sql_url) == head()
    assert schema_diff(sql_url) == []


def test_every_table_of_every_cloud_module_is_migrated(sqlite_url: str) -> None:
    """A model added anywhere in `cloud` without a migration fails here."""
    import cloud

    scripts = ("cloud.migrations.versions", "cloud.migrations.env", "cloud.migrations.__main__")
    for module in pkgutil.walk_packages(cloud.__path__, "cloud."):
        if not module.name.startswith(scripts):
            importlib.import_module(module.name)
    upgrade(sqlite_url)
    assert tables(sqlite_url) == set(Base.metadata.tables)

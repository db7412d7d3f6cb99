"""Alembic's environment: run the migrations on the connection `cloud.migrations` hands in."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from cloud.migrations import target_metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata(),
        # SQLite alters tables by copying them; Alembic's batch mode does that.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit(
        "offline (--sql) migrations are not supported: the scripts inspect the database"
    )
connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise SystemExit("run migrations through cloud.migrations.upgrade(url)")
_run(connection)

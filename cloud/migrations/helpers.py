"""What migration scripts share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from alembic import op


@dataclass(frozen=True)
class IndexSpec:
    """An index to create with its table; `where` makes it partial (SQLite and PostgreSQL)."""

    name: str
    columns: tuple[str, ...]
    unique: bool = False
    where: str | None = None


def create_table_if_missing(
    name: str, *elements: sa.schema.SchemaItem, indexes: Sequence[IndexSpec] = ()
) -> bool:
    """Create table `name` and its indexes unless the table exists; True if created.

    Databases that `cloud.db.create_schema` made before migrations existed
    already have the table (and its indexes): they are adopted as they are.
    """
    if sa.inspect(op.get_bind()).has_table(name):
        return False
    op.create_table(name, *elements)
    for index in indexes:
        where = None if index.where is None else sa.text(index.where)
        op.create_index(
            index.name,
            name,
            list(index.columns),
            unique=index.unique,
            sqlite_where=where,
            postgresql_where=where,
        )
    return True

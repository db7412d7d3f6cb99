"""Webhook subscriptions belong to a (role, tenant) pair, and say whether an admin made them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08

Adds `webhook_subscription.tenant_role` ("supplier" or "customer") and
`webhook_subscription.allow_private` (made by an admin: the notifier's
allowlist of private addresses serves it), each only when missing (a
database `create_schema` made from the current models has them already).

Existing rows: a tenant's role is the catalog's when the code names a
supplier or a customer but not both; a row whose code is both or neither
keeps no role and matches no alert until it is made again with one (it
cannot be told whose it is). `allow_private` is set on the rows without a
tenant, which only admins could make; a tenant's row, made by an admin or
not, does not get it (make it again as an admin if it needs the allowlist).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "webhook_subscription"


def _columns() -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns(_TABLE)}


def upgrade() -> None:
    have = _columns()
    if "tenant_role" not in have:
        op.add_column(_TABLE, sa.Column("tenant_role", sa.String(length=16), nullable=True))
        _backfill_roles()
    if "allow_private" not in have:
        op.add_column(
            _TABLE,
            sa.Column("allow_private", sa.Boolean(), server_default=sa.false(), nullable=False),
        )
        subs = sa.table(_TABLE, sa.column("tenant", sa.String), sa.column("allow_private"))
        op.execute(subs.update().where(subs.c.tenant.is_(None)).values(allow_private=sa.true()))


def _backfill_roles() -> None:
    subs = sa.table(_TABLE, sa.column("tenant", sa.String), sa.column("tenant_role", sa.String))
    supplier = sa.table("supplier", sa.column("code", sa.String))
    customer = sa.table("customer", sa.column("code", sa.String))
    suppliers = sa.select(supplier.c.code)
    customers = sa.select(customer.c.code)
    for role, mine, theirs in (
        ("supplier", suppliers, customers),
        ("customer", customers, suppliers),
    ):
        op.execute(
            subs.update()
            .where(
                subs.c.tenant.is_not(None),
                subs.c.tenant_role.is_(None),
                subs.c.tenant.in_(mine),
                subs.c.tenant.not_in(theirs),
            )
            .values(tenant_role=role)
        )


def downgrade() -> None:
    with op.batch_alter_table(_TABLE) as batch:
        batch.drop_column("allow_private")
        batch.drop_column("tenant_role")

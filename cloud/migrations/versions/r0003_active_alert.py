"""Active alerts (`cloud.replenishment.alert_state`): each alert raised once per episode.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

Created only when missing (see the baseline).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cloud.migrations.helpers import create_table_if_missing

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_table_if_missing(
        "active_alert",
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("site", "subject", "kind", name=op.f("pk_active_alert")),
    )


def downgrade() -> None:
    op.drop_table("active_alert")

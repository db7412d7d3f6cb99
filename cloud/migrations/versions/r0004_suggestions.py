"""Agreement suggestions (`cloud.suggest.book`): what was proposed and who decided.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05

Created only when missing (see the baseline).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cloud.migrations.helpers import IndexSpec, create_table_if_missing

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = "status = 'open'"
_OPTIONAL = (
    "current_service_level",
    "current_review_period_days",
    "current_reorder_point",
    "current_order_up_to",
    "current_avg_on_hand",
    "current_fill_rate",
    "current_stockout_days",
    "current_orders",
    "service_level",
    "review_period_days",
    "reorder_point",
    "order_up_to",
    "avg_on_hand",
    "fill_rate",
    "stockout_days",
    "orders",
)


def upgrade() -> None:
    create_table_if_missing(
        "agreement_suggestion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("supplier", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("window_days", sa.Float(), nullable=False),
        sa.Column("target_fill_rate", sa.Float(), nullable=False),
        sa.Column("flags", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        *(sa.Column(name, sa.Float(), nullable=True) for name in _OPTIONAL),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_suggestion")),
        sa.CheckConstraint(
            "status IN ('open', 'accepted', 'dismissed', 'superseded')",
            name=op.f("ck_agreement_suggestion_status"),
        ),
        indexes=[
            IndexSpec(
                "one_open_suggestion_per_site_sku", ("site", "sku"), unique=True, where=_OPEN
            ),
            IndexSpec("ix_agreement_suggestion_site_sku_status", ("site", "sku", "status")),
        ],
    )


def downgrade() -> None:
    op.drop_table("agreement_suggestion")

"""ERP/CRM connectors (`cloud.connectors.models`): the steps each order owes each system,
every attempt, and the remote record each order became.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05

Created only when missing (see the baseline).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cloud.migrations.helpers import IndexSpec, create_table_if_missing

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ORDER = "replenishment_order.id"


def upgrade() -> None:
    create_table_if_missing(
        "connector_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("link", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("attempts_before", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claim", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connector_delivery")),
        sa.ForeignKeyConstraint(
            ["order_id"],
            [_ORDER],
            name=op.f("fk_connector_delivery_order_id_replenishment_order"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("link", "order_id", "action", name="uq_connector_delivery_step"),
        sa.CheckConstraint(
            "status IN ('pending', 'done', 'failed', 'given_up', 'skipped', 'unsupported')",
            name=op.f("ck_connector_delivery_status"),
        ),
        sa.CheckConstraint(
            "action IN ('create', 'confirm', 'ship', 'cancel')",
            name=op.f("ck_connector_delivery_action"),
        ),
        indexes=[
            IndexSpec("ix_connector_delivery_order_id", ("order_id",)),
            IndexSpec("ix_connector_delivery_due", ("link", "status", "next_attempt_at")),
        ],
    )
    create_table_if_missing(
        "connector_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connector_attempt")),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["connector_delivery.id"],
            name=op.f("fk_connector_attempt_delivery_id_connector_delivery"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("delivery_id", "attempt", name="uq_connector_attempt_delivery_attempt"),
        sa.CheckConstraint(
            "outcome IN ('done', 'retry', 'failed', 'given_up', 'unsupported')",
            name=op.f("ck_connector_attempt_outcome"),
        ),
        indexes=[IndexSpec("ix_connector_attempt_delivery_id", ("delivery_id",))],
    )
    create_table_if_missing(
        "order_remote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("link", sa.String(length=40), nullable=False),
        sa.Column("system", sa.String(length=32), nullable=False),
        sa.Column("record_type", sa.String(length=64), nullable=False),
        sa.Column("remote_id", sa.String(length=140), nullable=False),
        sa.Column("remote_name", sa.String(length=140), nullable=True),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("remote_state", sa.String(length=64), nullable=True),
        sa.Column("remote_status", sa.String(length=16), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("check_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_remote")),
        sa.ForeignKeyConstraint(
            ["order_id"],
            [_ORDER],
            name=op.f("fk_order_remote_order_id_replenishment_order"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("order_id", "link", name="uq_order_remote_order_link"),
        indexes=[IndexSpec("ix_order_remote_order_id", ("order_id",))],
    )


def downgrade() -> None:
    op.drop_table("order_remote")
    op.drop_table("connector_attempt")
    op.drop_table("connector_delivery")

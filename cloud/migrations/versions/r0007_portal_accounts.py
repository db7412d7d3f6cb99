"""Portal accounts (`cloud.portal.accounts`): people who sign in, and their sessions.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05

Created only when missing (see the baseline).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cloud.migrations.helpers import IndexSpec, create_table_if_missing

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_table_if_missing(
        "portal_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=True),
        sa.Column("locale", sa.String(length=8), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_user")),
        sa.UniqueConstraint("login", name=op.f("uq_portal_user_login")),
        sa.CheckConstraint(
            "role IN ('admin', 'supplier', 'customer')", name=op.f("ck_portal_user_role")
        ),
    )
    create_table_if_missing(
        "portal_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_session")),
        sa.UniqueConstraint("digest", name=op.f("uq_portal_session_digest")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["portal_user.id"],
            name=op.f("fk_portal_session_user_id_portal_user"),
            ondelete="CASCADE",
        ),
        indexes=[IndexSpec("ix_portal_session_user_id", ("user_id",))],
    )


def downgrade() -> None:
    op.drop_table("portal_session")
    op.drop_table("portal_user")

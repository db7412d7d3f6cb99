"""Baseline: the catalog, replenishment orders and API keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-24

Each table (with its indexes) is created only when it is missing, so a
database that `cloud.db.create_schema` made before migrations existed is
adopted as it is.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cloud.migrations.helpers import IndexSpec, create_table_if_missing

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = "status IN ('proposed', 'confirmed', 'shipped')"


def upgrade() -> None:
    create_table_if_missing(
        "api_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=12), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=True),
        sa.Column("read_only", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(role = 'admin' AND tenant IS NULL) OR (role <> 'admin' AND tenant IS NOT NULL)",
            name=op.f("ck_api_key_tenant"),
        ),
        sa.CheckConstraint(
            "role IN ('admin', 'supplier', 'customer')", name=op.f("ck_api_key_role")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_key_prefix")),
    )
    create_table_if_missing(
        "customer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer")),
        sa.UniqueConstraint("code", name=op.f("uq_customer_code")),
    )
    create_table_if_missing(
        "replenishment_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("supplier", sa.String(length=64), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("on_hand_at_trigger", sa.Float(), nullable=False),
        sa.Column("rate_per_day", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expected_arrival", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_quantity", sa.Float(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "status IN ('proposed', 'confirmed', 'shipped', 'received', 'cancelled')",
            name=op.f("ck_replenishment_order_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replenishment_order")),
        indexes=[
            IndexSpec("one_open_order_per_site_sku", ("site", "sku"), unique=True, where=_OPEN)
        ],
    )
    create_table_if_missing(
        "sku",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("gtin", sa.String(length=14), nullable=True),
        sa.Column("unit_weight_g", sa.Float(), nullable=True),
        sa.Column("pack_size", sa.Integer(), nullable=False),
        sa.Column("min_order_qty", sa.Integer(), nullable=False),
        sa.CheckConstraint("min_order_qty >= 1", name=op.f("ck_sku_min_order_qty")),
        sa.CheckConstraint("pack_size >= 1", name=op.f("ck_sku_pack_size")),
        sa.CheckConstraint(
            "unit_weight_g IS NULL OR unit_weight_g > 0", name=op.f("ck_sku_unit_weight")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sku")),
        sa.UniqueConstraint("code", name=op.f("uq_sku_code")),
        sa.UniqueConstraint("gtin", name=op.f("uq_sku_gtin")),
    )
    create_table_if_missing(
        "supplier",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplier")),
        sa.UniqueConstraint("code", name=op.f("uq_supplier_code")),
    )
    create_table_if_missing(
        "site",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_site_customer_id_customer"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site")),
        sa.UniqueConstraint("code", name=op.f("uq_site_code")),
        indexes=[IndexSpec(op.f("ix_site_customer_id"), ("customer_id",))],
    )
    create_table_if_missing(
        "device",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "kind IN ('gateway', 'scale', 'rfid_reader', 'sensor_node')",
            name=op.f("ck_device_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_device_site_id_site"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device")),
        sa.UniqueConstraint("code", name=op.f("uq_device_code")),
        indexes=[IndexSpec(op.f("ix_device_site_id"), ("site_id",))],
    )
    create_table_if_missing(
        "location",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.CheckConstraint("kind IN ('shelf', 'bin')", name=op.f("ck_location_kind")),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_location_site_id_site"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_location")),
        sa.UniqueConstraint("site_id", "code", name="uq_location_site_code"),
    )
    create_table_if_missing(
        "vmi_agreement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("sku_id", sa.Integer(), nullable=False),
        sa.Column("lead_time_days", sa.Float(), nullable=False),
        sa.Column("lead_time_sigma_days", sa.Float(), nullable=False),
        sa.Column("service_level", sa.Float(), nullable=False),
        sa.Column("review_period_days", sa.Float(), nullable=False),
        sa.Column("min_level", sa.Float(), nullable=False),
        sa.Column("max_level", sa.Float(), nullable=False),
        sa.Column("level_unit", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "level_unit IN ('units', 'days_of_supply')", name=op.f("ck_vmi_agreement_level_unit")
        ),
        sa.CheckConstraint("lead_time_days > 0", name=op.f("ck_vmi_agreement_lead_time")),
        sa.CheckConstraint(
            "lead_time_sigma_days >= 0", name=op.f("ck_vmi_agreement_lead_time_sigma")
        ),
        sa.CheckConstraint(
            "min_level >= 0 AND min_level <= max_level", name=op.f("ck_vmi_agreement_min_max")
        ),
        sa.CheckConstraint("review_period_days >= 0", name=op.f("ck_vmi_agreement_review_period")),
        sa.CheckConstraint(
            "service_level > 0 AND service_level < 1",
            name=op.f("ck_vmi_agreement_service_level"),
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["site.id"],
            name=op.f("fk_vmi_agreement_site_id_site"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["sku_id"], ["sku.id"], name=op.f("fk_vmi_agreement_sku_id_sku"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["supplier.id"],
            name=op.f("fk_vmi_agreement_supplier_id_supplier"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vmi_agreement")),
        sa.UniqueConstraint("site_id", "sku_id", name="uq_vmi_agreement_site_sku"),
        indexes=[
            IndexSpec(op.f("ix_vmi_agreement_sku_id"), ("sku_id",)),
            IndexSpec(op.f("ix_vmi_agreement_supplier_id"), ("supplier_id",)),
        ],
    )
    create_table_if_missing(
        "device_binding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("sku_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["device.id"],
            name=op.f("fk_device_binding_device_id_device"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["location.id"],
            name=op.f("fk_device_binding_location_id_location"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sku_id"], ["sku.id"], name=op.f("fk_device_binding_sku_id_sku"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_binding")),
        sa.UniqueConstraint(
            "device_id", "location_id", "sku_id", name="uq_device_binding_device_location_sku"
        ),
        indexes=[
            IndexSpec(op.f("ix_device_binding_location_id"), ("location_id",)),
            IndexSpec(op.f("ix_device_binding_sku_id"), ("sku_id",)),
        ],
    )


def downgrade() -> None:
    for table in (
        "device_binding",
        "vmi_agreement",
        "location",
        "device",
        "site",
        "supplier",
        "sku",
        "replenishment_order",
        "customer",
        "api_key",
    ):
        op.drop_table(table)

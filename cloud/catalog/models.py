"""Catalog tables: suppliers, customers, sites and their locations, SKUs, VMI
agreements, devices and what each device reports.

Rows refer to each other by surrogate id; every table also has a natural key
(codes) that the rest of the system uses. Delete rules, enforced by the
database (SQLite with foreign_keys=ON, see cloud/db.py):

* a site's locations go with the site, a device's bindings with the device,
  a location's bindings with the location (CASCADE);
* a customer with sites, a supplier, site or SKU named by an agreement, a site
  with devices and a SKU a device reports cannot be deleted (RESTRICT).
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cloud.db import Base

_CODE = 64
_NAME = 200


class Supplier(Base):
    """A supplier that manages stock at customer sites."""

    __tablename__ = "supplier"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(_CODE), unique=True)
    name: Mapped[str] = mapped_column(String(_NAME))
    email: Mapped[str | None] = mapped_column(String(254))


class Customer(Base):
    """A customer whose sites hold the stock."""

    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(_CODE), unique=True)
    name: Mapped[str] = mapped_column(String(_NAME))


class Site(Base):
    """A customer's warehouse or plant."""

    __tablename__ = "site"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(_CODE), unique=True)
    name: Mapped[str | None] = mapped_column(String(_NAME))
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="RESTRICT"), index=True
    )

    customer: Mapped[Customer] = relationship(lazy="joined")
    locations: Mapped[list[Location]] = relationship(
        back_populates="site", cascade="all, delete-orphan", passive_deletes=True
    )


class Location(Base):
    """A shelf or bin at a site."""

    __tablename__ = "location"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(_CODE))
    kind: Mapped[str] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(String(_NAME))

    site: Mapped[Site] = relationship(back_populates="locations", lazy="joined")

    __table_args__ = (
        UniqueConstraint("site_id", "code", name="uq_location_site_code"),
        CheckConstraint("kind IN ('shelf', 'bin')", name="kind"),
    )


class Sku(Base):
    """A stock-keeping unit."""

    __tablename__ = "sku"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(_CODE), unique=True)
    name: Mapped[str | None] = mapped_column(String(_NAME))
    gtin: Mapped[str | None] = mapped_column(String(14), unique=True)
    unit_weight_g: Mapped[float | None] = mapped_column(Float)
    pack_size: Mapped[int] = mapped_column(Integer)
    min_order_qty: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        CheckConstraint("unit_weight_g IS NULL OR unit_weight_g > 0", name="unit_weight"),
        CheckConstraint("pack_size >= 1", name="pack_size"),
        CheckConstraint("min_order_qty >= 1", name="min_order_qty"),
    )


class Agreement(Base):
    """A VMI agreement: one managing supplier per (site, SKU), with its terms."""

    __tablename__ = "vmi_agreement"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    supplier_id: Mapped[int] = mapped_column(
        ForeignKey("supplier.id", ondelete="RESTRICT"), index=True
    )
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="RESTRICT"))
    sku_id: Mapped[int] = mapped_column(ForeignKey("sku.id", ondelete="RESTRICT"), index=True)
    lead_time_days: Mapped[float] = mapped_column(Float)
    lead_time_sigma_days: Mapped[float] = mapped_column(Float)
    service_level: Mapped[float] = mapped_column(Float)
    review_period_days: Mapped[float] = mapped_column(Float)
    min_level: Mapped[float] = mapped_column(Float)
    max_level: Mapped[float] = mapped_column(Float)
    level_unit: Mapped[str] = mapped_column(String(16))

    supplier: Mapped[Supplier] = relationship(lazy="joined")
    site: Mapped[Site] = relationship(lazy="joined")
    sku: Mapped[Sku] = relationship(lazy="joined")

    __table_args__ = (
        UniqueConstraint("site_id", "sku_id", name="uq_vmi_agreement_site_sku"),
        CheckConstraint("lead_time_days > 0", name="lead_time"),
        CheckConstraint("lead_time_sigma_days >= 0", name="lead_time_sigma"),
        CheckConstraint("service_level > 0 AND service_level < 1", name="service_level"),
        CheckConstraint("review_period_days >= 0", name="review_period"),
        CheckConstraint("min_level >= 0 AND min_level <= max_level", name="min_max"),
        CheckConstraint("level_unit IN ('units', 'days_of_supply')", name="level_unit"),
    )


class Device(Base):
    """A device registered at a site."""

    __tablename__ = "device"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(_CODE), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(16))

    site: Mapped[Site] = relationship(lazy="joined")
    bindings: Mapped[list[DeviceBinding]] = relationship(
        back_populates="device",
        cascade="all, delete-orphan",
        passive_deletes=True,
        lazy="selectin",
    )

    __table_args__ = (
        CheckConstraint("kind IN ('gateway', 'scale', 'rfid_reader', 'sensor_node')", name="kind"),
    )


class DeviceBinding(Base):
    """A device reports one SKU at one location of its site."""

    __tablename__ = "device_binding"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"))
    location_id: Mapped[int] = mapped_column(
        ForeignKey("location.id", ondelete="CASCADE"), index=True
    )
    sku_id: Mapped[int] = mapped_column(ForeignKey("sku.id", ondelete="RESTRICT"), index=True)

    device: Mapped[Device] = relationship(back_populates="bindings")
    location: Mapped[Location] = relationship(lazy="joined")
    sku: Mapped[Sku] = relationship(lazy="joined")

    __table_args__ = (
        UniqueConstraint(
            "device_id", "location_id", "sku_id", name="uq_device_binding_device_location_sku"
        ),
    )

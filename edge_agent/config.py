"""Edge agent configuration: typed, validated once at start-up.

A config file is TOML; see `edge_agent/sample.toml`. Each `[[scales]]` table
mixes the agent's binding (which SKU at which location, item weight, tare)
with the driver's own settings (selected by `type`); the binding fields are
split off here and the rest is validated by the driver's model.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from edge_agent.drivers.registry import ReaderDriverConfig, ScaleDriverConfig
from edge_agent.outbox import OutboxLimits, OverflowPolicy
from edge_agent.shelf import ShelfSettings
from vmi.config_file import load_toml
from vmi.mqtt_connection import MqttConnection
from vmi.wire import Identifier


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _DeviceBinding(_Strict):
    """A device table: the agent's binding fields plus the driver's settings."""

    @model_validator(mode="before")
    @classmethod
    def _split_driver(cls, data: Any) -> Any:
        # Users write one flat table per device; the driver owns every key that
        # is not a binding field.
        if not isinstance(data, dict) or "driver" in data:
            return data
        own = {k: v for k, v in data.items() if k in cls.model_fields}
        own["driver"] = {k: v for k, v in data.items() if k not in cls.model_fields}
        return own


class ScaleConfig(_DeviceBinding):
    """One scale watching one SKU at one location."""

    location: Identifier
    sku: Identifier
    item_weight_g: float = Field(gt=0, description="Weight of one unit of the SKU.")
    tare_g: float = Field(default=0.0, ge=0, description="Weight of the empty bin/shelf.")
    span: float = Field(default=1.0, gt=0, description="Calibration factor on the net weight.")
    poll_interval_s: float = Field(default=1.0, gt=0, le=3600)
    settle_samples: int = Field(
        default=3,
        ge=1,
        le=100,
        description="Stable samples that must agree before a weight counts.",
    )
    settle_tolerance_g: float | None = Field(
        default=None, gt=0, description="How closely they must agree (default: a quarter item)."
    )
    min_confidence: float = Field(
        default=0.5, ge=0, le=1, description="Below this, a count is reported as uncertain."
    )
    driver: ScaleDriverConfig

    def shelf_settings(self) -> ShelfSettings:
        return ShelfSettings(
            item_weight_g=self.item_weight_g,
            tare_g=self.tare_g,
            span=self.span,
            settle_samples=self.settle_samples,
            settle_tolerance_g=self.settle_tolerance_g,
            min_confidence=self.min_confidence,
        )


class ReaderConfig(_DeviceBinding):
    """One RFID reader counting tagged units at one location."""

    location: Identifier
    tag_map: dict[str, Identifier] = Field(
        default_factory=dict,
        description="Tag id (hex, as the reader reports it) -> SKU, for tags that are not SGTIN.",
    )
    gtin_map: dict[str, Identifier] = Field(
        default_factory=dict,
        description="GTIN-14 -> SKU for SGTIN-96 tags; unmapped GTINs are used as the SKU.",
    )
    skus: list[Identifier] = Field(
        default_factory=list, description="SKUs reported here even before a tag is seen (as 0)."
    )
    presence_window_s: float = Field(
        default=10.0, gt=0, description="A tag counts as present while seen within this."
    )
    min_sightings: int = Field(
        default=2, ge=1, le=100, description="Sightings before a tag counts (ghost reads)."
    )
    poll_interval_s: float = Field(default=0.5, gt=0, le=3600)
    driver: ReaderDriverConfig


class MqttConfig(MqttConnection):
    """The broker connection (URL, credentials, TLS, backoff) and this agent's client id."""

    client_id: str | None = Field(default=None, description="Default: vmi-edge-<site>-<device>.")


class PublishConfig(_Strict):
    heartbeat_s: float = Field(
        default=60.0, gt=0, description="Republish an unchanged level at least this often."
    )
    status_interval_s: float = Field(
        default=60.0, gt=0, description="Republish the retained status (outbox depth) this often."
    )
    linger_s: float = Field(
        default=0.2, ge=0, le=60, description="Wait this long to batch readings into one message."
    )
    max_batch: int = Field(default=500, ge=1, le=5000)


class OutboxConfig(_Strict):
    """Messages wait here until the broker acknowledged them."""

    kind: Literal["disk", "memory"] = Field(
        default="disk", description="disk survives crashes and power cuts; memory does not."
    )
    max_messages: int = Field(default=100_000, ge=1)
    max_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    max_age_s: float = Field(default=7 * 86_400.0, gt=0)
    overflow: OverflowPolicy = OverflowPolicy.DROP_OLDEST
    max_in_flight: int = Field(
        default=100, ge=1, le=10_000, description="Messages sent but not yet acknowledged."
    )

    @property
    def limits(self) -> OutboxLimits:
        return OutboxLimits(self.max_messages, self.max_bytes, self.max_age_s, self.overflow)


class EdgeConfig(_Strict):
    """The whole edge agent configuration."""

    site: Identifier
    device: Identifier
    state_dir: Path = Field(description="Where the agent keeps its sequence numbers.")
    mqtt: MqttConfig = MqttConfig()
    publish: PublishConfig = PublishConfig()
    outbox: OutboxConfig = OutboxConfig()
    scales: list[ScaleConfig] = Field(default_factory=list)
    readers: list[ReaderConfig] = Field(default_factory=list)
    mismatch_grace_s: float = Field(
        default=60.0, gt=0, description="How long weight and RFID may disagree before an event."
    )

    @model_validator(mode="after")
    def _devices(self) -> EdgeConfig:
        if not self.scales and not self.readers:
            raise ValueError("configure at least one device: [[scales]] or [[readers]]")
        seen: set[tuple[str, str]] = set()
        for scale in self.scales:
            key = (scale.location, scale.sku)
            if key in seen:
                raise ValueError(f"two scales for SKU {scale.sku} at location {scale.location}")
            seen.add(key)
        return self

    @property
    def client_id(self) -> str:
        return self.mqtt.client_id or f"vmi-edge-{self.site}-{self.device}"


def load_edge_config(path: str | Path) -> EdgeConfig:
    """Read and validate a TOML config file; raise `ConfigError` saying what is wrong."""
    return load_toml(path, EdgeConfig, "edge config")


def config_hash(config: EdgeConfig) -> str:
    """A short digest of the validated config (every default filled in).

    Published in the birth message so the fleet board shows which devices
    run which config; equal configs give equal digests whatever their
    file's layout or comments.
    """
    canonical = json.dumps(config.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]

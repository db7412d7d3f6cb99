"""The one place drivers register: config model and constructor per `type`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import Field

from edge_agent.drivers.base import WeightDriver
from edge_agent.drivers.mtsics import MtSicsConfig, MtSicsScale

# A discriminated union on `type`; add each new driver's config model here.
# (With one member the union collapses, so the discriminator joins later.)
DriverConfig = Annotated[MtSicsConfig, Field(description="Driver settings, chosen by `type`.")]

_FACTORIES: dict[str, Callable[[Any], WeightDriver]] = {
    "mtsics": MtSicsScale,
}


def known_drivers() -> list[str]:
    return sorted(_FACTORIES)


def create_driver(config: DriverConfig) -> WeightDriver:
    """Build the driver for a validated driver config (does not open the device)."""
    return _FACTORIES[config.type](config)

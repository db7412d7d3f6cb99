"""The one place drivers register: kind, config model and constructor per `type`.

A scale driver answers `read_weight` (`WeightDriver`), a reader driver
`read_tags` (`TagDriver`). Config tables select their driver by `type`; the
unions below are discriminated on it, so a typo names the known types.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, ValidationError

from edge_agent.drivers.aandd import AandDConfig, AandDScale
from edge_agent.drivers.base import TagDriver, WeightDriver
from edge_agent.drivers.chafon import ChafonConfig, ChafonReader
from edge_agent.drivers.em4100 import Em4100Config, Em4100Reader
from edge_agent.drivers.mtsics import MtSicsConfig, MtSicsScale
from edge_agent.drivers.openscale import OpenScale, OpenScaleConfig
from edge_agent.drivers.sartorius import SartoriusConfig, SartoriusScale
from edge_agent.drivers.stgs import StGsConfig, StGsIndicator
from edge_agent.drivers.tasmota import (
    TasmotaHx711,
    TasmotaHx711Config,
    TasmotaRdm6300,
    TasmotaRdm6300Config,
)
from vmi.errors import ConfigError


@dataclass(frozen=True, slots=True)
class DriverInfo:
    kind: Literal["scale", "reader"]
    config: type[BaseModel]
    factory: Callable[[Any], WeightDriver | TagDriver]
    summary: str


DRIVERS: Mapping[str, DriverInfo] = {
    "mtsics": DriverInfo("scale", MtSicsConfig, MtSicsScale, "Mettler Toledo MT-SICS, serial"),
    "aandd": DriverInfo("scale", AandDConfig, AandDScale, "A&D balances, serial"),
    "stgs": DriverInfo("scale", StGsConfig, StGsIndicator, "ST,GS indicators (Dini Argeo), serial"),
    "sartorius": DriverInfo("scale", SartoriusConfig, SartoriusScale, "Sartorius SBI, serial"),
    "openscale": DriverInfo("scale", OpenScaleConfig, OpenScale, "SparkFun OpenScale, serial"),
    "tasmota_hx711": DriverInfo(
        "scale", TasmotaHx711Config, TasmotaHx711, "Tasmota HX711 load-cell node, MQTT"
    ),
    "em4100": DriverInfo("reader", Em4100Config, Em4100Reader, "EM4100 tags, RDM6300-class reader"),
    "chafon": DriverInfo("reader", ChafonConfig, ChafonReader, "Chafon CF-RU5102-class UHF reader"),
    "tasmota_rdm6300": DriverInfo(
        "reader", TasmotaRdm6300Config, TasmotaRdm6300, "Tasmota RDM6300 node, MQTT"
    ),
}

ScaleDriverConfig = Annotated[
    MtSicsConfig
    | AandDConfig
    | StGsConfig
    | SartoriusConfig
    | OpenScaleConfig
    | TasmotaHx711Config,
    Field(discriminator="type", description="Scale driver settings, chosen by `type`."),
]

ReaderDriverConfig = Annotated[
    Em4100Config | ChafonConfig | TasmotaRdm6300Config,
    Field(discriminator="type", description="RFID reader driver settings, chosen by `type`."),
]


def known_drivers(kind: str | None = None) -> list[str]:
    return sorted(name for name, info in DRIVERS.items() if kind in (None, info.kind))


def driver_info(name: str) -> DriverInfo:
    """The registered driver `name`, or a `ConfigError` listing the known ones."""
    try:
        return DRIVERS[name]
    except KeyError:
        raise ConfigError(
            f"unknown driver {name!r}; known drivers: {', '.join(known_drivers())}"
        ) from None


def driver_config(name: str, options: Mapping[str, Any]) -> BaseModel:
    """Validate `options` for driver `name`; `ConfigError` says what is wrong."""
    info = driver_info(name)
    try:
        return info.config.model_validate({**options, "type": name})
    except ValidationError as exc:
        raise ConfigError(f"{name} settings are invalid:\n{exc}") from exc


def create_scale(config: ScaleDriverConfig) -> WeightDriver:
    """Build the scale driver for a validated config (does not open the device)."""
    driver = DRIVERS[config.type].factory(config)
    assert isinstance(driver, WeightDriver)
    return driver


def create_reader(config: ReaderDriverConfig) -> TagDriver:
    """Build the reader driver for a validated config (does not open the device)."""
    driver = DRIVERS[config.type].factory(config)
    assert isinstance(driver, TagDriver)
    return driver

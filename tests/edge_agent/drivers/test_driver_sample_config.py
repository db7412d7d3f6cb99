"""Every serial driver's sample.toml: the driver part validates and the
commented-out options show the defaults (one check for all drivers)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from edge_agent.drivers.aandd import AandDConfig
from edge_agent.drivers.chafon import ChafonConfig
from edge_agent.drivers.em4100 import Em4100Config
from edge_agent.drivers.mtsics import MtSicsConfig
from edge_agent.drivers.openscale import OpenScaleConfig
from edge_agent.drivers.sartorius import SartoriusConfig
from edge_agent.drivers.stgs import StGsConfig

DRIVERS = Path(__file__).parents[3] / "edge_agent" / "drivers"
SCALE_BINDING = {"location", "sku", "item_weight_g", "tare_g", "poll_interval_s"}
READER_BINDING = {"location", "tag_map"}


@dataclass(frozen=True)
class Sample:
    type: str
    config: Any  # the pydantic config class
    check: Callable[[Any], bool]  # what the sample's driver part must say
    unset: frozenset[str] = frozenset()  # options whose default is "unset" (None)

    @property
    def scale(self) -> bool:
        return self.type not in ("em4100", "chafon")


def _serial(baudrate: int, bytesize: int, parity: str) -> Callable[[Any], bool]:
    return lambda c: (
        (c.baudrate, c.bytesize, c.parity, c.stopbits)
        == (
            baudrate,
            bytesize,
            parity,
            1,
        )
    )


SAMPLES = [
    Sample("mtsics", MtSicsConfig, lambda c: c.port == "/dev/ttyUSB0"),
    Sample("aandd", AandDConfig, lambda c: c.port == "/dev/ttyUSB0"),
    Sample(
        "stgs",
        StGsConfig,
        lambda c: c.port == "/dev/ttyUSB1" and c.address is None,
        frozenset({"address"}),
    ),
    Sample(
        "sartorius",
        SartoriusConfig,
        lambda c: c.port == "/dev/ttyUSB0" and _serial(9600, 7, "O")(c),
    ),
    Sample(
        "openscale",
        OpenScaleConfig,
        lambda c: c.port == "/dev/ttyUSB0" and _serial(9600, 8, "N")(c),
        frozenset({"capacity_g", "underload_g"}),
    ),
    Sample("em4100", Em4100Config, lambda c: c.baudrate == 9600),
    Sample(
        "chafon",
        ChafonConfig,
        lambda c: (c.baudrate, c.address) == (57600, 0xFF),
        frozenset({"scan_time_ds", "power_dbm"}),
    ),
]


def _text(sample: Sample) -> str:
    return (DRIVERS / sample.type / "sample.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.type)
def test_sample_driver_part_validates(sample: Sample) -> None:
    tables = tomllib.loads(_text(sample))["scales" if sample.scale else "readers"]
    assert isinstance(tables, list)
    assert len(tables) == 1
    table: dict[str, Any] = tables[0]
    binding = SCALE_BINDING if sample.scale else READER_BINDING
    assert binding - {"poll_interval_s"} <= table.keys()
    if not sample.scale:
        assert isinstance(table["location"], str)
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in table["tag_map"].items())
    config = sample.config.model_validate({k: v for k, v in table.items() if k not in binding})
    assert config.type == sample.type
    assert sample.check(config)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.type)
def test_sample_commented_options_are_the_defaults(sample: Sample) -> None:
    driver_text = _text(sample).split("--- agent's binding")[0]
    commented = re.findall(r"^# (\w+ = .+)$", driver_text, flags=re.MULTILINE)
    shown = tomllib.loads("\n".join(commented))
    defaults = sample.config(type=sample.type, port="x").model_dump()
    # TOML has no null: an option whose default is "unset" is shown as an example.
    unset = {k for k, v in defaults.items() if v is None}
    assert unset == sample.unset
    assert shown.keys() == defaults.keys() - {"type", "port"} - unset
    assert all(defaults[k] == v for k, v in shown.items())
    for key in unset:
        assert re.search(rf"^## .*\b{key} = ", driver_text, flags=re.MULTILINE), key
        example = re.search(rf"^## ({key} = \S+)$", driver_text, flags=re.MULTILINE)
        if example:  # a whole example line must be a valid setting
            sample.config(type=sample.type, port="x", **tomllib.loads(example[1]))

"""Tasmota driver configuration: the sample tables, defaults and refusals (no broker)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from edge_agent.drivers.tasmota import TasmotaHx711Config, TasmotaRdm6300Config
from edge_agent.drivers.tasmota import hx711 as hx711_module

pytestmark = pytest.mark.timeout(60)

SAMPLE = Path(hx711_module.__file__).parent / "sample.toml"
SCALE_BINDING = {"location", "sku", "item_weight_g", "tare_g", "poll_interval_s"}
READER_BINDING = {"location", "tag_map"}


def test_sample_config_driver_parts_validate() -> None:
    sample = tomllib.loads(SAMPLE.read_text(encoding="utf-8"))
    (scale,) = sample["scales"]
    (reader,) = sample["readers"]
    assert set(scale) | {"poll_interval_s"} >= SCALE_BINDING
    assert set(reader) >= READER_BINDING
    hx = TasmotaHx711Config(**{k: v for k, v in scale.items() if k not in SCALE_BINDING})
    rdm = TasmotaRdm6300Config(**{k: v for k, v in reader.items() if k not in READER_BINDING})
    assert hx.topic == "tasmota_5F2A10"
    assert rdm.topic == "tasmota_7C9E04"
    assert all(len(tag) == 8 for tag in reader["tag_map"])


@pytest.mark.parametrize(
    ("table", "model", "required"),
    [
        ("[[scales]]", TasmotaHx711Config, {"type": "tasmota_hx711", "topic": "t"}),
        ("[[readers]]", TasmotaRdm6300Config, {"type": "tasmota_rdm6300", "topic": "t"}),
    ],
)
def test_sample_commented_options_are_the_defaults(
    table: str, model: type[TasmotaHx711Config | TasmotaRdm6300Config], required: dict[str, str]
) -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    driver_text = text.split(table)[1].split("--- agent's binding")[0]
    commented = re.findall(r"^# (\w+ = .+)$", driver_text, flags=re.MULTILINE)
    shown = tomllib.loads("\n".join(commented))
    defaults = model.model_validate(required).model_dump()
    assert shown.keys() == defaults.keys() - required.keys()
    assert all(defaults[k] == v for k, v in shown.items())


def test_config_defaults() -> None:
    hx = TasmotaHx711Config(type="tasmota_hx711", topic="tasmota_ABC123")
    assert (hx.mqtt_url, hx.full_topic, hx.timeout_s) == (
        "mqtt://127.0.0.1:1883",
        "%prefix%/%topic%/",
        2.0,
    )
    assert (hx.stable_window, hx.stable_tolerance_g, hx.stale_after_s) == (3, 2.0, 30.0)
    rdm = TasmotaRdm6300Config(type="tasmota_rdm6300", topic="tasmota_ABC123")
    assert rdm.debounce_s == 1.0


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"mqtt_url": "http://broker:1883"}, "not an MQTT URL"),
        ({"topic": "tele/+/SENSOR"}, "must not contain"),
        ({"full_topic": "%prefix%/%hostname%/"}, "must contain %topic%"),
        ({"stable_window": 0}, "greater than or equal to 1"),
        ({"stale_after_s": 1.0, "timeout_s": 2.0}, "must be longer than timeout_s"),
        ({"timeout_s": float("nan")}, "finite number"),
        ({"port": "/dev/ttyUSB0"}, "Extra inputs are not permitted"),
    ],
)
def test_bad_config_is_refused(options: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        TasmotaHx711Config(**{"type": "tasmota_hx711", "topic": "tasmota_ABC123", **options})


def test_config_is_frozen() -> None:
    config = TasmotaRdm6300Config(type="tasmota_rdm6300", topic="t")
    with pytest.raises(ValidationError):
        config.topic = "other"  # type: ignore[misc]

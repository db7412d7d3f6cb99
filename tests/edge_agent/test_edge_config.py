from __future__ import annotations

from pathlib import Path

import pytest

from edge_agent.config import config_hash, load_edge_config
from vmi.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_sample_config_validates() -> None:
    config = load_edge_config(ROOT / "edge_agent" / "sample.toml")
    assert config.site == "acme-north"
    assert config.client_id == "vmi-edge-acme-north-gw-01"
    first = config.scales[0]
    assert (first.location, first.sku, first.item_weight_g) == ("A-01", "BOLT-M8", 12.5)
    assert first.driver.type == "mtsics"
    assert first.driver.port == "/dev/ttyUSB0"
    assert first.driver.baudrate == 9600
    reader = config.readers[0]
    assert (reader.location, reader.driver.type, reader.tag_map) == (
        "A-03",
        "em4100",
        {"0F007F5DBA": "GLOVES-L"},
    )


BASE = """
site = "s1"
device = "d1"
state_dir = "/tmp/x"
"""
SCALE = """
[[scales]]
type = "mtsics"
port = "/dev/ttyUSB0"
location = "A-01"
sku = "X"
item_weight_g = 1.0
"""


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        (BASE, "scales"),
        (BASE + SCALE + SCALE, "two scales"),
        (BASE + SCALE.replace('type = "mtsics"', 'type = "nope"'), "type"),
        (BASE + SCALE.replace("item_weight_g = 1.0", "item_weight_g = 0"), "item_weight_g"),
        (BASE + SCALE + "\n[mqtt]\nurl = 'http://x'\n", "MQTT URL"),
        (BASE.replace('"s1"', '"s/1"') + SCALE, "site"),
        (BASE + SCALE + "bogus = 1\n", "bogus"),
        ("site = [", "not valid TOML"),
    ],
)
def test_bad_configs_are_refused_with_a_reason(tmp_path: Path, text: str, complaint: str) -> None:
    path = tmp_path / "edge.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=complaint):
        load_edge_config(path)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_edge_config(tmp_path / "nope.toml")


def test_config_hash_ignores_layout_and_sees_changes(tmp_path: Path) -> None:
    a = tmp_path / "a.toml"
    b = tmp_path / "b.toml"
    c = tmp_path / "c.toml"
    a.write_text(BASE + '[mqtt]\nurl = "mqtt://127.0.0.1:1883"\n' + SCALE)
    reordered = "\n".join(reversed(BASE.strip().splitlines()))
    b.write_text("# the same, laid out differently\n" + reordered + SCALE.replace("\n", "\n\n"))
    c.write_text(BASE + "[publish]\nlinger_s = 0.5\n" + SCALE)
    ha, hb, hc = (config_hash(load_edge_config(p)) for p in (a, b, c))
    assert ha == hb  # the URL given is the default: the same validated config
    assert ha != hc
    assert len(ha) == 16

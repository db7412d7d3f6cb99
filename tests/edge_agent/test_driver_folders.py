"""Every registered driver is a folder with a README and a sample the agent accepts."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from edge_agent.config import EdgeConfig
from edge_agent.drivers.registry import DRIVERS, known_drivers

DRIVERS_DIR = Path(__file__).resolve().parents[2] / "edge_agent" / "drivers"


def folder_of(name: str) -> Path:
    module = DRIVERS[name].config.__module__  # edge_agent.drivers.<folder>.driver
    return DRIVERS_DIR / module.split(".")[2]


@pytest.mark.parametrize("name", known_drivers())
def test_driver_folder_has_readme_and_sample(name: str) -> None:
    folder = folder_of(name)
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert len(readme) > 500, f"{folder}/README.md says too little"
    assert (folder / "sample.toml").is_file()


@pytest.mark.parametrize("name", known_drivers())
def test_sample_validates_as_part_of_an_edge_config(name: str, tmp_path: Path) -> None:
    sample = tomllib.loads((folder_of(name) / "sample.toml").read_text(encoding="utf-8"))
    kind = "scales" if DRIVERS[name].kind == "scale" else "readers"
    entries = [e for e in sample.get(kind, []) if e.get("type") == name]
    assert entries, f"the sample has no [[{kind}]] entry of type {name}"
    config = EdgeConfig.model_validate(
        {"site": "s", "device": "d", "state_dir": str(tmp_path), kind: entries}
        | ({} if kind == "scales" else {"scales": []})
    )
    bound = config.scales if kind == "scales" else config.readers
    assert [b.driver.type for b in bound] == [name] * len(entries)


def test_an_unknown_type_names_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="mtsics") as err:
        EdgeConfig.model_validate(
            {
                "site": "s",
                "device": "d",
                "state_dir": str(tmp_path),
                "scales": [
                    {"type": "nope", "port": "x", "location": "A", "sku": "X", "item_weight_g": 1}
                ],
            }
        )
    assert "aandd" in str(err.value)

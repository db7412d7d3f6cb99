"""The dashboards hang together: datasources, uids, panel ids, layout, links,
and the provisioning files Grafana loads them with."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).parents[2]
BOARDS = {
    p.name: json.loads(p.read_text())
    for p in sorted((ROOT / "dashboards/dashboards").glob("*.json"))
}
PROVISIONING = ROOT / "dashboards" / "provisioning"
PANEL_TYPES = {"stat", "table", "timeseries", "state-timeline", "bargauge"}


def _provisioned_datasources() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in sorted((PROVISIONING / "datasources").glob("*.yaml")):
        for source in yaml.safe_load(path.read_text())["datasources"]:
            assert source["uid"] not in found, f"datasource uid {source['uid']} twice"
            found[source["uid"]] = source
    return found


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """(path, key, value) of every key in a JSON document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield path, key, value
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}[{i}]")


def test_there_are_the_five_boards() -> None:
    titles = sorted(board["title"] for board in BOARDS.values())
    assert titles == [
        "VMI: KPIs",
        "VMI: SKU detail",
        "VMI: collector internals",
        "VMI: fleet health",
        "VMI: supplier overview",
    ]


def test_datasource_is_provisioned_as_influxql_with_a_fixed_uid() -> None:
    sources = _provisioned_datasources()
    assert list(sources) == ["vmi-influxdb"]
    source = sources["vmi-influxdb"]
    assert source["type"] == "influxdb"
    assert source["jsonData"]["version"] == "InfluxQL"
    assert source["jsonData"]["dbName"] == "vmi"
    # Credentials come from the environment, never from this file.
    assert source["user"].startswith("$")
    assert source["secureJsonData"]["password"].startswith("$")


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_every_datasource_reference_resolves(name: str) -> None:
    sources = _provisioned_datasources()
    references = [(path, value) for path, key, value in _walk(BOARDS[name]) if key == "datasource"]
    assert references
    for path, value in references:
        assert isinstance(value, dict), f"{path}: refer to the datasource by uid, not by name"
        assert value["uid"] in sources, f"{path}: unknown datasource uid {value['uid']}"
        assert value["type"] == sources[value["uid"]]["type"], path


def test_dashboard_uids_are_unique_and_stable() -> None:
    uids = [board["uid"] for board in BOARDS.values()]
    assert len(set(uids)) == len(uids)
    for uid in uids:
        assert re.fullmatch(r"[a-z0-9-]{1,40}", uid), uid


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_panels_are_well_formed(name: str) -> None:
    board = BOARDS[name]
    assert board["schemaVersion"] == 39
    assert "id" not in board, "provisioned dashboards carry no database id"
    ids = [panel["id"] for panel in board["panels"]]
    assert len(set(ids)) == len(ids), "panel ids must be unique in a dashboard"
    cells: set[tuple[int, int]] = set()
    for panel in board["panels"]:
        assert panel["type"] in PANEL_TYPES
        assert panel["title"]
        assert panel["description"]
        assert panel["targets"]
        refs = [t["refId"] for t in panel["targets"]]
        assert len(set(refs)) == len(refs)
        assert panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        covered = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not covered & cells, f"{panel['title']} overlaps another panel"
        cells |= covered


def test_links_between_dashboards_point_at_existing_uids() -> None:
    uids = {board["uid"] for board in BOARDS.values()}
    found = 0
    for name, board in BOARDS.items():
        for path, key, value in _walk(board):
            if key == "url" and isinstance(value, str):
                for uid in re.findall(r"/d/([\w-]+)", value):
                    assert uid in uids, f"{name}{path}: no dashboard {uid}"
                    found += 1
    assert found >= 4


def test_overview_links_a_sku_to_its_detail_with_the_variables() -> None:
    overview = BOARDS["supplier-overview.json"]
    detail = BOARDS["sku-detail.json"]
    urls = [v for _, k, v in _walk(overview) if k == "url" and detail["uid"] in v]
    detail_variables = {v["name"] for v in detail["templating"]["list"]}
    assert any(all(f"var-{name}=" in url for name in detail_variables) for url in urls), urls


def test_template_variables_chain_supplier_site_sku() -> None:
    for name in ("supplier-overview.json", "sku-detail.json"):
        variables = {v["name"]: v["query"] for v in BOARDS[name]["templating"]["list"]}
        assert list(variables) == ["supplier", "site", "sku"]
        assert variables["supplier"] == 'SHOW TAG VALUES FROM "projection" WITH KEY = "supplier"'
        assert "$supplier" in variables["site"]
        assert "$site" in variables["sku"]


def test_orders_are_annotations_from_order_event() -> None:
    for name in ("supplier-overview.json", "sku-detail.json"):
        orders = [a for a in BOARDS[name]["annotations"]["list"] if a["name"] == "Orders"]
        assert len(orders) == 1
        assert 'FROM "order_event"' in orders[0]["target"]["query"]


def test_dashboard_provider_reads_a_folder_of_json() -> None:
    (path,) = sorted((PROVISIONING / "dashboards").glob("*.yaml"))
    (provider,) = yaml.safe_load(path.read_text())["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"].startswith("/")
    assert provider["allowUiUpdates"] is False

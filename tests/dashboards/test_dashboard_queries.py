"""Every query of every dashboard, against simulated data in a real InfluxDB.

Three days of simulated history (tests/dashboards/simdata.py, written exactly
as docs/data-model.md documents) go into a fresh database; then every panel
target, annotation and template variable query is interpolated the way
Grafana does it and run. Each must return at least one series with values,
once with one value per variable and once with "All" (with one value, a
count that Grafana shows as "0" when empty may be empty). The names a query
reads must be documented in docs/data-model.md, and the columns the panels'
transformations and overrides name must be in the answers.
"""

from __future__ import annotations

import importlib.util
import json
import re
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.dashboards.datamodel import Measurement, documented_measurements
from tests.dashboards.grafana_macros import (
    Query,
    dashboard_queries,
    interpolate,
    variable_uses,
)
from tests.dashboards.simdata import FOCUS, Point, lines, simulate
from tests.servers import InfluxServer

ROOT = Path(__file__).parents[2]
BOARDS = ROOT / "dashboards" / "dashboards"
MACROS = {"timeFilter", "__interval"}
RANGE_MS = 7 * 86_400_000


def _boards() -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_text()) for p in sorted(BOARDS.glob("*.json"))}


BOARD_FILES = _boards()
QUERIES = [q for name, board in BOARD_FILES.items() for q in dashboard_queries(name, board)]
PANEL_QUERIES = [q for q in QUERIES if q.kind != "variable"]


# ---- the simulated database -----------------------------------------------------


class Database:
    """A database holding the simulated history; runs InfluxQL like Grafana's proxy."""

    def __init__(self, server: InfluxServer, name: str, points: list[Point]) -> None:
        self.url = server.url
        self.name = name
        self.points = points
        self.queries_run = 0
        self._client = httpx.Client(base_url=server.url, timeout=30.0)
        self._check(self._client.post("/query", params={"q": f'CREATE DATABASE "{name}"'}))
        body = list(lines(points))
        for start in range(0, len(body), 5000):
            response = self._client.post(
                "/write",
                params={"db": name, "precision": "ms"},
                content="\n".join(body[start : start + 5000]).encode(),
            )
            assert response.status_code == 204, response.text

    @staticmethod
    def _check(response: httpx.Response) -> None:
        assert response.status_code == 200, response.text

    def query(self, text: str) -> list[dict[str, Any]]:
        """The series of one statement; fails on any error InfluxDB reports."""
        response = self._client.post(
            "/query", params={"db": self.name, "epoch": "ms"}, data={"q": text}
        )
        self._check(response)
        self.queries_run += 1
        results = response.json()["results"]
        assert len(results) == 1, text
        assert "error" not in results[0], f"{results[0]['error']}\nin: {text}"
        series: list[dict[str, Any]] = results[0].get("series", [])
        return series

    def close(self) -> None:
        self._client.close()


@pytest.fixture(scope="module")
def database(influxdb: InfluxServer) -> Iterator[Database]:
    now_ms = int(time.time() * 1000)
    db = Database(influxdb, "dash" + uuid.uuid4().hex[:10], simulate(now_ms))
    yield db
    print(f"\n{db.queries_run} dashboard queries ran against InfluxDB at {db.url}")
    db.close()


def _has_values(series: list[dict[str, Any]]) -> bool:
    return any(any(v is not None for v in row[1:]) for s in series for row in s.get("values", ()))


def _time_range() -> tuple[int, int]:
    now_ms = int(time.time() * 1000)
    return now_ms - RANGE_MS, now_ms


def _variable_values(db: Database, board: Mapping[str, Any], *, all_values: bool) -> dict:
    """Each variable's value: the focus value, or every value ("All"), resolved in
    order so a chained variable sees the ones before it."""
    chosen: dict[str, list[str]] = {}
    from_ms, to_ms = _time_range()
    for variable in board["templating"]["list"]:
        name = variable["name"]
        text = interpolate(variable["query"], chosen, from_ms=from_ms, to_ms=to_ms)
        values = [row[1] for s in db.query(text) for row in s.get("values", ())]
        assert FOCUS[name] in values, f"variable {name}: {FOCUS[name]} not in {values}"
        use_all = all_values and variable["includeAll"] and variable["multi"]
        chosen[name] = sorted(values) if use_all else [FOCUS[name]]
    return chosen


# ---- the tests -----------------------------------------------------------------------


@pytest.mark.parametrize("all_values", [False, True], ids=["one-value", "all-values"])
@pytest.mark.parametrize("board_name", sorted(BOARD_FILES))
def test_every_query_returns_data(database: Database, board_name: str, all_values: bool) -> None:
    board = BOARD_FILES[board_name]
    variables = _variable_values(database, board, all_values=all_values)
    from_ms, to_ms = _time_range()
    empty = []
    for query in dashboard_queries(board_name, board):
        text = interpolate(query.text, variables, from_ms=from_ms, to_ms=to_ms)
        if _has_values(database.query(text)):
            continue
        # A count of "how many are offline" may rightly be empty for one value
        # (Grafana then shows the panel's noValue, "0"); with "All" it may not.
        shows_zero = query.panel is not None and "noValue" in query.panel["fieldConfig"]["defaults"]
        if all_values or not shows_zero:
            empty.append(f"{query}\n    {text}")
    assert not empty, "queries without data:\n" + "\n".join(empty)


def _referenced_names(panel: Mapping[str, Any]) -> set[str]:
    """Field names a panel's transformations, overrides and links refer to."""
    names: set[str] = set()
    for transformation in panel.get("transformations", ()):
        options = transformation["options"]
        if transformation["id"] == "calculateField":
            for side in ("left", "right"):
                operand = options["binary"][side]
                if not re.fullmatch(r"-?\d+(\.\d+)?", operand):
                    names.add(operand)
        elif transformation["id"] == "organize":
            for key in ("excludeByName", "indexByName", "renameByName"):
                names.update(options.get(key, {}))
    for item in panel["fieldConfig"]["overrides"]:
        if item["matcher"]["id"] == "byName":
            names.add(item["matcher"]["options"])
        for prop in item["properties"]:
            if prop["id"] == "custom.fillBelowTo":
                names.add(prop["value"])
            if prop["id"] == "links":
                for link in prop["value"]:
                    names.update(re.findall(r"__data\.fields\.(\w+)", link["url"]))
    return names


def _display_names(panel: Mapping[str, Any], names: set[str]) -> list[str]:
    """The names Grafana shows: an override's displayName, else the field's own name."""
    renamed = {
        item["matcher"]["options"]: prop["value"]
        for item in panel["fieldConfig"]["overrides"]
        if item["matcher"]["id"] == "byName"
        for prop in item["properties"]
        if prop["id"] == "displayName"
    }
    return sorted(renamed.get(name, name) for name in names)


def _answer_names(query: Query, series: list[dict[str, Any]]) -> set[str]:
    """The field names Grafana shows for an answer (table columns or series names)."""
    names: set[str] = set()
    for s in series:
        columns = [c for c in s["columns"] if c != "time"]
        if query.table:
            names.update(columns, s.get("tags", {}), {"Time"})
            continue
        alias = query.alias or ""
        if len(columns) > 1:
            assert "$col" in alias, f"{query}: several columns need $col in the alias"
        for column in columns:
            name = alias.replace("$col", column)
            for key, value in s.get("tags", {}).items():
                name = name.replace(f"$tag_{key}", value)
            names.add(name)
    return names


@pytest.mark.parametrize("board_name", sorted(BOARD_FILES))
def test_panels_name_only_fields_their_queries_return(database: Database, board_name: str) -> None:
    board = BOARD_FILES[board_name]
    variables = _variable_values(database, board, all_values=True)
    from_ms, to_ms = _time_range()
    problems = []
    for panel in board["panels"]:
        available: set[str] = set()
        for query in dashboard_queries(board_name, {**board, "panels": [panel]}):
            if query.kind != "panel":
                continue
            text = interpolate(query.text, variables, from_ms=from_ms, to_ms=to_ms)
            available |= _answer_names(query, database.query(text))
        for transformation in panel.get("transformations", ()):
            if transformation["id"] == "calculateField":
                available.add(transformation["options"]["alias"])
        missing = _referenced_names(panel) - available
        if missing:
            problems.append(f"panel {panel['title']!r}: {sorted(missing)} not in {available}")
        shown = _display_names(panel, available)
        for sort in panel.get("options", {}).get("sortBy", ()):
            if sort["displayName"] not in shown:
                problems.append(f"panel {panel['title']!r}: sorts by unknown {sort['displayName']}")
        if len(shown) != len(set(shown)):
            problems.append(f"panel {panel['title']!r}: two columns show as one name: {shown}")
        pattern = panel.get("options", {}).get("reduceOptions", {}).get("fields", "")
        if pattern:
            regex = re.compile(pattern.strip("/"))
            if not any(regex.search(name) for name in available):
                problems.append(f"panel {panel['title']!r}: {pattern} matches none of {available}")
    assert not problems, "\n".join(problems)


# ---- the data model contract -------------------------------------------------------

_IDENTIFIER = re.compile(r'"([^"]+)"')
_ALIAS = re.compile(r'AS\s+"([^"]+)"', re.IGNORECASE)
_FROM = re.compile(r'FROM\s+"([^"]+)"', re.IGNORECASE)
_REGEX_LITERAL = re.compile(r'"(\w+)"\s*!?=~\s*/\^\(?([\w|:.-]+)\)?\$/')
_STRING_LITERAL = re.compile(r"\"(\w+)\"\s*(?:=|<>|!=)\s*'([^']*)'")


def _contract_problems(query: Query, model: Mapping[str, Measurement]) -> list[str]:
    problems = []
    measurements = set(_FROM.findall(query.text))
    if not measurements:
        problems.append("reads no measurement")
    unknown = measurements - set(model)
    if unknown:
        problems.append(f"measurements not in docs/data-model.md: {sorted(unknown)}")
    readable = set().union(*(model[m].names for m in measurements - unknown))
    aliases = set(_ALIAS.findall(query.text))
    for name in set(_IDENTIFIER.findall(query.text)) - measurements - aliases:
        if name not in readable:
            problems.append(f'"{name}" is not a documented tag or field of {sorted(measurements)}')
    # Tag values written into a query must be values the data model names.
    literals = [
        (tag, alt) for tag, alts in _REGEX_LITERAL.findall(query.text) for alt in alts.split("|")
    ]
    literals += _STRING_LITERAL.findall(query.text)
    for tag, value in literals:
        documented = set().union(*(model[m].documented_values(tag) for m in measurements - unknown))
        if value not in documented:
            problems.append(f"{tag} value {value!r} is not documented (documented: {documented})")
    return problems


@pytest.mark.parametrize("query", QUERIES, ids=str)
def test_queries_read_only_the_documented_data_model(query: Query) -> None:
    assert not _contract_problems(query, documented_measurements())


def test_annotations_name_columns_their_queries_return(database: Database) -> None:
    from_ms, to_ms = _time_range()
    for name, board in BOARD_FILES.items():
        variables = _variable_values(database, board, all_values=False)
        for annotation in board["annotations"]["list"]:
            target = annotation["target"]
            text = interpolate(target["query"], variables, from_ms=from_ms, to_ms=to_ms)
            columns = {c for s in database.query(text) for c in s["columns"]}
            wanted = {target["textColumn"], target["tagsColumn"]}
            assert wanted <= columns, f"{name} annotation {annotation['name']}: {columns}"
            assert annotation["query"] == target["query"], "legacy and target queries differ"


def test_every_documented_measurement_is_charted() -> None:
    model = documented_measurements()
    charted = {m for q in PANEL_QUERIES for m in _FROM.findall(q.text)}
    assert set(model) <= charted, f"no panel shows {sorted(set(model) - charted)}"


@pytest.mark.parametrize("query", QUERIES, ids=str)
def test_variables_are_used_in_the_regex_form(query: Query) -> None:
    """`"tag" =~ /^$var$/` works for one value, several and All; other forms do not."""
    in_regex, used = variable_uses(query.text)
    assert used - MACROS == in_regex, f"use /^$var$/ for {sorted(used - MACROS - in_regex)}"


def test_simulated_data_follows_the_data_model() -> None:
    model = documented_measurements()
    python_types = {"float": float, "integer": int, "boolean": bool, "string": str}
    written: dict[str, set[str]] = {}
    for point in simulate(int(time.time() * 1000)):
        measurement = model[point.measurement]
        assert set(point.tags) <= measurement.tags, point
        for name, value in point.fields.items():
            expected = python_types[measurement.fields[name]]
            assert type(value) is expected, f"{point.measurement}.{name}={value!r}"
        for name, value in point.tags.items():
            documented = measurement.documented_values(name)
            if name in ("kind", "status", "source"):
                assert value in documented, f"{point.measurement} {name}={value}"
        written.setdefault(point.measurement, set()).update(point.tags, point.fields)
    assert set(written) == set(model)
    for name, measurement in model.items():
        assert written[name] == measurement.names, f"{name}: {measurement.names - written[name]}"


def test_simulated_history_is_inside_the_tested_time_range() -> None:
    now_ms = int(time.time() * 1000)
    times = [p.time_ms for p in simulate(now_ms)]
    assert now_ms - RANGE_MS < min(times) <= max(times) < now_ms


def test_committed_json_is_what_build_py_writes() -> None:
    spec = importlib.util.spec_from_file_location(
        "dashboards_build", ROOT / "dashboards" / "build.py"
    )
    assert spec is not None
    assert spec.loader is not None
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    rendered = build.render()
    assert sorted(rendered) == sorted(BOARD_FILES)
    for name, text in rendered.items():
        assert (BOARDS / name).read_text() == text, f"run python dashboards/build.py ({name})"

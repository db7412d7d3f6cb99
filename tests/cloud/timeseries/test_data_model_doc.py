"""docs/data-model.md documents exactly the declared measurements, and the
fast level writer writes exactly what `stock_level` declares."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from cloud.timeseries.base import LevelPoint
from cloud.timeseries.line_protocol import level_line, point_line
from cloud.timeseries.measurements import MEASUREMENTS, STOCK_LEVEL

DOC = Path(__file__).parents[3] / "docs" / "data-model.md"


def documented() -> dict[str, set[tuple[str, str, str]]]:
    """measurement -> {(kind, name, type)} from the doc's tables."""
    tables: dict[str, set[tuple[str, str, str]]] = {}
    current: str | None = None
    for text in DOC.read_text().splitlines():
        heading = re.fullmatch(r"## `(\w+)`", text.strip())
        if heading:
            current = heading.group(1)
            tables[current] = set()
            continue
        row = re.fullmatch(r"\| (tag|field) \| `(\w+)` \| (\w+) \|.*", text.strip())
        if row and current is not None:
            tables[current].add((row.group(1), row.group(2), row.group(3)))
    return tables


def declared() -> dict[str, set[tuple[str, str, str]]]:
    return {
        m.name: {("tag", c.name, c.type) for c in m.tags}
        | {("field", c.name, c.type) for c in m.fields}
        for m in MEASUREMENTS
    }


def test_doc_and_declarations_agree() -> None:
    assert documented() == declared()


def test_level_writer_matches_declaration() -> None:
    at = datetime(2025, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    level = LevelPoint("s", "d", "A 1", "X,Y", at, 4.0, "scale", 812.5, False, 9)
    generic = STOCK_LEVEL.point(
        tags={"site": "s", "device": "d", "location": "A 1", "sku": "X,Y", "source": "scale"},
        fields={"quantity": 4.0, "raw_weight_g": 812.5, "stable": False, "seq": 9},
        time=at,
    )
    assert _parts(level_line(level)) == _parts(point_line(generic))


def _parts(line: str) -> tuple[str, set[str], str]:
    # Field order is free in line protocol; no value here holds a space or comma.
    series, fields, time_ms = line.rsplit(" ", 2)
    return series, set(fields.split(",")), time_ms

"""The measurements docs/data-model.md documents, read from its tables.

This is the contract the dashboards are checked against: the simulated data
must write exactly these tags and fields with these types, and every panel
may query only these names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

DOC = Path(__file__).parents[2] / "docs" / "data-model.md"

_HEADING = re.compile(r"## `(\w+)`")
_ROW = re.compile(r"\| (tag|field) \| `(\w+)` \| (\w+) \|(.*)\|")


@dataclass
class Measurement:
    """One documented measurement: its tags and its fields with their types."""

    name: str
    tags: set[str] = field(default_factory=set)
    fields: dict[str, str] = field(default_factory=dict)
    what: dict[str, str] = field(default_factory=dict)

    @property
    def names(self) -> set[str]:
        return self.tags | set(self.fields)

    def documented_values(self, name: str) -> set[str]:
        """The values a tag or field's description names in backticks."""
        return set(re.findall(r"`([^`]+)`", self.what.get(name, "")))


def documented_measurements(doc: Path = DOC) -> dict[str, Measurement]:
    """measurement name -> `Measurement`, from every `## \\`name\\`` table."""
    found: dict[str, Measurement] = {}
    current: Measurement | None = None
    for line in doc.read_text(encoding="utf-8").splitlines():
        heading = _HEADING.fullmatch(line.strip())
        if heading:
            current = found.setdefault(heading.group(1), Measurement(heading.group(1)))
            continue
        row = _ROW.fullmatch(line.strip())
        if row and current is not None:
            kind, name, type_, what = row.groups()
            current.what[name] = what.strip()
            if kind == "tag":
                current.tags.add(name)
            else:
                current.fields[name] = type_
    return found

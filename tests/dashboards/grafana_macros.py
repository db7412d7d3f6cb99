"""What Grafana does to an InfluxQL query before sending it, and the queries a
dashboard holds.

Grafana replaces `$timeFilter` with the time range (`time >= <from>ms and time
<= <to>ms`), `$__interval` with an interval fitting the range and the panel
width, and `$var` with the template variable's value. In a regex
(`=~ /^$var$/`) a single value is regex-escaped and several become
`(a|b|c)`; "All" without a custom all value is the list of every value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_REGEX_USE = re.compile(r"/\^\$(\w+)\$/")
_ANY_VARIABLE = re.compile(r"\$(\w+)")
_GO_REGEX_SPECIAL = re.compile(r"([\\^$*+?.()|\[\]{}/-])")


@dataclass(frozen=True)
class Query:
    """One query of a dashboard: a panel target, an annotation or a variable."""

    dashboard: str
    where: str  # e.g. "panel 7 'Open orders' A", "variable site", "annotation Orders"
    text: str
    kind: str  # "panel", "annotation" or "variable"
    table: bool = False
    alias: str | None = None
    panel: Mapping[str, Any] | None = None

    def __str__(self) -> str:
        return f"{self.dashboard}: {self.where}"


def dashboard_queries(name: str, board: Mapping[str, Any]) -> Iterator[Query]:
    """Every query in a dashboard's panels, annotations and template variables."""
    for panel in board["panels"]:
        for target in panel.get("targets", ()):
            yield Query(
                name,
                f"panel {panel['id']} {panel['title']!r} {target['refId']}",
                target["query"],
                "panel",
                table=target.get("resultFormat") == "table",
                alias=target.get("alias"),
                panel=panel,
            )
    for annotation in board["annotations"]["list"]:
        yield Query(
            name,
            f"annotation {annotation['name']}",
            annotation["target"]["query"],
            "annotation",
            table=True,
        )
    for variable in board["templating"]["list"]:
        yield Query(name, f"variable {variable['name']}", variable["query"], "variable")


def regex_value(values: Sequence[str]) -> str:
    """A variable's value as Grafana writes it inside `/^...$/`."""
    escaped = [_GO_REGEX_SPECIAL.sub(r"\\\1", v) for v in values]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def interpolate(
    text: str,
    variables: Mapping[str, Sequence[str]],
    *,
    from_ms: int,
    to_ms: int,
    interval: str = "1h",
) -> str:
    """`text` as Grafana would send it; every `$name` must be known."""
    text = text.replace("$timeFilter", f"time >= {from_ms}ms and time <= {to_ms}ms")
    text = text.replace("$__interval", interval)

    def regex(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in variables:
            raise KeyError(f"unknown template variable ${name} in {text!r}")
        return f"/^{regex_value(variables[name])}$/"

    text = _REGEX_USE.sub(regex, text)
    left = _ANY_VARIABLE.findall(text)
    if left:
        raise ValueError(f"not replaced: {left} in {text!r}")
    return text


def variable_uses(text: str) -> tuple[set[str], set[str]]:
    """(variables used in the regex form, every `$name` used at all)."""
    return set(_REGEX_USE.findall(text)), set(_ANY_VARIABLE.findall(text))

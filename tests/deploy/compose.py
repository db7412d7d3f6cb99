"""Read docker-compose.yml the way `docker compose` does, without Docker.

Only what the stack uses: `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
`${VAR:?message}`, `${VAR?message}`, `$VAR` and `$$` (a literal `$`), and
`.env` files of `KEY=VALUE` lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

_REFERENCE = re.compile(
    r"\$(?:\$|\{(?P<name>\w+)(?:(?P<op>:-|-|:\?|\?)(?P<arg>[^}]*))?\}|(?P<bare>\w+))"
)


class MissingVariable(ValueError):
    """A required variable is unset or empty: what compose stops with."""


@dataclass(frozen=True)
class Reference:
    name: str
    op: str | None  # ":-", "-", ":?", "?" or None
    arg: str

    @property
    def required(self) -> bool:
        return self.op in (":?", "?")

    @property
    def default(self) -> str | None:
        return self.arg if self.op in (":-", "-") else None


def references(text: str) -> Iterator[Reference]:
    """Every variable reference in `text` (not the `$$` escapes)."""
    for match in _REFERENCE.finditer(text):
        if match.group(0) == "$$":
            continue
        name = match.group("name") or match.group("bare")
        yield Reference(name, match.group("op"), match.group("arg") or "")


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """`text` with every reference replaced; `MissingVariable` like compose's error."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("name") or match.group("bare")
        op, arg = match.group("op"), match.group("arg") or ""
        value = env.get(name)
        empty = value is None or (value == "" and op is not None and op.startswith(":"))
        if op in (":-", "-"):
            return arg if empty else str(value)
        if op in (":?", "?"):
            if empty:
                raise MissingVariable(f"required variable {name} is missing a value: {arg}")
            return str(value)
        return value or ""

    return _REFERENCE.sub(replace, text)


def read_env_file(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(the KEY=VALUE lines, the commented-out `# KEY=VALUE` lines) of an env file."""
    active: dict[str, str] = {}
    commented: dict[str, str] = {}
    for line in path.read_text().splitlines():
        match = re.fullmatch(r"(#\s*)?([A-Z][A-Z0-9_]*)=(.*)", line.strip())
        if match:
            (commented if match.group(1) else active)[match.group(2)] = match.group(3)
    return active, commented


def load(path: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """The compose file, interpolated with `env`."""
    document: dict[str, Any] = yaml.safe_load(interpolate(path.read_text(), env))
    return document


@dataclass(frozen=True)
class Mount:
    source: str
    target: str
    read_only: bool

    @property
    def is_bind(self) -> bool:
        return self.source.startswith((".", "/"))


def mounts(service: Mapping[str, Any]) -> list[Mount]:
    """A service's volumes in short (`src:dst[:ro]`) or long syntax."""
    found = []
    for entry in service.get("volumes", ()):
        if isinstance(entry, str):
            parts = entry.split(":")
            found.append(Mount(parts[0], parts[1], len(parts) > 2 and "ro" in parts[2]))
        else:
            found.append(Mount(entry["source"], entry["target"], bool(entry.get("read_only"))))
    return found


def published_ports(service: Mapping[str, Any]) -> list[tuple[str, int]]:
    """(host side, container port) of each `ports` entry."""
    found = []
    for entry in service.get("ports", ()):
        host, _, container = str(entry).rpartition(":")
        found.append((host, int(container)))
    return found

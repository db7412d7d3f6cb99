"""Load a YAML catalog file into the database, idempotently.

Every entry is upserted by its natural key: created if missing, updated if it
differs, left alone if equal, so loading the same file twice changes nothing
the second time. Nothing is ever deleted (delete through the `Catalog`),
except that a device's bindings are the set the file gives. A file is checked
whole, then written in one transaction: any problem (unknown key, bad GTIN, a
reference to a SKU neither the file nor the database has, a duplicate) raises
`CatalogFileError` listing every problem found, and nothing is written.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from cloud.catalog.entities import kind_of
from cloud.catalog.errors import CatalogFileError, EntryError, Key, UnknownEntry, key_text
from cloud.catalog.schema import CatalogFile, validation_problems
from cloud.errors import StoreUnavailable


@dataclass(frozen=True)
class Change:
    """One entry a load created or updated."""

    action: Literal["created", "updated"]
    entity: str
    key: Key

    def __str__(self) -> str:
        return f"{self.action} {self.entity} {key_text(self.key)}"


@dataclass
class LoadReport:
    """What a load changed."""

    source: str
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0

    @property
    def created(self) -> list[Change]:
        return [c for c in self.changes if c.action == "created"]

    @property
    def updated(self) -> list[Change]:
        return [c for c in self.changes if c.action == "updated"]

    def summary(self) -> str:
        """`catalog.yaml: 3 created, 1 updated, 20 unchanged`."""
        return (
            f"{self.source}: {len(self.created)} created, {len(self.updated)} updated, "
            f"{self.unchanged} unchanged"
        )


_LOAD_ATTEMPTS = 3


class _Conflict(CatalogFileError):
    """A unique key clashed when written: perhaps a concurrent load won a race."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """A SafeLoader that refuses a key given twice in one mapping (PyYAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                mark = key_node.start_mark
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice in one mapping", mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def parse_catalog(text: str, source: str = "<catalog>") -> CatalogFile:
    """Parse and validate catalog YAML; `CatalogFileError` lists every problem."""
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        at = "" if mark is None else f" at line {mark.line + 1}, column {mark.column + 1}"
        raise CatalogFileError(source, [f"not valid YAML{at}: {exc.problem}"]) from exc
    except yaml.YAMLError as exc:
        raise CatalogFileError(source, [f"not valid YAML: {exc}"]) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise CatalogFileError(source, ["the top level must be a mapping of sections"])
    try:
        return CatalogFile.model_validate(data)
    except ValidationError as exc:
        raise CatalogFileError(source, validation_problems(exc, data)) from exc


def read_catalog_file(path: str | Path) -> CatalogFile:
    """Read, parse and validate a catalog file; `CatalogFileError` if it cannot."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogFileError(str(path), [f"cannot read it: {exc}"]) from exc
    return parse_catalog(text, str(path))


def load_catalog(session: Session, catalog: CatalogFile, source: str) -> LoadReport:
    """Upsert every entry of `catalog` in `session`'s transaction.

    Raises `CatalogFileError` (listing every entry that cannot be written) and
    leaves the rollback to the caller, whose transaction it is.
    """
    report = LoadReport(source)
    problems: list[str] = []
    failed: set[tuple[str, Key]] = set()
    for label, entry in catalog.entries():
        kind = kind_of(type(entry))
        where = f"{label} ({key_text(entry.key)})"
        try:
            row = kind.find(session, entry.key)
            if row is not None and kind.to_spec(row) == entry:
                report.unchanged += 1
                continue
            kind.write(session, row, entry)
            session.flush()
        except EntryError as exc:
            failed.add((entry.entity, entry.key))
            # An entry that only misses one that failed above is no news.
            if not (isinstance(exc, UnknownEntry) and (exc.entity, exc.key) in failed):
                problems.append(f"{where}: {exc}")
            continue
        except IntegrityError as exc:
            # The session cannot go on after a failed flush: report and stop.
            problems.append(f"{where}: conflicts with the database: {exc.orig}")
            raise _Conflict(source, problems) from exc
        action: Literal["created", "updated"] = "created" if row is None else "updated"
        report.changes.append(Change(action, entry.entity, entry.key))
    if problems:
        raise CatalogFileError(source, problems)
    return report


def load_into(engine: Engine, catalog: CatalogFile, source: str) -> LoadReport:
    """Load `catalog` into `engine`'s database in one transaction.

    Several processes loading at once (collectors starting together) clash
    on unique keys; the loser tries again and finds the winner's rows.
    """
    for attempt in range(_LOAD_ATTEMPTS):
        last = attempt == _LOAD_ATTEMPTS - 1
        try:
            with Session(engine) as session, session.begin():
                return load_catalog(session, catalog, source)
        except _Conflict:
            if last:
                raise
        except OperationalError as exc:  # SQLite: locked by another writer
            if last:
                raise StoreUnavailable(f"catalog database: {exc}") from exc
        except SQLAlchemyError as exc:
            raise StoreUnavailable(f"catalog database: {exc}") from exc
        time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")  # pragma: no cover


def load_catalog_file(engine: Engine, path: str | Path) -> LoadReport:
    """Read `path` and load it into `engine`'s database in one transaction."""
    return load_into(engine, read_catalog_file(path), str(path))

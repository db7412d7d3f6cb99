"""Errors of the catalog: a small, flat family under `CatalogError`.

Each carries what it is about as attributes (`entity`, `key`) so an API can turn
it into a response without parsing the message.
"""

from __future__ import annotations

from collections.abc import Sequence

from cloud.errors import CloudError

Key = str | tuple[str, str]
"""A natural key: a code, or (site, code) for locations, (site, sku) for agreements."""


def key_text(key: Key) -> str:
    """`code`, or `site/code` for two-part keys."""
    return key if isinstance(key, str) else "/".join(key)


class CatalogError(CloudError):
    """Root of the catalog's errors."""


class CatalogFileError(CatalogError):
    """A catalog file cannot be read or is invalid; nothing of it was written.

    `problems` lists every problem found, each naming its entry.
    """

    def __init__(self, path: str, problems: Sequence[str]) -> None:
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"catalog file {path} is invalid:\n{lines}")
        self.path = path
        self.problems = list(problems)


class EntryError(CatalogError):
    """Something is wrong with one catalog entry: `entity` (e.g. "sku") and `key`."""

    def __init__(self, entity: str, key: Key, detail: str) -> None:
        super().__init__(f"{entity} {key_text(key)!r}: {detail}")
        self.entity = entity
        self.key = key
        self.detail = detail


class UnknownEntry(EntryError, LookupError):
    """No entry of this kind has this key."""

    def __init__(self, entity: str, key: Key) -> None:
        super().__init__(entity, key, "not in the catalog")


class DuplicateEntry(EntryError):
    """An entry with this key (or another unique value, such as a GTIN) exists."""


class InvalidEntry(EntryError):
    """The entry's values are invalid; `detail` says which and why."""


class EntryInUse(EntryError):
    """The entry cannot be deleted: other entries refer to it (`used_by`)."""

    def __init__(self, entity: str, key: Key, used_by: Sequence[str]) -> None:
        super().__init__(entity, key, "still used by " + ", ".join(used_by))
        self.used_by = list(used_by)

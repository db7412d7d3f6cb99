"""What the catalog routes share: turning bodies into specs and specs into answers."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel

from cloud.api.errors import forbidden, not_found
from cloud.api.tenancy import View
from cloud.catalog import CatalogEntry

P = TypeVar("P", bound=BaseModel)
S = TypeVar("S", bound=CatalogEntry)


def public(model: type[P], entry: CatalogEntry) -> P:
    """`entry` as the response model `model`."""
    return model.model_validate(entry.model_dump())


def as_spec(spec: type[S], body: BaseModel) -> S:
    """A request body as the catalog's own spec (the catalog takes exact spec types)."""
    return spec.model_validate(body.model_dump())


def visible(entry: S | None, sees: bool) -> S:
    """`entry` if it exists and the caller may see it; 404 otherwise."""
    if entry is None or not sees:
        not_found()
    return entry


def admin_only(view: View) -> None:
    """403 unless the caller is an admin (after the 404 check: never reveal existence)."""
    if not view.everything:
        forbidden("only an admin may change the catalog")

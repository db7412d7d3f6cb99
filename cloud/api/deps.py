"""The routes' dependencies, as `Annotated` aliases.

    def read_site(code: str, view: ViewDep, catalog: CatalogDep) -> SitePublic: ...

`PrincipalDep` authenticates (`Authorization: Bearer <API key>`; 401 if
missing or not valid, 403 for a read-only key on anything but a read);
`ViewDep` is what the principal may see (`cloud.api.tenancy`); `AdminDep`
requires an admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, HTTPException, Path, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from cloud.api.context import ApiContext
from cloud.api.errors import forbidden
from cloud.api.security import Principal
from cloud.api.tenancy import View, view_of
from cloud.catalog import Catalog
from cloud.orders import OrderBook
from cloud.suggest.book import SuggestionBook
from cloud.timeseries import TimeSeriesStore
from vmi.wire import Identifier

T = TypeVar("T")

MAX_PAGE = 1000
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key (`vmi_...`) as a bearer token; see `vmi cloud apikey create`.",
)


def get_context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.context
    return context


ContextDep = Annotated[ApiContext, Depends(get_context)]


def get_catalog(context: ContextDep) -> Catalog:
    return context.catalog


def get_orders(context: ContextDep) -> OrderBook:
    return context.orders


def get_suggestions(context: ContextDep) -> SuggestionBook:
    return context.suggestions


def get_store(context: ContextDep) -> TimeSeriesStore:
    return context.store


CatalogDep = Annotated[Catalog, Depends(get_catalog)]
OrdersDep = Annotated[OrderBook, Depends(get_orders)]
SuggestionsDep = Annotated[SuggestionBook, Depends(get_suggestions)]
StoreDep = Annotated[TimeSeriesStore, Depends(get_store)]


def get_principal(
    request: Request,
    context: ContextDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, from its API key."""
    principal = None
    if credentials is not None and credentials.scheme.lower() == "bearer":
        principal = context.keys.authenticate(credentials.credentials, context.clock.now())
    if principal is None:
        context.metrics.add("auth_failures", 1)
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "a valid API key is required (Authorization: Bearer <key>)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if principal.read_only and request.method not in _READ_METHODS:
        forbidden("this API key is read-only")
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def get_admin(principal: PrincipalDep) -> Principal:
    """The caller, who must be an admin (403 otherwise)."""
    if not principal.is_admin:
        forbidden("only an admin may do this")
    return principal


AdminDep = Annotated[Principal, Depends(get_admin)]


def get_view(principal: PrincipalDep, context: ContextDep) -> View:
    """What the caller may see, read from the catalog for this request."""
    with context.session() as session:
        return view_of(principal, session)


ViewDep = Annotated[View, Depends(get_view)]


@dataclass(frozen=True)
class Paging:
    """Which slice of a list to return."""

    offset: int
    limit: int


def get_paging(
    context: ContextDep,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip.")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Most items to return.")] = 100,
) -> Paging:
    return Paging(offset=offset, limit=min(limit, context.settings.page_limit))


PagingDep = Annotated[Paging, Depends(get_paging)]

CodePath = Annotated[Identifier, Path(description="A catalog code.", examples=["acme-north"])]
"""A code in a path: letters, digits and `. _ : -`, 1-64 long."""

IdPath = Annotated[int, Path(ge=1, le=2_147_483_647, description="A numeric id.")]

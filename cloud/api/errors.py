"""How the API answers errors, and how it documents them.

Every error body is `{"detail": ...}`: a string, or for 422 the same list of
problems FastAPI gives for invalid requests. A 404 never repeats the key that
was asked for and is the same whether the object does not exist or belongs to
another tenant. Internal errors name no URL, password or SQL.
"""

from __future__ import annotations

import logging
from typing import Any, NoReturn

from fastapi import FastAPI, HTTPException, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from cloud.api.security import ApiKeyError, UnknownApiKey
from cloud.catalog import DuplicateEntry, EntryInUse, InvalidEntry, UnknownEntry
from cloud.errors import StoreError
from cloud.notify.errors import InvalidSubscription, UnknownSubscription
from cloud.orders import OrderTransitionError, UnknownOrder

log = logging.getLogger(__name__)

NOT_FOUND = "Not Found"


class ErrorBody(BaseModel):
    """An error: what went wrong, in words."""

    detail: str


def _doc(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _doc("The body is not valid JSON."),
    401: _doc("No API key, or an unknown, revoked or expired one."),
    403: _doc("The key's role may not do this (or the key is read-only)."),
    413: _doc("The request body is larger than the server accepts."),
    503: _doc("The database or the time-series store cannot be reached right now."),
}
"""Responses every authenticated route may give."""

STREAM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {
        "description": response["description"],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    }
    for code, response in AUTH_RESPONSES.items()
}
"""`AUTH_RESPONSES` for a route whose own answers are not JSON (the live stream)."""

NOT_FOUND_RESPONSE: dict[int | str, dict[str, Any]] = {
    404: _doc("No such object, or not one this key may see.")
}
CONFLICT_RESPONSE: dict[int | str, dict[str, Any]] = {
    409: _doc("Taken, still in use, or not allowed from the object's current state.")
}


def not_found() -> NoReturn:
    """Answer 404 without saying what was looked for."""
    raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)


def forbidden(detail: str = "this key's role may not do this") -> NoReturn:
    raise HTTPException(status.HTTP_403_FORBIDDEN, detail)


def unprocessable(message: str, *where: str) -> NoReturn:
    """Answer 422 shaped like FastAPI's own validation errors."""
    loc = list(where) or ["body"]
    raise HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        [{"loc": loc, "msg": message, "type": "value_error"}],
    )


def install_error_handlers(app: FastAPI) -> None:
    """Map the cloud's errors to HTTP answers."""

    @app.exception_handler(UnknownEntry)
    @app.exception_handler(UnknownOrder)
    @app.exception_handler(UnknownApiKey)
    @app.exception_handler(UnknownSubscription)
    async def _unknown(_request: Request, _exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": NOT_FOUND}, status.HTTP_404_NOT_FOUND)

    @app.exception_handler(DuplicateEntry)
    @app.exception_handler(EntryInUse)
    @app.exception_handler(OrderTransitionError)
    async def _conflict(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status.HTTP_409_CONFLICT)

    @app.exception_handler(InvalidEntry)
    @app.exception_handler(ApiKeyError)
    @app.exception_handler(InvalidSubscription)
    async def _invalid(_request: Request, exc: Exception) -> JSONResponse:
        detail = exc.detail if isinstance(exc, InvalidEntry) else str(exc)
        return JSONResponse(
            {"detail": [{"loc": ["body"], "msg": detail, "type": "value_error"}]},
            status.HTTP_422_UNPROCESSABLE_CONTENT,
        )

    @app.exception_handler(StoreError)
    async def _store(request: Request, exc: Exception) -> JSONResponse:
        # Answer in general terms; log the cause without the statement's
        # parameters, which may hold a secret being written.
        cause = str(exc).split("[SQL:")[0].strip()
        log.warning("%s %s: %s: %s", request.method, request.url.path, type(exc).__name__, cause)
        return JSONResponse(
            {"detail": "a database or the time-series store is unavailable; try again"},
            status.HTTP_503_SERVICE_UNAVAILABLE,
        )

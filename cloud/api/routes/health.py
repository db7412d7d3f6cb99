"""`/health` (for container health checks) and `/metrics` (Prometheus); no key needed.

Neither says anything about any tenant: health names only its checks, and
metrics label requests by route template, never by path.
"""

from __future__ import annotations

import logging
from typing import Literal

from fastapi import APIRouter, Response, status
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from cloud.api.deps import ContextDep
from cloud.api.metrics import CONTENT_TYPE
from cloud.errors import StoreError
from cloud.timeseries.measurements import ALERT

log = logging.getLogger(__name__)

router = APIRouter(tags=["health"])

Check = Literal["ok", "unavailable"]


class Health(BaseModel):
    """Whether the API can reach what it needs."""

    status: Check
    database: Check
    timeseries: Check


@router.get(
    "/health",
    responses={503: {"model": Health, "description": "Something the API needs is unreachable."}},
)
def health(context: ContextDep, response: Response) -> Health:
    """`ok` when the database and the time-series store answer; 503 otherwise."""
    database: Check = "ok"
    timeseries: Check = "ok"
    try:
        with context.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        log.warning("health: database: %s", type(exc).__name__)
        database = "unavailable"
    try:
        now = context.clock.now()
        context.store.points(ALERT.name, now, now)
    except StoreError as exc:
        log.warning("health: time-series store: %s", type(exc).__name__)
        timeseries = "unavailable"
    ok = database == "ok" and timeseries == "ok"
    if not ok:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Health(status="ok" if ok else "unavailable", database=database, timeseries=timeseries)


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
def metrics(context: ContextDep) -> PlainTextResponse:
    """The API's request counters and timings in the Prometheus text format."""
    return PlainTextResponse(context.metrics.render(), media_type=CONTENT_TYPE)

"""The cloud API: catalog, stock levels, projections, orders, alerts and
webhooks for admins, suppliers and customers (see `cloud.api.tenancy`).

    app = create_app(ApiSettings())        # what `vmi cloud api` serves
    uvicorn.run(app, host="127.0.0.1", port=8000)

`create_app` is a factory: nothing is read from the environment at import
time, and tests pass their own settings (and store and clock). It migrates
the database (unless told not to), opens the stores, and refuses to start
when they cannot be reached; they are closed when the app shuts down.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from cloud.api.context import open_context
from cloud.api.errors import install_error_handlers
from cloud.api.limits import RequestSizeLimit
from cloud.api.metrics import MetricsMiddleware
from cloud.api.routes import ROUTERS
from cloud.api.settings import ApiSettings
from cloud.portal.install import install_portal
from cloud.timeseries import TimeSeriesStore
from vmi import __version__
from vmi.clock import Clock

DESCRIPTION = """
Live stock from customer shelves to the supplier who keeps them full.

Authenticate with an API key as a bearer token: `Authorization: Bearer vmi_...`
(create the first admin key with `vmi cloud apikey create --role admin`).

* **admin** keys see and manage everything: the catalog, API keys, webhooks.
* **supplier** keys see the (site, SKU) pairs of their VMI agreements: those
  levels, history, projections, orders and alerts, and confirm, ship and
  cancel their orders.
* **customer** keys see everything at their own sites and receive orders.

Whatever a key may not see answers 404, as if it did not exist. Lists are
`{data, count}` pages (`offset`, `limit`).
"""

TAGS = [
    {"name": "health", "description": "Liveness and Prometheus metrics; no key needed."},
    {"name": "suppliers"},
    {"name": "customers"},
    {"name": "sites"},
    {"name": "locations"},
    {"name": "skus"},
    {"name": "agreements", "description": "VMI agreements: one managing supplier per site+SKU."},
    {"name": "devices"},
    {"name": "levels", "description": "Newest levels and bucketed level history."},
    {"name": "projections", "description": "Consumption, days of cover, reorder points."},
    {"name": "orders", "description": "Replenishment orders and their lifecycle."},
    {"name": "alerts"},
    {"name": "stream", "description": "Server-sent events: level changes and new alerts."},
    {"name": "webhooks", "description": "Alert deliveries to ERP/CRM systems, signed."},
    {"name": "api keys"},
]


def create_app(
    settings: ApiSettings,
    *,
    store: TimeSeriesStore | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """The API app for `settings`.

    `store`: a time-series store to use instead of opening
    `settings.timeseries_url` (the caller closes it); `clock`: what "now" is
    (default: wall time). Raises `StoreUnavailable` if the database cannot
    be reached and `ConfigError` for a bad store URL.
    """
    context = open_context(settings, store=store, clock=clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Opened by the factory (so a bad database stops it at once); opened
        # again if a previous lifespan closed it (test clients run several).
        if app.state.context.closed:
            app.state.context = open_context(
                settings, store=store, clock=clock, migrate=False, bootstrap=False
            )
        try:
            yield
        finally:
            app.state.context.close()

    app = FastAPI(
        title="VMI stock monitoring API",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    app.state.context = context
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    install_portal(app)
    # The metrics, added last, are outermost: they count the 413s of the size limit too.
    app.add_middleware(RequestSizeLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(MetricsMiddleware, metrics=context.metrics)
    return app

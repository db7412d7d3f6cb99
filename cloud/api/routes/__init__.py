"""One router per resource; `ROUTERS` is every one of them, in the order the docs list them."""

from __future__ import annotations

from fastapi import APIRouter

from cloud.api.routes.agreements import router as agreements_router
from cloud.api.routes.alerts import router as alerts_router
from cloud.api.routes.api_keys import router as api_keys_router
from cloud.api.routes.connectors import router as connectors_router
from cloud.api.routes.customers import router as customers_router
from cloud.api.routes.devices import router as devices_router
from cloud.api.routes.health import router as health_router
from cloud.api.routes.kpis import router as kpis_router
from cloud.api.routes.levels import router as levels_router
from cloud.api.routes.locations import router as locations_router
from cloud.api.routes.me import router as me_router
from cloud.api.routes.orders import router as orders_router
from cloud.api.routes.projections import router as projections_router
from cloud.api.routes.sites import router as sites_router
from cloud.api.routes.skus import router as skus_router
from cloud.api.routes.stream import router as stream_router
from cloud.api.routes.suggestions import router as suggestions_router
from cloud.api.routes.suppliers import router as suppliers_router
from cloud.api.routes.webhooks import router as webhooks_router

ROUTERS: tuple[APIRouter, ...] = (
    health_router,
    me_router,
    suppliers_router,
    customers_router,
    sites_router,
    locations_router,
    skus_router,
    agreements_router,
    devices_router,
    levels_router,
    projections_router,
    kpis_router,
    orders_router,
    suggestions_router,
    connectors_router,
    alerts_router,
    stream_router,
    webhooks_router,
    api_keys_router,
)

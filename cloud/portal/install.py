"""Adding the portal to the API app."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from cloud.portal.kpi_pages import router as kpi_router
from cloud.portal.pages import router
from cloud.portal.watch_pages import router as watch_router
from cloud.portal.web import HERE, PREFIX, SignInRequired, redirect


def install_portal(app: FastAPI) -> None:
    """Serve the portal under `/portal` (pages, static files, the sign-in redirect)."""
    for pages in (router, watch_router, kpi_router):
        app.include_router(pages)
    app.mount(PREFIX + "/static", StaticFiles(directory=HERE / "static"), name="portal-static")

    @app.exception_handler(SignInRequired)
    async def sign_in_first(request: Request, _exc: SignInRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(f"{PREFIX}/login?{urlencode({'next': target})}")

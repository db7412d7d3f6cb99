"""Adding the portal to the API app."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from cloud.portal.pages import router
from cloud.portal.web import HERE, PREFIX, SignInRequired, redirect


def install_portal(app: FastAPI) -> None:
    """Serve the portal under `/portal` (pages, static files, the sign-in redirect)."""
    app.include_router(router)
    app.mount(PREFIX + "/static", StaticFiles(directory=HERE / "static"), name="portal-static")

    @app.exception_handler(SignInRequired)
    async def sign_in_first(request: Request, _exc: SignInRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(f"{PREFIX}/login?{urlencode({'next': target})}")

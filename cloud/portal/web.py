"""What every portal page shares: the signed-in person from the session cookie, CSRF
checks, form bodies, the reader's language and zone, and rendering a template.

Cookies: `vmi_session` (the session token: HttpOnly, SameSite=Lax, Secure when
the request came over https, path /portal), `vmi_lang` (the language switch),
`vmi_tz` (the browser's zone, set by portal.js). Every POST form carries the
session's CSRF token (`csrf`); the sign-in form, before there is a session,
carries one that must match the `vmi_login_csrf` cookie (double submit).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from cloud.api.context import ApiContext
from cloud.api.tenancy import View, view_of
from cloud.portal.accounts import SignedIn
from cloud.portal.i18n import (
    Translator,
    format_number,
    format_time,
    pick_locale,
    translator,
    zone,
)
from cloud.portal.ratelimit import LoginLimiter

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "vmi_session"
LANG_COOKIE = "vmi_lang"
TZ_COOKIE = "vmi_tz"
LOGIN_CSRF_COOKIE = "vmi_login_csrf"
PREFIX = "/portal"
MAX_FIELDS = 50

TEMPLATES = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
LIMITER = LoginLimiter()


def context_of(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.context
    return context


@dataclass(frozen=True)
class Reader:
    """Who reads this page, in which language and zone."""

    locale: str
    tz: tzinfo
    t: Translator

    def number(self, value: float | None, decimals: int = 1) -> str:
        return format_number(value, self.locale, decimals)

    def time(self, at: Any) -> str:
        return format_time(at, self.locale, self.tz)


def reader_of(request: Request, signed_in: SignedIn | None = None) -> Reader:
    """The language (switch cookie, else the user's, else the browser's) and zone."""
    cookie = request.cookies.get(LANG_COOKIE) or (signed_in.locale if signed_in else None)
    locale = pick_locale(cookie, request.headers.get("accept-language"))
    return Reader(locale, zone(request.cookies.get(TZ_COOKIE)), translator(locale))


def wall_now() -> datetime:
    """Now on the wall clock: sessions expire in real time, whatever clock the data
    runs on (the demo's runs thousands of times faster)."""
    return datetime.now(UTC)


def signed_in(request: Request) -> SignedIn | None:
    """The session the cookie opens, if any and valid now."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > 100:
        return None
    return context_of(request).accounts.session(token, wall_now())


class SignInRequired(Exception):
    """No valid session: the page answers with the sign-in page (a redirect)."""


def require_session(request: Request) -> SignedIn:
    """The signed-in person, else `SignInRequired`."""
    found = signed_in(request)
    if found is None:
        raise SignInRequired
    return found


def view_for(request: Request, who: SignedIn) -> View:
    """What the person may see (the API's tenancy rules, from the catalog now)."""
    context = context_of(request)
    with context.session() as session:
        return view_of(who.principal(), session)


async def form(request: Request) -> dict[str, str]:
    """An `application/x-www-form-urlencoded` body (the size limit is the API's)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "a form is expected")
    try:
        text = (await request.body()).decode("utf-8")
        pairs = parse_qsl(
            text, keep_blank_values=True, strict_parsing=False, max_num_fields=MAX_FIELDS
        )
    except (UnicodeDecodeError, ValueError):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "unreadable form") from None
    return dict(pairs)


def csrf_ok(expected: str, fields: dict[str, str]) -> bool:
    """True if the form carries `expected` (constant-time compare)."""
    given = fields.get("csrf", "")
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


def secure(request: Request) -> bool:
    """Cookies get `Secure` when the page came over TLS."""
    return request.url.scheme == "https"


def render(
    request: Request,
    template: str,
    reader: Reader,
    who: SignedIn | None,
    status_code: int = 200,
    **values: Any,
) -> HTMLResponse:
    """A page: `template` with the reader's words and the signed-in person."""
    page = TEMPLATES.get_template(template).render(
        request=request,
        t=reader.t,
        r=reader,
        who=who,
        locale=reader.locale,
        prefix=PREFIX,
        path=request.url.path,
        **values,
    )
    response = HTMLResponse(page, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'"
    )
    return response


def redirect(to: str) -> Response:
    """303 See Other to a portal path (a form posted: the browser GETs the result)."""
    return RedirectResponse(to, status_code=status.HTTP_303_SEE_OTHER)


def local_path(target: str | None, default: str = PREFIX + "/stock") -> str:
    """`target` if it is a path inside the portal, else `default` (no open redirect)."""
    if (
        target
        and target.startswith(PREFIX + "/")
        and not target.startswith("//")
        and "\\" not in target
        and "\n" not in target
        and "\r" not in target
    ):
        return target
    return default


def not_found_page(request: Request, who: SignedIn) -> Response:
    """404, saying only that: nothing about whether it exists for someone else."""
    reader = reader_of(request, who)
    return render(request, "error.html", reader, who, 404, message=reader.t("error.not_found"))


def csrf_refused_page(request: Request, who: SignedIn) -> Response:
    """403 for a form without the session's CSRF token (counted)."""
    context_of(request).metrics.add("portal_csrf_refused", 1)
    reader = reader_of(request, who)
    return render(request, "error.html", reader, who, 403, message=reader.t("error.csrf"))


def with_query(path: str, **query: str) -> str:
    """`path` (its own query dropped) with `query`."""
    return f"{path.split('?')[0]}?{urlencode(query)}"

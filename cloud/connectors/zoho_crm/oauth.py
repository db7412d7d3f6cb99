"""Access tokens for Zoho CRM from a refresh token, kept until shortly before they expire.

    POST {accounts}/oauth/v2/token   form: grant_type=refresh_token, client_id,
                                     client_secret, refresh_token
    -> {"access_token", "api_domain", "token_type", "expires_in"}   (seconds)
    or {"error": "invalid_code"} (a refresh token revoked, expired or unknown),
       {"error": "invalid_client"} (a client id or secret this server does not know)

Zoho answers a refused refresh with HTTP 200 and an `error` word; it is `AuthFailed`
carrying that word. The answer names the account's API domain: when it is not the
configured `url` the token is dropped and `AuthFailed` says which url to set. The
token is never sent anywhere the answer names (that would let the accounts answer
redirect our token), never logged and never put in an error.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

from cloud.connectors.errors import AuthFailed, RateLimited, Unavailable
from cloud.connectors.http import HttpChannel, retry_after_s
from cloud.connectors.zoho_crm.config import data_centre

log = logging.getLogger(__name__)

SYSTEM = "zoho_crm"
TOKEN_PATH = "/oauth/v2/token"  # noqa: S105 - a URL path, not a secret
EARLY_S = 60.0
"""Refresh this long before the token's `expires_in` runs out (at most half its life)."""

HINTS = {
    "invalid_code": "the refresh token is revoked, expired or from another data centre: "
    "generate a new one and set refresh_token",
    "invalid_client": "the client_id or client_secret is not known to this accounts server "
    "(wrong client, or another data centre's accounts_url)",
}


class AccessTokens:
    """The current access token of one API client and refresh token."""

    def __init__(
        self,
        channel: HttpChannel,
        *,
        api_url: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        clock: Callable[[], float],
    ) -> None:
        """`channel`: to the accounts server; `api_url`: the API domain tokens must be for."""
        self._channel = channel
        self._api_url = api_url
        self._form = urlencode(
            {
                "grant_type": "refresh_token",
                "client_id": client_id,
                "client_secret": client_secret,
                "refresh_token": refresh_token,
            }
        ).encode()
        self._clock = clock
        self._token: str | None = None
        self._fresh_until = 0.0

    def __repr__(self) -> str:
        return f"AccessTokens(accounts={self._channel.base_url!r})"

    def current(self) -> str:
        """The cached token, or a new one when there is none or it is about to expire."""
        if self._token is None or self._clock() >= self._fresh_until:
            return self.refresh()
        return self._token

    def refresh(self) -> str:
        """Ask the accounts server for a new access token (the API refused the cached one)."""
        self._token = None
        reply = self._channel.send(
            "POST",
            TOKEN_PATH,
            content=self._form,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )
        where = f"POST {self._channel.base_url}{TOKEN_PATH}"
        try:
            body = json.loads(reply.body)
        except ValueError:
            body = None
        if reply.status == 429:
            raise RateLimited(
                SYSTEM,
                f"{where}: too many token requests",
                retry_after_s=retry_after_s(reply.headers.get("Retry-After")),
            )
        if reply.status >= 500 or not isinstance(body, dict):
            raise Unavailable(
                SYSTEM, f"{where}: no token answer (not JSON)", status_code=reply.status
            )
        error = body.get("error")
        if error is not None or reply.status != 200:
            word = str(error or f"HTTP {reply.status}")
            said = body.get("error_description")
            detail = f"{where}: Zoho Accounts refused the refresh token: {word}"
            detail += f" ({said})" if isinstance(said, str) and said else ""
            detail += f"; {HINTS[word]}" if word in HINTS else ""
            raise AuthFailed(SYSTEM, detail, status_code=reply.status, remote_type=word)
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise Unavailable(SYSTEM, f"{where}: the answer has no access_token")
        self._check_api_domain(body.get("api_domain"))
        life = _seconds(body)
        self._token = token
        self._fresh_until = self._clock() + life - min(EARLY_S, life / 2)
        log.info("zoho_crm: new access token from %s, valid %.0f s", self._channel.base_url, life)
        return token

    def _check_api_domain(self, answered: Any) -> None:
        if answered is None:  # not every accounts answer names it
            return
        if not isinstance(answered, str) or not _same_api(answered, self._api_url):
            raise AuthFailed(
                SYSTEM,
                f"the access token is for API domain {answered!r}, not {self._api_url!r}: "
                f'the account lives in another data centre: set url = "{answered}" (and '
                "accounts_url to match); the token was not used",
                remote_type="api_domain",
            )


def _seconds(body: dict[str, Any]) -> float:
    # Older answers gave expires_in in milliseconds beside expires_in_sec.
    for key in ("expires_in_sec", "expires_in"):
        value = body.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return float(value)
    return 3600.0


def _same_api(answered: str, configured: str) -> bool:
    """The answered API domain is the configured url, or (Zoho's own domains) of its data
    centre: a sandbox or developer url gets tokens naming www.zohoapis.<dc>."""
    theirs, ours = urlsplit(answered.rstrip("/")), urlsplit(configured.rstrip("/"))
    if (theirs.scheme, theirs.netloc.lower()) == (ours.scheme, ours.netloc.lower()):
        return True
    centre = data_centre(configured)
    return centre is not None and theirs.scheme == "https" and data_centre(answered) == centre

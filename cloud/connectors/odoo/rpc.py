"""Odoo's two RPC transports and its errors, mapped onto the connector errors.

    JSON-RPC  POST /jsonrpc  {"jsonrpc": "2.0", "method": "call",
                              "params": {"service", "method", "args"}, "id": n}
              an error is HTTP 200 with {"error": {"code", "message",
              "data": {"name": "odoo.exceptions.AccessDenied", "message": ...}}}
    XML-RPC   POST /xmlrpc/2/<service>, a methodCall; an error is a Fault:
              3 AccessDenied, 4 AccessError, 2 UserError (and ValidationError,
              RedirectWarning), 1 anything else, its string a Python traceback

Both carry the same calls (`common.authenticate`, `object.execute_kw`) and
raise the same errors (`odoo_error`), so the connector does not care which.
"""

from __future__ import annotations

import json
import xmlrpc.client
from itertools import count
from typing import Any, Protocol
from xml.parsers.expat import ExpatError

from cloud.connectors.errors import (
    AuthFailed,
    ConnectorError,
    RateLimited,
    Rejected,
    RemoteNotFound,
    Unavailable,
)
from cloud.connectors.http import HttpChannel, Reply, retry_after_s

SYSTEM = "odoo"

AUTH_ERRORS = frozenset({"odoo.exceptions.AccessDenied", "odoo.exceptions.AccessError"})
"""Bad credentials, or a user without the rights for the call."""

DATA_ERRORS = frozenset(
    {
        "builtins.ValueError",  # an unknown field, a bad date, a malformed domain
        "builtins.TypeError",  # wrong arguments for the method
        "builtins.KeyError",  # an unknown model
        "builtins.AttributeError",  # an unknown method
        "builtins.IndexError",
        "werkzeug.exceptions.BadRequest",
        "psycopg2.IntegrityError",
        "psycopg2.errors.NotNullViolation",
        "psycopg2.errors.UniqueViolation",
        "psycopg2.errors.ForeignKeyViolation",
        "psycopg2.errors.CheckViolation",
    }
)
"""Errors about the call itself. Every `odoo.exceptions.*` but the two above is one too
(UserError, ValidationError, MissingError, RedirectWarning)."""

# XML-RPC fault codes (odoo/http.py, RPC_FAULT_CODE_*).
_FAULT_WARNING = 2
_FAULT_ACCESS_DENIED = 3
_FAULT_ACCESS_ERROR = 4


def odoo_error(name: str, message: str, status_code: int | None = None) -> ConnectorError:
    """The connector error for Odoo's exception `name` (`data.name`) and its message.

    Errors about the data or the call are `Rejected` (`MissingError`:
    `RemoteNotFound`); credentials and rights `AuthFailed`; anything else
    (a database that is down, a serialization failure, a server bug) is
    `Unavailable`, since the same call may well succeed later.
    """
    message = message.strip() or name
    if name in AUTH_ERRORS:
        return AuthFailed(SYSTEM, message, status_code=status_code, remote_type=name)
    if name == "odoo.exceptions.MissingError":
        return RemoteNotFound(SYSTEM, message, status_code=status_code, remote_type=name)
    if name.startswith("odoo.exceptions.") or name in DATA_ERRORS:
        return Rejected(SYSTEM, message, status_code=status_code, remote_type=name)
    return Unavailable(SYSTEM, message, status_code=status_code, remote_type=name)


def http_error(reply: Reply, url: str) -> ConnectorError:
    """An answer that is not the protocol's: what its status says."""
    status = reply.status
    if status == 429:
        return RateLimited(
            SYSTEM,
            f"{url}: too many requests",
            retry_after_s=retry_after_s(reply.headers.get("Retry-After")),
        )
    if status in (401, 403):
        return AuthFailed(SYSTEM, f"{url}: refused by the server or a proxy", status_code=status)
    if status == 404:
        return Rejected(SYSTEM, f"{url}: not found: is this an Odoo server?", status_code=status)
    if 300 <= status < 400:
        where = reply.headers.get("Location", "elsewhere")
        return Rejected(
            SYSTEM,
            f"{url}: redirected to {where}: set url to the final address",
            status_code=status,
        )
    return Unavailable(SYSTEM, f"{url}: unexpected answer", status_code=status)


class OdooRpc(Protocol):
    """One way to call Odoo's external API."""

    def call(self, service: str, method: str, args: list[Any]) -> Any:
        """Call `service.method(*args)`; return its result or raise a `ConnectorError`."""
        ...


class JsonRpc:
    """Odoo's `/jsonrpc` endpoint."""

    def __init__(self, channel: HttpChannel) -> None:
        self._channel = channel
        self._ids = count(1)

    def call(self, service: str, method: str, args: list[Any]) -> Any:
        call_id = next(self._ids)
        envelope = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service, "method": method, "args": args},
            "id": call_id,
        }
        reply = self._channel.send("POST", "/jsonrpc", json=envelope)
        url = f"{self._channel.base_url}/jsonrpc"
        try:
            answer = json.loads(reply.body)
        except ValueError:
            answer = None
        if isinstance(answer, dict) and isinstance(answer.get("error"), dict):
            return _raise_jsonrpc_error(answer["error"], reply.status)
        if reply.status != 200:
            raise http_error(reply, url)
        if not isinstance(answer, dict) or "result" not in answer:
            raise Unavailable(SYSTEM, f"{url}: the answer is not a JSON-RPC result")
        if answer.get("id") != call_id:
            raise Unavailable(SYSTEM, f"{url}: the answer is for another call")
        return answer["result"]


def _raise_jsonrpc_error(error: dict[str, Any], status: int) -> Any:
    data = error.get("data")
    if isinstance(data, dict):
        name = str(data.get("name") or "")
        message = str(data.get("message") or error.get("message") or "")
    else:
        name, message = "", str(error.get("message") or "")
    raise odoo_error(name or "unknown", message, None if status == 200 else status)


class XmlRpc:
    """Odoo's `/xmlrpc/2/<service>` endpoints."""

    def __init__(self, channel: HttpChannel) -> None:
        self._channel = channel

    def call(self, service: str, method: str, args: list[Any]) -> Any:
        path = f"/xmlrpc/2/{service}"
        body = xmlrpc.client.dumps(tuple(args), methodname=method, allow_none=True)
        reply = self._channel.send(
            "POST",
            path,
            content=body.encode("utf-8"),
            headers={"Content-Type": "text/xml; charset=utf-8"},
        )
        url = self._channel.base_url + path
        if reply.status != 200:
            raise http_error(reply, url)
        try:
            params, _ = xmlrpc.client.loads(reply.body, use_builtin_types=True)
        except xmlrpc.client.Fault as fault:
            raise _fault_error(fault) from None
        except (ExpatError, xmlrpc.client.ResponseError, ValueError, TypeError):
            raise Unavailable(SYSTEM, f"{url}: the answer is not an XML-RPC response") from None
        if len(params) != 1:
            raise Unavailable(SYSTEM, f"{url}: the answer is not an XML-RPC response")
        return params[0]


def _fault_error(fault: xmlrpc.client.Fault) -> ConnectorError:
    text = str(fault.faultString)
    if fault.faultCode == _FAULT_ACCESS_DENIED:
        return odoo_error("odoo.exceptions.AccessDenied", text)
    if fault.faultCode == _FAULT_ACCESS_ERROR:
        return odoo_error("odoo.exceptions.AccessError", text)
    if fault.faultCode == _FAULT_WARNING:
        # MissingError is a UserError: the fault code is the same, only its text tells.
        missing = "does not exist or has been deleted" in text
        return odoo_error(f"odoo.exceptions.{'MissingError' if missing else 'UserError'}", text)
    # Any other error comes as its traceback; its last line names the exception.
    last = next((line for line in reversed(text.splitlines()) if line.strip()), "")
    name, _, message = last.partition(":")
    name = name.strip()
    if not name or " " in name:
        return odoo_error("unknown", last or text)
    return odoo_error(name if "." in name else f"builtins.{name}", message)

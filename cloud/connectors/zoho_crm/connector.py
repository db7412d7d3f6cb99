"""Orders as Zoho CRM Sales Orders or Purchase Orders, over the records API v8.

    create_order   GET /crm/v8/<Module>/search?criteria=(<reference field>:equals:vmi-42)
                   found: that record. Else the product (Products, by Product_Code) and
                   the party (Vendors or Accounts, by name) are looked up the same way,
                   then POST /crm/v8/<Module> {"data": [record]}
    update_order   GET /crm/v8/<Module>/<id>; when Status is not yet there:
                   PUT /crm/v8/<Module>/<id> {"data": [{"Status": ...}]}
    fetch_status   GET /crm/v8/<Module>/<id>: Status, in our lifecycle's words

Every request carries `Authorization: Zoho-oauthtoken <access token>` (see oauth.py);
a 401 INVALID_TOKEN gets one new token and the request once more. Errors show Zoho's
own code and message (answers.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from cloud.connectors.base import OrderChange, OrderSpec, RemoteRef, RemoteStatus
from cloud.connectors.errors import Rejected, RemoteNotFound, Unavailable, UnsupportedChange
from cloud.connectors.http import HttpChannel
from cloud.connectors.zoho_crm.answers import (
    STALE_TOKEN_CODES,
    details_of,
    error_of,
    loads,
    record_error,
    zoho_error,
)
from cloud.connectors.zoho_crm.config import ZohoCrmConfig
from cloud.connectors.zoho_crm.oauth import AccessTokens
from cloud.orders import OrderStatus

log = logging.getLogger(__name__)

SYSTEM = "zoho_crm"
API = "/crm/v8"

PARTY = {
    "Purchase_Orders": ("Vendors", "Vendor_Name"),
    "Sales_Orders": ("Accounts", "Account_Name"),
}
"""Per order module: the party module and the order's lookup field to it."""
ITEMS = {"Purchase_Orders": "Purchase_Items", "Sales_Orders": "Ordered_Items"}
"""Per order module: its line items (subform) field."""

_S = OrderStatus
STEPS: dict[OrderChange, tuple[str, set[OrderStatus], set[OrderStatus]]] = {
    OrderChange.CONFIRM: ("confirmed", {_S.PROPOSED}, {_S.CONFIRMED, _S.SHIPPED, _S.RECEIVED}),
    OrderChange.SHIP: ("delivered", {_S.PROPOSED, _S.CONFIRMED}, {_S.SHIPPED}),
    OrderChange.CANCEL: ("cancelled", {_S.PROPOSED, _S.CONFIRMED, _S.SHIPPED}, {_S.CANCELLED}),
}
"""Per change: the `states` word it sets, the statuses it moves from, those it leaves alone
(already there or past it). From any other status (a cancelled order confirmed, a delivered
purchase order cancelled) it is `Rejected`."""


class ZohoCrmConnector:
    """A `Connector` for one Zoho CRM organisation and one order module."""

    kind = SYSTEM

    def __init__(
        self,
        config: ZohoCrmConfig,
        http: httpx.Client | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Reads the client id, secret and refresh token now (a `ConfigError` if it cannot);
        connects only when first used. `http`: the client to send with (kept open on close);
        `clock`: monotonic seconds, for the token's expiry."""
        self._config = config
        self._module = config.module
        self._field = config.reference_field
        self._states = config.states
        self._channel = HttpChannel(
            SYSTEM, config.url, timeout_s=config.timeout_s, client=http, proxy=config.proxy
        )
        self._accounts = HttpChannel(
            SYSTEM, config.token_url(), timeout_s=config.timeout_s, client=http, proxy=config.proxy
        )
        self._tokens = AccessTokens(
            self._accounts,
            api_url=config.url,
            client_id=config.secret("client_id"),
            client_secret=config.secret("client_secret"),
            refresh_token=config.secret("refresh_token"),
            clock=clock,
        )

    def __repr__(self) -> str:
        c = self._config
        return f"ZohoCrmConnector(url={c.url!r}, module={c.module!r})"

    # -- the Connector protocol ----------------------------------------------

    def find_order(self, reference: str) -> RemoteRef | None:
        """The record whose reference field holds `reference` (a live one first)."""
        fields = ",".join(dict.fromkeys(["Subject", self._field, "Status"]))
        rows = [
            r
            for r in self._search(self._module, self._field, reference, fields)
            if r.get(self._field) == reference  # search's equals is not always exact
        ]
        if not rows:
            return None
        live = [r for r in rows if r.get("Status") != self._states.cancelled]
        if len(live) > 1:
            log.warning(
                "zoho_crm: %d live %s carry reference %s; using %s",
                len(live),
                self._module,
                reference,
                live[0]["id"],
            )
        row = live[0] if live else rows[-1]
        return self._ref(row, reference, existed=True)

    def create_order(self, order: OrderSpec) -> RemoteRef:
        """Create the record, or return the one already carrying `order.reference`."""
        found = self.find_order(order.reference)
        if found is not None:
            log.info("zoho_crm: %s already has %s %s", order.reference, self._module, found.id)
            return found
        path = f"{API}/{self._module}"
        status, body = self._send("POST", path, json={"data": [self._record(order)]}, write=True)
        result = _first(body, f"POST {path}")
        if result.get("status") == "success":
            details = details_of(result)
            record_id = details.get("id")
            if not isinstance(record_id, str) or not record_id:
                raise Unavailable(SYSTEM, f"POST {path}: the answer names no id")
            log.info("zoho_crm: created %s %s for %s", self._module, record_id, order.reference)
            return self._ref({"id": record_id, "Subject": order.reference}, order.reference)
        duplicate = self._duplicate(result, order.reference)
        if duplicate is not None:
            return duplicate
        raise record_error(result, f"{self._module} {order.reference}", status)

    def update_order(self, ref: RemoteRef, change: OrderChange) -> RemoteStatus:
        """Set the Status of `change` when the record is not there yet: confirm and cancel on
        both modules, ship on a Sales Order (a Purchase Order is delivered to us)."""
        if change is OrderChange.SHIP and self._module == "Purchase_Orders":
            raise UnsupportedChange(
                SYSTEM,
                f"{self._module} {ref.id}: a purchase order is not shipped by its buyer; Zoho "
                f"users set Status {self._states.delivered!r} on arrival (fetch_status: received)",
            )
        current = self._status(ref, self._read(ref))
        word, moves_from, done_in = STEPS[change]
        if current.status in done_in:
            return current
        if current.status not in moves_from:
            raise Rejected(
                SYSTEM,
                f"{self._module} {ref.id} is {current.remote_state} ({current.status}); "
                f"it cannot be {word}",
            )
        target = getattr(self._states, word)
        path = f"{API}/{self._module}/{quote(ref.id, safe='')}"
        status, body = self._send("PUT", path, json={"data": [{"Status": target}]}, write=True)
        result = _first(body, f"PUT {path}")
        if result.get("status") != "success":
            raise record_error(result, f"{self._module} {ref.id}", status)
        log.info("zoho_crm: %s %s %s: Status %s", change, self._module, ref.id, target)
        return self._status(ref, {"Status": target})

    def fetch_status(self, ref: RemoteRef) -> RemoteStatus:
        """The record's Status, in our lifecycle's words."""
        return self._status(ref, self._read(ref))

    def close(self) -> None:
        self._channel.close()
        self._accounts.close()

    # -- helpers --------------------------------------------------------------

    def _record(self, order: OrderSpec) -> dict[str, Any]:
        c = self._config
        party_module, party_lookup = PARTY[self._module]
        code = c.party or (order.supplier if party_module == "Vendors" else order.customer)
        if code is None:
            who = "supplier" if party_module == "Vendors" else "customer"
            raise Rejected(
                SYSTEM,
                f"{order.reference} names no {who}; a {self._module} record needs one "
                "(or set `party` in the connector config)",
            )
        product = self._lookup("Products", c.product_field, order.sku)
        party = self._lookup(party_module, c.order_party_field(), c.parties.get(code, code))
        return {
            "Subject": order.reference,
            self._field: order.reference,
            party_lookup: {"id": party},
            "Due_Date": order.planned_date.isoformat(),
            "Status": self._states.proposed,
            ITEMS[self._module]: [{"Product_Name": {"id": product}, "Quantity": order.quantity}],
        }

    def _lookup(self, module: str, field: str, value: str) -> str:
        """The id of the one record whose `field` is `value` (exactly, else ignoring case)."""
        found = self._search(module, field, value, field)
        rows = [r for r in found if str(r.get(field, "")).casefold() == value.casefold()]
        rows = [r for r in rows if r.get(field) == value] or rows
        if not rows:
            raise Rejected(SYSTEM, f"{module}: no record has {field} {value!r}")
        if len(rows) > 1:
            ids = ", ".join(str(r.get("id")) for r in rows[:5])
            raise Rejected(
                SYSTEM, f"{module}: {len(rows)} records have {field} {value!r} ({ids}): "
                "make it unique",
            )  # fmt: skip
        return str(rows[0]["id"])

    def _search(self, module: str, field: str, value: str, fields: str) -> list[dict[str, Any]]:
        # Every special character percent-encoded (a space as %20, not +), as Zoho asks.
        query = urlencode(
            {"criteria": f"({field}:equals:{escape(value)})", "fields": fields},
            quote_via=quote,
            safe="",
        )
        _, body = self._send("GET", f"{API}/{module}/search?{query}")
        if body is None:  # 204: nothing matches
            return []
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise Unavailable(SYSTEM, f"GET {API}/{module}/search: the answer has no `data` list")
        return [r for r in data if isinstance(r, dict) and r.get("id")]

    def _duplicate(self, result: dict[str, Any], reference: str) -> RemoteRef | None:
        """The record a DUPLICATE_DATA on our reference names (our earlier create)."""
        details = details_of(result)
        if result.get("code") != "DUPLICATE_DATA" or details.get("api_name") not in (
            self._field,
            "Subject",
        ):
            return None
        record = details.get("duplicate_record")
        record_id = record.get("id") if isinstance(record, dict) else None
        if isinstance(record_id, str) and record_id:
            log.info("zoho_crm: %s already has %s %s", reference, self._module, record_id)
            return self._ref({"id": record_id, "Subject": reference}, reference, existed=True)
        return self.find_order(reference)

    def _read(self, ref: RemoteRef) -> dict[str, Any]:
        if ref.system != SYSTEM or ref.record_type != self._module:
            raise Rejected(
                SYSTEM, f"{ref.system} {ref.record_type} {ref.id!r} is not a {self._module} record"
            )
        path = f"{API}/{self._module}/{quote(ref.id, safe='')}"
        status, body = self._send("GET", path)
        data = body.get("data") if isinstance(body, dict) else None
        if body is None or (isinstance(data, list) and not data):
            raise RemoteNotFound(
                SYSTEM, f"GET {path}: no such record (it was deleted?)", status_code=status
            )
        if not isinstance(data, list) or not isinstance(data[0], dict):
            raise Unavailable(SYSTEM, f"GET {path}: the answer has no record in `data`")
        record: dict[str, Any] = data[0]
        return record

    def _status(self, ref: RemoteRef, record: dict[str, Any]) -> RemoteStatus:
        word = record.get("Status")
        s = self._states
        delivered = OrderStatus.SHIPPED if self._module == "Sales_Orders" else OrderStatus.RECEIVED
        statuses = {
            s.proposed: OrderStatus.PROPOSED,
            s.confirmed: OrderStatus.CONFIRMED,
            s.delivered: delivered,
            s.cancelled: OrderStatus.CANCELLED,
        }
        if word is None or word == "":  # "-None-": never given one
            return RemoteStatus(ref=ref, status=OrderStatus.PROPOSED, remote_state="-None-")
        status = statuses.get(str(word))
        if status is None:
            raise Rejected(
                SYSTEM,
                f"{self._module} {ref.id}: Status {word!r} is none of the configured states "
                f"({', '.join(repr(w) for w in statuses)}); set them in [connector.states]",
            )
        return RemoteStatus(ref=ref, status=status, remote_state=str(word))

    def _ref(self, row: dict[str, Any], reference: str, *, existed: bool = False) -> RemoteRef:
        subject = row.get("Subject")
        return RemoteRef(
            system=SYSTEM,
            record_type=self._module,
            id=str(row["id"]),
            name=subject if isinstance(subject, str) and subject else None,
            reference=reference,
            existed=existed,
        )

    def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        write: bool = False,
    ) -> tuple[int, Any]:
        """The HTTP status and JSON answer (None for 204). `write`: an insert or update,
        whose record results come back in `data` also with status 400."""
        token = self._tokens.current()
        for attempt in (1, 2):
            reply = self._channel.send(
                method,
                path,
                json=json,
                headers={"Authorization": f"Zoho-oauthtoken {token}", "Accept": "application/json"},
            )
            try:
                body = loads(reply.body)
            except ValueError:
                body = None
            error = error_of(body)
            code = error.get("code") if error else None
            if reply.status == 401 and code in STALE_TOKEN_CODES and attempt == 1:
                log.info("zoho_crm: %s %s: %s; getting a new access token", method, path, code)
                token = self._tokens.refresh()
                continue
            if reply.status == 204:
                return 204, None
            records = write and isinstance(body, dict) and isinstance(body.get("data"), list)
            if 200 <= reply.status < 300 or (records and reply.status == 400):
                if body is None:
                    raise Unavailable(
                        SYSTEM, f"{method} {path}: the answer is not JSON", status_code=reply.status
                    )
                return reply.status, body
            raise zoho_error(reply, f"{method} {path}")
        raise AssertionError("unreachable")  # pragma: no cover


def escape(value: str) -> str:
    """A criteria value with Zoho's escapes: a backslash before each parenthesis and comma."""
    return "".join("\\" + ch if ch in "()," else ch for ch in value)


def _first(body: Any, what: str) -> dict[str, Any]:
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list) or not data or not isinstance(data[0], dict):
        raise Unavailable(SYSTEM, f"{what}: the answer has no record result in `data`")
    result: dict[str, Any] = data[0]
    return result

"""Orders as ERPNext Purchase Orders, Sales Orders or Material Requests, over REST.

    create_order   GET /api/resource/<DocType>?filters=[[<reference field>, "=", ref]]
                   found: that document. Else POST /api/resource/<DocType> with the
                   party, dates, our reference and one item line
    update_order   confirm: PUT .../<name> {"docstatus": 1} (submit) on a draft;
                   cancel: POST /api/method/frappe.client.cancel on a submitted one,
                   DELETE .../<name> on a draft (drafts cannot be cancelled)
    fetch_status   GET .../<name>: docstatus, status, per_received / per_delivered

Every request carries `Authorization: token <api_key>:<api_secret>`. Errors
are shown with ERPNext's own `exc_type` and `_server_messages` (or `exception`).
"""

from __future__ import annotations

import html
import json
import logging
import re
from typing import Any
from urllib.parse import quote

import httpx

from cloud.connectors.base import OrderChange, OrderSpec, RemoteRef, RemoteStatus
from cloud.connectors.erpnext.config import ErpNextConfig
from cloud.connectors.errors import (
    AuthFailed,
    ConnectorError,
    RateLimited,
    Rejected,
    RemoteNotFound,
    Unavailable,
    UnsupportedChange,
)
from cloud.connectors.http import HttpChannel, Reply, retry_after_s
from cloud.orders import OrderStatus

log = logging.getLogger(__name__)

SYSTEM = "erpnext"

PARTY_FIELD = {"Purchase Order": "supplier", "Sales Order": "customer"}
DATE_FIELD = {
    "Purchase Order": "schedule_date",
    "Sales Order": "delivery_date",
    "Material Request": "schedule_date",
}
PROGRESS_FIELD = {
    "Purchase Order": "per_received",
    "Sales Order": "per_delivered",
    "Material Request": "per_received",
}
"""Percent received (a purchase, a request) or delivered (a sale)."""

DRAFT, SUBMITTED, CANCELLED = 0, 1, 2
_TAG = re.compile(r"<[^>]+>")


class ErpNextConnector:
    """A `Connector` for one ERPNext site and one DocType."""

    kind = SYSTEM

    def __init__(self, config: ErpNextConfig, http: httpx.Client | None = None) -> None:
        """Reads the API key and secret now (a `ConfigError` if it cannot); connects only
        when first used. `http`: the client to send with (kept open on close)."""
        self._config = config
        self._doctype = config.doctype
        self._reference_field = config.order_reference_field()
        self._authorization = f"token {config.secret('api_key')}:{config.secret('api_secret')}"
        self._channel = HttpChannel(
            SYSTEM, config.url, timeout_s=config.timeout_s, client=http, proxy=config.proxy
        )
        self._path = f"/api/resource/{quote(self._doctype, safe='')}"

    def __repr__(self) -> str:
        c = self._config
        return f"ErpNextConnector(url={c.url!r}, doctype={c.doctype!r})"

    # -- the Connector protocol ----------------------------------------------

    def find_order(self, reference: str) -> RemoteRef | None:
        """The document whose reference field holds `reference` (a live one first)."""
        answer = self._send(
            "GET",
            self._path,
            params={
                "filters": json.dumps([[self._reference_field, "=", reference]]),
                "fields": json.dumps(["name", "docstatus", "status"]),
                "order_by": "creation asc",
                "limit_page_length": "20",
            },
        )
        rows = [r for r in _data(answer, list) if isinstance(r, dict) and r.get("name")]
        if not rows:
            return None
        live = [r for r in rows if r.get("docstatus") != CANCELLED]
        if len(live) > 1:
            log.warning(
                "erpnext: %d live %ss carry reference %s; using %s",
                len(live),
                self._doctype,
                reference,
                live[0]["name"],
            )
        # A cancelled and amended document leaves the cancelled one first: prefer the live one.
        row = live[0] if live else rows[-1]
        return self._ref(str(row["name"]), reference, existed=True)

    def create_order(self, order: OrderSpec) -> RemoteRef:
        """Create the document, or return the one already carrying `order.reference`."""
        found = self.find_order(order.reference)
        if found is not None:
            log.info("erpnext: %s already has %s %s", order.reference, self._doctype, found.id)
            return found
        answer = self._send("POST", self._path, json=self._document(order))
        doc = _data(answer, dict)
        name = doc.get("name")
        if not isinstance(name, str) or not name:
            raise Unavailable(SYSTEM, f"POST {self._path}: the answer names no document")
        if doc.get(self._reference_field) != order.reference:
            # Frappe drops fields a DocType does not have, silently. Without the
            # reference a retried delivery would not find this document.
            raise Rejected(
                SYSTEM,
                f"{self._doctype} {name} was created without {self._reference_field} "
                f"(the DocType has no such field?): add it as a Custom Field, then delete "
                f"{name} by hand",
            )
        ref = self._ref(name, order.reference, existed=False)
        log.info("erpnext: created %s %s for %s", self._doctype, name, order.reference)
        return ref

    def update_order(self, ref: RemoteRef, change: OrderChange) -> RemoteStatus:
        """Submit (confirm) or cancel the document when its state calls for it; `ship`
        is a Delivery Note or Purchase Receipt in ERPNext, not a step of the order."""
        if change is OrderChange.SHIP:
            raise UnsupportedChange(
                SYSTEM,
                f"{self._doctype} {ref.id}: shipping is a Delivery Note / Purchase Receipt in "
                "ERPNext, which this connector does not create; fetch_status reports it",
            )
        try:
            doc = self._read(ref)
        except RemoteNotFound:
            if change is not OrderChange.CANCEL:
                raise
            # A draft we deleted before (its answer lost): nothing is left to cancel.
            return RemoteStatus(ref=ref, status=OrderStatus.CANCELLED, remote_state="Deleted")
        docstatus = doc.get("docstatus")
        path = f"{self._path}/{quote(ref.id, safe='')}"
        if change is OrderChange.CONFIRM:
            if docstatus == CANCELLED:
                raise Rejected(
                    SYSTEM, f"{self._doctype} {ref.id} is cancelled; it cannot be submitted"
                )
            if docstatus != DRAFT:
                return self._status(ref, doc)
            self._send("PUT", path, json={"docstatus": SUBMITTED})
        else:
            if docstatus == CANCELLED:
                return self._status(ref, doc)
            if docstatus == DRAFT:
                self._send("DELETE", path)
                log.info("erpnext: deleted draft %s %s", self._doctype, ref.id)
                return RemoteStatus(ref=ref, status=OrderStatus.CANCELLED, remote_state="Deleted")
            self._send(
                "POST",
                "/api/method/frappe.client.cancel",
                json={"doctype": self._doctype, "name": ref.id},
            )
        log.info("erpnext: %s %s %s", change, self._doctype, ref.id)
        return self.fetch_status(ref)

    def fetch_status(self, ref: RemoteRef) -> RemoteStatus:
        """The document's docstatus, status and progress, in our lifecycle's words."""
        return self._status(ref, self._read(ref))

    def close(self) -> None:
        self._channel.close()

    # -- helpers --------------------------------------------------------------

    def _document(self, order: OrderSpec) -> dict[str, Any]:
        c = self._config
        day = order.planned_date.isoformat()
        date_field = DATE_FIELD[self._doctype]
        item: dict[str, Any] = {"item_code": order.sku, "qty": order.quantity, date_field: day}
        if c.warehouse is not None:
            item["warehouse"] = c.warehouse
        doc: dict[str, Any] = {date_field: day, self._reference_field: order.reference}
        party_field = PARTY_FIELD.get(self._doctype)
        if party_field is not None:
            code = c.party or (order.supplier if party_field == "supplier" else order.customer)
            if code is None:
                raise Rejected(
                    SYSTEM,
                    f"{order.reference} names no {party_field}; a {self._doctype} needs one "
                    "(or set `party` in the connector config)",
                )
            doc[party_field] = c.parties.get(code, code)
        else:
            doc["material_request_type"] = "Purchase"
        if c.company is not None:
            doc["company"] = c.company
        doc["items"] = [item]
        return doc

    def _read(self, ref: RemoteRef) -> dict[str, Any]:
        if ref.system != SYSTEM or ref.record_type != self._doctype:
            raise Rejected(
                SYSTEM, f"{ref.system} {ref.record_type} {ref.id!r} is not a {self._doctype}"
            )
        path = f"{self._path}/{quote(ref.id, safe='')}"
        doc: dict[str, Any] = _data(self._send("GET", path), dict)
        return doc

    def _status(self, ref: RemoteRef, doc: dict[str, Any]) -> RemoteStatus:
        docstatus = doc.get("docstatus")
        state = doc.get("status")
        if not isinstance(state, str) or not state:
            state = {DRAFT: "Draft", SUBMITTED: "Submitted", CANCELLED: "Cancelled"}.get(
                docstatus if isinstance(docstatus, int) else -1, "?"
            )
        if docstatus == DRAFT:
            status = OrderStatus.PROPOSED
        elif docstatus == CANCELLED:
            status = OrderStatus.CANCELLED
        elif docstatus == SUBMITTED:
            status = OrderStatus.CONFIRMED
            progress = doc.get(PROGRESS_FIELD[self._doctype])
            if isinstance(progress, int | float) and progress >= 100:
                sale = self._doctype == "Sales Order"
                status = OrderStatus.SHIPPED if sale else OrderStatus.RECEIVED
        else:
            raise Unavailable(SYSTEM, f"{self._doctype} {ref.id}: docstatus {docstatus!r}")
        return RemoteStatus(ref=ref, status=status, remote_state=state)

    def _ref(self, name: str, reference: str, *, existed: bool) -> RemoteRef:
        return RemoteRef(
            system=SYSTEM,
            record_type=self._doctype,
            id=name,
            name=name,
            reference=reference,
            existed=existed,
        )

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
    ) -> Any:
        reply = self._channel.send(
            method,
            path,
            params=params,
            json=json,
            headers={"Authorization": self._authorization, "Accept": "application/json"},
        )
        if 200 <= reply.status < 300:
            try:
                return _loads(reply.body)
            except ValueError:
                raise Unavailable(
                    SYSTEM, f"{method} {path}: the answer is not JSON", status_code=reply.status
                ) from None
        raise erpnext_error(reply, f"{method} {path}")


def _loads(body: bytes) -> Any:
    return json.loads(body) if body.strip() else {}


def _data(answer: Any, kind: type[list[Any]] | type[dict[str, Any]]) -> Any:
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, kind):
        raise Unavailable(SYSTEM, f"the answer has no {kind.__name__} in `data`")
    return data


def server_messages(body: dict[str, Any]) -> list[str]:
    """The messages in Frappe's `_server_messages` (a JSON list of JSON objects), as text."""
    raw = body.get("_server_messages")
    try:
        items = json.loads(raw) if isinstance(raw, str) else []
    except ValueError:
        return []
    found = []
    for item in items if isinstance(items, list) else []:
        try:
            parsed = json.loads(item) if isinstance(item, str) else item
        except ValueError:
            parsed = item
        message = parsed.get("message") if isinstance(parsed, dict) else parsed
        if message:
            found.append(html.unescape(_TAG.sub("", str(message))).strip())
    return found


def erpnext_error(reply: Reply, what: str) -> ConnectorError:
    """The connector error for a non-2xx answer, with ERPNext's own words.

    401/403 `AuthFailed`; 404 `RemoteNotFound`; 429 `RateLimited`; 5xx and
    408 `Unavailable`; any other 4xx (417 validation, 409 duplicate) and a
    redirect `Rejected`.
    """
    try:
        body = _loads(reply.body)
    except ValueError:
        body = None
    body = body if isinstance(body, dict) else {}
    exc_type = body.get("exc_type") if isinstance(body.get("exc_type"), str) else None
    exception = body.get("exception") if isinstance(body.get("exception"), str) else None
    messages = server_messages(body)
    if messages:
        detail = " | ".join(messages)
    elif exception:
        detail = exception.strip().splitlines()[-1] if exception.strip() else exception
    else:
        detail = str(body.get("message") or reply.body[:200].decode("utf-8", "replace").strip())
    detail = f"{what}: {detail or 'no message'}"
    status = reply.status
    kw: dict[str, Any] = {"status_code": status, "remote_type": exc_type}
    if status == 429:
        return RateLimited(
            SYSTEM, detail, retry_after_s=retry_after_s(reply.headers.get("Retry-After")), **kw
        )
    if status in (401, 403):
        return AuthFailed(SYSTEM, detail, **kw)
    if status == 404:
        return RemoteNotFound(SYSTEM, detail, **kw)
    if status >= 500 or status == 408:
        return Unavailable(SYSTEM, detail, **kw)
    if 300 <= status < 400:
        where = reply.headers.get("Location", "elsewhere")
        return Rejected(
            SYSTEM, f"{what}: redirected to {where}: set url to the final address", **kw
        )
    return Rejected(SYSTEM, detail, **kw)

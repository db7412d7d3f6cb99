"""Orders as Odoo purchase or sales orders, through `execute_kw`.

    create_order   search_read <model> where <reference field> = our reference;
                   found: that order. Else res.partner by `partner_field` (the
                   supplier's code on a purchase, the customer's on a sale),
                   product.product by default_code (or barcode), then
                   create({partner_id, <reference field>, order_line: [[0, 0, {...}]]})
    update_order   confirm: button_confirm (purchase) / action_confirm (sale);
                   cancel: button_cancel / action_cancel; each only when the
                   order's state calls for it, so repeating one is harmless
    fetch_status   read state (and receipt_status / delivery_status)

The user signs in once (`common.authenticate`), lazily; an `AccessDenied`
later (a revoked key) makes the next call sign in again.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from cloud.connectors.base import OrderChange, OrderSpec, RemoteRef, RemoteStatus
from cloud.connectors.errors import AuthFailed, Rejected, Unavailable, UnsupportedChange
from cloud.connectors.http import HttpChannel
from cloud.connectors.odoo.config import OdooConfig
from cloud.connectors.odoo.rpc import SYSTEM, JsonRpc, OdooRpc, XmlRpc
from cloud.orders import OrderStatus

log = logging.getLogger(__name__)

CONFIRM_METHOD = {"purchase.order": "button_confirm", "sale.order": "action_confirm"}
CANCEL_METHOD = {"purchase.order": "button_cancel", "sale.order": "action_cancel"}
DELIVERY_FIELD = {"purchase.order": "receipt_status", "sale.order": "delivery_status"}

STATES: dict[str, OrderStatus] = {
    "draft": OrderStatus.PROPOSED,  # RFQ / quotation
    "sent": OrderStatus.PROPOSED,
    "to approve": OrderStatus.PROPOSED,
    "purchase": OrderStatus.CONFIRMED,
    "sale": OrderStatus.CONFIRMED,
    "done": OrderStatus.CONFIRMED,  # locked
    "cancel": OrderStatus.CANCELLED,
}
"""Odoo's order states in our lifecycle's words."""

_FULL = "full"  # receipt_status / delivery_status when everything arrived / left


class OdooConnector:
    """A `Connector` for one Odoo database and one order model."""

    kind = SYSTEM

    def __init__(self, config: OdooConfig, http: httpx.Client | None = None) -> None:
        """Reads the password or API key now (a `ConfigError` if it cannot); connects
        only when first used. `http`: the client to send with (kept open on close)."""
        self._config = config
        self._password = config.secret("password")
        self._model = config.model
        self._reference_field = config.order_reference_field()
        self._channel = HttpChannel(
            SYSTEM, config.url, timeout_s=config.timeout_s, client=http, proxy=config.proxy
        )
        self._rpc: OdooRpc = (
            JsonRpc(self._channel) if config.protocol == "jsonrpc" else XmlRpc(self._channel)
        )
        self._uid: int | None = None

    def __repr__(self) -> str:
        c = self._config
        return (
            f"OdooConnector(url={c.url!r}, database={c.database!r}, login={c.login!r}, "
            f"model={c.model!r}, protocol={c.protocol!r})"
        )

    # -- the Connector protocol ----------------------------------------------

    def find_order(self, reference: str) -> RemoteRef | None:
        """The order whose reference field holds `reference` (an open one first)."""
        rows = self._execute(
            self._model,
            "search_read",
            [[[self._reference_field, "=", reference]]],
            {"fields": ["id", "name", "state"], "order": "id asc", "limit": 20},
        )
        if not isinstance(rows, list) or not rows:
            return None
        open_rows = [r for r in rows if isinstance(r, dict) and r.get("state") != "cancel"]
        row = (open_rows or rows)[0]
        if len(open_rows) > 1:
            log.warning(
                "odoo: %d open %s carry reference %s; using id %s",
                len(open_rows),
                self._model,
                reference,
                row.get("id"),
            )
        return self._ref(row, reference, existed=True)

    def create_order(self, order: OrderSpec) -> RemoteRef:
        """Create the order, or return the one already carrying `order.reference`."""
        found = self.find_order(order.reference)
        if found is not None:
            log.info("odoo: %s already has %s %s", order.reference, self._model, found.id)
            return found
        partner_id = self._partner_id(order)
        product_id = self._one_id(
            "product.product",
            self._config.product_field,
            order.sku,
            f"no product with {self._config.product_field} {order.sku!r}",
        )
        planned = f"{order.planned_date.isoformat()} 12:00:00"  # UTC noon: the same day anywhere
        line: dict[str, Any]
        values: dict[str, Any] = {"partner_id": partner_id, self._reference_field: order.reference}
        if self._model == "purchase.order":
            line = {
                "product_id": product_id,
                "product_qty": order.quantity,
                "date_planned": planned,
            }
        else:
            line = {"product_id": product_id, "product_uom_qty": order.quantity}
            values["commitment_date"] = planned
        values["order_line"] = [[0, 0, line]]
        created = self._execute(self._model, "create", [values])
        if isinstance(created, list) and len(created) == 1:
            created = created[0]
        if not isinstance(created, int) or isinstance(created, bool):
            # Not Odoo's answer to a create: the order may exist; a retry looks it up first.
            raise Unavailable(SYSTEM, f"create on {self._model} answered {created!r}, not an id")
        rows = self._execute(self._model, "read", [[created]], {"fields": ["id", "name", "state"]})
        row = rows[0] if isinstance(rows, list) and rows else {"id": created}
        ref = self._ref(row, order.reference, existed=False)
        log.info("odoo: created %s %s (%s) for %s", self._model, ref.id, ref.name, order.reference)
        return ref

    def update_order(self, ref: RemoteRef, change: OrderChange) -> RemoteStatus:
        """Confirm or cancel the order when its state calls for it; `ship` is not an
        order-level step in Odoo (it is the picking's validation)."""
        if change is OrderChange.SHIP:
            raise UnsupportedChange(
                SYSTEM,
                f"{self._model} {ref.id}: shipping is validated on the order's picking in Odoo, "
                "which this connector does not drive; fetch_status reports it",
            )
        status = self.fetch_status(ref)
        if change is OrderChange.CONFIRM:
            if status.status is OrderStatus.CANCELLED:
                raise Rejected(
                    SYSTEM, f"{self._model} {ref.id} is cancelled; it cannot be confirmed"
                )
            if status.status is not OrderStatus.PROPOSED:
                return status
            self._execute(self._model, CONFIRM_METHOD[self._model], [[int(ref.id)]])
        else:
            if status.status is OrderStatus.CANCELLED:
                return status
            kwargs = {"context": {"disable_cancel_warning": True}}
            self._execute(self._model, CANCEL_METHOD[self._model], [[int(ref.id)]], kwargs)
        log.info("odoo: %s %s %s", change, self._model, ref.id)
        return self.fetch_status(ref)

    def fetch_status(self, ref: RemoteRef) -> RemoteStatus:
        """The order's state (and, when tracked, whether it was fully received or delivered)."""
        self._check(ref)
        fields = ["id", "name", "state"]
        delivery = DELIVERY_FIELD[self._model] if self._config.track_deliveries else None
        if delivery is not None:
            fields.append(delivery)
        rows = self._execute(self._model, "read", [[int(ref.id)]], {"fields": fields})
        if not isinstance(rows, list) or not rows or not isinstance(rows[0], dict):
            raise Rejected(SYSTEM, f"read of {self._model} {ref.id} answered {rows!r}")
        row = rows[0]
        state = str(row.get("state"))
        status = STATES.get(state)
        if status is None:
            raise Rejected(SYSTEM, f"{self._model} {ref.id} is in an unknown state {state!r}")
        remote_state = state
        if delivery is not None and status is OrderStatus.CONFIRMED and row.get(delivery) == _FULL:
            # A purchase fully received is received; a sale fully delivered has shipped.
            received = self._model == "purchase.order"
            status = OrderStatus.RECEIVED if received else OrderStatus.SHIPPED
            remote_state = f"{state}/{delivery}={_FULL}"
        return RemoteStatus(ref=ref, status=status, remote_state=remote_state)

    def close(self) -> None:
        self._channel.close()

    # -- helpers --------------------------------------------------------------

    def _login(self) -> int:
        if self._uid is None:
            c = self._config
            uid = self._rpc.call(
                "common", "authenticate", [c.database, c.login, self._password, {}]
            )
            if not isinstance(uid, int) or isinstance(uid, bool) or uid <= 0:
                raise AuthFailed(
                    SYSTEM,
                    f"login {c.login!r} on database {c.database!r} refused "
                    "(wrong login, password or API key)",
                    remote_type="authenticate",
                )
            self._uid = uid
        return self._uid

    def _execute(
        self, model: str, method: str, args: list[Any], kwargs: dict[str, Any] | None = None
    ) -> Any:
        uid = self._login()
        c = self._config
        try:
            return self._rpc.call(
                "object",
                "execute_kw",
                [c.database, uid, self._password, model, method, args, kwargs or {}],
            )
        except AuthFailed:
            self._uid = None  # the key may have been replaced: sign in again next time
            raise

    def _partner_id(self, order: OrderSpec) -> int:
        party = "supplier" if self._model == "purchase.order" else "customer"
        code = self._config.partner or (order.supplier if party == "supplier" else order.customer)
        if code is None:
            raise Rejected(
                SYSTEM,
                f"{order.reference} names no {party}; {self._model} needs one "
                "(or set `partner` in the connector config)",
            )
        field = self._config.partner_field
        return self._one_id("res.partner", field, code, f"no partner with {field} {code!r}")

    def _one_id(self, model: str, field: str, value: str, missing: str) -> int:
        rows = self._execute(
            model, "search_read", [[[field, "=", value]]], {"fields": ["id"], "limit": 2}
        )
        rows = rows if isinstance(rows, list) else []
        ids: list[int] = [
            r["id"] for r in rows if isinstance(r, dict) and isinstance(r.get("id"), int)
        ]
        if not ids:
            raise Rejected(SYSTEM, f"{missing} ({model})")
        if len(ids) > 1:
            raise Rejected(SYSTEM, f"more than one {model} has {field} {value!r}")
        return ids[0]

    def _ref(self, row: dict[str, Any], reference: str, *, existed: bool) -> RemoteRef:
        name = row.get("name")
        return RemoteRef(
            system=SYSTEM,
            record_type=self._model,
            id=str(row["id"]),
            name=name if isinstance(name, str) else None,
            reference=reference,
            existed=existed,
        )

    def _check(self, ref: RemoteRef) -> None:
        if ref.system != SYSTEM or ref.record_type != self._model or not ref.id.isdigit():
            raise Rejected(
                SYSTEM,
                f"{ref.system} {ref.record_type} {ref.id!r} is not one of this connector's "
                f"{self._model}s",
            )

"""Orders as Fxiaoke (纷享销客) sales orders, over the OpenAPI's CRM data calls.

    create_order   data/query SalesOrderObj where <reference field> EQ our reference;
                   found: that order (a live one before a 作废 one). Else data/query
                   AccountObj and ProductObj for the ids, data/create the order with
                   one SalesOrderProductObj line, data/get it back for its number
    update_order   data/get first; confirm: nothing to write (an order is confirmed
                   when it is 正常, by Fxiaoke's approval); ship: data/update
                   logistics_status 3 (已发货); cancel: data/invalid (作废)
    fetch_status   data/get: life_status (生命状态) and logistics_status (发货状态)

See api.py for the token, the call and the error codes; README.md for the rest.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any

import httpx

from cloud.connectors.base import OrderChange, OrderSpec, RemoteRef, RemoteStatus
from cloud.connectors.errors import (
    Rejected,
    RemoteNotFound,
    Unavailable,
    UnsupportedChange,
)
from cloud.connectors.fxiaoke.api import SYSTEM, FxiaokeApi
from cloud.connectors.fxiaoke.config import FxiaokeConfig
from cloud.connectors.http import HttpChannel
from cloud.orders import OrderStatus

log = logging.getLogger(__name__)

CREATE, QUERY, GET = "/cgi/crm/v2/data/create", "/cgi/crm/v2/data/query", "/cgi/crm/v2/data/get"
UPDATE, INVALID = "/cgi/crm/v2/data/update", "/cgi/crm/v2/data/invalid"

LIFE_STATUS: Mapping[str, tuple[OrderStatus, str]] = {
    "ineffective": (OrderStatus.PROPOSED, "未生效"),
    "under_review": (OrderStatus.PROPOSED, "审核中"),
    "normal": (OrderStatus.CONFIRMED, "正常"),
    "in_change": (OrderStatus.CONFIRMED, "变更中"),
    "invalid": (OrderStatus.CANCELLED, "作废"),
}
"""`life_status` (生命状态), the same on every Fxiaoke object, in our lifecycle's words."""

LOGISTICS_STATUS: Mapping[str, tuple[OrderStatus | None, str]] = {
    "1": (None, "待发货"),
    "2": (None, "部分发货"),
    "3": (OrderStatus.SHIPPED, "已发货"),
    "4": (OrderStatus.SHIPPED, "部分收货"),
    "5": (OrderStatus.RECEIVED, "已收货"),
}
"""`logistics_status` (发货状态) of a live order: None keeps it confirmed."""

SHIPPED = "3"
INVALID_STATE = "invalid"
PAGE = 20


def epoch_ms(day: date) -> int:
    """A Fxiaoke date field: milliseconds at 00:00 UTC of `day` (08:00 in Beijing, the
    same calendar day in either reading; Fxiaoke ignores the time of a date field)."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1000


class FxiaokeConnector:
    """A `Connector` for one Fxiaoke tenant, acting as one CRM user."""

    kind = SYSTEM

    def __init__(
        self,
        config: FxiaokeConfig,
        http: httpx.Client | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Reads the app secret and permanent code now (a `ConfigError` if it cannot);
        fetches a token only when first used. `http`: the client to send with (kept
        open on close); `clock`: monotonic seconds, for the token's lifetime."""
        self._config = config
        self._object = config.object_api_name
        self._reference_field = config.reference_field
        self._channel = HttpChannel(
            SYSTEM, config.url, timeout_s=config.timeout_s, client=http, proxy=config.proxy
        )
        self._api = FxiaokeApi(
            self._channel,
            app_id=config.app_id,
            app_secret=config.secret("app_secret"),
            permanent_code=config.secret("permanent_code"),
            open_user_id=config.current_open_user_id,
            clock=clock,
        )

    def __repr__(self) -> str:
        c = self._config
        return (
            f"FxiaokeConnector(url={c.url!r}, app_id={c.app_id!r}, "
            f"user={c.current_open_user_id!r}, object={c.object_api_name!r})"
        )

    # -- the Connector protocol ----------------------------------------------

    def find_order(self, reference: str) -> RemoteRef | None:
        """The order whose reference field holds `reference` (a live one before a 作废 one)."""
        rows = self._query(
            self._object,
            [_filter(self._reference_field, "EQ", reference)],
            ["_id", "name", "life_status"],
            limit=PAGE,
        )
        if not rows:
            return None
        live = [r for r in rows if r.get("life_status") != INVALID_STATE]
        if len(live) > 1:
            log.warning(
                "fxiaoke: %d live %s records carry reference %s; using %s",
                len(live),
                self._object,
                reference,
                live[0]["_id"],
            )
        row = live[0] if live else rows[-1]
        return self._ref(row, reference, existed=True)

    def create_order(self, order: OrderSpec) -> RemoteRef:
        """Create the order, or return the one already carrying `order.reference`."""
        found = self.find_order(order.reference)
        if found is not None:
            log.info("fxiaoke: %s already has %s %s", order.reference, self._object, found.id)
            return found
        c = self._config
        master = {
            "dataObjectApiName": self._object,
            "account_id": self._account_id(order),
            "order_time": epoch_ms(datetime.now(UTC).date()),
            "delivery_date": epoch_ms(order.planned_date),
            self._reference_field: order.reference,
        }
        # Numbers travel as strings in Fxiaoke's data calls.
        line = {"product_id": self._product_id(order.sku), "quantity": str(order.quantity)}
        answer = self._api.call(
            CREATE,
            {"object_data": master, "details": {c.detail_api_name: [line]}},
            triggerApprovalFlow=c.trigger_approval_flow,
        )
        data_id = answer.get("dataId")
        if not isinstance(data_id, str) or not data_id:
            raise Unavailable(SYSTEM, f"{CREATE}: the answer names no dataId")
        record = self._get(data_id)
        if record.get(self._reference_field) != order.reference:
            # Without the reference a retried delivery would not find this order.
            raise Rejected(
                SYSTEM,
                f"{self._object} {data_id} was created without {self._reference_field} "
                f"(may this user not write it?): fix the field, then 作废 {data_id} by hand",
            )
        ref = self._ref(record, order.reference, existed=False)
        log.info(
            "fxiaoke: created %s %s (%s) for %s", self._object, ref.id, ref.name, ref.reference
        )
        return ref

    def update_order(self, ref: RemoteRef, change: OrderChange) -> RemoteStatus:
        """Carry `change` to the order when its state calls for it (see the module doc)."""
        c = self._config
        if change is OrderChange.SHIP and not c.ship_writes_logistics:
            raise UnsupportedChange(
                SYSTEM,
                f"{self._object} {ref.id}: ship_writes_logistics is off (delivery notes, 发货单, "
                f"keep {c.logistics_field} in this tenant); fetch_status reports it",
            )
        try:
            record = self._read(ref)
        except RemoteNotFound:
            if change is not OrderChange.CANCEL:
                raise
            # Deleted after 作废 (its answer lost, or by hand): nothing is left to cancel.
            return RemoteStatus(ref=ref, status=OrderStatus.CANCELLED, remote_state="deleted")
        life = record.get("life_status")
        if change is OrderChange.CANCEL:
            if life == INVALID_STATE:
                return self._status(ref, record)
            self._api.call(INVALID, {"dataObjectApiName": self._object, "object_data_id": ref.id})
        elif life == INVALID_STATE:
            raise Rejected(SYSTEM, f"{self._object} {ref.id} is 作废 (invalid); it cannot {change}")
        elif life not in ("normal", "in_change"):
            label = LIFE_STATUS.get(str(life), (None, "?"))[1]
            raise Rejected(
                SYSTEM,
                f"{self._object} {ref.id} is {life} ({label}): it becomes confirmed (正常) when "
                "it is approved in Fxiaoke, which this connector does not do; fetch_status "
                "follows it",
            )
        elif change is OrderChange.CONFIRM or _shipped(record.get(c.logistics_field)):
            return self._status(ref, record)
        else:
            update = {"dataObjectApiName": self._object, "_id": ref.id, c.logistics_field: SHIPPED}
            self._api.call(UPDATE, {"object_data": update})
        log.info("fxiaoke: %s %s %s", change, self._object, ref.id)
        return self.fetch_status(ref)

    def fetch_status(self, ref: RemoteRef) -> RemoteStatus:
        """The order's life_status and logistics_status, in our lifecycle's words."""
        return self._status(ref, self._read(ref))

    def close(self) -> None:
        self._channel.close()

    # -- helpers --------------------------------------------------------------

    def _account_id(self, order: OrderSpec) -> str:
        c = self._config
        code = c.party or order.customer
        if code is None:
            raise Rejected(
                SYSTEM,
                f"{order.reference} names no customer; a {self._object} needs an account_id "
                "(or set `party` in the connector config)",
            )
        return self._lookup("AccountObj", c.account_field, c.parties.get(code, code))

    def _product_id(self, sku: str) -> str:
        return self._lookup("ProductObj", self._config.product_field, sku)

    def _lookup(self, api_name: str, field: str, value: str) -> str:
        """The `_id` of the one live `api_name` record whose `field` equals `value`."""
        rows = self._query(
            api_name,
            [_filter(field, "EQ", value), _filter("life_status", "N", INVALID_STATE)],
            ["_id", field],
            limit=2,
        )
        if not rows:
            raise Rejected(SYSTEM, f"no live {api_name} has {field} = {value!r}")
        if len(rows) > 1:
            raise Rejected(
                SYSTEM, f"more than one {api_name} has {field} = {value!r}: match on a unique field"
            )
        return str(rows[0]["_id"])

    def _query(
        self, api_name: str, filters: list[dict[str, Any]], fields: list[str], *, limit: int
    ) -> list[dict[str, Any]]:
        info = {
            "limit": limit,
            "offset": 0,
            "filters": filters,
            "orders": [{"fieldName": "create_time", "isAsc": True}],
            "fieldProjection": fields,
        }
        answer = self._api.call(
            QUERY,
            {
                "dataObjectApiName": api_name,
                "find_explicit_total_num": False,
                "search_query_info": info,
            },
        )
        data = answer.get("data")
        rows = data.get("dataList") if isinstance(data, dict) else None
        if not isinstance(rows, list):
            raise Unavailable(SYSTEM, f"{QUERY} {api_name}: the answer has no data.dataList")
        return [r for r in rows if isinstance(r, dict) and isinstance(r.get("_id"), str)]

    def _get(self, data_id: str) -> dict[str, Any]:
        try:
            answer = self._api.call(
                GET, {"dataObjectApiName": self._object, "objectDataId": data_id}
            )
        except RemoteNotFound:
            raise
        except Rejected as exc:
            # data/get carries nothing but the object and the id: a refusal means the id.
            raise RemoteNotFound(
                SYSTEM, exc.detail, status_code=exc.status_code, remote_type=exc.remote_type
            ) from None
        record = answer.get("data")
        if not isinstance(record, dict) or record.get("_id") != data_id:
            raise Unavailable(SYSTEM, f"{GET} {self._object} {data_id}: the answer has no record")
        return record

    def _read(self, ref: RemoteRef) -> dict[str, Any]:
        if ref.system != SYSTEM or ref.record_type != self._object:
            raise Rejected(
                SYSTEM, f"{ref.system} {ref.record_type} {ref.id!r} is not a {self._object}"
            )
        return self._get(ref.id)

    def _status(self, ref: RemoteRef, record: dict[str, Any]) -> RemoteStatus:
        life = record.get("life_status")
        known = LIFE_STATUS.get(life) if isinstance(life, str) else None
        if known is None:
            raise Unavailable(SYSTEM, f"{self._object} {ref.id}: life_status {life!r}")
        status, label = known
        state = f"{life} ({label})"
        logistics = record.get(self._config.logistics_field)
        if status is OrderStatus.CONFIRMED and isinstance(logistics, str):
            moved, word = LOGISTICS_STATUS.get(logistics, (None, logistics))
            status = moved or status
            state = f"{state}, {self._config.logistics_field} {logistics} ({word})"
        return RemoteStatus(ref=ref, status=status, remote_state=state)

    def _ref(self, record: Mapping[str, Any], reference: str, *, existed: bool) -> RemoteRef:
        name = record.get("name")
        return RemoteRef(
            system=SYSTEM,
            record_type=self._object,
            id=str(record["_id"]),
            name=name if isinstance(name, str) and name else None,
            reference=reference,
            existed=existed,
        )


def _filter(field: str, operator: str, value: str) -> dict[str, Any]:
    return {"field_name": field, "field_values": [value], "operator": operator}


def _shipped(logistics: Any) -> bool:
    return isinstance(logistics, str) and LOGISTICS_STATUS.get(logistics, (None,))[0] is not None

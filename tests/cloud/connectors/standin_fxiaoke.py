"""A stand-in for Fxiaoke's OpenAPI (纷享销客) on 127.0.0.1: the corp access token and
the CRM data calls (`/cgi/crm/v2/data/create|query|get|update|invalid`).

It answers the way the OpenAPI does, HTTP 200 with `errorCode` for every outcome:

* JSON POSTs only (anything else is the gateway's 404), each with a `thirdTraceId`
  UUID v4 in the query;
* the token call checks appId, appSecret (10006, the observed code and text) and
  permanentCode (20015) and hands out tokens valid `token_lifetime` seconds;
* every data call needs corpAccessToken (none: 20017; unknown, expired or for
  another corpId: 20016, the observed text) and currentOpenUserId (10010, 20012);
* create needs `data.object_data.dataObjectApiName`, known fields, the mandatory
  fields (account_id, order_time, the order lines, whatever `require` adds),
  dates as epoch milliseconds, numbers as strings, live AccountObj / ProductObj ids;
* query checks search_query_info: limit 1..100, offset a multiple of limit up to
  10000 (10013 beyond, as documented), filters with known fields, list values and
  documented operators, orders with known fields;
* update and invalid refuse a 作废 record ("数据已作废或已删除") and system fields.

Malformed requests answer 15002 (参数不合法), data Fxiaoke refuses 32000 (参数错误):
the real codes for these were not observed. New orders are `normal`, or
`under_review` when `approval_flow` is on and the call triggers approval.
Faults: the base class's 429 / 5xx / lost answers ("create", "update",
"invalid"), `answer_code_next` (an HTTP 200 error code, doing nothing) and
`expire_tokens`.
"""

from __future__ import annotations

import itertools
import json
import secrets
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.cloud.connectors.standin_http import Answer, Lose, StandInServer

BAD_REQUEST, REFUSED = 15002, 32000
SYSTEM_FIELDS = {
    "_id": "ID", "name": "编号", "life_status": "生命状态", "owner": "负责人",
    "create_time": "创建时间", "last_modified_time": "最后修改时间", "lock_status": "锁定状态",
}  # fmt: skip
FIELDS: dict[str, dict[str, str]] = {
    "AccountObj": {"account_no": "客户编号", "tel": "电话"},
    "ProductObj": {"product_code": "产品编码", "unit": "单位"},
    "SalesOrderObj": {
        "account_id": "客户名称", "order_time": "下单日期", "delivery_date": "交货日期",
        "remark": "备注", "logistics_status": "发货状态", "order_amount": "销售订单金额",
    },
    "SalesOrderProductObj": {"order_id": "订单", "product_id": "产品名称", "quantity": "数量"},
}  # fmt: skip
REQUIRED = {"SalesOrderObj": ["account_id", "order_time"]}
DATES = {"order_time", "delivery_date"}
LOGISTICS = {"1", "2", "3", "4", "5"}
OPERATORS = {
    "EQ", "N", "GT", "GTE", "LT", "LTE", "LIKE", "NLIKE", "IS", "ISN", "IN", "NIN",
    "BETWEEN", "NBETWEEN", "STARTWITH", "ENDWITH", "HASANYOF", "NHASANYOF", "CONTAINS",
}  # fmt: skip
MATCH: dict[str, Callable[[Any, list[Any]], bool]] = {
    "EQ": lambda have, values: have == values[0],
    "N": lambda have, values: have != values[0],
    "IN": lambda have, values: have in values,
    "NIN": lambda have, values: have not in values,
    "LIKE": lambda have, values: isinstance(have, str) and values[0] in have,
}
GONE = "数据已作废或已删除"
ROUTES = {
    "/cgi/corpAccessToken/get/V2": "_token",
    "/cgi/crm/v2/data/create": "_create",
    "/cgi/crm/v2/data/query": "_query",
    "/cgi/crm/v2/data/get": "_get",
    "/cgi/crm/v2/data/update": "_update",
    "/cgi/crm/v2/data/invalid": "_invalid",
}


class FxiaokeError(Exception):
    def __init__(self, code: int, message: str, description: str = "") -> None:
        super().__init__(message)
        self.code, self.message, self.description = code, message, description


class FxiaokeStandIn(StandInServer):
    """`with FxiaokeStandIn() as fx: ...`; `fx.url` is its base URL."""

    def __init__(
        self,
        *,
        app_id: str = "FSAID_131f0a2",
        app_secret: str = "fx-app-secret-5e0c2a9d41",  # noqa: S107 - a test secret
        permanent_code: str = "FX-PERMANENT-7B31C0DE99",
        corp_id: str = "FSCID_4D2C19B0",
        user: str = "FSUID_6E94CF1A311BCD0C",
        today: date | None = None,
    ) -> None:
        super().__init__()
        self.app_id, self.app_secret, self.permanent_code = app_id, app_secret, permanent_code
        self.corp_id, self.users = corp_id, {user}
        self.today = today or date.today()
        self.token_lifetime = 7200
        self.tokens: dict[str, bool] = {}  # token -> still accepted
        self.approval_flow = False
        self.fields = {api: dict(fields) for api, fields in FIELDS.items()}
        self.required: dict[str, dict[str, str]] = {}  # api -> field -> label, tenant-added
        self.data: dict[str, dict[str, dict[str, Any]]] = {api: {} for api in FIELDS}
        self.exchanges: list[tuple[str, Any, Any]] = []  # (path, request, answer) in order
        self._forced: list[tuple[str | None, int, str]] = []
        self._ids = itertools.count(1)
        self._traces = itertools.count(1)

    # -- the test's side --------------------------------------------------------

    def add_account(self, name: str) -> str:
        return self._insert("AccountObj", {"name": name})

    def add_product(self, code: str, name: str | None = None) -> str:
        return self._insert("ProductObj", {"product_code": code, "name": name or code})

    def add_field(self, api: str, field: str, label: str) -> None:
        self.fields[api][field] = label  # a custom field (field_xxx__c)

    def require(self, api: str, field: str, label: str) -> None:
        """The tenant made `field` mandatory (in Fxiaoke's object management)."""
        self.add_field(api, field, label)
        self.required.setdefault(api, {})[field] = label

    def orders(self) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(r) for r in self.data["SalesOrderObj"].values()]

    def lines(self, order_id: str) -> list[dict[str, Any]]:
        with self.lock:
            rows = self.data["SalesOrderProductObj"].values()
            return [dict(r) for r in rows if r["order_id"] == order_id]

    def set_fields(self, api: str, data_id: str, **values: Any) -> None:
        """Change a record as people or Fxiaoke would (an approval, a delivery note)."""
        with self.lock:
            self.data[api][data_id].update(values)

    def expire_tokens(self) -> None:
        """Every token handed out so far is refused from now on (20016)."""
        with self.lock:
            self.tokens = dict.fromkeys(self.tokens, False)

    def answer_code_next(
        self, code: int, message: str, *, times: int = 1, path: str | None = None
    ) -> None:
        """Answer the next `times` calls (to `path`, else any) HTTP 200 with `errorCode`
        `code` and `message`, doing nothing."""
        with self.lock:
            self._forced += [(path, code, message)] * times

    def count(self, path: str) -> int:
        with self.lock:
            return sum(1 for r in self.requests if urlsplit(r.path).path == path)

    # -- HTTP -------------------------------------------------------------------

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        parts = urlsplit(path)
        route = ROUTES.get(parts.path)
        if method != "POST" or route is None:
            return Answer(404, b"404 page not found", {"Content-Type": "text/plain"})
        request: Any = None
        with self.lock:
            try:
                request = _request(parts.query, headers, body)
                forced = next((f for f in self._forced if f[0] in (None, parts.path)), None)
                if forced is not None:
                    self._forced.remove(forced)
                    raise FxiaokeError(forced[1], forced[2])
                if route != "_token":
                    self._authenticate(request)
                payload = {"errorCode": 0, "errorMessage": "OK", "errorDescription": "success"}
                payload |= getattr(self, route)(request) | {"traceId": self._trace()}
            except FxiaokeError as error:
                payload = {"errorCode": error.code, "errorMessage": error.message}
                payload |= {"errorDescription": error.description or error.message}
                payload["traceId"] = self._trace()
            except Lose:
                self.exchanges.append((path, request, None))
                raise
            self.exchanges.append((path, request, payload))
        body_out = json.dumps(payload, ensure_ascii=False).encode()
        return Answer(200, body_out, {"Content-Type": "application/json;charset=UTF-8"})

    def _authenticate(self, request: dict[str, Any]) -> None:
        token = request.get("corpAccessToken")
        if not token:
            raise FxiaokeError(20017, "corpAccessToken为必填项，不能为空")
        if not self.tokens.get(token) or request.get("corpId") != self.corp_id:
            raise FxiaokeError(20016, "the cropId,cropAccessToken or authorization is error")
        user = request.get("currentOpenUserId")
        if not user:
            raise FxiaokeError(10010, "缺少参数openUserId")
        if user not in self.users:
            raise FxiaokeError(20012, "openUserId未找到")
        if not isinstance(request.get("data"), dict):
            raise FxiaokeError(BAD_REQUEST, "参数不合法: data")

    def _token(self, request: dict[str, Any]) -> dict[str, Any]:
        if request.get("appId") != self.app_id:
            raise FxiaokeError(11001 if request.get("appId") else 10001, "参数appId不合法")
        if request.get("appSecret") != self.app_secret:
            raise FxiaokeError(
                10006, "the parameter appSecret is missing or illegal", "缺少参数或参数不合法"
            )
        if request.get("permanentCode") != self.permanent_code:
            raise FxiaokeError(20015, "永久授权码错误")
        token = secrets.token_hex(16).upper()
        self.tokens[token] = True
        return {"corpAccessToken": token, "corpId": self.corp_id, "expiresIn": self.token_lifetime}

    def _create(self, request: dict[str, Any]) -> dict[str, Any]:
        data = request["data"]
        master = _object(data.get("object_data"), "object_data")
        api = self._api(master.get("dataObjectApiName"))
        values = self._writable(api, master, create=True)
        missing = [
            label
            for field, label in self._required(api).items()
            if values.get(field) in (None, "", [])
        ]
        details = data.get("details") or {}
        lines = details.get("SalesOrderProductObj") if isinstance(details, dict) else None
        if api == "SalesOrderObj" and not (isinstance(lines, list) and lines):
            missing.append("订单产品")
        if missing:
            raise FxiaokeError(REFUSED, f"请填写必填字段：{'，'.join(missing)}")
        self._live("AccountObj", values.get("account_id"), "客户名称")
        rows = [self._line(line) for line in lines or []]
        trigger = request.get("triggerApprovalFlow", True)
        if not isinstance(trigger, bool):
            raise FxiaokeError(BAD_REQUEST, "参数不合法: triggerApprovalFlow")
        life = "under_review" if self.approval_flow and trigger else "normal"
        number = len(self.data[api]) + 1
        values |= {"life_status": life, "name": f"{self.today:%Y%m%d}-{number:06d}"}
        if api == "SalesOrderObj":
            values["logistics_status"] = "1"
        data_id = self._insert(api, values)
        for row in rows:
            self._insert("SalesOrderProductObj", row | {"order_id": data_id})
        if self.take_lose("create"):
            raise Lose
        return {"dataId": data_id}

    def _query(self, request: dict[str, Any]) -> dict[str, Any]:
        data = request["data"]
        api = self._api(data.get("dataObjectApiName"))
        info = _object(data.get("search_query_info"), "search_query_info")
        limit, offset = info.get("limit"), info.get("offset")
        if type(limit) is not int or not 1 <= limit <= 100:
            raise FxiaokeError(BAD_REQUEST, "参数不合法: limit 最大为100")
        if type(offset) is not int or offset < 0 or offset % limit:
            raise FxiaokeError(BAD_REQUEST, "参数不合法: offset 必须是 limit 的整数倍")
        if offset > 10000:
            raise FxiaokeError(10013, "offset out of range 10000", "offset 不能超过10000")
        known = self._fields(api)
        filters = self._filters(info.get("filters"), known)
        rows = [
            r
            for r in self.data[api].values()
            if all(MATCH[op](r.get(field), values) for field, op, values in filters)
        ]
        orders = info.get("orders")
        if not isinstance(orders, list):
            raise FxiaokeError(BAD_REQUEST, "参数不合法: orders")
        for order in reversed(orders):
            if not isinstance(order, dict) or order.get("fieldName") not in known:
                raise FxiaokeError(BAD_REQUEST, f"参数不合法: orders {order!r}")
            if not isinstance(order.get("isAsc"), bool):
                raise FxiaokeError(BAD_REQUEST, "参数不合法: isAsc")
            field = order["fieldName"]
            rows.sort(key=lambda r: str(r.get(field, "")), reverse=not order["isAsc"])
        projection = info.get("fieldProjection")
        if projection is not None and not (
            isinstance(projection, list) and all(f in known for f in projection)
        ):
            raise FxiaokeError(BAD_REQUEST, f"参数不合法: fieldProjection {projection!r}")
        page = rows[offset : offset + limit]
        if projection:
            page = [{f: r[f] for f in ["_id", *projection] if f in r} for r in page]
        total = len(rows) if data.get("find_explicit_total_num", True) else 0
        return {"data": {"dataList": page, "offset": offset, "limit": limit, "total": total}}

    def _get(self, request: dict[str, Any]) -> dict[str, Any]:
        data = request["data"]
        api = self._api(data.get("dataObjectApiName"))
        return {"data": dict(self._record(api, data.get("objectDataId")))}

    def _update(self, request: dict[str, Any]) -> dict[str, Any]:
        master = _object(request["data"].get("object_data"), "object_data")
        api = self._api(master.get("dataObjectApiName"))
        record = self._record(api, master.get("_id"))
        if record["life_status"] == "invalid":
            raise FxiaokeError(REFUSED, GONE)
        record.update(self._writable(api, master, create=False))
        record["last_modified_time"] = self._now_ms()
        if self.take_lose("update"):
            raise Lose
        return {}

    def _invalid(self, request: dict[str, Any]) -> dict[str, Any]:
        data = request["data"]
        api = self._api(data.get("dataObjectApiName"))
        record = self._record(api, data.get("object_data_id"))
        if record["life_status"] == "invalid":
            raise FxiaokeError(REFUSED, GONE)
        record["life_status"] = "invalid"
        if self.take_lose("invalid"):
            raise Lose
        return {}

    # -- objects ----------------------------------------------------------------

    def _api(self, api: Any) -> str:
        if not api:
            raise FxiaokeError(BAD_REQUEST, "参数不合法: dataObjectApiName不能为空")
        if api not in self.data:
            raise FxiaokeError(REFUSED, f"对象[{api}]不存在或未启用")
        return str(api)

    def _fields(self, api: str) -> dict[str, str]:
        return SYSTEM_FIELDS | self.fields[api]

    def _required(self, api: str) -> dict[str, str]:
        fields = self._fields(api)
        return {f: fields[f] for f in REQUIRED.get(api, [])} | self.required.get(api, {})

    def _writable(self, api: str, values: dict[str, Any], *, create: bool) -> dict[str, Any]:
        known = self.fields[api]
        out: dict[str, Any] = {}
        for field, value in values.items():
            if field in ("dataObjectApiName", "_id") or (field == "name" and create):
                continue
            if field in SYSTEM_FIELDS:
                raise FxiaokeError(REFUSED, f"字段[{SYSTEM_FIELDS[field]}]不允许修改")
            if field not in known:
                raise FxiaokeError(REFUSED, f"字段[{field}]不存在")
            if field in DATES and type(value) is not int:
                raise FxiaokeError(REFUSED, f"{known[field]}格式不正确: 应为毫秒时间戳")
            if field == "logistics_status" and value not in LOGISTICS:
                raise FxiaokeError(REFUSED, f"{known[field]}的选项值[{value}]不存在")
            out[field] = value
        return out

    def _line(self, line: Any) -> dict[str, Any]:
        line = _object(line, "details")
        values = self._writable("SalesOrderProductObj", line, create=True)
        if not values.get("product_id"):
            raise FxiaokeError(REFUSED, "订单产品：请填写必填字段：产品名称")
        self._live("ProductObj", values["product_id"], "产品名称")
        quantity = values.get("quantity")
        try:
            positive = isinstance(quantity, str) and float(quantity) > 0
        except ValueError:
            positive = False
        if not positive:
            raise FxiaokeError(REFUSED, f"订单产品：数量[{quantity}]必须为大于0的数字")
        return values

    def _live(self, api: str, data_id: Any, label: str) -> None:
        record = self.data[api].get(data_id) if isinstance(data_id, str) else None
        if record is None or record["life_status"] == "invalid":
            raise FxiaokeError(REFUSED, f"{label}：{GONE}")

    def _record(self, api: str, data_id: Any) -> dict[str, Any]:
        if not isinstance(data_id, str) or not data_id:
            raise FxiaokeError(BAD_REQUEST, "参数不合法: 数据id不能为空")
        record = self.data[api].get(data_id)
        if record is None:
            raise FxiaokeError(REFUSED, "数据不存在或已被删除")
        return record

    def _filters(self, filters: Any, known: dict[str, str]) -> list[tuple[str, str, list[Any]]]:
        """The query's filters, checked before any record is looked at."""
        if not isinstance(filters, list):
            raise FxiaokeError(BAD_REQUEST, "参数不合法: filters")
        checked = []
        for f in filters:
            field = f.get("field_name") if isinstance(f, dict) else None
            values, operator = (f.get("field_values"), f.get("operator")) if field else (0, 0)
            if field not in known:
                raise FxiaokeError(BAD_REQUEST, f"参数不合法: field_name {field!r}")
            if not isinstance(values, list) or not values:
                raise FxiaokeError(BAD_REQUEST, "参数不合法: field_values 必须是列表")
            if operator not in OPERATORS:
                raise FxiaokeError(BAD_REQUEST, f"参数不合法: operator {operator!r}")
            if operator not in MATCH:
                raise FxiaokeError(BAD_REQUEST, f"the stand-in does not model {operator}")
            checked.append((str(field), str(operator), values))
        return checked

    def _insert(self, api: str, values: dict[str, Any]) -> str:
        data_id = f"65f1c0de{next(self._ids):016x}"
        now = self._now_ms()
        self.data[api][data_id] = {
            "_id": data_id, "life_status": "normal", "lock_status": "0",
            "owner": sorted(self.users), "create_time": now, "last_modified_time": now,
        } | values  # fmt: skip
        return data_id

    def _now_ms(self) -> int:
        return 1_900_000_000_000 + next(self._ids)

    def _trace(self) -> str:
        return f"E-O.standin.{next(self._traces)}"


def _request(query: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    trace = parse_qs(query).get("thirdTraceId", [""])[-1]
    try:
        valid_trace = uuid.UUID(trace).version == 4
    except ValueError:
        valid_trace = False
    if not valid_trace:
        raise FxiaokeError(BAD_REQUEST, "参数不合法: thirdTraceId 必须是 UUID v4")
    if not headers.get("content-type", "").startswith("application/json"):
        raise FxiaokeError(BAD_REQUEST, "参数不合法: Content-Type 必须是 application/json")
    if not body.strip():
        raise FxiaokeError(12004, "POST的数据包为空")
    try:
        return _object(json.loads(body), "body")
    except ValueError:
        raise FxiaokeError(BAD_REQUEST, "参数不合法: 不是 JSON") from None


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FxiaokeError(BAD_REQUEST, f"参数不合法: {what}")
    return value

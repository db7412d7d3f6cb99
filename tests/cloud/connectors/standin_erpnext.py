"""A stand-in for ERPNext's REST API (Frappe `/api/resource` and `/api/method`) on
127.0.0.1.

It keeps Purchase Orders, Sales Orders and Material Requests in memory and
answers the way Frappe does:

* `Authorization: token <key>:<secret>` on every request: none is a Guest
  (403 `PermissionError`), a wrong one 401 `AuthenticationError`;
* `GET /api/resource/<DocType>?filters=[[f, op, v]]&fields=[...]`: a field the
  DocType does not have is 417 `DataError` ("Field not permitted in query");
* `POST /api/resource/<DocType>`: fields the DocType does not have are dropped
  silently (as Frappe does); mandatory fields (417 `MandatoryError`), links
  to suppliers, customers, items, warehouses, companies (417
  `LinkValidationError`), dates and quantities (417 `ValidationError`);
* `PUT .../<name>` with `docstatus` follows Frappe's transitions (0 -> 1
  submit, 1 -> 2 cancel, others 417 `DocstatusTransitionError`); a submitted
  document's fields cannot change (417 `UpdateAfterSubmitError`);
* `DELETE .../<name>` deletes a draft or a cancelled document, not a
  submitted one (417); `POST /api/method/frappe.client.cancel` cancels a
  submitted one; a missing document is 404 `DoesNotExistError`;
* error bodies carry `exc_type`, `exception` and `_server_messages` (a JSON
  list of JSON objects with `message`).

Not modelled: naming series options, prices, taxes, units, amendments,
workflows, Delivery Notes and Purchase Receipts (set progress with
`set_fields(..., per_received=100)`).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.cloud.connectors.standin_http import Answer, Lose, StandInServer

STANDARD_FIELDS = {
    "name", "owner", "creation", "modified", "modified_by", "docstatus", "idx", "status",
    "company", "transaction_date", "items", "set_warehouse", "title", "naming_series",
    "amended_from", "doctype",
}  # fmt: skip
DOCTYPES: dict[str, dict[str, Any]] = {
    "Purchase Order": {
        "prefix": "PUR-ORD",
        "party": "supplier",
        "date": "schedule_date",
        "submitted": "To Receive and Bill",
        "fields": {"supplier", "schedule_date", "per_received", "per_billed",
                   "order_confirmation_no", "order_confirmation_date"},
    },
    "Sales Order": {
        "prefix": "SAL-ORD",
        "party": "customer",
        "date": "delivery_date",
        "submitted": "To Deliver and Bill",
        "fields": {"customer", "delivery_date", "po_no", "po_date", "per_delivered", "per_billed",
                   "order_type"},
    },
    "Material Request": {
        "prefix": "MAT-MR",
        "party": None,
        "date": "schedule_date",
        "submitted": "Pending",
        "fields": {"material_request_type", "schedule_date", "per_received", "per_ordered"},
    },
}  # fmt: skip
ITEM_FIELDS = {"item_code", "qty", "schedule_date", "delivery_date", "warehouse", "idx", "rate"}
LABELS = {
    "supplier": "Supplier",
    "customer": "Customer",
    "schedule_date": "Required By",
    "delivery_date": "Delivery Date",
    "material_request_type": "Purpose",
    "items": "Items",
    "item_code": "Item Code",
    "qty": "Quantity",
    "warehouse": "Warehouse",
}
MR_TYPES = {"Purchase", "Material Transfer", "Material Issue", "Manufacture", "Customer Provided"}


class FrappeError(Exception):
    def __init__(self, status: int, exc_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.exc_type = exc_type
        self.message = message


def _validation(message: str, exc_type: str = "ValidationError") -> FrappeError:
    return FrappeError(417, exc_type, message)


class ErpNextStandIn(StandInServer):
    """`with ErpNextStandIn() as erp: ...`; `erp.url` is its base URL."""

    def __init__(
        self,
        *,
        api_key: str = "0a1b2c3d4e5f6a7",
        api_secret: str = "erp-secret-9f8e7d6c5b4a",  # noqa: S107 - a test secret
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.api_secret = api_secret
        self.suppliers: set[str] = set()
        self.customers: set[str] = set()
        self.items: set[str] = set()
        self.warehouses: set[str] = {"Stores - VT"}
        self.companies: set[str] = {"VMI Test Co"}
        self.custom_fields: dict[str, set[str]] = {d: set() for d in DOCTYPES}
        self.forbidden: set[str] = set()
        # Fields this API user may not write (a higher permlevel): Frappe drops them silently.
        self.read_only: set[str] = set()
        self.docs: dict[str, dict[str, dict[str, Any]]] = {d: {} for d in DOCTYPES}
        self.today = date.today()

    # -- the test's side --------------------------------------------------------

    def add_custom_field(self, doctype: str, fieldname: str) -> None:
        self.custom_fields[doctype].add(fieldname)

    def documents(self, doctype: str) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(d) for d in self.docs[doctype].values()]

    def set_fields(self, doctype: str, name: str, **values: Any) -> None:
        """Change a document as ERPNext would (a Delivery Note raising per_delivered ...)."""
        with self.lock:
            self.docs[doctype][name].update(values)

    def count(self, method: str, prefix: str) -> int:
        with self.lock:
            return sum(1 for r in self.requests if r.method == method and r.path.startswith(prefix))

    # -- HTTP -------------------------------------------------------------------

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        try:
            self._authenticate(headers.get("authorization"))
            status, payload = self._route(method, path, body)
        except FrappeError as error:
            status, payload = error.status, _error_body(error)
        return Answer(status, json.dumps(payload).encode(), {"Content-Type": "application/json"})

    def _authenticate(self, header: str | None) -> None:
        if header is None:
            raise FrappeError(403, "PermissionError", "Not permitted")
        if header != f"token {self.api_key}:{self.api_secret}":
            raise FrappeError(401, "AuthenticationError", "Invalid API key or secret")

    def _route(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        parts = urlsplit(path)
        segments = [unquote(s) for s in parts.path.split("/") if s]
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if segments == ["api", "method", "frappe.client.cancel"] and method == "POST":
            args = _json_object(body)
            return 200, {"message": self._cancel(str(args.get("doctype")), str(args.get("name")))}
        if len(segments) in (3, 4) and segments[:2] == ["api", "resource"]:
            doctype = segments[2]
            if doctype not in DOCTYPES:
                raise FrappeError(404, "DoesNotExistError", f"DocType {doctype} not found")
            if doctype in self.forbidden:
                raise FrappeError(
                    403,
                    "PermissionError",
                    f"User vmi@example.com does not have doctype access "
                    f"via role permission for document {doctype}",
                )
            with self.lock:
                if len(segments) == 3 and method == "GET":
                    return 200, {"data": self._list(doctype, query)}
                if len(segments) == 3 and method == "POST":
                    doc = self._create(doctype, _json_object(body))
                    if self.take_lose("create"):
                        raise Lose
                    return 200, {"data": doc}
                name = segments[3]
                if method == "GET":
                    return 200, {"data": self._get(doctype, name)}
                if method == "PUT":
                    doc = self._update(doctype, name, _json_object(body))
                    if self.take_lose("update"):
                        raise Lose
                    return 200, {"data": doc}
                if method == "DELETE":
                    self._delete(doctype, name)
                    return 202, {"message": "ok"}
        raise FrappeError(404, "DoesNotExistError", f"{method} {parts.path} not found")

    # -- resources ----------------------------------------------------------------

    def _fields(self, doctype: str) -> set[str]:
        own: set[str] = DOCTYPES[doctype]["fields"]
        return STANDARD_FIELDS | own | self.custom_fields[doctype]

    def _list(self, doctype: str, query: dict[str, str]) -> list[dict[str, Any]]:
        filters = _json_param(query, "filters", [])
        fields = _json_param(query, "fields", ["name"])
        known = self._fields(doctype)
        if isinstance(filters, dict):
            filters = [[k, "=", v] for k, v in filters.items()]
        if not isinstance(filters, list) or not isinstance(fields, list):
            raise _validation("filters and fields must be JSON lists")
        conditions = []
        for f in filters:
            if not isinstance(f, list) or len(f) not in (3, 4):
                raise _validation(f"Invalid filter: {f!r}")
            field, operator, value = f[-3:]
            if field not in known:
                raise _validation(f"Field not permitted in query: {field}", "DataError")
            if operator not in ("=", "!=", "in", "like"):
                raise _validation(f"Unsupported operator: {operator}")
            conditions.append((field, operator, value))
        for field in fields:
            if field != "*" and field not in known:
                raise _validation(f"Field not permitted in query: {field}", "DataError")
        rows = [d for d in self.docs[doctype].values() if all(_match(d, *c) for c in conditions)]
        order = query.get("order_by", "creation desc").split()
        if order[0] not in known:
            raise _validation(f"Field not permitted in query: {order[0]}", "DataError")
        rows.sort(key=lambda d: str(d.get(order[0], "")), reverse=order[-1].lower() == "desc")
        limit = int(query.get("limit_page_length", "20"))
        rows = rows[:limit] if limit else rows
        return [d if "*" in fields else {f: d.get(f) for f in fields} for d in rows]

    def _get(self, doctype: str, name: str) -> dict[str, Any]:
        doc = self.docs[doctype].get(name)
        if doc is None:
            raise FrappeError(404, "DoesNotExistError", f"{doctype} {name} not found")
        return dict(doc)

    def _create(self, doctype: str, body: dict[str, Any]) -> dict[str, Any]:
        spec = DOCTYPES[doctype]
        known = self._fields(doctype) - {"name", "docstatus", "status", "owner", "creation"}
        known -= self.read_only
        doc: dict[str, Any] = {k: v for k, v in body.items() if k in known}  # others dropped
        missing = [f for f in ([spec["party"]] if spec["party"] else []) + [spec["date"]]
                   if not doc.get(f)]  # fmt: skip
        if doctype == "Material Request" and not doc.get("material_request_type"):
            missing.append("material_request_type")
        items = doc.get("items")
        if not isinstance(items, list) or not items:
            missing.append("items")
        if missing:
            labels = ", ".join(LABELS.get(f, f) for f in missing)
            raise _validation(f"Error: Value missing for {doctype}: {labels}", "MandatoryError")
        if doctype == "Material Request" and doc["material_request_type"] not in MR_TYPES:
            raise _validation(
                f'Purpose cannot be "{doc["material_request_type"]}". It should be one of '
                + ", ".join(sorted(MR_TYPES))
            )
        self._link("Supplier", doc.get("supplier"), self.suppliers)
        self._link("Customer", doc.get("customer"), self.customers)
        self._link("Company", doc.get("company"), self.companies)
        header_date = _date(doc[spec["date"]], LABELS[spec["date"]])
        transaction = self.today
        if header_date < transaction:
            raise _validation(
                f"{LABELS[spec['date']]} cannot be before {doctype} Date ({transaction})"
            )
        rows = []
        assert isinstance(items, list)  # checked with the mandatory fields above
        for idx, item in enumerate(items, start=1):
            if not isinstance(item, dict):
                raise _validation(f"Row #{idx}: not a document")
            row = {k: v for k, v in item.items() if k in ITEM_FIELDS}
            wanted = ["item_code", "qty", spec["date"]]
            if doctype == "Material Request":
                wanted.append("warehouse")
            absent = [LABELS.get(f, f) for f in wanted if not row.get(f)]
            if absent:
                raise _validation(
                    f"Error: {doctype} Item Row #{idx}: Value missing for: {', '.join(absent)}",
                    "MandatoryError",
                )
            self._link("Item", row["item_code"], self.items)
            self._link("Warehouse", row.get("warehouse"), self.warehouses)
            if not isinstance(row["qty"], int | float) or row["qty"] <= 0:
                raise _validation(f"Row #{idx}: Quantity must be greater than zero")
            if _date(row[spec["date"]], LABELS[spec["date"]]) < transaction:
                raise _validation(
                    f"Row #{idx}: {LABELS[spec['date']]} cannot be before Transaction Date"
                )
            rows.append({**row, "idx": idx})
        number = len(self.docs[doctype]) + 1
        name = f"{spec['prefix']}-{self.today.year}-{number:05d}"
        doc.update(
            name=name,
            docstatus=0,
            status="Draft",
            transaction_date=transaction.isoformat(),
            creation=f"{self.today.isoformat()} 00:00:{number:02d}.000000",
            company=doc.get("company") or "VMI Test Co",
            items=rows,
            owner="vmi@example.com",
        )
        for progress in ("per_received", "per_delivered", "per_ordered", "per_billed"):
            if progress in DOCTYPES[doctype]["fields"]:
                doc[progress] = 0.0
        self.docs[doctype][name] = doc
        return dict(doc)

    def _update(self, doctype: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        doc = self.docs[doctype].get(name)
        if doc is None:
            raise FrappeError(404, "DoesNotExistError", f"{doctype} {name} not found")
        if doc["docstatus"] == 2:
            raise _validation("Cannot edit cancelled document", "UpdateAfterSubmitError")
        target = body.pop("docstatus", doc["docstatus"])
        changed = {k: v for k, v in body.items() if k in self._fields(doctype) and doc.get(k) != v}
        if doc["docstatus"] == 1 and changed:
            raise _validation(
                f"Not allowed to change {sorted(changed)[0]} after submission",
                "UpdateAfterSubmitError",
            )
        transition = (doc["docstatus"], target)
        if transition not in ((0, 0), (0, 1), (1, 1), (1, 2)):
            raise _validation(
                f"Cannot change docstatus from {transition[0]} to {transition[1]}",
                "DocstatusTransitionError",
            )
        doc.update(changed)
        if transition == (0, 1):
            doc.update(docstatus=1, status=DOCTYPES[doctype]["submitted"])
        elif transition == (1, 2):
            doc.update(docstatus=2, status="Cancelled")
        return dict(doc)

    def _delete(self, doctype: str, name: str) -> None:
        doc = self._get(doctype, name)
        if doc["docstatus"] == 1:
            raise _validation("Submitted Record cannot be deleted. You must Cancel it first.")
        del self.docs[doctype][name]

    def _cancel(self, doctype: str, name: str) -> dict[str, Any]:
        if doctype not in DOCTYPES:
            raise FrappeError(404, "DoesNotExistError", f"DocType {doctype} not found")
        with self.lock:
            doc = self.docs[doctype].get(name)
            if doc is None:
                raise FrappeError(404, "DoesNotExistError", f"{doctype} {name} not found")
            if doc["docstatus"] != 1:
                raise _validation(
                    f"Cannot change docstatus from {doc['docstatus']} to 2",
                    "DocstatusTransitionError",
                )
            doc.update(docstatus=2, status="Cancelled")
            if self.take_lose("cancel"):
                raise Lose
            return dict(doc)

    def _link(self, doctype: str, value: Any, known: set[str]) -> None:
        if value is not None and value not in known:
            raise _validation(f"Could not find {doctype}: {value}", "LinkValidationError")


def _error_body(error: FrappeError) -> dict[str, Any]:
    message = json.dumps({"message": error.message, "title": "Message", "indicator": "red",
                          "raise_exception": 1})  # fmt: skip
    return {
        "exc_type": error.exc_type,
        "exception": f"frappe.exceptions.{error.exc_type}: {error.message}",
        "exc": json.dumps(["Traceback (most recent call last):\n  ...\n"]),
        "_server_messages": json.dumps([message]),
    }


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        raise _validation("Request body is not valid JSON") from None
    if not isinstance(value, dict):
        raise _validation("Request body must be a JSON object")
    return value


def _json_param(query: dict[str, str], key: str, default: Any) -> Any:
    if key not in query:
        return default
    try:
        return json.loads(query[key])
    except ValueError:
        raise _validation(f"{key} is not valid JSON") from None


def _date(value: Any, label: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise _validation(f"{label}: {value} is not a valid date (YYYY-MM-DD)") from None


def _match(doc: dict[str, Any], field: str, operator: str, value: Any) -> bool:
    have = doc.get(field)
    if operator == "=":
        return bool(have == value)
    if operator == "!=":
        return bool(have != value)
    if operator == "in":
        return have in value
    return isinstance(have, str) and str(value).strip("%").lower() in have.lower()

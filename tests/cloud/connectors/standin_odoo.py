"""A stand-in for Odoo's external API: JSON-RPC at /jsonrpc and XML-RPC at
/xmlrpc/2/common and /xmlrpc/2/object, on 127.0.0.1.

It keeps partners, products and purchase / sales orders in memory and holds
calls to the documented shapes the way Odoo does:

* `common.authenticate(db, login, key, {})` answers the uid, or `false`;
* `object.execute_kw(db, uid, key, model, method, args[, kwargs])` checks the
  credentials on every call (`odoo.exceptions.AccessDenied`), the model
  (`KeyError`), the method (`AttributeError`), keyword arguments (`TypeError`),
  domains and field names (`ValueError: Invalid field ...`), one2many commands
  (`[0, 0, {...}]` only), datetimes (`YYYY-MM-DD HH:MM:SS`) and the states an
  order may be confirmed or cancelled from (`UserError`);
* errors come back as Odoo sends them: JSON-RPC `{"error": {"code": 200,
  "message": "Odoo Server Error", "data": {"name", "message", ...}}}` with HTTP
  200; XML-RPC faults 3 (AccessDenied), 4 (AccessError), 2 (UserError and its
  subclasses), else 1 with a traceback.

Not modelled: sessions, multi-company, pickings (a receipt or delivery is set
with `set_values(..., receipt_status="full")`), prices, taxes, units.
"""

from __future__ import annotations

import json
import re
import xmlrpc.client
from datetime import datetime
from typing import Any

from tests.cloud.connectors.standin_http import Answer, Lose, StandInServer


class OdooFault(Exception):
    """An exception as Odoo serializes it: `name` is `data.name` (module.Class)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


def _user_error(message: str) -> OdooFault:
    return OdooFault("odoo.exceptions.UserError", message)


# The fields each model has (a subset of Odoo 17's), and what create requires.
FIELDS: dict[str, set[str]] = {
    "res.partner": {"id", "name", "ref", "email", "vat", "display_name"},
    "product.product": {"id", "name", "default_code", "barcode", "display_name"},
    "purchase.order": {
        "id", "name", "partner_id", "partner_ref", "state", "order_line", "date_order",
        "date_planned", "origin", "receipt_status", "company_id", "notes", "display_name",
    },
    "sale.order": {
        "id", "name", "partner_id", "client_order_ref", "state", "order_line", "date_order",
        "commitment_date", "origin", "delivery_status", "locked", "company_id", "display_name",
    },
}  # fmt: skip
LINE_FIELDS: dict[str, set[str]] = {
    "purchase.order": {"product_id", "product_qty", "date_planned", "name", "price_unit"},
    "sale.order": {"product_id", "product_uom_qty", "name", "price_unit"},
}
QTY_FIELD = {"purchase.order": "product_qty", "sale.order": "product_uom_qty"}
SEQUENCE = {"purchase.order": "P", "sale.order": "S"}
KWARGS: dict[str, set[str]] = {
    "search_read": {"domain", "fields", "offset", "limit", "order"},
    "search": {"offset", "limit", "order", "count"},
    "read": {"fields", "load"},
    "create": set(),
    "write": set(),
    "button_confirm": set(),
    "button_cancel": set(),
    "action_confirm": set(),
    "action_cancel": set(),
}
ORDER_METHODS = {
    "purchase.order": {"button_confirm", "button_cancel"},
    "sale.order": {"action_confirm", "action_cancel"},
}
DATETIME = "%Y-%m-%d %H:%M:%S"
OPERATORS = {"=", "!=", "in", "not in", "ilike"}


class OdooStandIn(StandInServer):
    """`with OdooStandIn() as odoo: ...`; `odoo.url` is its base URL."""

    def __init__(
        self,
        *,
        database: str = "vmi",
        login: str = "vmi-bot",
        password: str = "odoo-api-key-0123456789abcdef",  # noqa: S107 - a test key
        uid: int = 7,
    ) -> None:
        super().__init__()
        self.database = database
        self.login = login
        self.password = password
        self.uid = uid
        self.records: dict[str, dict[int, dict[str, Any]]] = {m: {} for m in FIELDS}
        self.calls: list[tuple[str, str]] = []  # (model, method) of each execute_kw
        self._next_id = 100

    # -- the test's side --------------------------------------------------------

    def add_partner(self, ref: str, name: str | None = None) -> int:
        return self._insert("res.partner", {"ref": ref, "name": name or ref})

    def add_product(self, default_code: str, barcode: str | None = None) -> int:
        return self._insert(
            "product.product",
            {"default_code": default_code, "barcode": barcode or False, "name": default_code},
        )

    def orders(self, model: str) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(r) for r in self.records[model].values()]

    def set_values(self, model: str, record_id: int, **values: Any) -> None:
        """Change a record as a user in Odoo would (confirm, receive, lock ...)."""
        with self.lock:
            self.records[model][record_id].update(values)

    def count(self, method: str) -> int:
        with self.lock:
            return sum(1 for _, m in self.calls if m == method)

    # -- HTTP -------------------------------------------------------------------

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        if method == "POST" and path == "/jsonrpc":
            return self._jsonrpc(body)
        if method == "POST" and path in ("/xmlrpc/2/common", "/xmlrpc/2/object"):
            return self._xmlrpc(path.rsplit("/", 1)[1], body)
        return Answer(
            404, b"<html><title>404: Not Found</title></html>", {"Content-Type": "text/html"}
        )

    def _jsonrpc(self, body: bytes) -> Answer:
        call_id: Any = None
        try:
            try:
                request = json.loads(body)
            except ValueError:
                raise OdooFault("werkzeug.exceptions.BadRequest", "Invalid JSON data") from None
            if not isinstance(request, dict):
                raise OdooFault("werkzeug.exceptions.BadRequest", "Invalid JSON-RPC data")
            call_id = request.get("id")
            if request.get("jsonrpc") != "2.0" or request.get("method") != "call":
                raise OdooFault("werkzeug.exceptions.BadRequest", "Invalid JSON-RPC data")
            params = request.get("params")
            if not isinstance(params, dict) or set(params) != {"service", "method", "args"}:
                raise OdooFault(
                    "builtins.TypeError", "jsonrpc() takes the arguments service, method, args"
                )
            if not isinstance(params["args"], list):
                raise OdooFault("builtins.TypeError", "args must be a list")
            result = self._dispatch_rpc(params["service"], params["method"], params["args"])
            answer: dict[str, Any] = {"jsonrpc": "2.0", "id": call_id, "result": result}
        except OdooFault as fault:
            debug = f"Traceback (most recent call last):\n{fault.name}: {fault.message}\n"
            answer = {
                "jsonrpc": "2.0",
                "id": call_id,
                "error": {
                    "code": 200,
                    "message": "Odoo Server Error",
                    "data": {
                        "name": fault.name,
                        "debug": debug,
                        "message": fault.message,
                        "arguments": [fault.message],
                        "context": {},
                    },
                },
            }
        return Answer(200, json.dumps(answer).encode(), {"Content-Type": "application/json"})

    def _xmlrpc(self, service: str, body: bytes) -> Answer:
        try:
            try:
                args, method = xmlrpc.client.loads(body, use_builtin_types=True)
            except Exception as exc:  # whatever the parser says, Odoo answers a fault
                raise OdooFault("xml.parsers.expat.ExpatError", str(exc)) from None
            result = self._dispatch_rpc(service, method or "", list(args))
            text = xmlrpc.client.dumps((_no_none(result),), methodresponse=True)
        except OdooFault as fault:
            if fault.name == "odoo.exceptions.AccessDenied":
                error = xmlrpc.client.Fault(3, fault.message)
            elif fault.name == "odoo.exceptions.AccessError":
                error = xmlrpc.client.Fault(4, fault.message)
            elif fault.name.startswith("odoo.exceptions."):
                error = xmlrpc.client.Fault(2, fault.message)
            else:
                short = fault.name.removeprefix("builtins.")
                error = xmlrpc.client.Fault(
                    1,
                    "Traceback (most recent call last):\n"
                    '  File "/odoo/odoo/service/model.py", line 62, in dispatch\n'
                    f"{short}: {fault.message}\n",
                )
            text = xmlrpc.client.dumps(error)
        return Answer(200, text.encode(), {"Content-Type": "text/xml; charset=utf-8"})

    # -- services ---------------------------------------------------------------

    def _dispatch_rpc(self, service: str, method: str, args: list[Any]) -> Any:
        if service == "common":
            if method == "version":
                return {"server_version": "17.0", "protocol_version": 1}
            if method == "authenticate":
                if len(args) != 4:
                    raise OdooFault(
                        "builtins.TypeError",
                        f"exp_authenticate() takes 5 positional arguments but {len(args) + 1} "
                        "were given",
                    )
                db, login, password, _env = args
                self._check_database(db)
                return self.uid if (login, password) == (self.login, self.password) else False
            raise OdooFault(
                "builtins.AttributeError", f"module 'common' has no attribute '{method}'"
            )
        if service == "object":
            if method != "execute_kw":
                raise OdooFault("builtins.NameError", f"Method not available {method}")
            if not 6 <= len(args) <= 7:
                raise OdooFault("builtins.TypeError", "execute_kw() takes 6 or 7 arguments")
            db, uid, password, model, model_method, margs = args[:6]
            kwargs = args[6] if len(args) == 7 else {}
            self._check_database(db)
            if uid != self.uid or password != self.password:
                raise OdooFault("odoo.exceptions.AccessDenied", "Access Denied")
            return self._execute(str(model), str(model_method), margs, kwargs)
        raise OdooFault("builtins.Exception", f"Unknown service {service!r}")

    def _check_database(self, db: Any) -> None:
        if db != self.database:
            raise OdooFault(
                "psycopg2.OperationalError",
                f'connection to server failed: FATAL:  database "{db}" does not exist',
            )

    def _execute(self, model: str, method: str, args: Any, kwargs: Any) -> Any:
        if model not in FIELDS:
            raise OdooFault("builtins.KeyError", repr(model))
        known = method in KWARGS and (
            method in {"search_read", "search", "read", "create", "write"}
            or method in ORDER_METHODS.get(model, set())
        )
        if not known:
            raise OdooFault(
                "builtins.AttributeError",
                f"The method '{method}' does not exist on the model '{model}'",
            )
        if not isinstance(args, list) or not isinstance(kwargs, dict):
            raise OdooFault("builtins.TypeError", "args must be a list and kwargs a dict")
        unexpected = set(kwargs) - KWARGS[method] - {"context"}
        if unexpected:
            raise OdooFault(
                "builtins.TypeError",
                f"{method}() got an unexpected keyword argument '{sorted(unexpected)[0]}'",
            )
        with self.lock:
            self.calls.append((model, method))
            result = getattr(self, "_m_" + method)(model, args, kwargs)
            if self.take_lose(method):
                raise Lose
            return result

    # -- model methods ----------------------------------------------------------

    def _m_search_read(self, model: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        domain = args[0] if args else kwargs.get("domain", [])
        fields = kwargs.get("fields") or (args[1] if len(args) > 1 else None)
        rows = self._search(model, domain, kwargs.get("order"))
        offset = int(kwargs.get("offset") or 0)
        limit = kwargs.get("limit")
        rows = rows[offset : offset + limit if limit else None]
        return [self._project(model, r, fields) for r in rows]

    def _m_search(self, model: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        return [r["id"] for r in self._search(model, args[0] if args else [], kwargs.get("order"))]

    def _m_read(self, model: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        ids = self._ids(args)
        fields = kwargs.get("fields") or (args[1] if len(args) > 1 else None)
        out = []
        for record_id in ids:
            record = self.records[model].get(record_id)
            if record is None:
                raise OdooFault(
                    "odoo.exceptions.MissingError",
                    "Record does not exist or has been deleted.\n"
                    f"(Record: {model}({record_id},), User: {self.uid})",
                )
            out.append(self._project(model, record, fields))
        return out

    def _m_create(self, model: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        if len(args) != 1:
            raise OdooFault("builtins.TypeError", "create() takes 1 positional argument")
        values = args[0]
        many = isinstance(values, list)
        batch = values if many else [values]
        if not all(isinstance(v, dict) for v in batch):
            raise OdooFault("builtins.ValueError", "create() takes a dict or a list of dicts")
        ids = [self._create_one(model, v) for v in batch]
        return ids if many else ids[0]

    def _m_write(self, model: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        ids = self._ids(args)
        values = args[1] if len(args) > 1 else None
        if not isinstance(values, dict):
            raise OdooFault("builtins.TypeError", "write() takes ids and a dict of values")
        self._check_fields(model, values)
        for record_id in ids:
            self._m_read(model, [[record_id]], {"fields": ["id"]})
            self.records[model][record_id].update(values)
        return True

    def _m_button_confirm(self, model: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        for record in self._records(model, args):
            if record["state"] in ("draft", "sent"):  # Odoo skips the others
                record["state"] = "purchase"
        return True

    def _m_button_cancel(self, model: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        records = self._records(model, args)
        for record in records:
            if record.get("receipt_status") in ("partial", "full"):
                raise _user_error(
                    f"Unable to cancel purchase order {record['name']} as some receptions "
                    "have already been done."
                )
        for record in records:
            record["state"] = "cancel"
        return True

    def _m_action_confirm(self, model: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        records = self._records(model, args)
        wrong = [r["name"] for r in records if r["state"] not in ("draft", "sent")]
        if wrong:
            raise _user_error(
                "The following orders are not in a state requiring confirmation: "
                + ", ".join(wrong)
            )
        for record in records:
            record["state"] = "sale"
        return True

    def _m_action_cancel(self, model: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        records = self._records(model, args)
        if any(r.get("locked") for r in records):
            raise _user_error("You cannot cancel a locked order. Please unlock it first.")
        for record in records:
            record["state"] = "cancel"
        return True

    # -- helpers ------------------------------------------------------------------

    def _insert(self, model: str, values: dict[str, Any]) -> int:
        with self.lock:
            self._next_id += 1
            record = {"id": self._next_id, **values}
            self.records[model][self._next_id] = record
            return self._next_id

    def _create_one(self, model: str, values: dict[str, Any]) -> int:
        self._check_fields(model, values)
        if model not in SEQUENCE:
            return self._insert(model, dict(values))
        partner = values.get("partner_id")
        if not isinstance(partner, int) or partner not in self.records["res.partner"]:
            raise OdooFault(
                "odoo.exceptions.ValidationError",
                "The operation cannot be completed:\n- Create/update: a mandatory field is "
                f"not set.\n- Model: {model}, Field: partner_id",
            )
        lines = []
        for command in values.get("order_line", []):
            if (
                not isinstance(command, list | tuple)
                or len(command) != 3
                or command[0] != 0
                or command[1] != 0
                or not isinstance(command[2], dict)
            ):
                raise OdooFault(
                    "builtins.ValueError", f"Wrong value for {model}.order_line: {command!r}"
                )
            lines.append(self._line(model, command[2]))
        for key in ("date_planned", "commitment_date"):
            if key in values:
                _datetime(values[key])
        record = {
            "state": "draft",
            "receipt_status": False,
            "delivery_status": False,
            "locked": False,
            **{k: v for k, v in values.items() if k != "order_line"},
            "order_line": lines,
        }
        record_id = self._insert(model, record)
        self.records[model][record_id]["name"] = f"{SEQUENCE[model]}{len(self.records[model]):05d}"
        return record_id

    def _line(self, model: str, values: dict[str, Any]) -> dict[str, Any]:
        unknown = set(values) - LINE_FIELDS[model]
        if unknown:
            raise OdooFault(
                "builtins.ValueError",
                f"Invalid field {sorted(unknown)[0]!r} on model '{model}.line'",
            )
        product = values.get("product_id")
        if not isinstance(product, int) or product not in self.records["product.product"]:
            raise OdooFault(
                "odoo.exceptions.ValidationError",
                "The operation cannot be completed:\n- Create/update: a mandatory field is "
                f"not set.\n- Model: {model}.line, Field: product_id",
            )
        qty = values.get(QTY_FIELD[model])
        if not isinstance(qty, int | float) or isinstance(qty, bool):
            raise OdooFault("builtins.ValueError", f"Wrong value for {QTY_FIELD[model]}: {qty!r}")
        if "date_planned" in values:
            _datetime(values["date_planned"])
        return dict(values)

    def _check_fields(self, model: str, values: dict[str, Any]) -> None:
        for name in values:
            if name not in FIELDS[model] or name in ("id", "display_name"):
                raise OdooFault("builtins.ValueError", f"Invalid field {name!r} on model {model!r}")

    def _search(self, model: str, domain: Any, order: Any) -> list[dict[str, Any]]:
        if not isinstance(domain, list):
            raise OdooFault("builtins.ValueError", f"Invalid domain {domain!r}")
        leaves = []
        for leaf in domain:
            if leaf == "&":
                continue
            if not isinstance(leaf, list | tuple) or len(leaf) != 3:
                raise OdooFault("builtins.ValueError", f"Invalid leaf {leaf!r}")
            name, operator, value = leaf
            if name not in FIELDS[model]:
                raise OdooFault(
                    "builtins.ValueError", f"Invalid field {model}.{name} in leaf {tuple(leaf)!r}"
                )
            if operator not in OPERATORS:
                raise OdooFault("builtins.ValueError", f"Invalid leaf {tuple(leaf)!r}")
            leaves.append((name, operator, value))
        rows = [r for r in self.records[model].values() if all(_match(r, *lf) for lf in leaves)]
        if order is not None:
            match = re.fullmatch(r"\s*(\w+)(?:\s+(asc|desc))?\s*", str(order), re.IGNORECASE)
            if match is None or match.group(1) not in FIELDS[model]:
                raise OdooFault("builtins.ValueError", f'Invalid "order" specified ({order})')
            key = match.group(1)
            rows.sort(key=lambda r: (r.get(key) is None, r.get(key) or 0))
            if (match.group(2) or "asc").lower() == "desc":
                rows.reverse()
        return rows

    def _project(self, model: str, record: dict[str, Any], fields: Any) -> dict[str, Any]:
        wanted = list(fields) if fields else sorted(FIELDS[model])
        out: dict[str, Any] = {"id": record["id"]}
        for name in wanted:
            if name not in FIELDS[model]:
                raise OdooFault("builtins.ValueError", f"Invalid field {name!r} on model {model!r}")
            value = record.get(name, False)
            if name == "partner_id" and isinstance(value, int):
                value = [value, self.records["res.partner"][value]["name"]]
            out[name] = value
        return out

    def _ids(self, args: list[Any]) -> list[int]:
        ids = args[0] if args else None
        if isinstance(ids, int) and not isinstance(ids, bool):
            ids = [ids]
        if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
            raise OdooFault("builtins.TypeError", f"ids must be a list of integers: {ids!r}")
        return ids

    def _records(self, model: str, args: list[Any]) -> list[dict[str, Any]]:
        out = []
        for record_id in self._ids(args):
            self._m_read(model, [[record_id]], {"fields": ["id"]})
            out.append(self.records[model][record_id])
        return out


def _match(record: dict[str, Any], name: str, operator: str, value: Any) -> bool:
    have = record.get(name, False)
    if operator == "=":
        return bool(have == value)
    if operator == "!=":
        return bool(have != value)
    if operator == "in":
        return have in value
    if operator == "not in":
        return have not in value
    return isinstance(have, str) and str(value).lower() in have.lower()


def _datetime(value: Any) -> None:
    try:
        datetime.strptime(str(value), DATETIME)
    except ValueError:
        raise OdooFault(
            "builtins.ValueError", f"time data {value!r} does not match format '{DATETIME}'"
        ) from None


def _no_none(value: Any) -> Any:
    """Odoo's XML-RPC marshaller sends False for None."""
    if value is None:
        return False
    if isinstance(value, list):
        return [_no_none(v) for v in value]
    if isinstance(value, dict):
        return {k: _no_none(v) for k, v in value.items()}
    return value

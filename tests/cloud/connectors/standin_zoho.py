"""A stand-in for Zoho CRM on 127.0.0.1: the accounts server's token endpoint and the
records API v8 on one port, answering the way Zoho documents it:

* `POST /oauth/v2/token`, form-encoded `grant_type=refresh_token`, `client_id`,
  `client_secret`, `refresh_token` (each once, in the body): an access token valid
  `token_life_s` and `api_domain` (its own URL unless told otherwise); refusals are
  HTTP 200 `{"error": ...}`: `invalid_code` (refresh token unknown or revoked),
  `invalid_client` (client id or secret), `invalid_request` / `unsupported_grant_type`;
* `/crm/v8/...` needs `Authorization: Zoho-oauthtoken <token>`: none or another scheme
  is 401 `AUTHENTICATION_FAILURE`, an unknown or expired token 401 `INVALID_TOKEN`, a
  module in `forbidden` 403 `NO_PERMISSION`;
* `GET .../<Module>/search?criteria=(Field:equals|starts_with:value)`, parsed strictly
  (one condition; parentheses and commas in the value escaped with a backslash),
  case-insensitive; 204 with no body when nothing matches;
* `POST .../<Module>`, `PUT .../<Module>[/<id>]`: `{"data": [...]}` of at most 100
  records, a result per record: `SUCCESS` with `details.id`, or `MANDATORY_NOT_FOUND` /
  `INVALID_DATA` / `DUPLICATE_DATA` with `details.api_name` and `json_path` (HTTP 201
  or 200, 400 all refused, 207 mixed). Mandatory: Subject, Vendor_Name or Account_Name,
  the line items (Purchase_Items / Ordered_Items) with Product_Name `{"id"}` and
  Quantity; lookups must exist; Status must be in `picklist`; `unique` fields refuse
  duplicates; unknown fields are dropped;
* `GET .../<Module>/<id>`: the record, or 204 when it is not there (deleted).

Not modelled: and/or criteria, pages, prices, taxes, layouts, workflows, blueprints,
approvals, locked records, the exact wording of every message.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.cloud.connectors.standin_http import Answer, Lose, StandInServer

ORDERS = {"Purchase_Orders": ("Vendor_Name", "Vendors", "Purchase_Items"),
          "Sales_Orders": ("Account_Name", "Accounts", "Ordered_Items")}  # fmt: skip
FIELDS: dict[str, set[str]] = {
    "Products": {"Product_Name", "Product_Code", "Unit_Price", "Product_Active"},
    "Vendors": {"Vendor_Name", "Email"},
    "Accounts": {"Account_Name", "Account_Number"},
    "Purchase_Orders": {"Subject", "Vendor_Name", "Purchase_Items", "Due_Date", "Status",
                        "PO_Number", "PO_Date", "Description"},
    "Sales_Orders": {"Subject", "Account_Name", "Ordered_Items", "Due_Date", "Status",
                     "Purchase_Order", "Customer_No", "Description"},
}  # fmt: skip
SYSTEM_FIELDS = {"id", "Owner", "Created_Time", "Modified_Time"}
OWNER = {"name": "VMI Integration", "id": "5725767000000411001", "email": "vmi@example.com"}
_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class ZohoError(Exception):
    """Zoho's error object; `status` 0 for a record's error inside a write's answer."""

    def __init__(self, status: int, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"code": code, "details": details, "message": message, "status": "error"}


class ZohoStandIn(StandInServer):
    """`with ZohoStandIn() as zoho: ...`; `zoho.url` is both its accounts and API domain."""

    def __init__(
        self,
        *,
        client_id: str = "1000.STANDINCLIENT0042",
        client_secret: str = "zoho-secret-7e6d5c4b3a29",  # noqa: S107 - a test secret
        refresh_token: str = "1000.refresh-3f2e1d0c9b8a7f6e",  # noqa: S107
    ) -> None:
        super().__init__()
        self.client_id, self.client_secret, self.refresh_token = (
            client_id, client_secret, refresh_token,
        )  # fmt: skip
        self.refresh_tokens = {refresh_token}
        self.api_domain: str | None = None
        self.token_life_s = 3600
        self.tokens: dict[str, float] = {}
        self.issued: list[str] = []
        self.records: dict[str, dict[str, dict[str, Any]]] = {m: {} for m in FIELDS}
        self.mandatory: dict[str, set[str]] = {m: set() for m in FIELDS}
        self.unique: dict[str, set[str]] = {m: set() for m in FIELDS}
        self.picklist = {"Created", "Approved", "Delivered", "Cancelled"}
        self.forbidden: set[str] = set()
        # Records search does not find yet (Zoho's search index lags behind a fresh insert).
        self.unsearchable: set[str] = set()
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)
        self._serial = 0

    # -- the test's side --------------------------------------------------------

    def add(self, module: str, **values: Any) -> str:
        """A record made in Zoho (a product, vendor, account); its id."""
        with self.lock:
            record_id = self._new_id()
            self.records[module][record_id] = {"id": record_id, **values, **self._stamp()}
            return record_id

    def expire_tokens(self) -> None:
        """Every access token issued so far runs out now (as after an hour)."""
        with self.lock:
            self.tokens = dict.fromkeys(self.tokens, 0.0)

    def set_fields(self, module: str, record_id: str, **values: Any) -> None:
        """Change a record as a Zoho user would (a Status set by hand, ...)."""
        with self.lock:
            self.records[module][record_id].update(values)

    def documents(self, module: str) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(json.dumps(r)) for r in self.records[module].values()]

    def count(self, method: str, prefix: str) -> int:
        with self.lock:
            return sum(1 for r in self.requests if r.method == method and r.path.startswith(prefix))

    # -- HTTP -------------------------------------------------------------------

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        parts = urlsplit(path)
        try:
            with self.lock:
                if parts.path == "/oauth/v2/token":
                    status, payload = 200, self._token(method, headers, body)
                elif parts.path.startswith("/crm/v8/"):
                    self._authenticate(headers.get("authorization"))
                    status, payload = self._route(method, parts.path, parts.query, body)
                else:
                    raise self._bad_url()
        except ZohoError as error:
            status, payload = error.status, error.body
        raw = b"" if payload is None else json.dumps(payload).encode()
        kind = {} if payload is None else {"Content-Type": "application/json;charset=UTF-8"}
        return Answer(status, raw, kind)

    def _token(self, method: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        form_type = headers.get("content-type", "").split(";")[0].strip()
        if method != "POST" or form_type != "application/x-www-form-urlencoded":
            return {"error": "invalid_request"}
        try:
            form = parse_qs(body.decode(), keep_blank_values=True, strict_parsing=True)
        except (ValueError, UnicodeDecodeError):
            return {"error": "invalid_request"}
        keys = ("grant_type", "client_id", "client_secret", "refresh_token")
        if any(len(form.get(k, [])) != 1 or not form[k][0] for k in keys):
            return {"error": "invalid_request"}
        value = {k: form[k][0] for k in keys}
        if value["grant_type"] != "refresh_token":
            return {"error": "unsupported_grant_type"}
        if (value["client_id"], value["client_secret"]) != (self.client_id, self.client_secret):
            return {"error": "invalid_client"}
        if value["refresh_token"] not in self.refresh_tokens:
            return {"error": "invalid_code"}
        token = f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"
        self.tokens[token] = time.monotonic() + self.token_life_s
        self.issued.append(token)
        return {
            "access_token": token,
            "scope": "ZohoCRM.modules.ALL ZohoSearch.securesearch.READ",
            "api_domain": self.api_domain or self.url,
            "token_type": "Bearer",
            "expires_in": self.token_life_s,
        }

    def _authenticate(self, header: str | None) -> None:
        scheme, _, token = (header or "").partition(" ")
        if scheme != "Zoho-oauthtoken" or not token:
            raise ZohoError(401, "AUTHENTICATION_FAILURE", "Authentication failed")
        if self.tokens.get(token, 0.0) <= time.monotonic():
            raise ZohoError(401, "INVALID_TOKEN", "invalid oauth token")

    def _route(self, method: str, path: str, query: str, body: bytes) -> tuple[int, Any]:
        segments = [unquote(s) for s in path.split("/")[3:] if s]
        args = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        if not segments or len(segments) > 2:
            raise self._bad_url()
        module = segments[0]
        if module not in FIELDS:
            raise ZohoError(
                400, "INVALID_MODULE", "the module name given seems to be invalid",
                resource_path_index=0,
            )  # fmt: skip
        if module in self.forbidden:
            raise ZohoError(
                403, "NO_PERMISSION", "permission denied", permissions=[f"Crm_Implied_{module}"]
            )
        if segments[1:] == ["search"] and method == "GET":
            return self._search(module, args)
        if len(segments) == 1 and method in ("POST", "PUT") and module in ORDERS:
            return self._write(module, method, None, body)
        if len(segments) == 2 and method == "PUT" and module in ORDERS:
            return self._write(module, method, segments[1], body)
        if len(segments) == 2 and method == "GET":
            record = self.records[module].get(segments[1])
            if record is None:
                return 204, None
            return 200, {"data": [self._project(module, record, args.get("fields"))]}
        raise self._bad_url()

    # -- search -------------------------------------------------------------------

    def _search(self, module: str, args: dict[str, str]) -> tuple[int, Any]:
        if "criteria" not in args:
            raise ZohoError(
                400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing",
                param="criteria",
            )  # fmt: skip
        field, operator, value = _criteria(args["criteria"])
        if field not in FIELDS[module] | SYSTEM_FIELDS:
            raise ZohoError(
                400, "INVALID_QUERY", "invalid query formed", api_name=field,
                reason="the field is not available for search",
            )  # fmt: skip
        rows = []
        for record in self.records[module].values():
            if record["id"] in self.unsearchable:
                continue
            have = record.get(field)
            have = have.get("name") if isinstance(have, dict) else have
            text, wanted = str(have or "").lower(), value.lower()
            if text == wanted or (operator == "starts_with" and text.startswith(wanted)):
                rows.append(self._project(module, record, args.get("fields")))
        if not rows:
            return 204, None
        info = {"per_page": 200, "count": len(rows), "page": 1, "more_records": False}
        return 200, {"data": rows, "info": info}

    def _project(self, module: str, record: dict[str, Any], fields: str | None) -> dict[str, Any]:
        if fields is None:
            return json.loads(json.dumps(record))  # type: ignore[no-any-return]
        names = [f for f in fields.split(",") if f]
        for name in names:
            if name not in FIELDS[module] | SYSTEM_FIELDS:
                raise ZohoError(400, "INVALID_DATA", "invalid data", api_name=name, param="fields")
        return {"id": record["id"], **{n: record.get(n) for n in names}}

    # -- insert and update --------------------------------------------------------------

    def _write(
        self, module: str, method: str, record_id: str | None, body: bytes
    ) -> tuple[int, Any]:
        try:
            payload = json.loads(body or b"null")
        except ValueError:
            payload = None
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, list) or not data or not all(isinstance(r, dict) for r in data):
            raise ZohoError(
                400, "INVALID_DATA", "invalid data", api_name="data", expected_data_type="jsonarray"
            )
        if len(data) > 100 or (record_id is not None and len(data) != 1):
            raise ZohoError(400, "LIMIT_EXCEEDED", "Record count exceeded", limit=100)
        results = []
        for index, record in enumerate(data):
            try:
                if method == "POST":
                    results.append(self._insert(module, index, record))
                else:
                    results.append(self._update(module, index, record_id, record))
            except ZohoError as error:
                results.append(error.body)
        if self.take_lose("create" if method == "POST" else "update"):
            raise Lose
        well = [r["status"] == "success" for r in results]
        status = (201 if method == "POST" else 200) if all(well) else 400 if not any(well) else 207
        return status, {"data": results}

    def _insert(self, module: str, index: int, record: dict[str, Any]) -> dict[str, Any]:
        party, _, items = ORDERS[module]
        where = f"$.data[{index}]"
        for field in ["Subject", party, items, *sorted(self.mandatory[module])]:
            if record.get(field) in (None, "", [], {}):
                raise _refusal("MANDATORY_NOT_FOUND", field, where)
        record_id = self._new_id()
        clean = self._fields(module, where, record)
        lines = record[items]
        if not isinstance(lines, list):
            raise _refusal("INVALID_DATA", items, where, expected_data_type="subform")
        clean[items] = [self._line(items, f"{where}.{items}[{n}]", x) for n, x in enumerate(lines)]
        for field in sorted(f for f in self.unique[module] if clean.get(f)):
            for other in self.records[module].values():
                if str(other.get(field, "")).lower() == str(clean[field]).lower():
                    raise _refusal(
                        "DUPLICATE_DATA", field, where,
                        duplicate_record={"id": other["id"], "module": {"api_name": module},
                                          "Owner": OWNER},
                    )  # fmt: skip
        stamp = self._stamp()
        self.records[module][record_id] = {"id": record_id, **clean, **stamp}
        return _success("record added", record_id, stamp)

    def _update(
        self, module: str, index: int, record_id: str | None, record: dict[str, Any]
    ) -> dict[str, Any]:
        where = f"$.data[{index}]"
        record_id = record_id or record.get("id")
        if not record_id:
            raise _refusal("MANDATORY_NOT_FOUND", "id", where)
        stored = self.records[module].get(str(record_id))
        if stored is None:
            raise ZohoError(0, "INVALID_DATA", "the id given seems to be invalid", id=record_id)
        changes = self._fields(module, where, {k: v for k, v in record.items() if k != "id"})
        stored.update(changes, Modified_Time=self._stamp()["Modified_Time"])
        stamp = {"Created_Time": stored["Created_Time"], "Modified_Time": stored["Modified_Time"]}
        return _success("record updated", stored["id"], stamp)

    def _fields(self, module: str, where: str, record: dict[str, Any]) -> dict[str, Any]:
        """The known, checked plain fields and lookups (line items are checked apart)."""
        party, party_module, items = ORDERS[module]
        clean: dict[str, Any] = {}
        for field, value in record.items():
            if field not in FIELDS[module] or field == items:
                continue  # unknown fields are dropped; line items are checked by the caller
            if field == party:
                value = self._lookup(party_module, field, where, value)
            elif field == "Status" and value not in self.picklist:
                raise _refusal("INVALID_DATA", field, where, expected_data_type="picklist")
            elif field == "Due_Date":
                try:
                    date.fromisoformat(str(value))
                except ValueError:
                    raise _refusal(
                        "INVALID_DATA", field, where, expected_data_type="date"
                    ) from None
            clean[field] = value
        return clean

    def _line(self, items: str, where: str, line: Any) -> dict[str, Any]:
        if not isinstance(line, dict):
            raise _refusal("INVALID_DATA", items, where, expected_data_type="jsonobject")
        for field in ("Product_Name", "Quantity"):
            if line.get(field) in (None, "", {}):
                raise _refusal("MANDATORY_NOT_FOUND", field, where, parent_api_name=items)
        product = self._lookup("Products", "Product_Name", where, line["Product_Name"], items)
        quantity = line["Quantity"]
        if isinstance(quantity, bool) or not isinstance(quantity, int | float) or quantity <= 0:
            raise _refusal(
                "INVALID_DATA",
                "Quantity",
                where,
                parent_api_name=items,
                expected_data_type="double",
            )
        return {"id": self._new_id(), "Product_Name": product, "Quantity": quantity}

    def _lookup(
        self, module: str, field: str, where: str, value: Any, parent: str | None = None
    ) -> dict[str, str]:
        extra = {"parent_api_name": parent} if parent else {}
        target = value.get("id") if isinstance(value, dict) else None
        found = self.records[module].get(str(target)) if target else None
        if found is None:
            raise _refusal("INVALID_DATA", field, where, expected_data_type="lookup", **extra)
        name = found.get("Product_Name") or found.get("Vendor_Name") or found.get("Account_Name")
        return {"name": str(name), "id": found["id"]}

    def _new_id(self) -> str:
        self._serial += 1
        return f"5725767000000{412000 + self._serial}"

    def _stamp(self) -> dict[str, str]:
        now = self.now().isoformat(timespec="seconds")
        return {"Created_Time": now, "Modified_Time": now}

    def _bad_url(self) -> ZohoError:
        return ZohoError(
            404, "INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one"
        )


def _refusal(code: str, field: str, where: str, **details: Any) -> ZohoError:
    message = {
        "MANDATORY_NOT_FOUND": "required field not found",
        "DUPLICATE_DATA": "duplicate data",
    }
    parent = details.get("parent_api_name")
    path = where if parent else f"{where}.{field}"
    return ZohoError(
        0, code, message.get(code, "invalid data"), api_name=field, json_path=path, **details
    )


def _success(message: str, record_id: str, stamp: dict[str, str]) -> dict[str, Any]:
    details = {**stamp, "Modified_By": OWNER, "id": record_id, "Created_By": OWNER}
    return {"code": "SUCCESS", "details": details, "message": message, "status": "success"}


def _criteria(text: str) -> tuple[str, str, str]:
    """`(Field:equals:value)` -> its parts, the value unescaped; INVALID_QUERY if malformed."""
    bad = ZohoError(400, "INVALID_QUERY", "invalid query formed", reason="invalid criteria")
    if not (text.startswith("(") and text.endswith(")")):
        raise bad
    field, _, rest = text[1:-1].partition(":")
    operator, _, raw = rest.partition(":")
    if not _FIELD.match(field) or operator not in ("equals", "starts_with") or not raw:
        raise bad
    value, escaped = [], False
    for ch in raw:
        if escaped:
            value.append(ch if ch in "()," else "\\" + ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch in "(),":
            raise bad  # and/or, several conditions, or an unescaped character
        else:
            value.append(ch)
    if escaped:
        value.append("\\")
    return field, operator, "".join(value)

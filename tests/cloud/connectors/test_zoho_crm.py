"""The Zoho CRM connector against the Zoho stand-in (accounts server and records API v8)."""

from __future__ import annotations

import json
import logging
import re
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from pydantic import ValidationError

from cloud.connectors import (
    AuthFailed,
    OrderChange,
    RateLimited,
    Rejected,
    RemoteNotFound,
    RemoteRef,
    Unavailable,
    UnsupportedChange,
)
from cloud.connectors.zoho_crm import ZohoCrmConfig, ZohoCrmConnector
from cloud.orders import OrderStatus
from tests.cloud.connectors.samples import PLANNED, spec, zoho_table
from tests.cloud.connectors.standin_zoho import ZohoStandIn

MakeZoho = Callable[..., ZohoCrmConnector]
PO, SO = "Purchase_Orders", "Sales_Orders"
FOLDER = Path(__file__).resolve().parents[3] / "cloud" / "connectors" / "zoho_crm"


@pytest.fixture
def make_zoho(zoho: ZohoStandIn, tmp_path: Path) -> Iterator[MakeZoho]:
    """Connectors to the stand-in; keyword arguments change the config table."""
    made: list[ZohoCrmConnector] = []

    def make(clock: Callable[[], float] | None = None, **changes: Any) -> ZohoCrmConnector:
        config = ZohoCrmConfig.model_validate(zoho_table(zoho, tmp_path, **changes))
        made.append(ZohoCrmConnector(config, clock=clock) if clock else ZohoCrmConnector(config))
        return made[-1]

    yield make
    for connector in made:
        connector.close()


def test_create_makes_a_purchase_order_with_our_reference(
    zoho: ZohoStandIn, make_zoho: MakeZoho
) -> None:
    ref = make_zoho().create_order(spec())

    [record] = zoho.documents(PO)
    assert ref == RemoteRef(
        system="zoho_crm", record_type=PO, id=record["id"], name="vmi-42", reference="vmi-42"
    )
    assert (record["Subject"], record["Status"]) == ("vmi-42", "Created")
    assert (record["Vendor_Name"]["name"], record["Due_Date"]) == (
        "Acme Supplies Ltd",
        str(PLANNED),
    )
    [line] = record["Purchase_Items"]
    assert (line["Product_Name"]["name"], line["Quantity"]) == ("Bolt M8", 24)
    [token_request] = [r for r in zoho.requests if r.path == "/oauth/v2/token"]
    keys = ("client_id", "client_secret", "refresh_token")
    assert parse_qs(token_request.body.decode()) == {"grant_type": ["refresh_token"]} | {
        key: [getattr(zoho, key)] for key in keys
    }
    api = [r for r in zoho.requests if r.path.startswith("/crm/v8/")]
    assert {r.headers["authorization"] for r in api} == {f"Zoho-oauthtoken {zoho.issued[0]}"}


def test_creating_again_returns_the_first_record(zoho: ZohoStandIn, make_zoho: MakeZoho) -> None:
    connector = make_zoho()
    first = connector.create_order(spec())
    again = connector.create_order(spec())

    assert (again.id, again.existed) == (first.id, True)
    assert len(zoho.documents(PO)) == 1
    assert zoho.count("POST", "/crm/v8/") == 1


def test_a_create_whose_answer_was_lost_is_not_made_twice(
    zoho: ZohoStandIn, make_zoho: MakeZoho
) -> None:
    connector = make_zoho()
    zoho.lose_next("create")

    with pytest.raises(Unavailable, match="may have been carried out"):
        connector.create_order(spec())
    ref = connector.create_order(spec())

    [record] = zoho.documents(PO)
    assert (ref.id, ref.existed) == (record["id"], True)
    assert zoho.count("POST", "/crm/v8/") == 1


def test_a_duplicate_refused_by_a_unique_subject_is_our_record(
    zoho: ZohoStandIn, make_zoho: MakeZoho
) -> None:
    """Search may not find a fresh record yet; a unique Subject makes Zoho name it."""
    zoho.unique[PO].add("Subject")
    connector = make_zoho()
    zoho.lose_next("create")
    with pytest.raises(Unavailable):
        connector.create_order(spec())
    [record] = zoho.documents(PO)
    zoho.unsearchable.add(record["id"])

    ref = connector.create_order(spec())
    assert (ref.id, ref.existed) == (record["id"], True)
    assert len(zoho.documents(PO)) == 1


def test_confirm_and_cancel_happen_once_each(zoho: ZohoStandIn, make_zoho: MakeZoho) -> None:
    connector = make_zoho()
    ref = connector.create_order(spec())

    for _ in range(2):
        confirmed = connector.update_order(ref, OrderChange.CONFIRM)
        assert (confirmed.status, confirmed.remote_state) == (OrderStatus.CONFIRMED, "Approved")
    assert zoho.count("PUT", "/crm/v8/") == 1
    for _ in range(2):
        cancelled = connector.update_order(ref, OrderChange.CANCEL)
        assert (cancelled.status, cancelled.remote_state) == (OrderStatus.CANCELLED, "Cancelled")
    assert zoho.count("PUT", "/crm/v8/") == 2
    [put, _] = [r for r in zoho.requests if r.method == "PUT"]
    assert json.loads(put.body) == {"data": [{"Status": "Approved"}]}
    with pytest.raises(Rejected, match="is Cancelled"):
        connector.update_order(ref, OrderChange.CONFIRM)
    assert zoho.documents(PO)[0]["Status"] == "Cancelled"


def test_a_sales_order_links_the_account_and_ships_once(
    zoho: ZohoStandIn, make_zoho: MakeZoho
) -> None:
    connector = make_zoho(module=SO)
    ref = connector.create_order(spec())
    [record] = zoho.documents(SO)
    assert (record["Account_Name"]["name"], record["Subject"]) == ("North Plant", "vmi-42")
    assert record["Ordered_Items"][0]["Quantity"] == 24

    for _ in range(2):
        shipped = connector.update_order(ref, OrderChange.SHIP)
        assert (shipped.status, shipped.remote_state) == (OrderStatus.SHIPPED, "Delivered")
    assert zoho.count("PUT", "/crm/v8/") == 1
    assert connector.update_order(ref, OrderChange.CONFIRM).status is OrderStatus.SHIPPED


def test_a_purchase_order_is_received_in_zoho_not_shipped(
    zoho: ZohoStandIn, make_zoho: MakeZoho
) -> None:
    connector = make_zoho()
    ref = connector.create_order(spec())
    with pytest.raises(UnsupportedChange, match="set Status 'Delivered' on arrival"):
        connector.update_order(ref, OrderChange.SHIP)

    zoho.set_fields(PO, ref.id, Status="Delivered")
    assert connector.fetch_status(ref).status is OrderStatus.RECEIVED
    with pytest.raises(Rejected, match="cannot be cancelled"):
        connector.update_order(ref, OrderChange.CANCEL)


def test_a_lost_update_answer_is_not_sent_twice(zoho: ZohoStandIn, make_zoho: MakeZoho) -> None:
    connector = make_zoho()
    ref = connector.create_order(spec())
    zoho.lose_next("update")

    with pytest.raises(Unavailable):
        connector.update_order(ref, OrderChange.CONFIRM)
    assert connector.update_order(ref, OrderChange.CONFIRM).status is OrderStatus.CONFIRMED
    assert zoho.count("PUT", "/crm/v8/") == 1


def test_fetch_status_follows_a_status_set_in_zoho(zoho: ZohoStandIn, make_zoho: MakeZoho) -> None:
    connector = make_zoho()
    ref = connector.create_order(spec())
    assert connector.fetch_status(ref).status is OrderStatus.PROPOSED

    for word, ours in [("Approved", OrderStatus.CONFIRMED), ("Cancelled", OrderStatus.CANCELLED)]:
        zoho.set_fields(PO, ref.id, Status=word)
        status = connector.fetch_status(ref)
        assert (status.status, status.remote_state) == (ours, word)
    zoho.set_fields(PO, ref.id, Status="On Hold")
    with pytest.raises(Rejected, match=r"'On Hold' is none of the configured states"):
        connector.fetch_status(ref)


def test_the_status_words_are_configurable(zoho: ZohoStandIn, make_zoho: MakeZoho) -> None:
    zoho.picklist |= {"Draft", "Confirmed"}
    connector = make_zoho(states={"proposed": "Draft", "confirmed": "Confirmed"})
    ref = connector.create_order(spec())
    assert zoho.documents(PO)[0]["Status"] == "Draft"
    assert connector.update_order(ref, OrderChange.CONFIRM).remote_state == "Confirmed"

    outside = make_zoho(states={"confirmed": "Accepted"})
    with pytest.raises(Rejected, match=r"invalid data \(Status\)") as err:
        outside.update_order(outside.create_order(spec("vmi-43")), OrderChange.CONFIRM)
    assert (err.value.remote_type, err.value.status_code) == ("INVALID_DATA", 400)


def test_a_deleted_record_is_remote_not_found(zoho: ZohoStandIn, make_zoho: MakeZoho) -> None:
    connector = make_zoho()
    ref = connector.create_order(spec())
    del zoho.records[PO][ref.id]

    with pytest.raises(RemoteNotFound, match="no such record"):
        connector.fetch_status(ref)
    with pytest.raises(RemoteNotFound):
        connector.update_order(ref, OrderChange.CANCEL)


def test_an_expired_token_is_refreshed_once_and_the_call_repeated(
    zoho: ZohoStandIn, make_zoho: MakeZoho
) -> None:
    connector = make_zoho()
    ref = connector.create_order(spec())
    zoho.expire_tokens()
    start = len(zoho.requests)

    assert connector.fetch_status(ref).status is OrderStatus.PROPOSED
    seen = [(r.method, urlsplit(r.path).path) for r in zoho.requests[start:]]
    get = ("GET", f"/crm/v8/{PO}/{ref.id}")
    assert seen == [get, ("POST", "/oauth/v2/token"), get]
    assert len(zoho.issued) == 2

    zoho.token_life_s = 0  # from now on every new token is refused at once: one try, no loop
    zoho.expire_tokens()
    with pytest.raises(AuthFailed, match="invalid oauth token") as err:
        connector.fetch_status(ref)
    assert (err.value.remote_type, err.value.status_code) == ("INVALID_TOKEN", 401)
    assert len(zoho.issued) == 3


def test_the_token_is_kept_until_shortly_before_it_expires(
    zoho: ZohoStandIn, make_zoho: MakeZoho
) -> None:
    now = [1000.0]
    connector = make_zoho(clock=lambda: now[0])
    connector.find_order("vmi-42")
    now[0] += 3600 - 61
    connector.find_order("vmi-42")
    assert zoho.count("POST", "/oauth/v2/token") == 1
    now[0] += 2  # within a minute of the end: a new one, before Zoho refuses the old
    connector.find_order("vmi-42")
    assert zoho.count("POST", "/oauth/v2/token") == 2
    assert all(answer.status != 401 for _, answer in zoho.traffic)


@pytest.mark.parametrize(("spoilt", "word"), [("refresh_token", "invalid_code"),
                                             ("client_secret", "invalid_client")])  # fmt: skip
def test_refused_credentials_are_auth_failed_with_zohos_word(
    zoho: ZohoStandIn, make_zoho: MakeZoho, tmp_path: Path, spoilt: str, word: str
) -> None:
    """A revoked refresh token is `invalid_code`, a wrong client secret `invalid_client`."""
    (tmp_path / "wrong").write_text("not-the-secret")
    changes = {"client_secret_file": str(tmp_path / "wrong")} if spoilt == "client_secret" else {}
    zoho.refresh_tokens -= {zoho.refresh_token} if spoilt == "refresh_token" else set()
    with pytest.raises(AuthFailed, match=f"refused the refresh token: {word}") as err:
        make_zoho(**changes).create_order(spec())
    assert (err.value.remote_type, err.value.retryable) == (word, True)
    assert "not-the-secret" not in str(err.value)
    assert zoho.count("GET", "/crm/") == 0


def test_a_token_for_another_data_centre_is_refused(zoho: ZohoStandIn, make_zoho: MakeZoho) -> None:
    zoho.api_domain = "https://www.zohoapis.eu"
    with pytest.raises(AuthFailed, match=re.escape('set url = "https://www.zohoapis.eu"')):
        make_zoho().create_order(spec())
    assert zoho.count("GET", "/crm/") == 0


def test_an_unknown_product_or_vendor_is_rejected(zoho: ZohoStandIn, make_zoho: MakeZoho) -> None:
    connector = make_zoho()
    with pytest.raises(Rejected, match="Products: no record has Product_Code 'NOPE'"):
        connector.create_order(spec(sku="NOPE"))
    with pytest.raises(Rejected, match="Vendors: no record has Vendor_Name 'NOBODY'"):
        connector.create_order(spec(supplier="NOBODY"))
    assert zoho.documents(PO) == []


def test_a_field_zoho_requires_is_rejected_with_its_words(
    zoho: ZohoStandIn, make_zoho: MakeZoho
) -> None:
    zoho.mandatory[PO].add("PO_Number")
    with pytest.raises(Rejected, match=r"required field not found \(PO_Number\)") as err:
        make_zoho().create_order(spec())
    assert (err.value.remote_type, err.value.status_code) == ("MANDATORY_NOT_FOUND", 400)
    assert not err.value.retryable
    assert zoho.documents(PO) == []


def test_criteria_values_are_escaped(zoho: ZohoStandIn, make_zoho: MakeZoho) -> None:
    zoho.add("Vendors", Vendor_Name="Acme (EU), Ltd")
    make_zoho(party="Acme (EU), Ltd").create_order(spec())

    assert zoho.documents(PO)[0]["Vendor_Name"]["name"] == "Acme (EU), Ltd"
    [search] = [unquote(r.path) for r in zoho.requests if "/Vendors/search" in r.path]
    assert r"criteria=(Vendor_Name:equals:Acme \(EU\)\, Ltd)" in search


def test_no_permission_is_auth_failed(zoho: ZohoStandIn, make_zoho: MakeZoho) -> None:
    zoho.forbidden.add(PO)
    with pytest.raises(AuthFailed, match="permission denied") as err:
        make_zoho().create_order(spec())
    assert (err.value.status_code, err.value.remote_type) == (403, "NO_PERMISSION")


@pytest.mark.parametrize(("header", "expected"), [("12", 12.0), (None, None)])
def test_429_is_rate_limited_with_the_retry_after(
    zoho: ZohoStandIn, make_zoho: MakeZoho, header: str | None, expected: float | None
) -> None:
    connector = make_zoho()
    connector.find_order("vmi-42")  # the token first: the limit then falls on the API
    zoho.rate_limit(1, retry_after=header)

    with pytest.raises(RateLimited) as err:
        connector.create_order(spec())
    assert err.value.retry_after_s == expected
    assert connector.create_order(spec()).existed is False


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_5xx_is_unavailable(zoho: ZohoStandIn, make_zoho: MakeZoho, status: int) -> None:
    connector = make_zoho()
    for where in ("/oauth/v2/token", "/crm/v8/"):  # the accounts server, then the API
        zoho.fail_next(1, status)
        with pytest.raises(Unavailable) as err:
            connector.find_order("vmi-42")
        assert (err.value.status_code, err.value.retryable) == (status, True)
        assert zoho.requests[-1].path.startswith(where)
        assert connector.find_order("vmi-42") is None


def test_secrets_and_tokens_are_in_no_log_error_or_repr(
    zoho: ZohoStandIn, make_zoho: MakeZoho, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    connector = make_zoho()
    ref = connector.create_order(spec())
    connector.update_order(ref, OrderChange.CONFIRM)
    zoho.expire_tokens()
    zoho.refresh_tokens.clear()
    with pytest.raises(AuthFailed) as err:
        connector.fetch_status(ref)

    shown = [caplog.text, str(err.value), repr(err.value), repr(connector)]
    for secret in (zoho.client_id, zoho.client_secret, zoho.refresh_token, *zoho.issued):
        assert all(secret not in text for text in shown)
    assert "created Purchase_Orders" in caplog.text


def test_the_config_derives_and_checks_the_accounts_server() -> None:
    base = {"kind": "zoho_crm", "client_id": "i", "client_secret": "s3cr3t", "refresh_token": "r"}
    eu = ZohoCrmConfig.model_validate(base | {"url": "https://www.zohoapis.eu", "module": SO})
    assert eu.token_url() == "https://accounts.zoho.eu"
    assert "s3cr3t" not in repr(eu)
    ca = ZohoCrmConfig.model_validate(base | {"url": "https://sandbox.zohoapis.ca", "module": PO})
    assert ca.token_url() == "https://accounts.zohocloud.ca"
    wrong: list[tuple[dict[str, Any], str]] = [
        ({"url": "https://www.zohoapis.com", "accounts_url": "https://accounts.zoho.eu"}, "'eu'"),
        ({"url": "https://crm.example.com"}, "accounts_url is required"),
        ({"url": "https://www.zohoapis.com", "states": {"confirmed": "Created"}}, "its own"),
    ]
    for changes, message in wrong:
        with pytest.raises(ValidationError, match=message):
            ZohoCrmConfig.model_validate(base | {"module": PO} | changes)


def test_the_readme_documents_each_key_and_the_sample_validates() -> None:
    readme = (FOLDER / "README.md").read_text(encoding="utf-8")
    assert "What was run against what" in readme
    for name in ZohoCrmConfig.model_fields:
        assert f"`{name}" in readme, f"README.md does not document `{name}`"
    table = tomllib.loads((FOLDER / "sample.toml").read_text(encoding="utf-8"))["connector"]
    assert ZohoCrmConfig.model_validate(table).token_url() == "https://accounts.zoho.eu"

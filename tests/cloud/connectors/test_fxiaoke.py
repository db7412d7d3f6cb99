"""The Fxiaoke (纷享销客) connector against the Fxiaoke stand-in, over real HTTP."""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from cloud.connectors import (
    AuthFailed,
    ConnectorError,
    OrderChange,
    RateLimited,
    Rejected,
    RemoteNotFound,
    RemoteRef,
    Unavailable,
    UnsupportedChange,
)
from cloud.connectors.fxiaoke import FxiaokeConfig, FxiaokeConnector
from cloud.connectors.fxiaoke.connector import epoch_ms
from cloud.orders import OrderStatus
from tests.cloud.connectors.samples import PLANNED, fxiaoke_table, spec
from tests.cloud.connectors.standin_fxiaoke import FxiaokeStandIn

FOLDER = Path(__file__).resolve().parents[3] / "cloud" / "connectors" / "fxiaoke"
SO = "SalesOrderObj"
CREATE, QUERY, GET = "/cgi/crm/v2/data/create", "/cgi/crm/v2/data/query", "/cgi/crm/v2/data/get"
UPDATE, INVALID = "/cgi/crm/v2/data/update", "/cgi/crm/v2/data/invalid"
TOKEN = "/cgi/corpAccessToken/get/V2"
CONFIRM, SHIP, CANCEL = OrderChange.CONFIRM, OrderChange.SHIP, OrderChange.CANCEL
MakeFx = Callable[..., FxiaokeConnector]
Fx = FxiaokeStandIn


@pytest.fixture
def fx() -> Iterator[FxiaokeStandIn]:
    with FxiaokeStandIn() as server:
        server.add_account("North Plant Co., Ltd.")
        server.add_product("BOLT-M8", "M8 螺栓")
        yield server


@pytest.fixture
def make(fx: Fx, tmp_path: Path) -> Iterator[MakeFx]:
    """Connectors to the stand-in; keyword arguments change the config table."""
    made: list[FxiaokeConnector] = []

    def connect(clock: Callable[[], float] | None = None, **changes: Any) -> FxiaokeConnector:
        config = FxiaokeConfig.model_validate(fxiaoke_table(fx, tmp_path, **changes))
        made.append(FxiaokeConnector(config, clock=clock) if clock else FxiaokeConnector(config))
        return made[-1]

    yield connect
    for connector in made:
        connector.close()


def sent(fx: Fx, path: str) -> list[dict[str, Any]]:
    return [request for p, request, _ in fx.exchanges if urlsplit(p).path == path]


def test_create_makes_a_sales_order_with_our_reference_and_one_line(fx: Fx, make: MakeFx) -> None:
    ref = make().create_order(spec())

    [order] = fx.orders()
    assert ref == RemoteRef(
        system="fxiaoke", record_type=SO, id=order["_id"], name=order["name"], reference="vmi-42"
    )
    assert (order["remark"], order["life_status"]) == ("vmi-42", "normal")
    assert order["delivery_date"] == epoch_ms(PLANNED)
    assert order["order_time"] == epoch_ms(datetime.now(UTC).date())
    [line] = fx.lines(order["_id"])
    product = next(iter(fx.data["ProductObj"]))
    assert (line["product_id"], line["quantity"]) == (product, "24")
    [create] = sent(fx, CREATE)
    assert create["triggerApprovalFlow"] is True
    assert create["data"]["object_data"]["dataObjectApiName"] == SO
    # Every data call carried the token, the corp and the user; each its own thirdTraceId.
    calls = [r for p, r, _ in fx.exchanges if not p.startswith(TOKEN)]
    assert {(r["corpId"], r["currentOpenUserId"]) for r in calls} == {
        (fx.corp_id, next(iter(fx.users)))
    }
    traces = [parse_qs(urlsplit(p).query)["thirdTraceId"][0] for p, _, _ in fx.exchanges]
    assert len(set(traces)) == len(traces) == 6  # token, 3 queries, create, get


def test_creating_again_returns_the_first_order(fx: Fx, make: MakeFx) -> None:
    connector = make()
    first = connector.create_order(spec())
    again = connector.create_order(spec())

    assert (again.id, again.name, again.existed) == (first.id, first.name, True)
    assert len(fx.orders()) == 1
    assert fx.count(CREATE) == 1


def test_a_create_whose_answer_was_lost_is_not_made_twice(fx: Fx, make: MakeFx) -> None:
    connector = make()
    fx.lose_next("create")

    with pytest.raises(Unavailable, match="may have been carried out"):
        connector.create_order(spec())
    ref = connector.create_order(spec())

    [order] = fx.orders()
    assert (ref.id, ref.existed) == (order["_id"], True)
    assert fx.count(CREATE) == 1


def test_a_live_order_wins_over_a_cancelled_one(fx: Fx, make: MakeFx) -> None:
    connector = make()
    cancelled = connector.create_order(spec())
    connector.update_order(cancelled, CANCEL)
    # A cancelled order keeps its reference: sending it again does not make a new one.
    assert connector.create_order(spec()).id == cancelled.id
    live = connector.create_order(spec(reference="vmi-43"))
    fx.set_fields(SO, live.id, remark="vmi-42")

    assert connector.find_order("vmi-42") == live.model_copy(
        update={"reference": "vmi-42", "existed": True}
    )


def test_confirm_ship_and_cancel_happen_once_however_often_sent(fx: Fx, make: MakeFx) -> None:
    connector = make()
    ref = connector.create_order(spec())

    for _ in range(2):
        confirmed = connector.update_order(ref, CONFIRM)
    assert confirmed.status is OrderStatus.CONFIRMED
    assert confirmed.remote_state == "normal (正常), logistics_status 1 (待发货)"
    assert fx.count(UPDATE) == 0  # an order that is 正常 is confirmed: nothing to write

    for _ in range(2):
        shipped = connector.update_order(ref, SHIP)
    assert shipped.status is OrderStatus.SHIPPED
    assert "3 (已发货)" in shipped.remote_state
    assert sent(fx, UPDATE)[0]["data"] == {
        "object_data": {"dataObjectApiName": SO, "_id": ref.id, "logistics_status": "3"}
    }

    for _ in range(2):
        cancelled = connector.update_order(ref, CANCEL)
    assert (cancelled.status, cancelled.remote_state) == (OrderStatus.CANCELLED, "invalid (作废)")
    assert sent(fx, INVALID)[0]["data"] == {"dataObjectApiName": SO, "object_data_id": ref.id}
    assert (fx.count(UPDATE), fx.count(INVALID)) == (1, 1)
    for change in (CONFIRM, SHIP):
        with pytest.raises(Rejected, match="作废"):
            connector.update_order(ref, change)


@pytest.mark.parametrize(("change", "action", "path"), [(SHIP, "update", UPDATE),
                                                        (CANCEL, "invalid", INVALID)])  # fmt: skip
def test_a_change_whose_answer_was_lost_is_not_sent_twice(
    fx: Fx, make: MakeFx, change: OrderChange, action: str, path: str
) -> None:
    connector = make()
    ref = connector.create_order(spec())
    fx.lose_next(action)

    with pytest.raises(Unavailable):
        connector.update_order(ref, change)
    assert connector.update_order(ref, change).status in (
        OrderStatus.SHIPPED,
        OrderStatus.CANCELLED,
    )
    assert fx.count(path) == 1


def test_an_order_under_approval_is_confirmed_by_approving_it_in_fxiaoke(
    fx: Fx, make: MakeFx
) -> None:
    fx.approval_flow = True
    connector = make()
    ref = connector.create_order(spec())

    proposed = connector.fetch_status(ref)
    assert (proposed.status, proposed.remote_state) == ("proposed", "under_review (审核中)")
    for change in (CONFIRM, SHIP):
        with pytest.raises(Rejected, match="approved in Fxiaoke"):
            connector.update_order(ref, change)
    fx.set_fields(SO, ref.id, life_status="normal")  # someone approved it
    assert connector.update_order(ref, CONFIRM).status is OrderStatus.CONFIRMED
    assert fx.count(UPDATE) == 0

    # Without triggering the approval flow the order is 正常 at once.
    direct = make(trigger_approval_flow=False).create_order(spec(reference="vmi-43"))
    assert sent(fx, CREATE)[-1]["triggerApprovalFlow"] is False
    assert make().fetch_status(direct).status is OrderStatus.CONFIRMED


def test_fetch_status_follows_changes_made_in_fxiaoke(fx: Fx, make: MakeFx) -> None:
    connector = make()
    ref = connector.create_order(spec())

    fx.set_fields(SO, ref.id, logistics_status="2")  # a delivery note (发货单) for part
    assert connector.fetch_status(ref).status is OrderStatus.CONFIRMED
    fx.set_fields(SO, ref.id, logistics_status="5")
    received = connector.fetch_status(ref)
    assert received.status is OrderStatus.RECEIVED
    assert received.remote_state == "normal (正常), logistics_status 5 (已收货)"
    fx.set_fields(SO, ref.id, life_status="invalid")  # 作废 by hand
    assert connector.fetch_status(ref).status is OrderStatus.CANCELLED


def test_ship_is_unsupported_where_delivery_notes_keep_the_status(fx: Fx, make: MakeFx) -> None:
    connector = make(ship_writes_logistics=False)
    with pytest.raises(UnsupportedChange, match="发货单"):
        connector.update_order(connector.create_order(spec()), SHIP)
    assert fx.count(UPDATE) == 0


def test_a_deleted_order_is_not_found_and_counts_as_cancelled(fx: Fx, make: MakeFx) -> None:
    connector = make()
    ref = connector.create_order(spec())
    del fx.data[SO][ref.id]

    with pytest.raises(RemoteNotFound, match="数据不存在或已被删除") as err:
        connector.fetch_status(ref)
    assert err.value.remote_type == "errorCode 32000"
    assert connector.update_order(ref, CANCEL).remote_state == "deleted"
    assert fx.count(INVALID) == 0


def test_the_token_is_cached_and_renewed_before_it_expires(fx: Fx, make: MakeFx) -> None:
    now = [1000.0]
    connector = make(clock=lambda: now[0])
    ref = connector.create_order(spec())
    connector.fetch_status(ref)
    assert fx.count(TOKEN) == 1

    now[0] += 7200 - 600 + 1  # into the last ten minutes of its two hours
    connector.fetch_status(ref)
    assert fx.count(TOKEN) == 2
    assert all(answer and answer["errorCode"] == 0 for _, _, answer in fx.exchanges)


def test_an_expired_token_is_fetched_again_once_and_the_call_repeated(fx: Fx, make: MakeFx) -> None:
    connector = make()
    ref = connector.create_order(spec())
    fx.expire_tokens()

    assert connector.update_order(ref, SHIP).status is OrderStatus.SHIPPED
    assert fx.count(TOKEN) == 2
    assert [a["errorCode"] for p, _, a in fx.exchanges if p.startswith(GET)][-3:] == [20016, 0, 0]
    assert fx.count(UPDATE) == 1


def test_a_token_refused_twice_is_auth_failed_not_a_loop(fx: Fx, make: MakeFx) -> None:
    connector = make()
    fx.answer_code_next(20016, "the cropId,cropAccessToken or authorization is error",
                        times=2, path=CREATE)  # fmt: skip

    with pytest.raises(AuthFailed, match="authorization is error") as err:
        connector.create_order(spec())
    assert err.value.remote_type == "errorCode 20016"
    assert (fx.count(TOKEN), fx.count(CREATE), fx.orders()) == (2, 2, [])


@pytest.mark.parametrize(("key", "value", "code", "words"), [
    ("app_secret_file", "wrong", 10006, "the parameter appSecret is missing or illegal"),
    ("permanent_code_file", "wrong", 20015, "永久授权码错误"),
    ("current_open_user_id", "FSUID_NOBODY", 20012, "openUserId未找到"),
])  # fmt: skip
def test_wrong_credentials_or_user_are_auth_failed_in_fxiaokes_words(
    fx: Fx, make: MakeFx, tmp_path: Path, key: str, value: str, code: int, words: str
) -> None:
    (tmp_path / "wrong").write_text("not-the-right-one")
    value = str(tmp_path / value) if key.endswith("_file") else value
    with pytest.raises(AuthFailed, match=words) as err:
        make(**{key: value}).create_order(spec())
    assert (err.value.status_code, err.value.remote_type) == (200, f"errorCode {code}")
    assert err.value.retryable
    assert "not-the-right-one" not in str(err.value)
    assert fx.count(CREATE) == 0


@pytest.mark.parametrize(("code", "error"), [
    (-1, Unavailable), (50009, Unavailable), (30004, RateLimited), (14001, RateLimited),
    (30002, RateLimited), (15003, AuthFailed), (20021, AuthFailed), (30003, AuthFailed),
    (32000, Rejected), (424242, Rejected),
])  # fmt: skip
def test_an_http_200_error_code_never_counts_as_success(
    fx: Fx, make: MakeFx, code: int, error: type[ConnectorError]
) -> None:
    """The key rule: HTTP 200 says nothing, only errorCode 0 is success."""
    connector = make()
    fx.answer_code_next(code, f"Fxiaoke says {code}", path=CREATE)

    with pytest.raises(error, match=f"Fxiaoke says {code}.*traceId E-O.standin") as err:
        connector.create_order(spec())
    assert (err.value.status_code, err.value.remote_type) == (200, f"errorCode {code}")
    assert fx.orders() == []
    if isinstance(err.value, RateLimited):
        assert 0 < (err.value.retry_after_s or 0) <= 86400
    # Nothing was made, so sending again creates it.
    assert connector.create_order(spec()).existed is False


def test_an_answer_without_error_code_is_unavailable(fx: Fx, make: MakeFx) -> None:
    fx.fail_next(1, 200)  # a proxy's HTML page, HTTP 200
    with pytest.raises(Unavailable, match="not Fxiaoke's"):
        make().create_order(spec())


def test_unknown_products_and_customers_are_rejected(fx: Fx, make: MakeFx) -> None:
    connector = make()
    with pytest.raises(Rejected, match="no live ProductObj has product_code = 'NOPE'"):
        connector.create_order(spec(sku="NOPE"))
    with pytest.raises(Rejected, match="no live AccountObj has name = 'SOUTH'"):
        connector.create_order(spec(customer="SOUTH"))
    product = next(iter(fx.data["ProductObj"]))
    fx.set_fields("ProductObj", product, life_status="invalid")
    with pytest.raises(Rejected, match="ProductObj has product_code = 'BOLT-M8'"):
        connector.create_order(spec())
    assert fx.count(CREATE) == 0


def test_fields_fxiaoke_refuses_are_rejected_in_its_words(fx: Fx, make: MakeFx) -> None:
    fx.require(SO, "field_contract__c", "合同编号")  # a tenant's own mandatory field
    with pytest.raises(Rejected, match="请填写必填字段：合同编号") as err:
        make().create_order(spec())
    assert (err.value.remote_type, err.value.retryable) == ("errorCode 32000", False)

    with pytest.raises(Rejected, match="field_name 'field_nope__c'") as err:
        make(reference_field="field_nope__c").create_order(spec())
    assert err.value.remote_type == "errorCode 15002"
    assert fx.orders() == []


@pytest.mark.parametrize(("header", "expected"), [("12", 12.0), (None, None)])
def test_429_is_rate_limited(
    fx: Fx, make: MakeFx, header: str | None, expected: float | None
) -> None:
    connector = make()
    fx.rate_limit(1, retry_after=header)
    with pytest.raises(RateLimited) as err:
        connector.create_order(spec())
    assert (err.value.retry_after_s, err.value.status_code) == (expected, 429)
    assert connector.create_order(spec()).existed is False


def test_the_frequency_limit_code_is_rate_limited_for_one_window(fx: Fx, make: MakeFx) -> None:
    fx.answer_code_next(30004, "秒频次超限")
    with pytest.raises(RateLimited, match="秒频次超限") as err:
        make().create_order(spec())
    assert (err.value.retry_after_s, err.value.status_code) == (20.0, 200)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_5xx_is_unavailable(fx: Fx, make: MakeFx, status: int) -> None:
    fx.fail_next(1, status)
    with pytest.raises(Unavailable) as err:
        make().create_order(spec())
    assert (err.value.status_code, err.value.retryable) == (status, True)


def test_secrets_and_tokens_are_in_no_log_error_or_repr(
    fx: Fx, make: MakeFx, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    connector = make()
    ref = connector.create_order(spec())
    fx.expire_tokens()
    connector.update_order(ref, SHIP)
    fx.app_secret = "rotated"
    fx.expire_tokens()
    with pytest.raises(AuthFailed) as err:
        connector.fetch_status(ref)
    config = FxiaokeConfig.model_validate(fxiaoke_table(fx, tmp_path, app_secret_file=None,
                                                app_secret="inline-app-secret-0042"))  # fmt: skip

    shown = [caplog.text, str(err.value), repr(err.value), repr(connector), repr(config)]
    for secret in ["fx-app-secret-5e0c2a9d41", fx.permanent_code, "inline-app-secret-0042",
                   *fx.tokens]:  # fmt: skip
        assert all(secret not in text for text in shown)
    assert "created SalesOrderObj" in caplog.text


def test_the_sample_validates_and_the_config_checks_the_user(tmp_path: Path) -> None:
    sample = tomllib.loads((FOLDER / "sample.toml").read_text(encoding="utf-8"))["connector"]
    config = FxiaokeConfig.model_validate(sample)
    assert (config.kind, config.url) == ("fxiaoke", "https://open.fxiaoke.com")
    base = sample | {"app_secret": "s", "permanent_code": "p"}
    base = {k: v for k, v in base.items() if not k.endswith(("_file", "_env"))}
    FxiaokeConfig.model_validate(base)
    for broken in ({"current_open_user_id": "1000"}, {"reference_field": "remark; x"}):
        with pytest.raises(ValueError, match=next(iter(broken))):
            FxiaokeConfig.model_validate(base | broken)
    with pytest.raises(ValueError, match="current_open_user_id"):
        FxiaokeConfig.model_validate({k: v for k, v in base.items() if k != "current_open_user_id"})

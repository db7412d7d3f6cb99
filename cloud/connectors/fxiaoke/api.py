"""Fxiaoke's OpenAPI: the corp access token, one call, and its error codes as data.

    POST /cgi/corpAccessToken/get/V2  {"appId", "appSecret", "permanentCode"}
         -> {"errorCode": 0, "corpAccessToken", "corpId", "expiresIn"}
    POST /cgi/crm/v2/data/<verb>?thirdTraceId=<uuid4>
         {"corpAccessToken", "corpId", "currentOpenUserId", ..., "data": {...}}

Every answer is HTTP 200 whether the call worked or not: only `errorCode == 0`
is success, and every other code goes through `CODES` to a connector error
carrying Fxiaoke's `errorCode`, `errorMessage` and `traceId`. A token Fxiaoke
no longer accepts (20016) is fetched again once and the call repeated.
Bodies are never logged: the token request carries the app secret.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from cloud.connectors.errors import (
    AuthFailed,
    ConnectorError,
    RateLimited,
    Rejected,
    Unavailable,
)
from cloud.connectors.http import HttpChannel, Reply, retry_after_s

log = logging.getLogger(__name__)

SYSTEM = "fxiaoke"
TOKEN_PATH = "/cgi/corpAccessToken/get/V2"  # noqa: S105 - a path, not a secret


class Outcome(StrEnum):
    """What an `errorCode` means for us."""

    REFRESH = "refresh"  # the token is gone: fetch a new one, repeat the call once
    AUTH = "auth"  # credentials, app authorization, rights, quota: AuthFailed
    RATE = "rate"  # frequency limits: RateLimited
    BUSY = "busy"  # Fxiaoke's own trouble: Unavailable
    DATA = "data"  # the request or its data was refused: Rejected (the default)


CODES: Mapping[int, tuple[Outcome, str]] = {
    20016: (Outcome.REFRESH, "corpAccessToken 不存在或者已经过期"),
    10001: (Outcome.AUTH, "缺少参数 appId"),
    10002: (Outcome.AUTH, "缺少参数 appSecret"),
    10006: (Outcome.AUTH, "appSecret 缺失或不合法 (observed; the table says scope)"),
    10010: (Outcome.AUTH, "缺少参数 openUserId"),
    10012: (Outcome.AUTH, "缺少参数 permanentCode"),
    10013: (Outcome.AUTH, "缺少参数 corpAccessToken"),
    10014: (Outcome.AUTH, "缺少参数 corpId"),
    11001: (Outcome.AUTH, "参数 appId 不合法"),
    11002: (Outcome.AUTH, "参数 appSecret 不合法"),
    11008: (Outcome.AUTH, "参数 openUserId 不合法"),
    11013: (Outcome.AUTH, "参数 permanentCode 不合法"),
    11014: (Outcome.AUTH, "参数 corpAccessToken 不合法"),
    11015: (Outcome.AUTH, "参数 corpId 不合法"),
    15003: (Outcome.AUTH, "APP 没有访问权限"),
    20006: (Outcome.AUTH, "appId 或 appSecret 错误"),
    20012: (Outcome.AUTH, "openUserId 未找到"),
    20014: (Outcome.AUTH, "应用没有获取该员工的数据的权限"),
    20015: (Outcome.AUTH, "永久授权码错误"),
    20017: (Outcome.AUTH, "corpAccessToken 为必填项 (observed; the table says corpId 未找到)"),
    20020: (Outcome.AUTH, "应用没有获取该企业的数据的权限"),
    20021: (Outcome.AUTH, "在当前企业下，该 app 的状态为停用"),
    20022: (Outcome.AUTH, "企业没有对该 app 授权"),
    30003: (Outcome.AUTH, "客户没有购买 openapi 配额"),
    14001: (Outcome.RATE, "接口调用超过限制"),
    30002: (Outcome.RATE, "当天访问频次超限 (0 点重新统计)"),
    30004: (Outcome.RATE, "秒频次超限"),
    -1: (Outcome.BUSY, "系统繁忙"),
    -2: (Outcome.BUSY, "系统错误"),
    50009: (Outcome.BUSY, "服务异常，如超时"),
}
"""Fxiaoke's global return codes (全局返回码) we act on; any other non-zero code is DATA."""

FREQUENCY_WINDOW_S = 20.0
"""The documented per-endpoint limit is 100 calls in 20 s: wait one window."""

BEIJING = timedelta(hours=8)


@dataclass(frozen=True)
class CorpToken:
    """A corp access token and when to stop using it (on the channel's clock)."""

    value: str
    corp_id: str
    renew_at: float


class FxiaokeApi:
    """Calls to one tenant as one user, with the token fetched, cached and renewed."""

    def __init__(
        self,
        channel: HttpChannel,
        *,
        app_id: str,
        app_secret: str,
        permanent_code: str,
        open_user_id: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._channel = channel
        self._credentials = {
            "appId": app_id,
            "appSecret": app_secret,
            "permanentCode": permanent_code,
        }
        self._user = open_user_id
        self._clock = clock
        self._token: CorpToken | None = None

    def call(self, path: str, data: dict[str, Any], **top: Any) -> dict[str, Any]:
        """POST `data` (and `top`-level options) to `path` as the configured user and
        return the whole answer once its `errorCode` is 0; else raise its error."""
        for attempt in (1, 2):
            token = self._current_token()
            body = {
                "corpAccessToken": token.value,
                "corpId": token.corp_id,
                "currentOpenUserId": self._user,
                **top,
                "data": data,
            }
            answer = self._post(path, body)
            code = answer["errorCode"]
            if code == 0:
                return answer
            if CODES.get(code, (Outcome.DATA,))[0] is Outcome.REFRESH and attempt == 1:
                log.info(
                    "fxiaoke: %s: token refused (errorCode %s); fetching a new one", path, code
                )
                self._token = None
                continue
            raise fxiaoke_error(answer, path)
        raise AssertionError("unreachable")  # pragma: no cover

    def _current_token(self) -> CorpToken:
        if self._token is not None and self._clock() < self._token.renew_at:
            return self._token
        answer = self._post(TOKEN_PATH, self._credentials)
        if answer["errorCode"] != 0:
            raise fxiaoke_error(answer, TOKEN_PATH)
        value, corp_id = answer.get("corpAccessToken"), answer.get("corpId")
        expires = answer.get("expiresIn")
        if not (isinstance(value, str) and value and isinstance(corp_id, str) and corp_id):
            raise Unavailable(SYSTEM, f"{TOKEN_PATH}: the answer carries no corpAccessToken")
        lifetime = float(expires) if isinstance(expires, int | float) and expires > 0 else 7200.0
        # Fxiaoke hands out the same token for 6600 of its 7200 s: renew in the last
        # ten minutes (or at half time for a short one), before it is refused.
        margin = 600.0 if lifetime > 1200 else lifetime / 2
        self._token = CorpToken(value, corp_id, self._clock() + lifetime - margin)
        log.info("fxiaoke: new corp access token for %s, valid %.0f s", corp_id, lifetime)
        return self._token

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        reply = self._channel.send(
            "POST", path, params={"thirdTraceId": str(uuid.uuid4())}, json=body
        )
        if reply.status != 200:
            raise http_error(reply, path)
        try:
            answer = json.loads(reply.body)
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or type(answer.get("errorCode")) is not int:
            raise Unavailable(
                SYSTEM, f"{path}: the answer is not Fxiaoke's (no errorCode)", status_code=200
            )
        return answer


def fxiaoke_error(answer: dict[str, Any], what: str) -> ConnectorError:
    """The connector error for an answer whose `errorCode` is not 0, in Fxiaoke's words."""
    code: int = answer["errorCode"]
    message = str(answer.get("errorMessage") or "").strip()
    description = str(answer.get("errorDescription") or "").strip()
    words = message or description or CODES.get(code, (Outcome.DATA, "no message"))[1]
    if description and description not in words and description.lower() != "success":
        words = f"{words} ({description})"
    trace = answer.get("traceId")
    detail = f"{what}: {words}" + (f" [traceId {trace}]" if trace else "")
    kw: dict[str, Any] = {"status_code": 200, "remote_type": f"errorCode {code}"}
    outcome = CODES.get(code, (Outcome.DATA,))[0]
    if outcome is Outcome.RATE:
        wait = seconds_to_beijing_midnight() if code == 30002 else FREQUENCY_WINDOW_S
        return RateLimited(SYSTEM, detail, retry_after_s=wait, **kw)
    if outcome in (Outcome.AUTH, Outcome.REFRESH):
        return AuthFailed(SYSTEM, detail, **kw)
    if outcome is Outcome.BUSY:
        return Unavailable(SYSTEM, detail, **kw)
    return Rejected(SYSTEM, detail, **kw)


def seconds_to_beijing_midnight(now: datetime | None = None) -> float:
    """Seconds until Fxiaoke's daily quota resets (00:00 Beijing time, UTC+8)."""
    local = (now or datetime.now(UTC)) + BEIJING
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - local).total_seconds()


def http_error(reply: Reply, path: str) -> ConnectorError:
    """An answer that is not HTTP 200 came from a gateway or proxy, not the OpenAPI."""
    status = reply.status
    url = f"{path}: HTTP {status} from the gateway"
    if status == 429:
        return RateLimited(
            SYSTEM, f"{url}", retry_after_s=retry_after_s(reply.headers.get("Retry-After"))
        )
    if status in (401, 403):
        return AuthFailed(SYSTEM, f"{url} (refused)", status_code=status)
    if status >= 500 or status == 408:
        return Unavailable(SYSTEM, url, status_code=status)
    if 300 <= status < 400:
        where = reply.headers.get("Location", "elsewhere")
        return Rejected(
            SYSTEM,
            f"{path}: redirected to {where}: url must be the OpenAPI host (open.fxiaoke.com "
            "or your cloud's open-* host), not www.fxiaoke.com",
            status_code=status,
        )
    return Rejected(SYSTEM, f"{url}: is url Fxiaoke's OpenAPI host?", status_code=status)

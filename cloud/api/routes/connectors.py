"""`/connectors/{link}/hook`: a connected ERP/CRM says one of our orders changed there.

Odoo (an automated action), ERPNext (a Webhook), Zoho CRM (a workflow
webhook) and Fxiaoke can call a URL when a record changes. Point them here,
with the link's token (`connector_hook_tokens` in the API settings) in the
`X-VMI-Hook-Token` header or as `?token=`. The body is not trusted for
anything but finding which order it is about: every string in it (JSON or
form-encoded, a few levels deep) that could be our reference or the remote
record's id marks that record to be read back at the service's next round;
a body naming none marks every open record of the link. The service then
reads the record from the system itself (`fetch_status`): a forged body can
make it look, never make it believe.

No API key: the token is the authentication. A wrong or missing token, or a
link without one, is 401 (the same answer, so links cannot be probed).
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Header, HTTPException, Path, Query, Request, status
from starlette.concurrency import run_in_threadpool

from cloud.api.deps import ContextDep
from cloud.api.schemas.connectors import HookAccepted
from cloud.connectors.base import REFERENCE_PATTERN
from cloud.connectors.settings import LINK_NAME

log = logging.getLogger(__name__)

router = APIRouter(prefix="/connectors", tags=["connectors"])

MAX_CANDIDATES = 20
_REFERENCE = re.compile(REFERENCE_PATTERN)
_UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing or wrong hook token, or a link without a hook."}
}


def candidates(body: bytes, limit: int = MAX_CANDIDATES) -> list[str]:
    """The strings in a webhook body that could name a record: our reference (`vmi-42`)
    or a remote id, from JSON (up to three levels deep) or a form; at most `limit`."""
    try:
        data: Any = json.loads(body) if body.strip() else None
    except (ValueError, UnicodeDecodeError):
        try:
            data = dict(parse_qsl(body.decode("utf-8"), max_num_fields=100))
        except (ValueError, UnicodeDecodeError):
            return []
    found: list[str] = []

    def walk(value: Any, depth: int) -> None:
        if len(found) >= limit or depth > 3:
            return
        if isinstance(value, dict):
            for item in list(value.values())[:100]:
                walk(item, depth + 1)
        elif isinstance(value, list):
            for item in value[:100]:
                walk(item, depth + 1)
        elif isinstance(value, bool):
            return
        elif isinstance(value, str | int):
            text = str(value)
            if _REFERENCE.match(text) and text not in found:
                found.append(text)

    walk(data, 0)
    return found


@router.post("/{link}/hook", status_code=status.HTTP_202_ACCEPTED, responses=_UNAUTHORIZED)
async def connector_hook(
    request: Request,
    context: ContextDep,
    link: Annotated[str, Path(pattern=LINK_NAME)],
    token: Annotated[str | None, Query(max_length=200)] = None,
    x_vmi_hook_token: Annotated[str | None, Header(max_length=200)] = None,
) -> HookAccepted:
    """Mark the records the body names (else every open record of the link) to be read
    back from the system at the service's next round."""
    expected = context.settings.connector_hook_tokens.get(link)
    given = x_vmi_hook_token or token or ""
    if expected is None or not hmac.compare_digest(
        given.encode("utf-8"), expected.get_secret_value().encode("utf-8")
    ):
        log.warning("connector hook %s: refused (wrong or missing token)", link)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid hook token")
    names = candidates(await request.body())
    ledger = context.connectors

    def mark() -> int:
        marked = sum(ledger.check_soon(link, reference=name) for name in names)
        return marked or ledger.check_soon(link)

    return HookAccepted(records=await run_in_threadpool(mark))

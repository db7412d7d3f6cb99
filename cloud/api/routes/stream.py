"""`/stream`: level changes and new alerts as server-sent events (see `cloud.api.stream`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.sse import EventSourceResponse, ServerSentEvent

from cloud.api.deps import ContextDep, PrincipalDep
from cloud.api.errors import STREAM_RESPONSES
from cloud.api.stream import LiveFeed
from vmi.wire import Identifier

router = APIRouter(tags=["stream"], responses=STREAM_RESPONSES)


@router.get("/stream", response_class=EventSourceResponse)
async def stream(
    principal: PrincipalDep,
    context: ContextDep,
    site: Annotated[Identifier | None, Query(description="Only this site.")] = None,
    max_events: Annotated[
        int | None, Query(ge=1, le=1_000_000, description="End after this many events.")
    ] = None,
    max_seconds: Annotated[
        float | None,
        Query(gt=0, le=86_400, description="End after this long (the server caps it too)."),
    ] = None,
) -> AsyncIterator[ServerSentEvent]:
    """Live `level` and `alert` events for what this key may see.

    The stream opens with the current level of every visible shelf, then sends
    each newer level and each new alert. It ends after `max_events` events,
    `max_seconds` seconds or the server's limit; clients reconnect.
    """
    feed = LiveFeed(context, principal, site)
    async for event in feed.events(max_events=max_events, max_seconds=max_seconds):
        yield event

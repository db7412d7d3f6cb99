"""Request size limit: a body announced larger than the limit gets 413 before it is read.

Bodies sent without a length (chunked) are cut off by FastAPI's own
`max_body_size` at the same limit, once they grow past it.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send


class RequestSizeLimit:
    """Answer 413 (JSON, like every other error) to a `Content-Length` above `max_bytes`."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                    await self._refuse(send)
                    return
        await self.app(scope, receive, send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"detail": f"request body larger than {self.max_bytes} bytes"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

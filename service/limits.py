"""`BodySizeLimit`: a pure ASGI middleware that answers 413 to request bodies over a size limit, and 408 to bodies
that do not arrive in time.

    >>> app.add_middleware(BodySizeLimit, max_bytes=2 * 1024 * 1024, timeout_s=10)

A declared Content-Length over the limit is refused before any of the body is read; a body without one (chunked)
is read up to the limit and refused as soon as it grows past it. The app sees the body only once it is complete and
within the limit, so a route never starts on a request that is then cut off. A body that is not complete
`timeout_s` (MATCHER_BODY_TIMEOUT) after the headers came gets 408 and the connection is closed: before, a client
that sent a byte of its body every 2 s held its connection for as long as it liked (300 such connections were all
open after 40 s).
"""

from __future__ import annotations

import anyio
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, timeout_s: float | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self.reject(scope, receive, send, 413, f"request body over {self.max_bytes} bytes")
            return
        messages: list[Message] = []
        with anyio.move_on_after(self.timeout_s) as reading:
            size = 0
            while True:
                message = await receive()
                messages.append(message)
                if message["type"] != "http.request":  # the client went away: let the app see it
                    break
                size += len(message.get("body", b""))
                if size > self.max_bytes:
                    await self.reject(scope, receive, send, 413, f"request body over {self.max_bytes} bytes")
                    return
                if not message.get("more_body", False):
                    break
        if reading.cancelled_caught:
            late = f"the request body did not arrive within {self.timeout_s:g} s (MATCHER_BODY_TIMEOUT)"
            await self.reject(scope, receive, send, 408, late)
            return
        await self.app(scope, replay(messages, receive), send)

    async def reject(self, scope: Scope, receive: Receive, send: Send, status: int, message: str) -> None:
        # Connection: close, since the rest of the body is left unread.
        response = JSONResponse({"error": message}, status_code=status, headers={"Connection": "close"})
        await response(scope, receive, send)


def content_length(scope: Scope) -> int | None:
    """The declared Content-Length, or None when absent or not a number (then the body is counted as it comes)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def replay(messages: list[Message], receive: Receive) -> Receive:
    """A `receive` that gives the buffered messages first, then whatever the server sends next (a disconnect)."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed

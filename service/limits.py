"""`BodySizeLimit`: a pure ASGI middleware that answers 413 to request bodies over a size limit.

    >>> app.add_middleware(BodySizeLimit, max_bytes=2 * 1024 * 1024)

A declared Content-Length over the limit is refused before any of the body is read; a body without one (chunked)
is read up to the limit and refused as soon as it grows past it. The app sees the body only once it is complete and
within the limit, so a route never starts on a request that is then cut off.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self.reject(scope, receive, send)
            return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":  # the client went away: let the app see it
                break
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self.reject(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, replay(messages, receive), send)

    async def reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Connection: close, since the rest of the body is left unread.
        response = JSONResponse(
            {"error": f"request body over {self.max_bytes} bytes"}, status_code=413, headers={"Connection": "close"}
        )
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

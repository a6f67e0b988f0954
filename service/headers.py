"""`SecurityHeaders`: a pure ASGI middleware that puts the security headers on every response, not only the pages.

    >>> app.add_middleware(SecurityHeaders)   # added last: outermost, so a 400, 413 or 429 carries them too

Every answer gets `X-Content-Type-Options: nosniff` (a JSON body is never run as a script), `Referrer-Policy:
no-referrer` (run ids in URLs do not leak to the sites a page links to), `X-Frame-Options: DENY` and, where the
route set no policy of its own (the HTML pages set a stricter one), `Content-Security-Policy: frame-ancestors
'none'`. Answers may carry proposals, results or feedback, so none is cached (`Cache-Control: no-store`) unless the
route chose its own caching; the static files (CSS, scripts, images) keep theirs.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
DEFAULTS = {"Content-Security-Policy": "frame-ancestors 'none'", "Cache-Control": "no-store"}
CACHED_PREFIXES = ("/static/",)  # files without proposals in them: the browser may cache them


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cached = str(scope.get("path", "")).startswith(CACHED_PREFIXES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in ALWAYS.items():
                    headers[name] = value
                for name, value in DEFAULTS.items():
                    if name not in headers and not (cached and name == "Cache-Control"):
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)

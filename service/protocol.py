"""`HeaderTimeoutH11`: uvicorn's h11 protocol with a time limit on a request's line and headers.

    >>> uvicorn.run(app, http=HeaderTimeoutH11)       # what `service.app.serve` does

uvicorn limits the idle time between requests (`timeout_keep_alive`) but not the time a request's headers may take:
a connection that sent half a request line, or a header byte every 2 s, stayed open for the whole 40 s of the
review's test. Here the clock starts at the first byte of a request (or when the connection is made) and the
connection is closed when the headers are not complete `header_timeout_s` later. The body has its own limit
(MATCHER_BODY_TIMEOUT, `limits.BodySizeLimit`).
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_TIMEOUT_S = 10.0


class HeaderTimeoutH11(H11Protocol):
    header_timeout_s = HEADER_TIMEOUT_S
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._header_timer is None and self._between_requests():
            self._arm()
        super().data_received(data)
        if not self._between_requests():  # the headers are in: a request is being answered
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _between_requests(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _arm(self) -> None:
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._headers_late)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if self._between_requests() and not self.transport.is_closing():
            self.transport.close()

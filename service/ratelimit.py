"""A token bucket per client IP, in memory, for the expensive endpoints (match and triage).

    >>> limiter = RateLimiter(per_minute=120)
    >>> limiter.take("203.0.113.7")     # 0.0: allowed; otherwise the seconds until a request would be
    0.0

Each client may burst up to `per_minute` requests; the bucket then refills at `per_minute / 60` tokens a second.
Over the limit, `rate_limit` answers 429 with `Retry-After`. Buckets live per process (each uvicorn worker has its
own), which suits a guard against one client hogging the matcher, not an exact quota. Tests swap the limiter with
`app.dependency_overrides[get_limiter]` and give it a fake clock.

The client is the socket peer. `X-Forwarded-For` is honoured only when that peer is one of the configured proxies
(MATCHER_TRUSTED_PROXIES, addresses or networks; default none): then the client is the right-most address in the
header that is not itself a trusted proxy. Anyone else's header is ignored, so a client cannot pick a fresh
address per request (uvicorn's own proxy handling, which trusts 127.0.0.1 by default, is switched off in `serve`).
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections.abc import Callable, Sequence
from typing import Annotated

from fastapi import Depends, HTTPException, Request

# Past this many clients, full buckets (clients idle long enough to be back at the burst) are forgotten.
MAX_CLIENTS = 10_000


class RateLimiter:
    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, when last counted)
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """Spend one token of `client`: 0.0 if there was one, else the seconds until one is back (nothing spent)."""
        per_second = self.per_minute / 60
        with self._lock:
            now = self.clock()
            tokens, then = self._buckets.get(client, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - then) * per_second)
            if tokens < 1:
                self._buckets[client] = (tokens, now)
                return round((1 - tokens) / per_second, 6)  # rounded, so 10.000000001 s is not told as 11
            self._buckets[client] = (tokens - 1, now)
            if len(self._buckets) > MAX_CLIENTS:
                self._forget_full(now, per_second)
            return 0.0

    def _forget_full(self, now: float, per_second: float) -> None:
        full = [c for c, (t, then) in self._buckets.items() if t + (now - then) * per_second >= self.per_minute]
        for client in full:
            del self._buckets[client]


def get_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.limiter
    return limiter


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_address(peer: str, forwarded_for: str | None, trusted: Sequence[Network]) -> str:
    """The address to count a request against: `peer`, or, when `peer` is a trusted proxy, the right-most address of
    `X-Forwarded-For` that is not a trusted proxy (the left part can be written by anyone).

    >>> client_address("127.0.0.1", "10.0.0.9", ())
    '127.0.0.1'
    >>> client_address("127.0.0.1", "6.6.6.6, 203.0.113.7", (ipaddress.ip_network("127.0.0.1/32"),))
    '203.0.113.7'
    """
    if not trusted or not forwarded_for or not _is_trusted(peer, trusted):
        return peer
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        if not _is_trusted(hop, trusted):
            return hop if _address(hop) is not None else peer  # garbage in the header: count the proxy itself
    return peer


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _is_trusted(host: str, trusted: Sequence[Network]) -> bool:
    address = _address(host)
    return address is not None and any(address in network for network in trusted)


def rate_limit(request: Request, limiter: Annotated[RateLimiter, Depends(get_limiter)]) -> None:
    peer = request.client.host if request.client else "unknown"
    trusted = request.app.state.service.trusted_proxies
    client = client_address(peer, request.headers.get("x-forwarded-for"), trusted)
    wait = limiter.take(client)
    if wait > 0:
        raise HTTPException(
            429,
            f"too many requests: at most {limiter.per_minute} a minute per client; retry in {math.ceil(wait)} s",
            headers={"Retry-After": str(math.ceil(wait))},
        )

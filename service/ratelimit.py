"""A token bucket per client IP, in memory, for the expensive endpoints (match and triage).

    >>> limiter = RateLimiter(per_minute=120)
    >>> limiter.take("203.0.113.7")     # 0.0: allowed; otherwise the seconds until a request would be
    0.0

Each client may burst up to `per_minute` requests; the bucket then refills at `per_minute / 60` tokens a second.
Over the limit, `rate_limit` answers 429 with `Retry-After`. Buckets live per process (each uvicorn worker has its
own), which suits a guard against one client hogging the matcher, not an exact quota. Tests swap the limiter with
`app.dependency_overrides[get_limiter]` and give it a fake clock.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
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


def rate_limit(request: Request, limiter: Annotated[RateLimiter, Depends(get_limiter)]) -> None:
    client = request.client.host if request.client else "unknown"
    wait = limiter.take(client)
    if wait > 0:
        raise HTTPException(
            429,
            f"too many requests: at most {limiter.per_minute} a minute per client; retry in {math.ceil(wait)} s",
            headers={"Retry-After": str(math.ceil(wait))},
        )

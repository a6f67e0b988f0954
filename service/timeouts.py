"""A time limit on the requests that run the matcher: past it the client gets 503 instead of waiting on.

    >>> results = await within_limit(request, matcher.match_batch, proposals, top_k=5)

The work runs in a worker thread; the request waits for it at most `request_timeout_s` (MATCHER_REQUEST_TIMEOUT_S)
and then answers 503 with Retry-After. Python cannot stop a thread, so the abandoned work runs to its end in the
background and its result is dropped (nothing of it is stored); the limit bounds the client's wait, not the CPU.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
from fastapi import HTTPException, Request

T = TypeVar("T")


def timeout_message(seconds: float) -> str:
    return (
        f"the request took longer than the limit of {seconds:g} s and was stopped; "
        "send fewer proposals, ask for a smaller top, or retry later"
    )


async def within_limit(request: Request, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`func(*args, **kwargs)` in a worker thread, or 503 when it takes longer than the service's time limit."""
    seconds: float = request.app.state.service.request_timeout_s
    with anyio.move_on_after(seconds):
        call = functools.partial(func, *args, **kwargs)
        return await anyio.to_thread.run_sync(call, abandon_on_cancel=True, limiter=_matcher_slot(request))
    raise HTTPException(503, timeout_message(seconds), headers={"Retry-After": str(math.ceil(seconds))})


def _matcher_slot(request: Request) -> anyio.CapacityLimiter:
    """One matcher call at a time per worker process: a match already uses every math thread the worker has, and
    concurrent calls only fight over them (measured: 8 concurrent clients on one worker halved the throughput).
    Requests queue here, inside their time limit; more parallelism comes from more workers."""
    limiter: anyio.CapacityLimiter = request.app.state.matcher_slot  # made by `create_app`
    return limiter

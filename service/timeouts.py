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
        return await anyio.to_thread.run_sync(functools.partial(func, *args, **kwargs), abandon_on_cancel=True)
    raise HTTPException(503, timeout_message(seconds), headers={"Retry-After": str(math.ceil(seconds))})

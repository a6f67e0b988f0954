"""A time limit on the requests that run the matcher: past it the client gets 503 instead of waiting on.

    >>> result = await within_limit(request, app.match, matcher, proposal, top_k=5)
    >>> results = await chunks_within_limit(request, lambda chunk: app.triage(matcher, chunk), proposals)

The work runs in a thread of its own while it holds the worker's matcher slot (`service.slot`); the request waits
for it at most `request_timeout_s` (MATCHER_REQUEST_TIMEOUT_S), the wait in the slot's queue included, and then
answers 503 with Retry-After. Python cannot stop a thread (nor numpy inside one), so the choice is to **keep the slot
until the work ends**: the thread releases it when it returns, not when the request gives up, so no two matcher runs
ever overlap (before: six timed-out 500-row triages left about three matcher runs going at once). The result of
abandoned work is dropped and nothing of it is stored. A triage runs in chunks of `CHUNK` proposals, each taking the
slot anew: single matches waiting meanwhile go between chunks, and a triage past its limit stops after the chunk
that is running.
"""

from __future__ import annotations

import asyncio
import functools
import math
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import anyio
from fastapi import HTTPException, Request

from .slot import MATCH, MatcherSlot

T = TypeVar("T")
P = TypeVar("P")
R = TypeVar("R")
CHUNK = 16  # proposals per turn of a synchronous triage (at most 50 rows; bigger ones are jobs, `jobs`)


def timeout_message(seconds: float) -> str:
    return (
        f"the request took longer than the limit of {seconds:g} s and was stopped; "
        "send fewer proposals, ask for a smaller top, or retry later"
    )


def timed_out(seconds: float) -> HTTPException:
    return HTTPException(503, timeout_message(seconds), headers={"Retry-After": str(math.ceil(seconds))})


async def within_limit(request: Request, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`func(*args, **kwargs)` in the matcher slot, or 503 when it takes longer than the service's time limit."""
    seconds: float = request.app.state.service.request_timeout_s
    with anyio.move_on_after(seconds):
        return await in_slot(matcher_slot(request), functools.partial(func, *args, **kwargs))
    raise timed_out(seconds)


async def chunks_within_limit(
    request: Request, func: Callable[[Sequence[P]], list[R]], items: Sequence[P], chunk: int = CHUNK
) -> list[R]:
    """`func` over `items` a chunk at a time, each chunk a turn in the slot, all within the time limit (else 503)."""
    seconds: float = request.app.state.service.request_timeout_s
    slot = matcher_slot(request)
    with anyio.move_on_after(seconds):
        results: list[R] = []
        for start in range(0, len(items), chunk):
            results += await in_slot(slot, functools.partial(func, items[start : start + chunk]))
        return results
    raise timed_out(seconds)


async def in_slot(slot: MatcherSlot, call: Callable[[], T], priority: int = MATCH) -> T:
    """`call()` in a thread of its own once the slot is taken; the thread gives the slot back when `call` ends, so a
    caller that stops waiting (cancelled by its time limit) leaves the slot held by the running work until then."""
    await slot.acquire(priority)
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()
    done.add_done_callback(_retrieved)

    def work() -> None:
        outcome: tuple[T | None, BaseException | None]
        try:
            outcome = (call(), None)
        except BaseException as exc:  # handed to the request, which raises it
            outcome = (None, exc)
        finally:
            slot.release()
        try:
            loop.call_soon_threadsafe(_settle, done, *outcome)
        except RuntimeError:  # the request's event loop is gone (it gave up and finished): nobody to tell
            pass

    try:
        threading.Thread(target=work, name="matcher-slot", daemon=True).start()
    except BaseException:
        slot.release()
        raise
    return await asyncio.shield(done)


def _settle(future: asyncio.Future[T], result: T | None, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)  # type: ignore[arg-type]  # None only when `error` is set


def _retrieved(future: asyncio.Future[Any]) -> None:
    """Mark an abandoned future's error as seen, so asyncio does not log it: the request already answered 503."""
    if not future.cancelled():
        future.exception()


def matcher_slot(request: Request) -> MatcherSlot:
    slot: MatcherSlot = request.app.state.matcher_slot  # made by `create_app`
    return slot

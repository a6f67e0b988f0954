"""`MatcherSlot`: one matcher run at a time per worker process, single matches before background jobs.

    >>> slot = MatcherSlot()
    >>> await slot.acquire(MATCH)           # waits in the event loop, never in a thread
    >>> slot.release()                      # from any thread: the worker thread that ran the work ends it

A match already uses every math thread the worker has, and concurrent calls only fight over them (measured: 8
concurrent clients on one worker halved the throughput), so requests queue here. Waiters are served by priority,
then in order of arrival: a single match or a small triage (`MATCH`) goes before the next chunk of a background job
(`JOB`), which is how a 100-row job keeps out of the way of single matches.

Release may come from any thread and any event loop (the tests' client runs one loop per request): the slot hands
itself to the next waiter under a lock and wakes it in its own loop. A waiter cancelled just as the slot was handed
to it passes it on, so the slot is never lost.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Receive, Scope, Send

MATCH = 0  # single matches and synchronous triage
JOB = 1  # a chunk of a background triage job


@dataclass(order=True)
class _Waiter:
    priority: int
    seq: int
    wake: Callable[[], None] = field(compare=False)  # raises RuntimeError when nobody can be woken any more
    granted: bool = field(default=False, compare=False)


class MatcherSlot:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held = False
        self._queue: list[_Waiter] = []
        self._seq = itertools.count()
        self._interactive = 0  # match and triage requests in flight (`InteractiveRequests`)
        self._quiet = threading.Condition()

    def enter(self) -> None:
        with self._quiet:
            self._interactive += 1

    def leave(self) -> None:
        with self._quiet:
            self._interactive -= 1
            if self._interactive == 0:
                self._quiet.notify_all()

    def wait_quiet(self, at_most_s: float) -> None:
        """Block (a job's thread) until no match or triage request is in flight, for at most `at_most_s`: a job
        that computed while a match was being parsed or answered would slow it down by fighting over the GIL."""
        with self._quiet:
            self._quiet.wait_for(lambda: self._interactive == 0, timeout=at_most_s)

    @property
    def held(self) -> bool:
        return self._held

    def waiting(self, priority: int | None = None) -> int:
        """How many wait for the slot (of `priority` only, when given)."""
        with self._lock:
            return sum(1 for w in self._queue if priority is None or w.priority == priority)

    async def acquire(self, priority: int = MATCH) -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            loop.call_soon_threadsafe(_wake, future)

        waiter = self._enqueue(priority, wake)
        if waiter is None:
            return
        try:
            await future
        except BaseException:  # cancelled (a time limit): leave the queue, or pass on a slot handed over meanwhile
            with self._lock:
                handed = waiter.granted
                if not handed:
                    self._queue.remove(waiter)
                    heapq.heapify(self._queue)
            if handed:
                self.release()
            raise

    def acquire_blocking(self, priority: int = JOB) -> None:
        """`acquire` for a thread of its own (the job worker): it blocks that thread, never the event loop."""
        event = threading.Event()
        if self._enqueue(priority, event.set) is not None:
            event.wait()

    def _enqueue(self, priority: int, wake: Callable[[], None]) -> _Waiter | None:
        """None when the slot was free and is now taken; else the waiter, queued."""
        with self._lock:
            if not self._held:
                self._held = True
                return None
            waiter = _Waiter(priority, next(self._seq), wake)
            heapq.heappush(self._queue, waiter)
            return waiter

    def release(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._held = False
                    return
                waiter = heapq.heappop(self._queue)
                waiter.granted = True
            try:
                waiter.wake()
                return
            except RuntimeError:  # its event loop is closed: nobody waits there any more
                continue


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


INTERACTIVE = {("POST", "/v1/match"), ("POST", "/v1/triage"), ("POST", "/v1/triage/upload"), ("POST", "/"),
               ("GET", "/"), ("POST", "/adviser")}  # fmt: skip


class InteractiveRequests:
    """ASGI middleware: counts the match and triage requests in flight on the slot, so a background job waits for
    them (`MatcherSlot.wait_quiet`) before its next turn."""

    def __init__(self, app: ASGIApp, slot: MatcherSlot) -> None:
        self.app, self.slot = app, slot

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (scope["method"], scope["path"]) not in INTERACTIVE:
            await self.app(scope, receive, send)
            return
        self.slot.enter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.slot.leave()

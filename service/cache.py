"""A small bounded least-recently-used cache, shared by the threads of one worker.

    >>> cache: LRUCache[str, int] = LRUCache(2)
    >>> cache.put("a", 1); cache.put("b", 2); cache.get("a"); cache.put("c", 3)
    1
    >>> cache.get("b") is None   # "b" was used least recently, so "c" pushed it out
    True

For answers that are costly to compute and depend only on their key (`GET /v1/gaps`); each worker process keeps its
own, in `app.state`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LRUCache(Generic[K, V]):
    """At most `size` entries; `put` beyond that drops the entry used least recently."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"cache size {size}; give 1 or more")
        self.size = size
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            if key not in self._entries:
                return None
            self._entries.move_to_end(key)
            return self._entries[key]

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

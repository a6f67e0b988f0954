"""Keeping imported folders current: fetch a public source, turn its answer into instruments, replace the folder's
file whole, and say what changed since the previous content.

- `refresh_ft_topics` with `FtSearch`: open and forthcoming EU Funding & Tenders topics (the portal's search API),
  imported through `importers.ft_topics` into `ft-topics.yaml`
- `refresh_cvdr` with `CvdrSearch`: provincial and municipal subsidy schemes from CVDR (the SRU search service)
  into `cvdr.yaml`

    >>> search = CvdrSearch(creators=["Gelderland"])
    >>> result = refresh_cvdr(Path("imported"), dt.date.today(), search, themes=corpus.themes, places=corpus.places)
    >>> print(result.summary()); print(result.changes.summary())

Errors (`RefreshError`, a `MatcherError`): a time-out, a failed connection, an HTTP error or an answer that is not in
the service's format, each naming the URL; nothing is written then and the folder keeps its previous content. The
clients take an `httpx.BaseTransport`, so tests serve recorded answers through `httpx.MockTransport`.
"""

from __future__ import annotations

from matcher.io.refresh.changes import Change, Changes, RefreshResult, compare
from matcher.io.refresh.cvdr import CVDR_FILE, CvdrSearch, refresh_cvdr
from matcher.io.refresh.ft_search import RAW_FILE, FtSearch, refresh_ft_topics, topic_of
from matcher.io.refresh.http import RefreshError

__all__ = [
    "CVDR_FILE",
    "RAW_FILE",
    "Change",
    "Changes",
    "CvdrSearch",
    "FtSearch",
    "RefreshError",
    "RefreshResult",
    "compare",
    "refresh_cvdr",
    "refresh_ft_topics",
    "topic_of",
]

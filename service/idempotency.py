"""`Idempotency-Key` on writes: a retry of `POST /v1/feedback` or of a stored triage writes nothing twice.

    >>> idem = idempotency("retry-7f3a", "POST /v1/feedback", {"proposal_id": "p1", ...})
    >>> store.add("p1", "nl-waterstof", True, organisation="rom-oost", idempotency=idem)

A client that lost the answer to a write (a dropped connection, a timeout) sends the same request again with the same
`Idempotency-Key` (1-255 visible ASCII characters, e.g. a UUID): it gets the first answer (the same feedback row,
the same run id in `X-Triage-Run` and its results) and nothing is stored again. The same key with another request
is refused with 422. Keys are kept per organisation in the store (table `idempotency_key`), written in the same
transaction as what they stored, and expire with the retention (MATCHER_RETENTION_DAYS). The key only matters where
something is stored: an anonymous triage ignores it. What the request asks to store is compared by its SHA-256
digest: the route, the body as JSON (or the uploaded file's bytes and name), `top` and the language.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Annotated, Any

from fastapi import Header

from matcher import InputError

from .storage import Idempotency

KEY = re.compile(r"[\x21-\x7e]{1,255}")

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="retry a write without writing twice: the same key with the same request answers as the first "
        "time; with another request 422 (1-255 visible ASCII characters, e.g. a UUID)",
    ),
]


def idempotency(key: str | None, route: str, request: Any) -> Idempotency | None:
    """The key and the digest of `request` (JSON-ready) on `route`; None without a key; `InputError` for a bad key."""
    if key is None:
        return None
    if not KEY.fullmatch(key):
        raise InputError("header 'Idempotency-Key': should be 1-255 visible ASCII characters (no spaces), e.g. a UUID")
    canonical = json.dumps([route, request], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return Idempotency(key, hashlib.sha256(canonical.encode("utf-8")).hexdigest())


def file_digest(data: bytes) -> str:
    """The SHA-256 of an uploaded file, to compare a retried upload by."""
    return hashlib.sha256(data).hexdigest()

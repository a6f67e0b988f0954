"""API keys for the write endpoints: the server keeps SHA-256 digests only and compares them in constant time.

    >>> key_matches("s3cret", (hashlib.sha256(b"s3cret").hexdigest(),))
    True

Reading is open. Writing needs `X-API-Key: <key>`; with no keys configured (MATCHER_API_KEYS unset) writes are
refused with 503 rather than left open. `require_api_key` is a dependency that tests may override.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader

WRITES_DISABLED = (
    "writes are disabled until MATCHER_API_KEYS is set (the SHA-256 hex digests of the API keys, comma separated)"
)
UNAUTHORISED = {"WWW-Authenticate": "APIKey"}

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="an API key for writing")


def key_matches(key: str, digests: tuple[str, ...]) -> bool:
    """Whether `key` hashes to one of `digests`; every digest is compared, so timing tells nothing about which."""
    given = hashlib.sha256(key.encode("utf-8")).hexdigest()
    matched = False
    for digest in digests:
        matched |= hmac.compare_digest(given, digest)
    return matched


def get_key_digests(request: Request) -> tuple[str, ...]:
    digests: tuple[str, ...] = request.app.state.service.api_key_digests
    return digests


def require_api_key(
    digests: Annotated[tuple[str, ...], Depends(get_key_digests)],
    key: Annotated[str | None, Security(api_key_header)] = None,
) -> None:
    if not digests:
        raise HTTPException(503, WRITES_DISABLED)
    if not key:
        raise HTTPException(401, "missing X-API-Key header; writing needs an API key", headers=UNAUTHORISED)
    if not key_matches(key, digests):
        raise HTTPException(401, "invalid API key", headers=UNAUTHORISED)

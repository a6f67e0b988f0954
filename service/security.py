"""API keys, their roles and organisations: the server keeps SHA-256 digests only and compares them in constant time.

    >>> key = ApiKey(hashlib.sha256(b"s3cret").hexdigest(), "adviser", "rom-oost")
    >>> find_key("s3cret", (key,)).organisation
    'rom-oost'

Access model (issue 11): a key carries a role and an organisation. `adviser` reads and writes the stored triage runs
and feedback of its own organisation; `admin` reads, writes and deletes those of every organisation. Every route that
returns or stores a proposal, a result or feedback needs `X-API-Key: <key>` (`require_caller`); matching and triage
stay open to anonymous callers (`optional_caller`), whose triage is answered but not stored. With no keys configured
(MATCHER_API_KEYS unset) storing is refused with 503 rather than left open. The dependencies may be overridden in
tests.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader

from .storage import DEFAULT_ORGANISATION

Role = Literal["adviser", "admin"]
ROLES: tuple[Role, ...] = ("adviser", "admin")

WRITES_DISABLED = (
    "writes are disabled until MATCHER_API_KEYS is set (the SHA-256 hex digests of the API keys, comma separated)"
)
MISSING_KEY = "missing X-API-Key header; writing needs an API key"
NEEDS_KEY = "missing X-API-Key header; stored runs, proposals and feedback need an API key"
UNAUTHORISED = {"WWW-Authenticate": "APIKey"}

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="an API key (role and organisation)")


@dataclass(frozen=True)
class ApiKey:
    """One configured key: the SHA-256 hex digest of the key, its role and its organisation."""

    digest: str
    role: Role = "admin"
    organisation: str = DEFAULT_ORGANISATION


@dataclass(frozen=True)
class Caller:
    """Who sent a request with a valid key; `scope` is the organisation whose records it may see (None: all)."""

    role: Role
    organisation: str
    digest: str

    @property
    def scope(self) -> str | None:
        return None if self.role == "admin" else self.organisation


def key_matches(key: str, digests: tuple[str, ...]) -> bool:
    """Whether `key` hashes to one of `digests`; every digest is compared, so timing tells nothing about which."""
    return find_key(key, tuple(ApiKey(d) for d in digests)) is not None


def find_key(key: str, keys: tuple[ApiKey, ...]) -> ApiKey | None:
    """The configured key that `key` hashes to, or None; every digest is compared, so timing tells nothing."""
    given = hashlib.sha256(key.encode("utf-8")).hexdigest()
    found = None
    for candidate in keys:
        if hmac.compare_digest(given, candidate.digest):
            found = candidate
    return found


def get_api_keys(request: Request) -> tuple[ApiKey, ...]:
    keys: tuple[ApiKey, ...] = request.app.state.service.keys()
    return keys


def get_key_digests(request: Request) -> tuple[str, ...]:
    return tuple(k.digest for k in get_api_keys(request))


def require_api_key(
    digests: Annotated[tuple[str, ...], Depends(get_key_digests)],
    key: Annotated[str | None, Security(api_key_header)] = None,
) -> None:
    if not digests:
        raise HTTPException(503, WRITES_DISABLED)
    if not key:
        raise HTTPException(401, MISSING_KEY, headers=UNAUTHORISED)
    if not key_matches(key, digests):
        raise HTTPException(401, "invalid API key", headers=UNAUTHORISED)


def caller_of(key: str | None, keys: tuple[ApiKey, ...]) -> Caller:
    """The caller a key belongs to: 503 when no keys are configured, 401 without a key or with a wrong one."""
    if not keys:
        raise HTTPException(503, WRITES_DISABLED)
    if not key:
        raise HTTPException(401, NEEDS_KEY, headers=UNAUTHORISED)
    found = find_key(key, keys)
    if found is None:
        raise HTTPException(401, "invalid API key", headers=UNAUTHORISED)
    return Caller(found.role, found.organisation, found.digest)


def require_caller(
    keys: Annotated[tuple[ApiKey, ...], Depends(get_api_keys)],
    key: Annotated[str | None, Security(api_key_header)] = None,
) -> Caller:
    """The caller of a route that reads or writes stored records: a valid key is required."""
    return caller_of(key, keys)


def optional_caller(
    keys: Annotated[tuple[ApiKey, ...], Depends(get_api_keys)],
    key: Annotated[str | None, Security(api_key_header)] = None,
) -> Caller | None:
    """None for an anonymous request (served, nothing stored); a key that is sent must be valid (401 otherwise)."""
    return None if not key else caller_of(key, keys)


CallerDep = Annotated[Caller, Depends(require_caller)]
OptionalCallerDep = Annotated[Caller | None, Depends(optional_caller)]

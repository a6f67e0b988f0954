"""Service settings, read once from MATCHER_* environment variables when the app is built.

MATCHER_DB              SQLite file for feedback (default: feedback.sqlite3 in the cache folder of `matcher.settings`)
MATCHER_API_KEYS        SHA-256 hex digests of the API keys allowed to write, comma separated (none: writes refused)
MATCHER_MAX_BODY_BYTES  largest request body accepted (default 2 MiB); larger ones get 413
MATCHER_RATE_PER_MINUTE requests per minute per client IP to /v1/match, /v1/triage and /v1/triage/upload
                        (default 120, also the burst); more get 429 with Retry-After
MATCHER_REQUEST_TIMEOUT_S seconds the matcher may work on one match or triage request (default 60); past it 503
MATCHER_CORS_ORIGINS    origins allowed to call the API from a browser, comma separated (default none: CORS off)

A key digest: `python -c "import hashlib, sys; print(hashlib.sha256(sys.argv[1].encode()).hexdigest())" KEY`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from matcher import InputError
from matcher.settings import default_cache

DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024
DEFAULT_RATE_PER_MINUTE = 120
DEFAULT_REQUEST_TIMEOUT_S = 60.0
DIGEST = re.compile(r"[0-9a-f]{64}")
ORIGIN = re.compile(r"https?://[^/\s:]+(:[0-9]+)?")


def default_db() -> Path:
    return default_cache() / "feedback.sqlite3"


@dataclass(frozen=True)
class ServiceSettings:
    db: Path = field(default_factory=default_db)
    api_key_digests: tuple[str, ...] = ()
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    rate_per_minute: int = DEFAULT_RATE_PER_MINUTE
    request_timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S
    cors_origins: tuple[str, ...] = ()

    @classmethod
    def from_env(cls) -> ServiceSettings:
        return cls(
            db=Path(os.environ.get("MATCHER_DB") or default_db()),
            api_key_digests=parse_digests(os.environ.get("MATCHER_API_KEYS", "")),
            max_body_bytes=parse_size(os.environ.get("MATCHER_MAX_BODY_BYTES", "")),
            rate_per_minute=parse_rate(os.environ.get("MATCHER_RATE_PER_MINUTE", "")),
            request_timeout_s=parse_timeout(os.environ.get("MATCHER_REQUEST_TIMEOUT_S", "")),
            cors_origins=parse_origins(os.environ.get("MATCHER_CORS_ORIGINS", "")),
        )


def parse_digests(value: str) -> tuple[str, ...]:
    """`"AB12..., cd34..."` -> `("ab12...", "cd34...")`; each must be a SHA-256 hex digest, never a raw key."""
    digests = tuple(d.strip().lower() for d in value.split(",") if d.strip())
    for d in digests:
        if not DIGEST.fullmatch(d):
            shown = d[:8] + "..." if len(d) > 8 else d
            raise InputError(
                f"MATCHER_API_KEYS: value {shown!r}: not a SHA-256 hex digest (64 hex characters); "
                "configure the digest of each key, not the key itself"
            )
    return digests


def _positive_int(name: str, value: str, default: int, unit: str) -> int:
    if not value.strip():
        return default
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise InputError(f"{name}: value {value!r}: should be a whole number of {unit}, at least 1")
    return number


def parse_size(value: str) -> int:
    return _positive_int("MATCHER_MAX_BODY_BYTES", value, DEFAULT_MAX_BODY_BYTES, "bytes")


def parse_rate(value: str) -> int:
    return _positive_int("MATCHER_RATE_PER_MINUTE", value, DEFAULT_RATE_PER_MINUTE, "requests")


def parse_timeout(value: str) -> float:
    if not value.strip():
        return DEFAULT_REQUEST_TIMEOUT_S
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        raise InputError(f"MATCHER_REQUEST_TIMEOUT_S: value {value!r}: should be a number of seconds above 0")
    return seconds


def parse_origins(value: str) -> tuple[str, ...]:
    """`"https://a.example, https://b.example"` -> both; each must be `*` or scheme://host[:port], no path."""
    origins = tuple(o.strip().rstrip("/") for o in value.split(",") if o.strip())
    for origin in origins:
        if origin != "*" and not ORIGIN.fullmatch(origin):
            raise InputError(
                f"MATCHER_CORS_ORIGINS: value {origin!r}: not an origin; write it as https://host or https://host:port"
            )
    return origins

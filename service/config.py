"""Service settings, read once from MATCHER_* environment variables when the app is built.

MATCHER_DB              SQLite file for feedback (default: feedback.sqlite3 in the cache folder of `matcher.settings`)
MATCHER_API_KEYS        the API keys, comma separated, each `DIGEST` (an admin of organisation "default") or
                        `DIGEST:ROLE:ORGANISATION` (ROLE `adviser` or `admin`; ORGANISATION 1-64 characters
                        a-z, A-Z, 0-9, `.`, `_`, `-`); DIGEST is the SHA-256 hex digest of the key (none: storing
                        refused with 503)
MATCHER_RETENTION_DAYS  days a stored triage run is kept (default 90); older runs are deleted and never served
MATCHER_QUOTA_MB        megabytes of stored triage runs per organisation (default 100); a run past it gets 507
MATCHER_MAX_BODY_BYTES  largest request body accepted (default 2 MiB); larger ones get 413
MATCHER_RATE_PER_MINUTE requests per minute per client IP to /v1/match, /v1/triage and /v1/triage/upload
                        (default 120, also the burst); more get 429 with Retry-After
MATCHER_REQUEST_TIMEOUT_S seconds the matcher may work on one match or triage request (default 60); past it 503
MATCHER_CORS_ORIGINS    origins allowed to call the API from a browser, comma separated (default none: CORS off)
MATCHER_JOB_ROWS        a triage of more proposals than this runs as a background job (202, GET /v1/jobs/{id});
                        default 50
MATCHER_JOB_CHUNK       proposals a background job matches per turn in the matcher slot (default 2); a single match
                        waits at most one such turn
MATCHER_BODY_TIMEOUT    seconds a request body may take to arrive once its headers are in (default 10); past it 408
MATCHER_TRUSTED_PROXIES addresses or networks (CIDR) of reverse proxies whose X-Forwarded-For names the client, comma
                        separated (default none: the socket peer is the client)
MATCHER_ALLOWED_HOSTS   host names the service answers to (the Host header), comma separated; `*.example.nl`
                        matches subdomains (default: any host; set it to stop DNS rebinding); others get 400

A key digest: `python -c "import hashlib, sys; print(hashlib.sha256(sys.argv[1].encode()).hexdigest())" KEY`.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from matcher import InputError
from matcher.settings import default_db

from .security import ROLES, ApiKey, Role
from .storage import DEFAULT_ORGANISATION, DEFAULT_RETENTION_DAYS

DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024
DEFAULT_RATE_PER_MINUTE = 120
DEFAULT_REQUEST_TIMEOUT_S = 60.0
DEFAULT_QUOTA_MB = 100
DEFAULT_JOB_ROWS = 50
DEFAULT_JOB_CHUNK = 2
DEFAULT_BODY_TIMEOUT_S = 10.0
MB = 1_000_000
DIGEST = re.compile(r"[0-9a-f]{64}")
ORGANISATION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
ORIGIN = re.compile(r"https?://[^/\s:]+(:[0-9]+)?")


@dataclass(frozen=True)
class ServiceSettings:
    db: Path = field(default_factory=default_db)
    api_key_digests: tuple[str, ...] = ()
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    rate_per_minute: int = DEFAULT_RATE_PER_MINUTE
    request_timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S
    cors_origins: tuple[str, ...] = ()
    api_keys: tuple[ApiKey, ...] = ()  # keys with a role and an organisation; `api_key_digests` are admins of "default"
    retention_days: int = DEFAULT_RETENTION_DAYS
    quota_bytes: int = DEFAULT_QUOTA_MB * MB
    job_rows: int = DEFAULT_JOB_ROWS
    job_chunk: int = DEFAULT_JOB_CHUNK
    body_timeout_s: float = DEFAULT_BODY_TIMEOUT_S
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    allowed_hosts: tuple[str, ...] = ()  # none: any host

    def keys(self) -> tuple[ApiKey, ...]:
        """Every configured key: the bare digests (admins of organisation "default") and the keys with a role."""
        return tuple(ApiKey(d) for d in self.api_key_digests) + self.api_keys

    @classmethod
    def from_env(cls) -> ServiceSettings:
        return cls(
            db=Path(os.environ.get("MATCHER_DB") or default_db()),
            api_keys=parse_keys(os.environ.get("MATCHER_API_KEYS", "")),
            max_body_bytes=parse_size(os.environ.get("MATCHER_MAX_BODY_BYTES", "")),
            rate_per_minute=parse_rate(os.environ.get("MATCHER_RATE_PER_MINUTE", "")),
            request_timeout_s=parse_timeout(os.environ.get("MATCHER_REQUEST_TIMEOUT_S", "")),
            cors_origins=parse_origins(os.environ.get("MATCHER_CORS_ORIGINS", "")),
            retention_days=parse_retention(os.environ.get("MATCHER_RETENTION_DAYS", "")),
            quota_bytes=parse_quota(os.environ.get("MATCHER_QUOTA_MB", "")) * MB,
            job_rows=parse_job_rows(os.environ.get("MATCHER_JOB_ROWS", "")),
            job_chunk=_positive_int(
                "MATCHER_JOB_CHUNK", os.environ.get("MATCHER_JOB_CHUNK", ""), DEFAULT_JOB_CHUNK, "rows"
            ),
            body_timeout_s=parse_seconds(
                "MATCHER_BODY_TIMEOUT", os.environ.get("MATCHER_BODY_TIMEOUT", ""), DEFAULT_BODY_TIMEOUT_S
            ),
            trusted_proxies=parse_proxies(os.environ.get("MATCHER_TRUSTED_PROXIES", "")),
            allowed_hosts=parse_hosts(os.environ.get("MATCHER_ALLOWED_HOSTS", "")),
        )


def parse_digests(value: str) -> tuple[str, ...]:
    """`"AB12..., cd34..."` -> `("ab12...", "cd34...")`; each must be a SHA-256 hex digest, never a raw key."""
    digests = tuple(d.strip().lower() for d in value.split(",") if d.strip())
    for d in digests:
        if not DIGEST.fullmatch(d):
            raise InputError(
                f"MATCHER_API_KEYS: value {_shown(d)!r}: not a SHA-256 hex digest (64 hex characters); "
                "configure the digest of each key, not the key itself"
            )
    return digests


def parse_keys(value: str) -> tuple[ApiKey, ...]:
    """`"ab12..., cd34...:adviser:rom-oost"` -> an admin of "default" and an adviser of "rom-oost".

    Each entry is `DIGEST` or `DIGEST:ROLE:ORGANISATION`; a bad entry stops the start with a message naming it by
    its number and its text with the digest cut to 8 characters.
    """
    keys: list[ApiKey] = []
    seen: set[str] = set()
    for number, entry in enumerate((e.strip() for e in value.split(",") if e.strip()), 1):
        parts = [p.strip() for p in entry.split(":")]
        where = f"MATCHER_API_KEYS: entry {number} ({':'.join([_shown(parts[0]), *parts[1:]])!r})"
        digest = parts[0].lower()
        if not DIGEST.fullmatch(digest):
            raise InputError(
                f"{where}: not a SHA-256 hex digest (64 hex characters); configure the digest of each key, "
                "not the key itself"
            )
        if len(parts) not in (1, 3):
            raise InputError(f"{where}: write DIGEST or DIGEST:ROLE:ORGANISATION")
        role, organisation = (parts[1].lower(), parts[2]) if len(parts) == 3 else ("admin", DEFAULT_ORGANISATION)
        if role not in ROLES:
            raise InputError(f"{where}: role {parts[1]!r} is not one of {', '.join(ROLES)}")
        if not ORGANISATION.fullmatch(organisation):
            raise InputError(
                f"{where}: organisation {organisation!r} should be 1-64 characters a-z, A-Z, 0-9, '.', '_' or '-'"
            )
        if digest in seen:
            raise InputError(f"{where}: the same key is configured twice")
        seen.add(digest)
        keys.append(ApiKey(digest, _role(role), organisation))
    return tuple(keys)


def _role(name: str) -> Role:
    return "adviser" if name == "adviser" else "admin"


def _shown(digest: str) -> str:
    return digest[:8] + "..." if len(digest) > 8 else digest


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


def parse_retention(value: str) -> int:
    return _positive_int("MATCHER_RETENTION_DAYS", value, DEFAULT_RETENTION_DAYS, "days")


def parse_job_rows(value: str) -> int:
    return _positive_int("MATCHER_JOB_ROWS", value, DEFAULT_JOB_ROWS, "rows")


def parse_quota(value: str) -> int:
    return _positive_int("MATCHER_QUOTA_MB", value, DEFAULT_QUOTA_MB, "megabytes")


def parse_timeout(value: str) -> float:
    return parse_seconds("MATCHER_REQUEST_TIMEOUT_S", value, DEFAULT_REQUEST_TIMEOUT_S)


def parse_seconds(name: str, value: str, default: float) -> float:
    if not value.strip():
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        raise InputError(f"{name}: value {value!r}: should be a number of seconds above 0")
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


def parse_proxies(value: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """`"127.0.0.1, 10.0.0.0/8"` -> the two networks; a bad entry stops the start with a message naming it."""
    networks = []
    for entry in (e.strip() for e in value.split(",") if e.strip()):
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise InputError(
                f"MATCHER_TRUSTED_PROXIES: value {entry!r}: not an IP address or network; write e.g. 127.0.0.1 or "
                "10.0.0.0/8"
            ) from None
    return tuple(networks)


HOST = re.compile(r"(\*\.)?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]")


def parse_hosts(value: str) -> tuple[str, ...]:
    """`"matcher.example.nl, *.rom.nl"` -> both, lower-cased; each a host name (no scheme, no port) or `*.domain`."""
    hosts = tuple(h.strip().lower() for h in value.split(",") if h.strip())
    for host in hosts:
        if host != "*" and not HOST.fullmatch(host):
            raise InputError(
                f"MATCHER_ALLOWED_HOSTS: value {host!r}: not a host name; write e.g. matcher.example.nl or "
                "*.example.nl (no scheme, no port)"
            )
    return hosts

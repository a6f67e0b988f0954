"""Saved profiles ("watch me for new rounds") and their last run, in SQLite: the service's database file, own tables.

    >>> store = WatchStore.open(tmp / "feedback.sqlite3")
    >>> store.save("local", "kas-robot", Proposal(text="Oogstrobot voor tomatenkassen", region="NL-ZH")).name
    'kas-robot'
    >>> store.record_run("local", "kas-robot", dt.date(2026, 12, 1), {"opened:nl-mit-haalbaarheid:2026-04-01/"})
    >>> store.get("local", "kas-robot").last_run
    datetime.date(2026, 12, 1)
    >>> store.close()

Each profile belongs to an `owner`: the SHA-256 digest of the API key that created it in the service, `LOCAL` for the
command line; one owner never sees another's. The tables (`watch_profile`, versioned in `watch_schema_version`, apart
from the feedback store's `schema_version`) are created when absent; every write is one transaction, committed with
`synchronous=FULL` before the call returns, so a profile or a run is stored whole or not at all. One connection is
shared behind a lock (FastAPI's threadpool); other processes wait on SQLite's lock for up to `BUSY_TIMEOUT_S`.
"""

from __future__ import annotations

import builtins
import datetime as dt
import json
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from matcher.errors import InputError, MatcherError, UnknownIdError
from matcher.records import DEFAULT_TOP, Proposal

BUSY_TIMEOUT_S = 10.0
LOCAL = "local"  # the owner of the profiles saved with `matcher watch add`
NAME = re.compile(r"[a-z0-9_-]{1,64}")
MAX_TOP = 100

# Migration n is MIGRATIONS[n - 1]; append new ones, never edit an applied one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE watch_profile (
        owner TEXT NOT NULL,
        name TEXT NOT NULL,
        proposal TEXT NOT NULL,
        top INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        last_run TEXT,
        reported TEXT NOT NULL DEFAULT '[]',
        PRIMARY KEY (owner, name)
    );
    """,
)

Clock = Callable[[], dt.datetime]


class WatchStoreError(MatcherError):
    """The profile tables cannot be used (written by a newer version, or the store is closed)."""


class UnknownProfileError(UnknownIdError):
    """The owner has no profile of this name (404 in the service)."""


@dataclass(frozen=True)
class Profile:
    """A saved profile: the proposal it matches, how many top matches it watches, and what its last run reported.

    `reported` holds the keys (`kind:instrument:round`) that qualified on `last_run`, so the next run reports only
    the others; times are UTC, ISO 8601 to the second.
    """

    owner: str
    name: str
    proposal: Proposal
    top: int
    created_at: str
    updated_at: str
    last_run: dt.date | None = None
    reported: frozenset[str] = frozenset()


def check_name(name: str) -> str:
    """The name if it is 1-64 characters of a-z, 0-9, `-` and `_`; else `InputError` naming it."""
    if not NAME.fullmatch(name):
        raise InputError(f"profile name {name!r}: use 1-64 characters a-z, 0-9, '-' or '_'")
    return name


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class WatchStore:
    """Profiles in one SQLite file; build it with `WatchStore.open(path)`."""

    def __init__(self, conn: sqlite3.Connection, clock: Clock = utc_now) -> None:
        self._conn: sqlite3.Connection | None = conn
        self._lock = threading.Lock()
        self._clock = clock

    @classmethod
    def open(cls, path: Path, clock: Clock = utc_now) -> WatchStore:
        """Open (or create) the database at `path` in WAL mode and create or update the profile tables."""
        path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: transactions are begun and committed explicitly (`_transaction`).
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            migrate(conn)
        except BaseException:
            conn.close()
            raise
        return cls(conn, clock)

    def save(self, owner: str, name: str, proposal: Proposal, top: int = DEFAULT_TOP) -> Profile:
        """Create or replace the owner's profile `name`; a replaced profile starts again (no last run)."""
        check_name(name)
        if not 1 <= top <= MAX_TOP:
            raise InputError(f"top {top}: watch between 1 and {MAX_TOP} top matches")
        now = self._now()
        data = proposal.model_dump_json(exclude={"id", "as_of"})
        with self._lock, _transaction(self._connection()) as conn:
            row = conn.execute(
                "SELECT created_at FROM watch_profile WHERE owner = ? AND name = ?", (owner, name)
            ).fetchone()
            created = row[0] if row else now
            conn.execute(
                "INSERT OR REPLACE INTO watch_profile (owner, name, proposal, top, created_at, updated_at, last_run,"
                " reported) VALUES (?, ?, ?, ?, ?, ?, NULL, '[]')",
                (owner, name, data, top, created, now),
            )
        return Profile(owner, name, _proposal(name, data), top, created, now)

    def get(self, owner: str, name: str) -> Profile:
        """The owner's profile `name`; `UnknownProfileError` when the owner has none of that name."""
        with self._lock:
            row = self._connection().execute(_SELECT + " WHERE owner = ? AND name = ?", (owner, name)).fetchone()
        if row is None:
            raise UnknownProfileError(f"no saved profile {name!r}; `matcher watch list` (GET /v1/watch) lists them")
        return _profile(row)

    def list(self, owner: str) -> builtins.list[Profile]:
        """The owner's profiles by name."""
        with self._lock:
            rows = self._connection().execute(_SELECT + " WHERE owner = ? ORDER BY name", (owner,)).fetchall()
        return [_profile(r) for r in rows]

    def remove(self, owner: str, name: str) -> None:
        """Delete the owner's profile `name`; `UnknownProfileError` when there is none."""
        with self._lock, _transaction(self._connection()) as conn:
            cursor = conn.execute("DELETE FROM watch_profile WHERE owner = ? AND name = ?", (owner, name))
        if cursor.rowcount == 0:
            raise UnknownProfileError(f"no saved profile {name!r}; `matcher watch list` (GET /v1/watch) lists them")

    def record_run(self, owner: str, name: str, day: dt.date, keys: Iterable[str]) -> None:
        """Store that the profile ran on `day` and which item keys qualified then, in one committed write."""
        encoded = json.dumps(sorted(set(keys)), separators=(",", ":"))
        with self._lock, _transaction(self._connection()) as conn:
            cursor = conn.execute(
                "UPDATE watch_profile SET last_run = ?, reported = ? WHERE owner = ? AND name = ?",
                (day.isoformat(), encoded, owner, name),
            )
            if cursor.rowcount == 0:  # removed meanwhile: nothing is stored (the transaction is rolled back)
                raise UnknownProfileError(f"no saved profile {name!r}; it was removed during the run")

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> WatchStore:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _now(self) -> str:
        return self._clock().astimezone(dt.UTC).isoformat(timespec="seconds")

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise WatchStoreError("the profile store is closed")
        return self._conn


_SELECT = "SELECT owner, name, proposal, top, created_at, updated_at, last_run, reported FROM watch_profile"


def _proposal(name: str, data: str) -> Proposal:
    return Proposal.model_validate_json(data).model_copy(update={"id": name})


def _profile(row: tuple[str, str, str, int, str, str, str | None, str]) -> Profile:
    owner, name, data, top, created, updated, last_run, reported = row
    day = dt.date.fromisoformat(last_run) if last_run else None
    return Profile(owner, name, _proposal(name, data), top, created, updated, day, frozenset(json.loads(reported)))


def migrate(conn: sqlite3.Connection, migrations: tuple[str, ...] = MIGRATIONS) -> int:
    """Apply the profile migrations the database lacks, in one transaction; return the schema version."""
    with _transaction(conn, "BEGIN IMMEDIATE"):  # IMMEDIATE: two processes starting at once migrate one by one
        conn.execute(
            "CREATE TABLE IF NOT EXISTS watch_schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        (current,) = conn.execute("SELECT coalesce(max(version), 0) FROM watch_schema_version").fetchone()
        if current > len(migrations):
            raise WatchStoreError(
                f"the profile tables are at schema version {current}, newer than this program knows "
                f"({len(migrations)}); upgrade regio-matcher or use another database file"
            )
        for version in range(current + 1, len(migrations) + 1):
            for statement in (s.strip() for s in migrations[version - 1].split(";")):
                if statement:  # executescript() would commit the open transaction: one statement at a time
                    conn.execute(statement)
            applied = utc_now().isoformat(timespec="seconds")
            conn.execute("INSERT INTO watch_schema_version (version, applied_at) VALUES (?, ?)", (version, applied))
    return len(migrations)


@contextmanager
def _transaction(conn: sqlite3.Connection, begin: str = "BEGIN IMMEDIATE") -> Iterator[sqlite3.Connection]:
    """`with _transaction(conn) as c:` BEGIN ... COMMIT, or ROLLBACK when the block raises."""
    conn.execute(begin)
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")

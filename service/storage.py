"""Feedback stored in SQLite: one database file, WAL journal, numbered migrations applied at start-up.

    >>> store = FeedbackStore.open(tmp / "feedback.sqlite3")
    >>> store.add("p1", "nl-waterstof", relevant=True).id
    1
    >>> store.close()

Every write is committed (with `synchronous=FULL`) before `add` returns, so an acknowledged row survives a crash.
One connection is shared by FastAPI's threadpool behind a lock; other processes (uvicorn workers) wait on SQLite's
own lock for up to `BUSY_TIMEOUT_S`.
"""

from __future__ import annotations

import builtins
import datetime as dt
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from matcher import MatcherError

BUSY_TIMEOUT_S = 10.0

# Migration n is MIGRATIONS[n - 1]; append new ones, never edit an applied one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE feedback (
        id INTEGER PRIMARY KEY,
        proposal_id TEXT NOT NULL,
        instrument_id TEXT NOT NULL,
        relevant INTEGER NOT NULL,
        note TEXT,
        created_at TEXT NOT NULL
    );
    CREATE INDEX feedback_proposal ON feedback (proposal_id, id);
    """,
)

Clock = Callable[[], dt.datetime]


class StorageError(MatcherError):
    """The feedback database cannot be used (written by a newer version, or the store is closed)."""


@dataclass(frozen=True)
class Feedback:
    """One stored feedback row; `created_at` is UTC, ISO 8601 to the second."""

    id: int
    proposal_id: str
    instrument_id: str
    relevant: bool
    note: str | None
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class FeedbackStore:
    """Feedback rows in one SQLite file; build it with `FeedbackStore.open(path)`."""

    def __init__(self, conn: sqlite3.Connection, clock: Clock = utc_now) -> None:
        self._conn: sqlite3.Connection | None = conn
        self._lock = threading.Lock()
        self._clock = clock

    @classmethod
    def open(cls, path: Path, clock: Clock = utc_now) -> FeedbackStore:
        """Open (or create) the database at `path`, switch it to WAL and bring its schema up to date."""
        path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: transactions are begun and committed explicitly below.
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            migrate(conn)
        except BaseException:
            conn.close()
            raise
        return cls(conn, clock)

    def add(self, proposal_id: str, instrument_id: str, relevant: bool, note: str | None = None) -> Feedback:
        """Store one row and commit it before returning it (with its id and time)."""
        created = self._clock().astimezone(dt.UTC).isoformat(timespec="seconds")
        with self._lock:
            conn = self._connection()
            with _transaction(conn):
                cursor = conn.execute(
                    "INSERT INTO feedback (proposal_id, instrument_id, relevant, note, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (proposal_id, instrument_id, int(relevant), note, created),
                )
            row_id = cursor.lastrowid
        if row_id is None:  # an INSERT always sets it; this only narrows the type
            raise StorageError("the database returned no id for the stored row")
        return Feedback(row_id, proposal_id, instrument_id, relevant, note, created)

    def list(self, limit: int = 100, offset: int = 0, proposal_id: str | None = None) -> builtins.list[Feedback]:
        """Rows in the order they were stored, optionally only those of one proposal."""
        sql = "SELECT id, proposal_id, instrument_id, relevant, note, created_at FROM feedback"
        params: tuple[object, ...] = ()
        if proposal_id is not None:
            sql, params = sql + " WHERE proposal_id = ?", (proposal_id,)
        with self._lock:
            rows = self._connection().execute(sql + " ORDER BY id LIMIT ? OFFSET ?", (*params, limit, offset))
            return [Feedback(r[0], r[1], r[2], bool(r[3]), r[4], r[5]) for r in rows.fetchall()]

    def count(self) -> int:
        with self._lock:
            (n,) = self._connection().execute("SELECT count(*) FROM feedback").fetchone()
        return int(n)

    def pragma(self, name: str) -> Any:
        """The value of one PRAGMA (`journal_mode`, `synchronous`, ...), for health checks and tests."""
        if not name.isidentifier():
            raise ValueError(f"not a pragma name: {name!r}")
        with self._lock:
            return self._connection().execute(f"PRAGMA {name}").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> FeedbackStore:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StorageError("the feedback store is closed")
        return self._conn


def migrate(conn: sqlite3.Connection, migrations: tuple[str, ...] = MIGRATIONS) -> int:
    """Apply the migrations the database lacks, all in one transaction; return the schema version."""
    with _transaction(conn, "BEGIN IMMEDIATE"):  # IMMEDIATE: two processes starting at once migrate one by one
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        (current,) = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
        if current > len(migrations):
            raise StorageError(
                f"the feedback database is at schema version {current}, newer than this program knows "
                f"({len(migrations)}); upgrade regio-matcher or point MATCHER_DB at another file"
            )
        for version in range(current + 1, len(migrations) + 1):
            for statement in _statements(migrations[version - 1]):
                conn.execute(statement)
            applied = utc_now().isoformat(timespec="seconds")
            conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (version, applied))
    return len(migrations)


def _statements(script: str) -> list[str]:
    # executescript() would commit the open transaction, so run the statements one by one.
    return [s.strip() for s in script.split(";") if s.strip()]


@contextmanager
def _transaction(conn: sqlite3.Connection, begin: str = "BEGIN") -> Iterator[None]:
    """`with _transaction(conn):` BEGIN ... COMMIT, or ROLLBACK when the block raises."""
    conn.execute(begin)
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")

"""Feedback and triage runs stored in SQLite: one database file, WAL journal, numbered migrations at start-up.

    >>> store = FeedbackStore.open(tmp / "feedback.sqlite3")
    >>> store.add("p1", "nl-waterstof", relevant=True).id
    1
    >>> store.add_run("ideas.csv", top=5, results=[result.to_dict()], proposals=[proposal]).id
    1
    >>> store.run_results(1)[0]["proposal_id"]
    'p1'
    >>> store.run_proposals(1) == [proposal]
    True
    >>> store.close()

Every write is committed (with `synchronous=FULL`) before `add` or `add_run` returns, so an acknowledged row
survives a crash. One connection is shared by FastAPI's threadpool behind a lock; other processes (uvicorn workers)
wait on SQLite's own lock for up to `BUSY_TIMEOUT_S`.
"""

from __future__ import annotations

import builtins
import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from matcher import InputError, MatcherError, Proposal, UnknownIdError

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
    """
    CREATE TABLE triage_run (
        id INTEGER PRIMARY KEY,
        created_at TEXT NOT NULL,
        source TEXT NOT NULL,
        row_count INTEGER NOT NULL,
        top INTEGER NOT NULL,
        results TEXT NOT NULL
    );
    """,
    # The input proposals of a run (JSON list of `Proposal`s), so a stored run can be analysed again (gap analysis);
    # NULL for the runs stored before this migration.
    """
    ALTER TABLE triage_run ADD COLUMN proposals TEXT;
    """,
)

Clock = Callable[[], dt.datetime]


class StorageError(MatcherError):
    """The feedback database cannot be used (written by a newer version, or the store is closed)."""


class UnknownRunError(UnknownIdError):
    """No triage run has this id (404 in the service)."""


class RunWithoutProposalsError(InputError):
    """The run was stored before its proposals were kept (schema version 2 or older): 422 in the service."""


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


@dataclass(frozen=True)
class TriageRun:
    """One stored triage run: where its rows came from, how many, `top`, and (when loaded) its results.

    `source` is the uploaded file's name, or `"json"` for `POST /v1/triage`; `results` are match JSON dicts in
    input order, or None in a listing (which leaves them out).
    """

    id: int
    created_at: str
    source: str
    row_count: int
    top: int
    results: builtins.list[dict[str, Any]] | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.results is None:
            del data["results"]
        return data


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
        created = self._now()
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

    def add_run(
        self, source: str, top: int, results: builtins.list[dict[str, Any]], proposals: Sequence[Proposal]
    ) -> TriageRun:
        """Store one triage run's results (match JSON dicts) and its input proposals (one per result, same order)
        in one transaction, and commit before returning the run, without results."""
        if len(proposals) != len(results):
            raise ValueError(f"{len(proposals)} proposals for {len(results)} results; a run keeps one per result")
        created = self._now()
        encoded = _json(results)
        inputs = _json([p.model_dump(mode="json") for p in proposals])
        with self._lock:
            conn = self._connection()
            with _transaction(conn):
                cursor = conn.execute(
                    "INSERT INTO triage_run (created_at, source, row_count, top, results, proposals)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (created, source, len(results), top, encoded, inputs),
                )
            row_id = cursor.lastrowid
        if row_id is None:
            raise StorageError("the database returned no id for the stored run")
        return TriageRun(row_id, created, source, len(results), top)

    def list_runs(self, limit: int = 100, offset: int = 0) -> builtins.list[TriageRun]:
        """Runs newest first, without their results."""
        sql = "SELECT id, created_at, source, row_count, top FROM triage_run ORDER BY id DESC LIMIT ? OFFSET ?"
        with self._lock:
            rows = self._connection().execute(sql, (limit, offset)).fetchall()
        return [TriageRun(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def run(self, run_id: int) -> TriageRun:
        """One run with its results; `UnknownRunError` when there is none with this id."""
        sql = "SELECT id, created_at, source, row_count, top, results FROM triage_run WHERE id = ?"
        with self._lock:
            row = self._connection().execute(sql, (run_id,)).fetchone()
        if row is None:
            raise UnknownRunError(f"unknown triage run id {run_id}; GET /v1/triage/runs lists them")
        run_id, created, source, row_count, top, results = row
        return TriageRun(run_id, created, source, row_count, top, json.loads(results))

    def run_results(self, run_id: int) -> builtins.list[dict[str, Any]]:
        """The match JSON dicts of one stored run, in input order (for analyses of a past run)."""
        results = self.run(run_id).results
        return [] if results is None else results

    def run_proposals(self, run_id: int) -> builtins.list[Proposal]:
        """The input proposals of one stored run, in input order.

        `UnknownRunError` when there is no such run; `RunWithoutProposalsError` for a run stored before proposals
        were kept (it has results only).
        """
        with self._lock:
            row = self._connection().execute("SELECT proposals FROM triage_run WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise UnknownRunError(f"unknown triage run id {run_id}; GET /v1/triage/runs lists them")
        if row[0] is None:
            raise RunWithoutProposalsError(
                f"triage run {run_id} was stored before runs kept their proposals, so it cannot be analysed again; "
                "upload its file again (POST /v1/triage/upload) and use the new run id"
            )
        return [Proposal.model_validate(p) for p in json.loads(row[0])]

    def count_runs(self) -> int:
        with self._lock:
            (n,) = self._connection().execute("SELECT count(*) FROM triage_run").fetchone()
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

    def _now(self) -> str:
        return self._clock().astimezone(dt.UTC).isoformat(timespec="seconds")

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


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


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

"""Feedback and triage runs stored in SQLite: one database file, WAL journal, numbered migrations at start-up.

    >>> store = FeedbackStore.open(tmp / "feedback.sqlite3", retention_days=90, quota_bytes=100_000_000)
    >>> store.add("p1", "nl-waterstof", relevant=True, organisation="rom-oost").id
    1
    >>> run = store.add_run("ideas.csv", 5, [result.to_dict()], [proposal], organisation="rom-oost")
    >>> store.run_results(run.id, organisation="rom-oost")[0]["proposal_id"]
    'p1'
    >>> store.run_proposals(run.id, organisation="rom-oost") == [proposal]
    True
    >>> store.run(run.id, organisation="elders")
    Traceback (most recent call last):
    UnknownRunError: unknown triage run id '...'; GET /v1/triage/runs lists them
    >>> store.close()

Every run and feedback row belongs to an organisation; the reads and the delete take `organisation` (None: every
organisation, for admins) and treat another organisation's run as unknown, so its id tells nothing. Run ids are
random (`secrets.token_urlsafe`, 22 characters); runs stored before they were (schema 3 or older) keep their old
number as their id, and organisation "default". A run keeps its proposals once (one JSON list per run, beside its
results, which name each proposal by id only). Runs expire `retention_days` after they were stored: they are never
served past it and are deleted when the store opens and on every write. `quota_bytes` bounds what one organisation
stores (results and proposals, as UTF-8); a run past it raises `QuotaExceededError` and stores nothing.

A write may carry an `Idempotency` (the request's `Idempotency-Key` and digest): the key is stored in the write's
own transaction (table `idempotency_key`, per organisation, expiring with the runs), and the same key again raises
`AlreadyStored` (the same request: nothing is stored, the routes answer what the first stored) or
`IdempotencyKeyError` (another request, 422).

Every write is committed (with `synchronous=FULL`) before `add` or `add_run` returns, so an acknowledged row
survives a crash. One connection is shared by FastAPI's threadpool behind a lock; other processes (uvicorn workers)
wait on SQLite's own lock for up to `BUSY_TIMEOUT_S`.
"""

from __future__ import annotations

import builtins
import datetime as dt
import json
import secrets
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
DEFAULT_ORGANISATION = "default"  # the organisation of rows stored before there were organisations
DEFAULT_RETENTION_DAYS = 90
RUN_ID_BYTES = 16  # secrets.token_urlsafe(16): 22 characters, 128 random bits

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
    # Run ids become random text (a run stored before keeps its number, as text) and every run and feedback row
    # belongs to an organisation ("default" for those stored before); `seq` keeps the order runs were stored in,
    # `size_bytes` what a run stores (results and proposals as UTF-8), summed for the quota.
    """
    CREATE TABLE triage_run_v4 (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        organisation TEXT NOT NULL,
        created_at TEXT NOT NULL,
        source TEXT NOT NULL,
        row_count INTEGER NOT NULL,
        top INTEGER NOT NULL,
        results TEXT NOT NULL,
        proposals TEXT,
        size_bytes INTEGER NOT NULL
    );
    INSERT INTO triage_run_v4 (seq, id, organisation, created_at, source, row_count, top, results, proposals,
                               size_bytes)
        SELECT id, CAST(id AS TEXT), 'default', created_at, source, row_count, top, results, proposals,
               length(CAST(results AS BLOB)) + coalesce(length(CAST(proposals AS BLOB)), 0)
        FROM triage_run;
    DROP TABLE triage_run;
    ALTER TABLE triage_run_v4 RENAME TO triage_run;
    CREATE INDEX triage_run_organisation ON triage_run (organisation, seq);
    CREATE INDEX triage_run_created ON triage_run (created_at);
    ALTER TABLE feedback ADD COLUMN organisation TEXT NOT NULL DEFAULT 'default';
    CREATE INDEX feedback_organisation ON feedback (organisation, id);
    """,
    # Idempotency keys of writes (`Idempotency-Key` header), per organisation: the request's digest and what it
    # stored (`kind` "feedback" or "run", `target` its id), committed in the write's own transaction; they expire
    # with the retention, as runs do.
    """
    CREATE TABLE idempotency_key (
        organisation TEXT NOT NULL,
        key TEXT NOT NULL,
        request_digest TEXT NOT NULL,
        kind TEXT NOT NULL,
        target TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (organisation, key)
    );
    CREATE INDEX idempotency_key_created ON idempotency_key (created_at);
    """,
)

Clock = Callable[[], dt.datetime]


class StorageError(MatcherError):
    """The feedback database cannot be used (written by a newer version, or the store is closed)."""


class UnknownRunError(UnknownIdError):
    """No triage run has this id, or it belongs to another organisation, or it expired (404 in the service)."""


class QuotaExceededError(MatcherError):
    """Storing a run would take its organisation past its quota (507 in the service); nothing is stored."""


class IdempotencyKeyError(InputError):
    """An `Idempotency-Key` sent again with another request than the first (422 in the service); nothing stored."""


class AlreadyStored(MatcherError):  # not a failure: the answer to a retry, caught by the routes
    """A write with an idempotency key its organisation used before, for the same request: nothing was stored
    again; `target` is the id of what the first request stored."""

    def __init__(self, kind: str, target: str) -> None:
        super().__init__(f"already stored under this idempotency key: {kind} {target}")
        self.kind, self.target = kind, target


@dataclass(frozen=True)
class Idempotency:
    """The `Idempotency-Key` of a write and the SHA-256 digest of what the request asks to store."""

    key: str
    digest: str


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
    organisation: str = DEFAULT_ORGANISATION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TriageRun:
    """One stored triage run: where its rows came from, how many, `top`, whose it is, until when it is kept, and
    (when loaded) its results.

    `source` is the uploaded file's name, or `"json"` for `POST /v1/triage`; `results` are match JSON dicts in
    input order, or None in a listing (which leaves them out).
    """

    id: str
    created_at: str
    source: str
    row_count: int
    top: int
    organisation: str
    expires_at: str
    results: builtins.list[dict[str, Any]] | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.results is None:
            del data["results"]
        return data


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class FeedbackStore:
    """Feedback rows and triage runs in one SQLite file; build it with `FeedbackStore.open(path)`."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        clock: Clock = utc_now,
        retention_days: int = DEFAULT_RETENTION_DAYS,
        quota_bytes: int | None = None,
    ) -> None:
        self._conn: sqlite3.Connection | None = conn
        self._lock = threading.Lock()
        self._clock = clock
        self._retention = dt.timedelta(days=retention_days)
        self._quota = quota_bytes

    @classmethod
    def open(
        cls,
        path: Path,
        clock: Clock = utc_now,
        retention_days: int = DEFAULT_RETENTION_DAYS,
        quota_bytes: int | None = None,
    ) -> FeedbackStore:
        """Open (or create) the database at `path`, switch it to WAL, bring its schema up to date and delete the
        runs that expired; `quota_bytes` None: no quota."""
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
        store = cls(conn, clock, retention_days, quota_bytes)
        store.purge_expired()
        return store

    def add(
        self,
        proposal_id: str,
        instrument_id: str,
        relevant: bool,
        note: str | None = None,
        organisation: str = DEFAULT_ORGANISATION,
        idempotency: Idempotency | None = None,
    ) -> Feedback:
        """Store one row of `organisation` and commit it before returning it (with its id and time).

        With `idempotency`, the key is stored in the same transaction; a key used before raises `AlreadyStored`
        (the same request) or `IdempotencyKeyError` (another one), and nothing is stored."""
        created = self._now()
        with self._lock:
            conn = self._connection()
            with _transaction(conn, "BEGIN IMMEDIATE"):
                self._purge(conn)
                self._check_key(conn, organisation, idempotency, "feedback")
                cursor = conn.execute(
                    "INSERT INTO feedback (proposal_id, instrument_id, relevant, note, created_at, organisation)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (proposal_id, instrument_id, int(relevant), note, created, organisation),
                )
                self._keep_key(conn, organisation, idempotency, "feedback", str(cursor.lastrowid), created)
            row_id = cursor.lastrowid
        if row_id is None:  # an INSERT always sets it; this only narrows the type
            raise StorageError("the database returned no id for the stored row")
        return Feedback(row_id, proposal_id, instrument_id, relevant, note, created, organisation)

    def list(
        self, limit: int = 100, offset: int = 0, proposal_id: str | None = None, organisation: str | None = None
    ) -> builtins.list[Feedback]:
        """Rows in the order they were stored, of one organisation (None: all), optionally of one proposal only."""
        where, params = _where(("proposal_id = ?", proposal_id), ("organisation = ?", organisation))
        sql = f"SELECT id, proposal_id, instrument_id, relevant, note, created_at, organisation FROM feedback{where}"
        with self._lock:
            rows = self._connection().execute(sql + " ORDER BY id LIMIT ? OFFSET ?", (*params, limit, offset))
            return [Feedback(r[0], r[1], r[2], bool(r[3]), r[4], r[5], r[6]) for r in rows.fetchall()]

    def get(self, row_id: int, organisation: str | None = None) -> Feedback:
        """One feedback row by id (of `organisation`; None: any); `UnknownIdError` when there is none."""
        where, params = _where(("id = ?", row_id), ("organisation = ?", organisation))
        sql = f"SELECT id, proposal_id, instrument_id, relevant, note, created_at, organisation FROM feedback{where}"
        with self._lock:
            r = self._connection().execute(sql, params).fetchone()
        if r is None:
            raise UnknownIdError(f"unknown feedback id {row_id}")
        return Feedback(r[0], r[1], r[2], bool(r[3]), r[4], r[5], r[6])

    def check_key(self, organisation: str, idempotency: Idempotency, kind: str) -> None:
        """Before any work: `AlreadyStored` when `organisation` sent this key with the same request before (its
        answer can be given again), `IdempotencyKeyError` when with another request; nothing when it is new."""
        with self._lock:
            self._check_key(self._connection(), organisation, idempotency, kind)

    def count(self) -> int:
        with self._lock:
            (n,) = self._connection().execute("SELECT count(*) FROM feedback").fetchone()
        return int(n)

    def add_run(
        self,
        source: str,
        top: int,
        results: builtins.list[dict[str, Any]],
        proposals: Sequence[Proposal],
        organisation: str = DEFAULT_ORGANISATION,
        idempotency: Idempotency | None = None,
    ) -> TriageRun:
        """Store one triage run of `organisation` under a new random id: its results (match JSON dicts) and its input
        proposals (one per result, same order, kept once) in one transaction, committed before the run (without
        results) is returned. `QuotaExceededError` when it would take the organisation past its quota; with
        `idempotency`, `AlreadyStored` or `IdempotencyKeyError` when the key was used before (see `add`)."""
        if len(proposals) != len(results):
            raise ValueError(f"{len(proposals)} proposals for {len(results)} results; a run keeps one per result")
        now = self._clock()
        created = _stamp(now)
        encoded = _json(results)
        inputs = _json([p.model_dump(mode="json") for p in proposals])
        size = len(encoded.encode("utf-8")) + len(inputs.encode("utf-8"))
        run_id = secrets.token_urlsafe(RUN_ID_BYTES)
        with self._lock:
            conn = self._connection()
            with _transaction(conn, "BEGIN IMMEDIATE"):  # IMMEDIATE: the quota is checked and used in one go
                self._purge(conn)
                self._check_key(conn, organisation, idempotency, "run")
                self._check_quota(conn, organisation, size)
                conn.execute(
                    "INSERT INTO triage_run (id, organisation, created_at, source, row_count, top, results, proposals,"
                    " size_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (run_id, organisation, created, source, len(results), top, encoded, inputs, size),
                )
                self._keep_key(conn, organisation, idempotency, "run", run_id, created)
        return TriageRun(run_id, created, source, len(results), top, organisation, _stamp(now + self._retention))

    def list_runs(self, limit: int = 100, offset: int = 0, organisation: str | None = None) -> builtins.list[TriageRun]:
        """The runs of one organisation (None: all) that have not expired, newest first, without their results."""
        where, params = _where(("organisation = ?", organisation), ("created_at > ?", self._cutoff()))
        sql = f"SELECT {RUN_COLUMNS} FROM triage_run{where} ORDER BY seq DESC LIMIT ? OFFSET ?"
        with self._lock:
            rows = self._connection().execute(sql, (*params, limit, offset))
            return [self._run(r) for r in rows.fetchall()]

    def run(self, run_id: str, organisation: str | None = None) -> TriageRun:
        """One run with its results; `UnknownRunError` when there is none with this id in `organisation` (None:
        in any), or it expired."""
        row = self._find(run_id, organisation, f"{RUN_COLUMNS}, results")
        return self._run(row[:-1], json.loads(row[-1]))

    def run_results(self, run_id: str, organisation: str | None = None) -> builtins.list[dict[str, Any]]:
        """The match JSON dicts of one stored run, in input order (for analyses of a past run)."""
        results = self.run(run_id, organisation).results
        return [] if results is None else results

    def run_proposals(self, run_id: str, organisation: str | None = None) -> builtins.list[Proposal]:
        """The input proposals of one stored run, in input order.

        `UnknownRunError` when there is no such run (in `organisation`, unexpired); `RunWithoutProposalsError` for a
        run stored before proposals were kept (it has results only).
        """
        (proposals,) = self._find(run_id, organisation, "proposals")
        if proposals is None:
            raise RunWithoutProposalsError(
                f"triage run {run_id} was stored before runs kept their proposals, so it cannot be analysed again; "
                "upload its file again (POST /v1/triage/upload) and use the new run id"
            )
        return [Proposal.model_validate(p) for p in json.loads(proposals)]

    def check_run(self, run_id: str, organisation: str | None = None) -> None:
        """`UnknownRunError` unless the run exists in `organisation` (None: in any) and has not expired."""
        self._find(run_id, organisation, "seq")

    def delete_run(self, run_id: str, organisation: str | None = None) -> None:
        """Delete one run (its results and proposals) of `organisation` (None: of any) and commit;
        `UnknownRunError` when there is none."""
        where, params = _where(("id = ?", run_id), ("organisation = ?", organisation))
        with self._lock:
            conn = self._connection()
            with _transaction(conn):
                self._purge(conn)
                deleted = conn.execute(f"DELETE FROM triage_run{where}", params).rowcount
        if not deleted:
            raise _unknown(run_id)

    def purge_expired(self) -> int:
        """Delete the runs past the retention period and commit; how many there were."""
        with self._lock:
            conn = self._connection()
            with _transaction(conn):
                return self._purge(conn)

    def count_runs(self) -> int:
        """How many unexpired runs are stored, of every organisation."""
        sql = "SELECT count(*) FROM triage_run WHERE created_at > ?"
        with self._lock:
            (n,) = self._connection().execute(sql, (self._cutoff(),)).fetchone()
        return int(n)

    def used_bytes(self, organisation: str) -> int:
        """What the unexpired runs of `organisation` store (results and proposals, UTF-8 bytes), as the quota counts."""
        with self._lock:
            return self._used(self._connection(), organisation)

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
        return _stamp(self._clock())

    def _cutoff(self) -> str:
        """Runs stored at or before this time have expired."""
        return _stamp(self._clock() - self._retention)

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StorageError("the feedback store is closed")
        return self._conn

    def _purge(self, conn: sqlite3.Connection) -> int:
        deleted: int = conn.execute("DELETE FROM triage_run WHERE created_at <= ?", (self._cutoff(),)).rowcount
        conn.execute("DELETE FROM idempotency_key WHERE created_at <= ?", (self._cutoff(),))
        return deleted

    def _check_key(self, conn: sqlite3.Connection, organisation: str, idem: Idempotency | None, kind: str) -> None:
        if idem is None:
            return
        sql = "SELECT request_digest, kind, target FROM idempotency_key WHERE organisation = ? AND key = ?"
        row = conn.execute(sql + " AND created_at > ?", (organisation, idem.key, self._cutoff())).fetchone()
        if row is None:
            return
        if (row[0], row[1]) != (idem.digest, kind):
            raise IdempotencyKeyError(
                f"Idempotency-Key {idem.key!r} was used before with another request; send a new key for a new "
                "request (a retry must repeat the first request exactly)"
            )
        raise AlreadyStored(kind, row[2])

    def _keep_key(
        self, conn: sqlite3.Connection, organisation: str, idem: Idempotency | None, kind: str, target: str, at: str
    ) -> None:
        if idem is not None:
            conn.execute(
                "INSERT INTO idempotency_key (organisation, key, request_digest, kind, target, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (organisation, idem.key, idem.digest, kind, target, at),
            )

    def _used(self, conn: sqlite3.Connection, organisation: str) -> int:
        sql = "SELECT coalesce(sum(size_bytes), 0) FROM triage_run WHERE organisation = ? AND created_at > ?"
        (used,) = conn.execute(sql, (organisation, self._cutoff())).fetchone()
        return int(used)

    def _check_quota(self, conn: sqlite3.Connection, organisation: str, size: int) -> None:
        if self._quota is None:
            return
        used = self._used(conn, organisation)
        if used + size > self._quota:
            raise QuotaExceededError(
                f"storing this run ({_mb(size)}) would take organisation {organisation!r} past its quota of "
                f"{_mb(self._quota)} (MATCHER_QUOTA_MB; {_mb(used)} stored); delete runs (DELETE "
                "/v1/triage/runs/{id}), wait until they expire, or triage without storing"
            )

    def _find(self, run_id: str, organisation: str | None, columns: str) -> tuple[Any, ...]:
        conditions = (("id = ?", run_id), ("organisation = ?", organisation), ("created_at > ?", self._cutoff()))
        where, params = _where(*conditions)
        with self._lock:
            row = self._connection().execute(f"SELECT {columns} FROM triage_run{where}", params).fetchone()
        if row is None:
            raise _unknown(run_id)
        return tuple(row)

    def _run(self, row: Sequence[Any], results: builtins.list[dict[str, Any]] | None = None) -> TriageRun:
        run_id, created, source, row_count, top, organisation = row
        expires = _stamp(dt.datetime.fromisoformat(created) + self._retention)
        return TriageRun(run_id, created, source, row_count, top, organisation, expires, results)


RUN_COLUMNS = "id, created_at, source, row_count, top, organisation"


def _stamp(moment: dt.datetime) -> str:
    """UTC, ISO 8601 to the second: stamps of this one form compare as strings in time order."""
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def _where(*conditions: tuple[str, object]) -> tuple[str, tuple[object, ...]]:
    """`(("a = ?", 1), ("b = ?", None))` -> `(" WHERE a = ?", (1,))`: the conditions whose value is not None."""
    given = [(clause, value) for clause, value in conditions if value is not None]
    if not given:
        return "", ()
    return " WHERE " + " AND ".join(clause for clause, _ in given), tuple(value for _, value in given)


def _unknown(run_id: str) -> UnknownRunError:
    return UnknownRunError(f"unknown triage run id {run_id!r}; GET /v1/triage/runs lists them")


def _mb(size: int) -> str:
    """`2500000` -> `'2.5 MB'`; sizes under 0.1 MB in bytes, so a small one does not read as nothing."""
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size} bytes"


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

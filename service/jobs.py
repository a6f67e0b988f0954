"""Background triage jobs: a big triage is answered `202 Accepted` with a job id and run behind single matches.

    >>> job = jobs.submit(lambda job, turn: ..., owner="rom-oost", rows=100)      # status "queued"
    >>> jobs.get(job.id, caller).to_dict()["status"]                               # "running", then "done"

`POST /v1/triage` and `/v1/triage/upload` with more than MATCHER_JOB_ROWS proposals (default 50), or with
`?async=true`, become a job; `GET /v1/jobs/{id}` answers its status (`queued`, `running`, `done`, `failed`) and, when
done, its results (anonymous) or the id of the stored run (sent with a key; read it at `/v1/triage/runs/{id}`).
Jobs of a process run one at a time in one worker thread, a chunk of `timeouts.CHUNK` proposals per turn in the
matcher slot at the lower priority `slot.JOB`: a single match waiting for the slot goes before the job's next chunk,
so it waits at most one chunk. Ids are random (`secrets.token_urlsafe(16)`). A job sent with a key belongs to the
key's organisation (another organisation's, or no key, gets 404 as for an unknown id); an anonymous job is readable
by whoever holds its id. A finished job is forgotten `JOB_TTL_S` after it ended; at most `MAX_JOBS` are kept per
worker process (more get 503 with Retry-After). Jobs live in the memory of the worker process that accepted them,
which must also answer their status: with `--workers N` a client keeps its connection (or runs one worker).
"""

from __future__ import annotations

import logging
import queue
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from matcher import MatcherError, UnknownIdError

from .responses import answers
from .security import Caller, OptionalCallerDep
from .slot import JOB, MatcherSlot

log = logging.getLogger(__name__)
T = TypeVar("T")
JobStatus = Literal["queued", "running", "done", "failed"]
JOB_TTL_S = 3600.0
MAX_JOBS = 64
QUIET_WAIT_S = 1.0  # a job waits for match requests in flight at most this long per turn, so it never starves
JOB_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
Turn = Callable[[Callable[[], T]], T]  # runs one chunk in the matcher slot, at job priority


@dataclass
class Job:
    id: str
    owner: str | None  # the organisation of the key that sent it; None: anonymous, readable with the id alone
    rows: int
    created: float
    status: JobStatus = "queued"
    done_rows: int = 0
    finished: float | None = None
    results: list[dict[str, Any]] | None = None
    run_id: str | None = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, ttl_s: float = JOB_TTL_S) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "status": self.status, "rows": self.rows, "done_rows": self.done_rows}
        if self.finished is not None:
            body["expires_in_s"] = max(0, round(self.finished + ttl_s - time.time()))
        for name in ("run_id", "error", "results"):
            if getattr(self, name) is not None:
                body[name] = getattr(self, name)
        return body


Work = Callable[[Job, Turn[Any]], None]  # does the job, a chunk per turn; sets `done_rows`, `results` or `run_id`


class JobQueue:
    """The jobs of one worker process and the thread that runs them, started when a job comes and ended when none
    is left."""

    def __init__(self, slot: MatcherSlot, ttl_s: float = JOB_TTL_S, max_jobs: int = MAX_JOBS) -> None:
        self.slot, self.ttl_s, self.max_jobs = slot, ttl_s, max_jobs
        self._jobs: dict[str, Job] = {}
        self._pending: queue.Queue[tuple[Job, Work]] = queue.Queue()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None

    def submit(self, work: Work, owner: str | None, rows: int) -> Job:
        with self._lock:
            self._forget_expired()
            if len(self._jobs) >= self.max_jobs:
                raise HTTPException(
                    503, f"too many triage jobs in this worker (at most {self.max_jobs}); retry later",
                    headers={"Retry-After": "60"},
                )  # fmt: skip
            job = Job(secrets.token_urlsafe(16), owner, rows, time.time())
            self._jobs[job.id] = job
            self._pending.put((job, work))
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="triage-jobs", daemon=True)
                self._worker.start()
        return job

    def get(self, job_id: str, caller: Caller | None) -> Job:
        """The job, if `caller` may see it: anyone an anonymous job, a key of its organisation (or an admin) a keyed
        one; 404 otherwise, as for an unknown or expired id."""
        with self._lock:
            self._forget_expired()
            job = self._jobs.get(job_id)
        visible = job is not None and (job.owner is None or (caller is not None and caller.scope in (None, job.owner)))
        if job is None or not visible:
            raise UnknownIdError(f"unknown job id {job_id!r} (finished jobs are kept {self.ttl_s:g} s)")
        return job

    def turn(self, call: Callable[[], T]) -> T:
        self.slot.wait_quiet(QUIET_WAIT_S)
        self.slot.acquire_blocking(JOB)
        try:
            return call()
        finally:
            self.slot.release()

    def _run(self) -> None:
        while True:
            with self._lock:
                try:
                    job, work = self._pending.get_nowait()
                except queue.Empty:
                    self._worker = None
                    return
                job.status = "running"
            status: JobStatus = "done"
            try:
                work(job, self.turn)
            except MatcherError as exc:
                status, job.error = "failed", str(exc)
            except Exception:
                log.exception("triage job %s failed", job.id)
                status, job.error = "failed", "internal error; the server log has the details"
            job.finished = time.time()
            job.status = status  # last: a reader that sees "done" sees the results and the end time too

    def _forget_expired(self) -> None:
        now = time.time()
        for job_id in [j.id for j in self._jobs.values() if j.finished is not None and j.finished + self.ttl_s < now]:
            del self._jobs[job_id]


class JobBody(BaseModel):
    id: str
    status: JobStatus
    rows: int
    done_rows: int
    expires_in_s: int | None = None
    run_id: str | None = None
    error: str | None = None
    results: list[dict[str, Any]] | None = None


JOB_HEADERS = {
    "Location": {"description": "the job's status route, /v1/jobs/{id}", "schema": {"type": "string"}},
    "Retry-After": {"description": "seconds to wait before asking again", "schema": {"type": "string"}},
}
ACCEPTED: dict[int | str, dict[str, Any]] = {
    202: {"model": JobBody, "description": "a background job (more rows than MATCHER_JOB_ROWS, or ?async=true)",
          "headers": JOB_HEADERS},
}  # fmt: skip

router = APIRouter()
JobId = Annotated[str, Path(pattern=JOB_ID_PATTERN, description="the id in the 202 answer of a triage")]


def get_jobs(request: Request) -> JobQueue:
    jobs: JobQueue = request.app.state.jobs  # made by `create_app`
    return jobs


@router.get("/v1/jobs/{job_id}", response_model=JobBody, responses=answers(401, 404, 422))
def job_status(request: Request, job_id: JobId, caller: OptionalCallerDep) -> JSONResponse:
    """A triage job: its status, and when done its results (anonymous) or its stored run's id (sent with a key)."""
    job = get_jobs(request).get(job_id, caller)
    headers = {} if job.finished is not None else {"Retry-After": "1"}
    return JSONResponse(job.to_dict(get_jobs(request).ttl_s), headers=headers)


def accepted(job: Job, root: str = "") -> JSONResponse:
    """The 202 answer of a triage that became a job."""
    location = f"{root}/v1/jobs/{job.id}"
    return JSONResponse(job.to_dict(), status_code=202, headers={"Location": location, "Retry-After": "1"})

"""Bounded work (issue 11, part 3): the matcher slot, uploads refused before it, the pages under it, background
triage jobs, and the body timeout.

The counting matcher sleeps inside each run and records how many runs overlap, so a test can show that a request
past its time limit keeps the slot until its work ends (never two matcher runs at once).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from matcher import InputError, Matcher, app
from service.config import DEFAULT_BODY_TIMEOUT_S, DEFAULT_JOB_ROWS, ServiceSettings
from service.jobs import JobQueue
from service.limits import BodySizeLimit
from service.protocol import HeaderTimeoutH11
from service.security import ApiKey
from service.slot import JOB, MATCH, MatcherSlot
from service.storage import FeedbackStore
from service.timeouts import timeout_message

from .conftest import service_client, wait_for_job

HYDROGEN = "Wij bouwen een waterstof pilot met een elektrolyser"
KEYS = {"k-oost": ("adviser", "rom-oost"), "k-noord": ("adviser", "rom-noord"), "k-admin": ("admin", "beheer")}


class CountingMatcher:
    """The tiny matcher; every run sleeps `delay` s and counts how many runs are going at once."""

    def __init__(self, matcher: Matcher, delay: float) -> None:
        self.matcher, self.delay, self.corpus = matcher, delay, matcher.corpus
        self.running = self.most = self.runs = 0
        self._lock = threading.Lock()

    def match_batch(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            self.running += 1
            self.runs += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(self.delay)
            return self.matcher.match_batch(*args, **kwargs)
        finally:
            with self._lock:
                self.running -= 1


def keyed_client(matcher: Any, store: FeedbackStore, **service: Any) -> TestClient:
    keys = tuple(ApiKey(hashlib.sha256(k.encode()).hexdigest(), r, o) for k, (r, o) in KEYS.items())  # type: ignore[arg-type]
    return service_client(matcher, store, api_keys=keys, **service)


def slot_of(client: TestClient) -> MatcherSlot:
    slot: MatcherSlot = client.app.state.matcher_slot  # type: ignore[attr-defined]
    return slot


# -- the slot ----------------------------------------------------------------------------------------------------
def test_a_request_past_its_limit_keeps_the_slot_until_its_work_ends(
    tiny_matcher: Matcher, store: FeedbackStore
) -> None:
    counting = CountingMatcher(tiny_matcher, delay=1.0)
    client = service_client(counting, store, request_timeout_s=0.15)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: client.post("/v1/match", json={"text": HYDROGEN}), range(4)))
    assert [a.status_code for a in answers] == [503] * 4
    assert answers[0].json() == {"error": timeout_message(0.15)}
    assert slot_of(client).held  # the first request gave up; its work still holds the slot
    deadline = time.monotonic() + 5
    while slot_of(client).held and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not slot_of(client).held
    assert (counting.runs, counting.most) == (1, 1)  # one run started, the others waited and gave up: no overlap
    patient = service_client(counting, store, request_timeout_s=5)
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda _: patient.post("/v1/match", json={"text": HYDROGEN}), range(3)))
    assert [a.status_code for a in answers] == [200] * 3
    assert counting.most == 1


def test_single_matches_go_before_the_next_chunk_of_a_job() -> None:
    order: list[str] = []

    async def scenario() -> None:
        slot = MatcherSlot()
        await slot.acquire(MATCH)

        async def wait(name: str, priority: int) -> None:
            await slot.acquire(priority)
            order.append(name)
            slot.release()

        job = asyncio.create_task(wait("job", JOB))
        await asyncio.sleep(0.01)
        match = asyncio.create_task(wait("match", MATCH))
        await asyncio.sleep(0.01)
        assert (slot.waiting(JOB), slot.waiting(MATCH)) == (1, 1)
        slot.release()
        await asyncio.gather(job, match)
        assert not slot.held

    asyncio.run(scenario())
    assert order == ["match", "job"]


def test_a_waiter_that_gives_up_leaves_the_queue_and_loses_nothing() -> None:
    async def scenario() -> None:
        slot = MatcherSlot()
        await slot.acquire()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(slot.acquire(), 0.01)
        assert slot.waiting() == 0
        slot.release()
        await asyncio.wait_for(slot.acquire(), 1)  # free again
        slot.release()

    asyncio.run(scenario())


# -- uploads are refused before the slot ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("many.csv", "id,text\n" + "".join(f"r{i},x\n" for i in range(200_000)), "more than 500 rows; at most 500"),
        ("deep.jsonl", '{"text": ' + "[" * 100_000 + "]" * 100_000 + "}\n", "nested more than 32 levels"),
    ],
)
def test_an_upload_past_the_limits_is_refused_while_the_slot_is_busy(
    tiny_matcher: Matcher, store: FeedbackStore, name: str, content: str, fragment: str
) -> None:
    client = service_client(tiny_matcher, store, request_timeout_s=5)
    slot = slot_of(client)
    holder = threading.Thread(target=slot.acquire_blocking, args=(MATCH,))
    holder.start()
    holder.join()
    try:
        started = time.monotonic()
        response = client.post("/v1/triage/upload", files={"file": (name, content.encode(), "text/csv")})
        waited = time.monotonic() - started
    finally:
        slot.release()
    assert response.status_code == 422
    assert fragment in response.json()["error"]
    assert waited < 4  # answered without the slot (which stayed held), not a 503 after the 5 s limit


# -- the pages go through the slot and the time limit ------------------------------------------------------------------
def test_the_pages_wait_in_the_slot_and_answer_503_past_the_limit(tiny_matcher: Matcher, store: FeedbackStore) -> None:
    client = service_client(tiny_matcher, store, request_timeout_s=0.2)
    slot = slot_of(client)
    slot.acquire_blocking(MATCH)
    try:
        applicant = client.post("/", data={"text": HYDROGEN})
        adviser = client.post(
            "/adviser", files={"file": ("ideas.csv", f"text\n{HYDROGEN}\n".encode(), "text/csv")}, data={"top": "3"}
        )
    finally:
        slot.release()
    for page in (applicant, adviser):
        assert page.status_code == 503
        assert page.headers["content-type"].startswith("text/html")
        assert "0.2 s" in page.text
        assert page.headers["retry-after"] == "1"
    assert client.post("/", data={"text": HYDROGEN}).status_code == 200


# -- background jobs ---------------------------------------------------------------------------------------------
def test_a_big_triage_is_a_job_with_a_random_id_and_the_same_results(
    tiny_matcher: Matcher, store: FeedbackStore
) -> None:
    client = service_client(tiny_matcher, store)
    rows = [{"id": f"p{n}", "text": HYDROGEN if n % 2 else "Scholing van werknemers"} for n in range(60)]
    small = client.post("/v1/triage", json={"proposals": rows[:DEFAULT_JOB_ROWS], "top": 2})
    assert small.status_code == 200  # the contract's synchronous answer for up to MATCHER_JOB_ROWS rows
    big = client.post("/v1/triage", json={"proposals": rows, "top": 2})
    assert big.status_code == 202
    job = big.json()
    assert (job["status"] in ("queued", "running"), job["rows"], len(job["id"])) == (True, 60, 22)
    assert big.headers["location"] == f"/v1/jobs/{job['id']}"
    done = wait_for_job(client, big.headers["location"])
    expected = app.triage(tiny_matcher, app.proposals_from_rows(rows), top_k=2, lang="nl")
    assert done["status"] == "done"
    assert done["done_rows"] == 60
    assert done["results"] == [r.to_dict() for r in expected]
    assert done["results"][:DEFAULT_JOB_ROWS] == small.json()
    assert 0 < done["expires_in_s"] <= 3600
    assert store.count_runs() == 0  # anonymous: answered, not stored


def test_async_true_makes_a_job_of_any_triage_and_upload(tiny_matcher: Matcher, store: FeedbackStore) -> None:
    client = service_client(tiny_matcher, store)
    one = client.post("/v1/triage?async=true", json={"proposals": [{"text": HYDROGEN}]})
    assert one.status_code == 202
    assert wait_for_job(client, one.headers["location"])["results"][0]["proposal_id"] == "1"
    upload = client.post(
        "/v1/triage/upload?async=true&top=1", files={"file": ("ideas.csv", f"text\n{HYDROGEN}\n".encode(), "text/csv")}
    )
    assert upload.status_code == 202
    body = wait_for_job(client, upload.headers["location"])
    assert body["results"][0]["matches"][0]["instrument_id"] == "nl-waterstof"


def test_a_keyed_job_belongs_to_its_organisation_and_stores_its_run(
    tiny_matcher: Matcher, store: FeedbackStore
) -> None:
    client = keyed_client(tiny_matcher, store)
    rows = [{"id": f"p{n}", "text": HYDROGEN} for n in range(3)]
    sent = client.post("/v1/triage?async=true", json={"proposals": rows, "top": 1}, headers={"X-API-Key": "k-oost"})
    location = sent.headers["location"]
    done = wait_for_job(client, location, headers={"X-API-Key": "k-oost"})
    assert (done["status"], "results" in done) == ("done", False)
    run = client.get(f"/v1/triage/runs/{done['run_id']}", headers={"X-API-Key": "k-oost"}).json()
    assert [r["proposal_id"] for r in run["results"]] == ["p0", "p1", "p2"]
    for headers in ({}, {"X-API-Key": "k-noord"}):
        other = client.get(location, headers=headers)
        assert other.status_code == 404  # as an unknown id
        assert other.json()["error"].startswith("unknown job id")
    assert client.get(location, headers={"X-API-Key": "k-admin"}).status_code == 200
    assert client.get(location, headers={"X-API-Key": "wrong"}).status_code == 401


def test_anonymous_jobs_are_read_with_the_id_alone_and_expire() -> None:
    jobs = JobQueue(MatcherSlot(), ttl_s=0.05)

    def work(job: Any, turn: Any) -> None:
        job.results = turn(lambda: [{"proposal_id": "1"}])

    job = jobs.submit(work, owner=None, rows=1)
    deadline = time.monotonic() + 5
    while jobs.get(job.id, None).status != "done" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert jobs.get(job.id, None).to_dict()["results"] == [{"proposal_id": "1"}]
    time.sleep(0.1)
    with pytest.raises(Exception, match="unknown job id"):
        jobs.get(job.id, None)


def test_a_failing_job_says_why() -> None:
    jobs = JobQueue(MatcherSlot())

    def work(job: Any, turn: Any) -> None:
        raise InputError("proposal 3: field 'text' is missing")

    job = jobs.submit(work, owner=None, rows=3)
    deadline = time.monotonic() + 5
    while job.status in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert job.to_dict() | {"expires_in_s": 0} == {
        "id": job.id, "status": "failed", "rows": 3, "done_rows": 0, "expires_in_s": 0,
        "error": "proposal 3: field 'text' is missing",
    }  # fmt: skip


def test_unknown_job_ids_are_404(client: TestClient) -> None:
    response = client.get("/v1/jobs/AAAAAAAAAAAAAAAAAAAAAA")
    assert (response.status_code, response.json()["error"].startswith("unknown job id")) == (404, True)


def test_the_job_threshold_and_body_timeout_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MATCHER_JOB_ROWS", raising=False)
    monkeypatch.delenv("MATCHER_BODY_TIMEOUT", raising=False)
    assert (ServiceSettings.from_env().job_rows, ServiceSettings.from_env().body_timeout_s) == (
        DEFAULT_JOB_ROWS,
        DEFAULT_BODY_TIMEOUT_S,
    )
    monkeypatch.setenv("MATCHER_JOB_ROWS", "10")
    monkeypatch.setenv("MATCHER_BODY_TIMEOUT", "2.5")
    assert (ServiceSettings.from_env().job_rows, ServiceSettings.from_env().body_timeout_s) == (10, 2.5)
    monkeypatch.setenv("MATCHER_BODY_TIMEOUT", "0")
    with pytest.raises(Exception, match=r"^MATCHER_BODY_TIMEOUT: value '0': should be a number of seconds above 0"):
        ServiceSettings.from_env()


# -- the body timeout --------------------------------------------------------------------------------------------
def test_a_body_that_does_not_arrive_in_time_gets_408_and_the_app_never_runs() -> None:
    ran: list[bool] = []

    async def echo(scope: Scope, receive: Receive, send: Send) -> None:
        ran.append(True)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    sent: list[Message] = []
    chunks = [{"type": "http.request", "body": b"{", "more_body": True}] * 3

    async def slow_receive() -> Message:  # a byte now and then, never the end
        await asyncio.sleep(0.05)
        return chunks.pop(0) if chunks else await asyncio.sleep(60) or {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http", "method": "POST", "path": "/", "headers": [], "query_string": b""}
    started = time.monotonic()
    asyncio.run(BodySizeLimit(echo, max_bytes=1000, timeout_s=0.3)(scope, slow_receive, send))
    assert time.monotonic() - started < 2
    assert (sent[0]["status"], ran) == (408, [])
    assert (b"connection", b"close") in sent[0]["headers"]
    assert sent[1]["body"] == b'{"error":"the request body did not arrive within 0.3 s (MATCHER_BODY_TIMEOUT)"}'


# -- half-sent requests against a real uvicorn server --------------------------------------------------------------
class QuickHeaderTimeout(HeaderTimeoutH11):
    header_timeout_s = 0.3


@pytest.fixture
def slow_server(tiny_matcher: Matcher, store: FeedbackStore) -> Iterator[tuple[str, int]]:
    """A real uvicorn server (in a thread) over the tiny matcher, headers within 0.3 s and the body within 0.3 s."""
    import uvicorn

    client = service_client(tiny_matcher, store, body_timeout_s=0.3)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        client.app, host="127.0.0.1", port=port, http=QuickHeaderTimeout, lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield "127.0.0.1", port
    server.should_exit = True
    thread.join(10)


def closed_within(sock: socket.socket, seconds: float) -> tuple[bool, bytes]:
    """Whether the server closed `sock` within `seconds`, and what it sent before."""
    sock.settimeout(seconds)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except TimeoutError:
        return False, received
    return True, received


def test_half_sent_headers_and_bodies_do_not_hold_a_connection(slow_server: tuple[str, int]) -> None:
    with socket.create_connection(slow_server) as half_line:
        half_line.sendall(b"POST /v1/match HTT")
        assert closed_within(half_line, 3) == (True, b"")
    with socket.create_connection(slow_server) as slow_body:
        slow_body.sendall(b"POST /v1/match HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n")
        slow_body.sendall(b"Content-Length: 1000\r\n\r\n{")
        started = time.monotonic()
        closed, answer = closed_within(slow_body, 3)
        assert closed and time.monotonic() - started < 2
        assert answer.startswith(b"HTTP/1.1 408 ")
        assert b"did not arrive within 0.3 s" in answer
    with socket.create_connection(slow_server) as whole:  # a request sent at once is answered as usual
        whole.sendall(b"GET /v1/regions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        closed, answer = closed_within(whole, 5)
        assert closed and answer.startswith(b"HTTP/1.1 200 ")

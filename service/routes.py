"""The routes: each checks its input with a model from `schemas` and calls one library function.

The matcher and the feedback store come from the `get_matcher` and `get_store` dependencies (opened once, in the
app's lifespan); tests replace them with `app.dependency_overrides[...]`. Every route that reads or writes stored runs
or feedback needs an API key (`CallerDep`) and sees its organisation's records only (an admin's: all); another
organisation's run answers 404, as an unknown one. The endpoints that run the matcher are limited per client by
`rate_limit` and in time by `within_limit`, and open to anonymous callers (`OptionalCallerDep`). A triage sent with a
valid key is stored with its proposals under the key's organisation (committed before the answer, so
`GET /v1/gaps?run=ID` can analyse it again) and its random id sent in the `X-Triage-Run` header, so the body stays
the contract's list; an anonymous triage is answered and not stored. `responses` documents every answer in the
OpenAPI schema.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections.abc import Sequence
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, File, Path, Query, Request, UploadFile
from fastapi.responses import Response

from matcher import Matcher, MatchResult, Proposal, app

from .deps import MatcherDep, StoreDep, request_language, within_limit
from .export import matches_csv
from .idempotency import IdempotencyKeyHeader, file_digest, idempotency
from .jobs import ACCEPTED, Job, Turn, Work, accepted, get_jobs
from .ratelimit import rate_limit
from .responses import (
    RUN_HEADER,
    FeedbackBody,
    HealthBody,
    RegionsBody,
    TriageRunBody,
    TriageRunSummary,
    answers,
    run_header,
)
from .schemas import (
    RUN_ID_PATTERN,
    FeedbackQuery,
    FeedbackRequest,
    InstrumentFilter,
    MatchRequest,
    RunsQuery,
    TriageRequest,
    UploadQuery,
)
from .security import Caller, CallerDep, OptionalCallerDep
from .storage import AlreadyStored, FeedbackStore, Idempotency, TriageRun
from .timeouts import chunks_within_limit
from .uploads import read_upload

router = APIRouter()


# OpenAPI links to the stored run: from a triage's X-Triage-Run header (sent to a caller with a key), from a listed
# run or a read one; after a delete, reading it again answers 404. Clients and schemathesis's stateful test follow them.
RUN_OPERATION = "#/paths/~1v1~1triage~1runs~1{run_id}"


def run_links(run_id: str, *methods: str) -> dict[str, Any]:
    return {
        f"{method.capitalize()}Run": {"operationRef": f"{RUN_OPERATION}/{method}", "parameters": {"run_id": run_id}}
        for method in methods
    }


RUN_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {
        "model": list[MatchResult],
        "headers": run_header(),
        "links": run_links(f"$response.header.{RUN_HEADER}", "get", "delete"),
    },
    **ACCEPTED,
    **answers(400, 401, 413, 422, 429, 503, 507),
}
AsyncQuery = Annotated[
    bool, Query(alias="async", description="run as a background job (202 and GET /v1/jobs/{id}) whatever its size")
]


@router.post(
    "/v1/match",
    dependencies=[Depends(rate_limit)],
    response_model=MatchResult,
    responses=answers(400, 413, 422, 429, 503),
)
async def match(request: Request, body: MatchRequest, matcher: MatcherDep) -> Response:
    lang = body.lang or request_language(request)
    result = await within_limit(request, app.match, matcher, body.proposal(), top_k=body.top, lang=lang)
    # The documented model, written by pydantic's JSON serialiser directly (7x faster than building dicts first).
    return Response(result.model_dump_json(), media_type="application/json")


@router.post("/v1/triage", dependencies=[Depends(rate_limit)], response_model=None, responses=RUN_ANSWERS)
async def triage(
    request: Request,
    response: Response,
    body: TriageRequest,
    matcher: MatcherDep,
    store: StoreDep,
    caller: OptionalCallerDep,
    run_async: AsyncQuery = False,
    key: IdempotencyKeyHeader = None,
) -> list[dict[str, Any]] | Response:
    lang = body.lang or request_language(request)
    idem = idempotency(key, "POST /v1/triage", [body.proposals, body.top, lang])
    replay = await anyio.to_thread.run_sync(first_answer, store, caller, idem)
    if replay is not None:  # a retry of a stored triage: its first answer, nothing matched or stored again
        response.headers[RUN_HEADER] = replay[0].id
        return replay[1]
    proposals = await anyio.to_thread.run_sync(app.proposals_from_rows, body.proposals)  # outside the slot
    if as_job(request, proposals, run_async):
        work = triage_job(request, matcher, store, caller, "json", body.top, lang, proposals, idem)
        return submit_job(request, work, caller, len(proposals))
    results = await triage_in_slot(request, matcher, proposals, body.top, lang)
    run, dicts = await anyio.to_thread.run_sync(store_run, store, caller, "json", body.top, proposals, results, idem)
    if run is not None:
        response.headers[RUN_HEADER] = run.id
    return dicts


UPLOAD_ANSWERS = {**RUN_ANSWERS, 200: {**RUN_ANSWERS[200], "content": {"text/csv": {"schema": {"type": "string"}}}}}


@router.post("/v1/triage/upload", dependencies=[Depends(rate_limit)], response_model=None, responses=UPLOAD_ANSWERS)
async def triage_upload(
    request: Request,
    response: Response,
    file: Annotated[UploadFile, File(description="a .csv, .jsonl or .xlsx file of proposals, as for `matcher triage`")],
    query: Annotated[UploadQuery, Query()],
    matcher: MatcherDep,
    store: StoreDep,
    caller: OptionalCallerDep,
    key: IdempotencyKeyHeader = None,
) -> list[dict[str, Any]] | Response:
    name = file.filename or "upload"
    data = await file.read()
    lang = query.lang or request_language(request)
    idem = idempotency(key, "POST /v1/triage/upload", [file_digest(data), name, query.top, lang])
    replay = await anyio.to_thread.run_sync(first_answer, store, caller, idem)
    if replay is not None:  # a retry of a stored upload: its first answer, nothing matched or stored again
        return upload_answer(response, replay[0], replay[1], query.format)
    # Read, checked and counted in a worker thread, outside the matcher slot: a file past the row, field-size or
    # nesting limits is refused before it takes the slot (a 200,000-row upload stops at row 501).
    proposals = await anyio.to_thread.run_sync(read_upload, data, name)
    if as_job(request, proposals, query.run_async):
        work = triage_job(request, matcher, store, caller, name, query.top, lang, proposals, idem)
        return submit_job(request, work, caller, len(proposals))
    results = await triage_in_slot(request, matcher, proposals, query.top, lang)
    run, dicts = await anyio.to_thread.run_sync(store_run, store, caller, name, query.top, proposals, results, idem)
    stored = {} if run is None else {RUN_HEADER: run.id}
    if query.format == "csv":
        headers = {"Content-Disposition": 'attachment; filename="triage-matches.csv"', **stored}
        return Response(matches_csv(results), media_type="text/csv; charset=utf-8", headers=headers)
    response.headers.update(stored)
    return dicts


def upload_answer(
    response: Response, run: TriageRun, dicts: list[dict[str, Any]], form: str
) -> list[dict[str, Any]] | Response:
    """The answer of a stored upload again, as JSON or as the CSV download, with its run id."""
    if form == "csv":
        headers = {"Content-Disposition": 'attachment; filename="triage-matches.csv"', RUN_HEADER: run.id}
        results = [MatchResult.model_validate(d) for d in dicts]
        return Response(matches_csv(results), media_type="text/csv; charset=utf-8", headers=headers)
    response.headers[RUN_HEADER] = run.id
    return dicts


def as_job(request: Request, proposals: Sequence[Proposal], asked: bool) -> bool:
    """Whether a triage runs as a background job: asked for, or more rows than MATCHER_JOB_ROWS."""
    return asked or len(proposals) > request.app.state.service.job_rows


def submit_job(request: Request, work: Work, caller: Caller | None, rows: int) -> Response:
    """202 with the job's id and `Location`; the job belongs to the caller's organisation (anonymous: to none)."""
    owner = None if caller is None else caller.organisation
    return accepted(get_jobs(request).submit(work, owner, rows), request.scope.get("root_path", ""))


async def triage_in_slot(
    request: Request, matcher: Matcher, proposals: Sequence[Proposal], top: int, lang: str
) -> list[MatchResult]:
    """The results in input order, a chunk at a time in the matcher slot, within the request's time limit."""
    return await chunks_within_limit(request, functools.partial(triage_chunk, matcher, top, lang), proposals)


def triage_chunk(matcher: Matcher, top: int, lang: str, chunk: Sequence[Proposal]) -> list[MatchResult]:
    return app.triage(matcher, chunk, top_k=top, lang=lang)


def triage_job(
    request: Request,
    matcher: Matcher,
    store: FeedbackStore,
    caller: Caller | None,
    source: str,
    top: int,
    lang: str,
    proposals: list[Proposal],
    idem: Idempotency | None = None,
) -> Work:
    """The work of a triage job: a chunk per turn in the slot (behind single matches), then stored as a triage
    request is (the run's id kept for a caller with a key, the results for an anonymous one; under an idempotency
    key stored at most once: a retry sent while the job ran gets the first run).

    A turn is MATCHER_JOB_CHUNK proposals (default 2): a single match that comes while a job runs waits for the
    turn in progress, so a turn should take about as long as a match (measured with the hashing model on the
    bundled corpora: 21 ms a single match, 25 ms a proposal in a batch of 1-16, so batching gains nothing here).
    """
    chunk: int = request.app.state.service.job_chunk

    def work(job: Job, turn: Turn[Any]) -> None:
        results: list[MatchResult] = []
        for start in range(0, len(proposals), chunk):
            results += turn(functools.partial(triage_chunk, matcher, top, lang, proposals[start : start + chunk]))
            job.done_rows = len(results)
        run, dicts = store_run(store, caller, source, top, proposals, results, idem)
        if run is None:
            job.results = dicts
        else:
            job.run_id = run.id

    return work


def store_run(
    store: FeedbackStore,
    caller: Caller | None,
    source: str,
    top: int,
    proposals: list[Proposal],
    results: list[MatchResult],
    idem: Idempotency | None = None,
) -> tuple[TriageRun | None, list[dict[str, Any]]]:
    """The results' JSON dicts, and the run stored with its proposals (so it can be analysed again) under the
    caller's organisation; None for an anonymous caller, whose triage is not stored. A retry under the same
    idempotency key (`idem`) stores nothing and gets the first run and its results."""
    dicts = [r.to_dict() for r in results]
    if caller is None:
        return None, dicts
    try:
        return store.add_run(source, top, dicts, proposals, organisation=caller.organisation, idempotency=idem), dicts
    except AlreadyStored as first:  # its twin, sent at the same time, was stored first
        return stored_answer(store, caller, first)


def first_answer(store: FeedbackStore, caller: Caller | None, idem: Idempotency | None) -> Replay | None:
    """Before any work: the run and results a triage stored under this idempotency key, or None when it is new
    (or anonymous); `IdempotencyKeyError` (422) when the key came with another request."""
    if caller is None or idem is None:
        return None
    try:
        store.check_key(caller.organisation, idem, "run")
    except AlreadyStored as first:
        return stored_answer(store, caller, first)
    return None


def stored_answer(store: FeedbackStore, caller: Caller, first: AlreadyStored) -> Replay:
    run = store.run(first.target, organisation=caller.organisation)
    return run, run.results or []


Replay = tuple[TriageRun, list[dict[str, Any]]]


RunId = Annotated[str, Path(pattern=RUN_ID_PATTERN, description="the id in X-Triage-Run or GET /v1/triage/runs")]


@router.get(
    "/v1/triage/runs",
    response_model=None,
    responses={
        200: {"model": list[TriageRunSummary], "links": run_links("$response.body#/0/id", "get", "delete")},
        **answers(401, 422, 503),
    },
)
def triage_runs(query: Annotated[RunsQuery, Query()], store: StoreDep, caller: CallerDep) -> list[dict[str, Any]]:
    """The stored runs of the key's organisation (an admin's: of all), newest first, without their results."""
    return [run.to_dict() for run in store.list_runs(query.limit, query.offset, organisation=caller.scope)]


@router.get(
    "/v1/triage/runs/{run_id}",
    response_model=None,
    responses={
        200: {"model": TriageRunBody, "links": run_links("$response.body#/id", "delete")},
        **answers(401, 404, 422, 503),
    },
)
def triage_run(run_id: RunId, store: StoreDep, caller: CallerDep) -> dict[str, Any]:
    """One run with its results; 404 for a run of another organisation, as for an unknown or expired one."""
    return store.run(run_id, organisation=caller.scope).to_dict()


@router.delete(
    "/v1/triage/runs/{run_id}",
    status_code=204,
    responses={
        204: {"description": "deleted", "links": run_links("$request.path.run_id", "get")},
        **answers(401, 404, 422, 503),
    },
)
def delete_triage_run(run_id: RunId, store: StoreDep, caller: CallerDep) -> Response:
    """Delete a run with its proposals and results, by its organisation's key (or an admin's); 404 otherwise."""
    store.delete_run(run_id, organisation=caller.scope)
    return Response(status_code=204)


@router.get("/v1/instruments", responses=answers(422, 503))
def instruments(query: Annotated[InstrumentFilter, Query()], matcher: MatcherDep) -> list[dict[str, Any]]:
    chosen = app.list_instruments(matcher.corpus, query.query())
    return [app.instrument_json(i, query.as_of, matcher.corpus.calls_of(i.id)) for i in chosen]


@router.get("/v1/instruments/{instrument_id}", responses=answers(404, 422, 503))
def instrument(instrument_id: str, matcher: MatcherDep, as_of: dt.date | None = None) -> dict[str, Any]:
    corpus = matcher.corpus
    return app.instrument_json(corpus.instrument(instrument_id), as_of, corpus.calls_of(instrument_id))


@router.get("/v1/regions", response_model=None, responses={200: {"model": RegionsBody}, **answers(503)})
def regions(matcher: MatcherDep) -> dict[str, list[dict[str, Any]]]:
    corpus = matcher.corpus
    return {
        "regions": [r.model_dump(mode="json", exclude_none=True) for r in corpus.regions],
        "collaborations": [c.model_dump(mode="json", exclude_none=True) for c in corpus.collaborations],
    }


@router.post(
    "/v1/feedback",
    status_code=201,
    response_model=None,
    responses={201: {"model": FeedbackBody}, **answers(400, 401, 404, 413, 422, 503)},
)
def add_feedback(
    caller: CallerDep, body: FeedbackRequest, matcher: MatcherDep, store: StoreDep, key: IdempotencyKeyHeader = None
) -> dict[str, Any]:
    """Store one feedback row; a retry with the same `Idempotency-Key` and body answers the first row again."""
    matcher.corpus.instrument(body.instrument_id)  # 404 for an id the corpus does not know
    idem = idempotency(key, "POST /v1/feedback", body.model_dump(mode="json"))
    try:
        row = store.add(
            body.proposal_id, body.instrument_id, body.relevant, body.note, caller.organisation, idempotency=idem
        )
    except AlreadyStored as first:
        row = store.get(int(first.target), organisation=caller.organisation)
    return row.to_dict()


@router.get(
    "/v1/feedback", response_model=None, responses={200: {"model": list[FeedbackBody]}, **answers(401, 422, 503)}
)
def list_feedback(query: Annotated[FeedbackQuery, Query()], store: StoreDep, caller: CallerDep) -> list[dict[str, Any]]:
    """The feedback rows of the key's organisation (an admin's: of all), in the order they were stored."""
    rows = store.list(query.limit, query.offset, query.proposal_id, organisation=caller.scope)
    return [row.to_dict() for row in rows]


@router.get("/health", response_model=None, responses={200: {"model": HealthBody}, **answers(503)})
def health(request: Request, matcher: MatcherDep, store: StoreDep) -> dict[str, Any]:
    return {
        "status": "ok",
        "model": matcher.encoder.name,
        "corpus_hash": matcher.corpus.hash,
        "passages": len(matcher.embeddings.passages),
        "instruments": len(matcher.instruments),
        "feedback_rows": store.count(),
        "uptime_s": round(time.monotonic() - request.app.state.started, 1),
    }

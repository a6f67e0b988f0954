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
import time
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, File, Path, Query, Request, UploadFile
from fastapi.responses import Response

from matcher import Matcher, MatchResult, Proposal, app

from .deps import MatcherDep, StoreDep, request_language, within_limit
from .export import matches_csv
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
from .storage import FeedbackStore, TriageRun
from .uploads import read_upload

router = APIRouter()


RUN_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"model": list[MatchResult], "headers": run_header()},
    **answers(400, 401, 413, 422, 429, 503, 507),
}


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
) -> list[dict[str, Any]]:
    lang = body.lang or request_language(request)
    proposals, results = await within_limit(request, triage_rows, matcher, body.proposals, body.top, lang)
    run, dicts = await anyio.to_thread.run_sync(store_run, store, caller, "json", body.top, proposals, results)
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
) -> list[dict[str, Any]] | Response:
    name = file.filename or "upload"
    data = await file.read()
    lang = query.lang or request_language(request)
    proposals, results = await within_limit(request, triage_file, matcher, data, name, query.top, lang)
    run, dicts = await anyio.to_thread.run_sync(store_run, store, caller, name, query.top, proposals, results)
    stored = {} if run is None else {RUN_HEADER: run.id}
    if query.format == "csv":
        headers = {"Content-Disposition": 'attachment; filename="triage-matches.csv"', **stored}
        return Response(matches_csv(results), media_type="text/csv; charset=utf-8", headers=headers)
    response.headers.update(stored)
    return dicts


Triage = tuple[list[Proposal], list[MatchResult]]  # the proposals of a run and their results, in input order


def triage_rows(matcher: Matcher, rows: list[dict[str, Any]], top: int, lang: str) -> Triage:
    proposals = app.proposals_from_rows(rows)
    return proposals, app.triage(matcher, proposals, top_k=top, lang=lang)


def triage_file(matcher: Matcher, data: bytes, name: str, top: int, lang: str) -> Triage:
    """Parse and match inside the matcher slot and the time limit, so a large upload is bounded like a match."""
    proposals = read_upload(data, name)
    return proposals, app.triage(matcher, proposals, top_k=top, lang=lang)


def store_run(
    store: FeedbackStore,
    caller: Caller | None,
    source: str,
    top: int,
    proposals: list[Proposal],
    results: list[MatchResult],
) -> tuple[TriageRun | None, list[dict[str, Any]]]:
    """The results' JSON dicts, and the run stored with its proposals (so it can be analysed again) under the
    caller's organisation; None for an anonymous caller, whose triage is not stored."""
    dicts = [r.to_dict() for r in results]
    if caller is None:
        return None, dicts
    return store.add_run(source, top, dicts, proposals, organisation=caller.organisation), dicts


RunId = Annotated[str, Path(pattern=RUN_ID_PATTERN, description="the id in X-Triage-Run or GET /v1/triage/runs")]


@router.get(
    "/v1/triage/runs",
    response_model=None,
    responses={200: {"model": list[TriageRunSummary]}, **answers(401, 422, 503)},
)
def triage_runs(query: Annotated[RunsQuery, Query()], store: StoreDep, caller: CallerDep) -> list[dict[str, Any]]:
    """The stored runs of the key's organisation (an admin's: of all), newest first, without their results."""
    return [run.to_dict() for run in store.list_runs(query.limit, query.offset, organisation=caller.scope)]


@router.get(
    "/v1/triage/runs/{run_id}",
    response_model=None,
    responses={200: {"model": TriageRunBody}, **answers(401, 404, 422, 503)},
)
def triage_run(run_id: RunId, store: StoreDep, caller: CallerDep) -> dict[str, Any]:
    """One run with its results; 404 for a run of another organisation, as for an unknown or expired one."""
    return store.run(run_id, organisation=caller.scope).to_dict()


@router.delete("/v1/triage/runs/{run_id}", status_code=204, responses=answers(401, 404, 422, 503))
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
def add_feedback(caller: CallerDep, body: FeedbackRequest, matcher: MatcherDep, store: StoreDep) -> dict[str, Any]:
    matcher.corpus.instrument(body.instrument_id)  # 404 for an id the corpus does not know
    row = store.add(body.proposal_id, body.instrument_id, body.relevant, body.note, organisation=caller.organisation)
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

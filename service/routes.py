"""The routes: each checks its input with a model from `schemas` and calls one library function.

The matcher and the feedback store come from the `get_matcher` and `get_store` dependencies (opened once, in the
app's lifespan); tests replace them with `app.dependency_overrides[...]`. Writes need `require_api_key`; the
endpoints that run the matcher are limited per client by `rate_limit`.
"""

from __future__ import annotations

import time
from pathlib import PurePosixPath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import Response

from matcher import InputError, Matcher, NotBuiltError
from matcher.batch import parse_proposals, proposal_from_row

from .export import matches_csv
from .ratelimit import rate_limit
from .schemas import (
    MAX_PROPOSALS,
    FeedbackQuery,
    FeedbackRequest,
    InstrumentFilter,
    MatchRequest,
    TriageRequest,
    UploadQuery,
)
from .security import require_api_key
from .storage import FeedbackStore

router = APIRouter()


def get_matcher(request: Request) -> Matcher:
    matcher: Matcher | None = getattr(request.app.state, "matcher", None)
    if matcher is None:
        raise NotBuiltError("the matcher is not loaded; the service is starting or failed to start")
    return matcher


def get_store(request: Request) -> FeedbackStore:
    store: FeedbackStore | None = getattr(request.app.state, "store", None)
    if store is None:
        raise NotBuiltError("the feedback store is not open; the service is starting or failed to start")
    return store


MatcherDep = Annotated[Matcher, Depends(get_matcher)]
StoreDep = Annotated[FeedbackStore, Depends(get_store)]


@router.post("/v1/match", dependencies=[Depends(rate_limit)])
def match(body: MatchRequest, matcher: MatcherDep) -> dict[str, Any]:
    return matcher.match(body, top_k=body.top).to_dict()


@router.post("/v1/triage", dependencies=[Depends(rate_limit)])
def triage(body: TriageRequest, matcher: MatcherDep) -> list[dict[str, Any]]:
    proposals = [proposal_from_row(row, f"proposal {n}", str(n)) for n, row in enumerate(body.proposals, 1)]
    return [r.to_dict() for r in matcher.match_batch(proposals, top_k=body.top)]


@router.post("/v1/triage/upload", dependencies=[Depends(rate_limit)], response_model=None)
def triage_upload(
    file: Annotated[UploadFile, File(description="a .csv or .jsonl file of proposals, as for `matcher triage`")],
    query: Annotated[UploadQuery, Query()],
    matcher: MatcherDep,
) -> list[dict[str, Any]] | Response:
    name = file.filename or "upload"
    try:
        text = file.file.read().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not valid UTF-8 (byte {exc.start})") from None
    proposals = parse_proposals(text, name, PurePosixPath(name).suffix)
    if len(proposals) > MAX_PROPOSALS:
        raise InputError(
            f"{name}: {len(proposals)} rows; at most {MAX_PROPOSALS} per upload (use `matcher triage` for more)"
        )
    results = matcher.match_batch(proposals, top_k=query.top)
    if query.format == "csv":
        headers = {"Content-Disposition": 'attachment; filename="triage-matches.csv"'}
        return Response(matches_csv(results), media_type="text/csv; charset=utf-8", headers=headers)
    return [r.to_dict() for r in results]


@router.get("/v1/instruments")
def instruments(query: Annotated[InstrumentFilter, Query()], matcher: MatcherDep) -> list[dict[str, Any]]:
    return [i.model_dump(mode="json", exclude_none=True) for i in query.select(matcher.corpus)]


@router.get("/v1/instruments/{instrument_id}")
def instrument(instrument_id: str, matcher: MatcherDep) -> dict[str, Any]:
    return matcher.corpus.instrument(instrument_id).model_dump(mode="json", exclude_none=True)


@router.get("/v1/regions")
def regions(matcher: MatcherDep) -> dict[str, list[dict[str, Any]]]:
    corpus = matcher.corpus
    return {
        "regions": [r.model_dump(mode="json", exclude_none=True) for r in corpus.regions],
        "collaborations": [c.model_dump(mode="json", exclude_none=True) for c in corpus.collaborations],
    }


@router.post("/v1/feedback", status_code=201, dependencies=[Depends(require_api_key)])
def add_feedback(body: FeedbackRequest, matcher: MatcherDep, store: StoreDep) -> dict[str, Any]:
    matcher.corpus.instrument(body.instrument_id)  # 404 for an id the corpus does not know
    return store.add(body.proposal_id, body.instrument_id, body.relevant, body.note).to_dict()


@router.get("/v1/feedback")
def list_feedback(query: Annotated[FeedbackQuery, Query()], store: StoreDep) -> list[dict[str, Any]]:
    return [row.to_dict() for row in store.list(query.limit, query.offset, query.proposal_id)]


@router.get("/health")
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

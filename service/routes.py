"""The routes: each checks its input with a model from `schemas` and calls one library function.

The matcher and the feedback store come from the `get_matcher` and `get_store` dependencies (opened once, in the
app's lifespan); tests replace them with `app.dependency_overrides[...]`. Writes need `require_api_key`.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from matcher import Matcher, NotBuiltError
from matcher.batch import proposal_from_row

from .schemas import FeedbackQuery, FeedbackRequest, InstrumentFilter, MatchRequest, TriageRequest
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


@router.post("/v1/match")
def match(body: MatchRequest, matcher: MatcherDep) -> dict[str, Any]:
    return matcher.match(body, top_k=body.top).to_dict()


@router.post("/v1/triage")
def triage(body: TriageRequest, matcher: MatcherDep) -> list[dict[str, Any]]:
    proposals = [proposal_from_row(row, f"proposal {n}", str(n)) for n, row in enumerate(body.proposals, 1)]
    return [r.to_dict() for r in matcher.match_batch(proposals, top_k=body.top)]


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

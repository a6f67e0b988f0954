"""The routes: each checks its input with a model from `schemas` and calls one library function.

The matcher comes from the `get_matcher` dependency (loaded once, in the app's lifespan); tests replace it with
`app.dependency_overrides[get_matcher]`.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from matcher import Matcher, NotBuiltError
from matcher.batch import proposal_from_row

from .schemas import InstrumentFilter, MatchRequest, TriageRequest

router = APIRouter()


def get_matcher(request: Request) -> Matcher:
    matcher: Matcher | None = getattr(request.app.state, "matcher", None)
    if matcher is None:
        raise NotBuiltError("the matcher is not loaded; the service is starting or failed to start")
    return matcher


MatcherDep = Annotated[Matcher, Depends(get_matcher)]


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


@router.get("/health")
def health(request: Request, matcher: MatcherDep) -> dict[str, Any]:
    return {
        "status": "ok",
        "model": matcher.encoder.name,
        "corpus_hash": matcher.corpus.hash,
        "passages": len(matcher.embeddings.passages),
        "instruments": len(matcher.instruments),
        "uptime_s": round(time.monotonic() - request.app.state.started, 1),
    }

"""`GET /v1/gaps`: the gap analysis of `matcher gaps` as JSON, over the bundled demo intake or a stored triage run.

    GET /v1/gaps?as_of=2026-11-30&window_days=60&theme=energy&region=NL-GR
    GET /v1/gaps?run=12          the proposals of triage run 12 (`X-Triage-Run` of the triage that stored it)

The demo proposals come from the loader of `get_demo_intake` (`corpora/projects/demo_intake.csv` of the configured
corpora), a run's from the feedback store, and the weak-match threshold from `get_threshold` (calibrated on the dev
cases once per process); tests override them. Each report is cached in `app.state.gap_cache` (an `LRUCache` of
`GAP_CACHE_SIZE` entries) by source, date, options, threshold and corpus hash: stored runs never change, so a run id
names the same proposals for good. Rate limited like `/v1/match`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from matcher import InputError, Proposal, Settings
from matcher.analysis.calibration import Threshold, load_or_calibrate
from matcher.analysis.gaps import GapOptions, gap_report
from matcher.io.batch import read_proposals
from matcher.pipeline.matcher import DEFAULT_TOP

from .cache import LRUCache
from .ratelimit import rate_limit
from .responses import answers
from .routes import MatcherDep, StoreDep
from .schemas import MAX_ROW_ID, MAX_TOP

router = APIRouter()
DEMO_INTAKE = ("projects", "demo_intake.csv")
GAP_CACHE_SIZE = 32

ProposalLoader = Callable[[], list[Proposal]]
# (source: "demo" or a run id, as_of, options, threshold, corpus hash)
GapKey = tuple[str | int, dt.date, GapOptions, Threshold, str]
GapCache = LRUCache[GapKey, dict[str, Any]]


class GapQuery(BaseModel):
    """Query of `GET /v1/gaps`; `theme` and `region` are checked against the corpus by the analysis."""

    model_config = ConfigDict(extra="forbid")

    run: int | None = Field(
        default=None,
        ge=1,
        le=MAX_ROW_ID,
        description="id of a stored triage run whose proposals to analyse (default: the bundled demo intake)",
    )
    as_of: dt.date | None = None  # default: today
    window_days: int = Field(default=90, ge=0, le=3650)
    theme: str | None = None
    region: str | None = None
    top: int = Field(default=DEFAULT_TOP, ge=1, le=MAX_TOP)


def read_demo_intake() -> list[Proposal]:
    path = Settings.from_env().corpora.joinpath(*DEMO_INTAKE)
    if not path.exists():
        raise InputError(f"{path}: the demo intake is missing; the gap analysis has no proposals to analyse")
    return read_proposals(path)


def get_demo_intake() -> ProposalLoader:
    """How to read the demo intake: called only when the report is not cached."""
    return read_demo_intake


def get_threshold(request: Request, matcher: MatcherDep) -> Threshold:
    """The calibrated weak-match threshold, computed once per process and corpus."""
    cached: dict[str, Threshold] | None = getattr(request.app.state, "gap_thresholds", None)
    if cached is None:
        cached = request.app.state.gap_thresholds = {}
    key = matcher.corpus.hash
    if key not in cached:
        settings = Settings.from_env()
        cached[key] = load_or_calibrate(matcher, settings.dev_cases, settings.artefacts)
    return cached[key]


def new_gap_cache(size: int = GAP_CACHE_SIZE) -> GapCache:
    return LRUCache(size)


def get_gap_cache(request: Request) -> GapCache:
    cache: GapCache = request.app.state.gap_cache  # made by `create_app`
    return cache


@router.get("/v1/gaps", dependencies=[Depends(rate_limit)], responses=answers(404, 422, 429, 503))
def gaps(
    query: Annotated[GapQuery, Query()],
    matcher: MatcherDep,
    store: StoreDep,
    demo_intake: Annotated[ProposalLoader, Depends(get_demo_intake)],
    threshold: Annotated[Threshold, Depends(get_threshold)],
    cache: Annotated[GapCache, Depends(get_gap_cache)],
) -> dict[str, Any]:
    """Gap analysis of a batch of proposals: demand vs open supply, unmet demand, unmatched and closing instruments.

    The batch is the bundled demo intake, or with `run` the proposals of that stored triage run (the id in the
    `X-Triage-Run` header of `POST /v1/triage` and `/v1/triage/upload`, or from `GET /v1/triage/runs`). An unknown
    run answers 404; a run stored before runs kept their proposals answers 422.
    """
    options = GapOptions(
        window_days=query.window_days,
        theme=query.theme,
        region=query.region.upper() if query.region else None,
        top_k=query.top,
    )
    as_of = query.as_of or dt.date.today()
    key: GapKey = ("demo" if query.run is None else query.run, as_of, options, threshold, matcher.corpus.hash)
    report = cache.get(key)
    if report is None:
        proposals = demo_intake() if query.run is None else store.run_proposals(query.run)
        report = gap_report(matcher, proposals, as_of, threshold, options).to_dict()
        cache.put(key, report)
    return report

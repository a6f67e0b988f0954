"""`GET /v1/gaps`: the gap analysis of `matcher gaps` as JSON, over the bundled demo intake or a stored triage run.

    GET /v1/gaps?as_of=2026-11-30&window_days=60&theme=energy&region=NL-GR
    GET /v1/gaps?run=ID          the proposals of a stored triage run (`X-Triage-Run` of the triage that stored it);
                                 needs the API key of the run's organisation (or an admin's), like the run itself

The demo proposals come from the loader of `get_demo_intake` (`corpora/projects/demo_intake.csv` of the configured
corpora), a run's from the feedback store, and the weak-match threshold from `get_threshold` (calibrated on the dev
cases once per process); tests override them. Each report is cached in `app.state.gap_cache` (an `LRUCache` of
`GAP_CACHE_SIZE` entries) by source, date, options, threshold and corpus hash: stored runs never change, so a run id
names the same proposals for good; the caller's access to the run (and that it still exists) is checked before the
cache is asked. Rate limited like `/v1/match`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from matcher import InputError, Proposal, Settings, app
from matcher.app import Threshold
from matcher.records import DEFAULT_TOP

from .cache import LRUCache
from .deps import MatcherDep, SettingsDep, StoreDep
from .ratelimit import rate_limit
from .responses import answers
from .schemas import MAX_TOP, RUN_ID_PATTERN
from .security import NEEDS_KEY, UNAUTHORISED, OptionalCallerDep

router = APIRouter()
DEMO_INTAKE = ("projects", "demo_intake.csv")
GAP_CACHE_SIZE = 32

ProposalLoader = Callable[[], list[Proposal]]
# (source: "demo" or "run:" and a run id, as_of, (window_days, theme, region, top), threshold, corpus hash)
GapKey = tuple[str, dt.date, tuple[int, str | None, str | None, int], Threshold, str]
GapCache = LRUCache[GapKey, dict[str, Any]]


class GapQuery(BaseModel):
    """Query of `GET /v1/gaps`; `theme` and `region` are checked against the corpus by the analysis."""

    model_config = ConfigDict(extra="forbid")

    run: str | None = Field(
        default=None,
        pattern=RUN_ID_PATTERN,
        description="id of a stored triage run whose proposals to analyse (default: the bundled demo intake); "
        "needs the API key of the run's organisation",
    )
    as_of: dt.date | None = None  # default: today
    window_days: int = Field(default=90, ge=0, le=3650)
    theme: str | None = None
    region: str | None = None
    top: int = Field(default=DEFAULT_TOP, ge=1, le=MAX_TOP)


def read_demo_intake(settings: Settings) -> list[Proposal]:
    path = settings.corpora.joinpath(*DEMO_INTAKE)
    if not path.exists():
        raise InputError(f"{path}: the demo intake is missing; the gap analysis has no proposals to analyse")
    return app.read_batch(path)


def get_demo_intake(settings: SettingsDep) -> ProposalLoader:
    """How to read the demo intake of the app's corpora: called only when the report is not cached."""
    return lambda: read_demo_intake(settings)


def get_threshold(matcher: MatcherDep) -> Threshold:
    """The weak-match threshold the matcher flags triage with (calibrated when it was loaded): one value for both."""
    return app.threshold_of(matcher)


def new_gap_cache(size: int = GAP_CACHE_SIZE) -> GapCache:
    return LRUCache(size)


def get_gap_cache(request: Request) -> GapCache:
    cache: GapCache = request.app.state.gap_cache  # made by `create_app`
    return cache


@router.get("/v1/gaps", dependencies=[Depends(rate_limit)], responses=answers(401, 404, 422, 429, 503))
def gaps(
    query: Annotated[GapQuery, Query()],
    caller: OptionalCallerDep,
    matcher: MatcherDep,
    store: StoreDep,
    demo_intake: Annotated[ProposalLoader, Depends(get_demo_intake)],
    threshold: Annotated[Threshold, Depends(get_threshold)],
    cache: Annotated[GapCache, Depends(get_gap_cache)],
) -> dict[str, Any]:
    """Gap analysis of a batch of proposals: demand vs open supply, unmet demand, unmatched and closing instruments.

    The batch is the bundled demo intake, or with `run` the proposals of that stored triage run (the id in the
    `X-Triage-Run` header of `POST /v1/triage` and `/v1/triage/upload`, or from `GET /v1/triage/runs`), which needs
    the API key of its organisation (or an admin's). An unknown run, or one of another organisation, answers 404; a
    run stored before runs kept their proposals answers 422.
    """
    scope = None
    if query.run is not None:
        if caller is None:
            raise HTTPException(401, NEEDS_KEY, headers=UNAUTHORISED)
        scope = caller.scope
        store.check_run(query.run, organisation=scope)  # before the cache: access, and deleted or expired runs
    region = query.region.upper() if query.region else None
    options = (query.window_days, query.theme, region, query.top)
    as_of = query.as_of or dt.date.today()
    source = "demo" if query.run is None else f"run:{query.run}"
    key: GapKey = (source, as_of, options, threshold, matcher.corpus.hash)
    report = cache.get(key)
    if report is None:
        proposals = demo_intake() if query.run is None else store.run_proposals(query.run, organisation=scope)
        found = app.gap_analysis(matcher, proposals, as_of, *options, threshold=threshold)
        report = found.to_dict()
        cache.put(key, report)
    return report

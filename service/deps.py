"""The dependencies every route and page shares: the state `create_app` made, and the matcher slot with its limit.

    >>> @router.post("/v1/match")
    ... async def match(request: Request, body: MatchRequest, matcher: MatcherDep) -> MatchResult:
    ...     return await within_limit(request, app.match, matcher, body.proposal(), top_k=body.top, lang=lang)

Everything here reads `request.app.state`, which `service.app.create_app` fills once; no request reads the
environment. Tests replace a dependency with `app.dependency_overrides[get_matcher] = ...`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from matcher import Matcher, NotBuiltError, Settings
from matcher.text.i18n import DEFAULT_LANGUAGE, LANGUAGES

from .storage import FeedbackStore
from .timeouts import within_limit

__all__ = [
    "MatcherDep",
    "SettingsDep",
    "StoreDep",
    "get_matcher",
    "get_settings",
    "get_store",
    "request_language",
    "within_limit",
]


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


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


SettingsDep = Annotated[Settings, Depends(get_settings)]
MatcherDep = Annotated[Matcher, Depends(get_matcher)]
StoreDep = Annotated[FeedbackStore, Depends(get_store)]


def request_language(request: Request) -> str:
    """The language a request asks for: `?lang=`, else the first of Accept-Language we speak, else Dutch."""
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return str(asked)
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return DEFAULT_LANGUAGE

"""Saved profiles over HTTP: create, list and delete them, and read each one's alerts as an Atom 1.0 feed.

    POST   /v1/watch                   {"name": "kas-robot", "text": "...", "region": "NL-ZH", "top": 10}
    GET    /v1/watch                   the caller's profiles
    DELETE /v1/watch/{name}
    GET    /v1/watch/{name}/feed.atom  rounds opened and deadlines within `days` of its best matches (RFC 4287)

Every route needs `X-API-Key`. A profile belongs to the key that created it: the key's SHA-256 digest is stored as
its owner, so another key gets 404 and no key 401. The profiles live in the service's database file (MATCHER_DB), in
the library's own tables (`matcher.app.WatchStore`, opened in the app's lifespan). The feed shows what
`matcher watch run` would find on the day (new since `?since=`, else the profile's last run, else `days` ago),
records nothing, and gives each instrument round one stable entry id, so a feed reader shows it once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import xml.etree.ElementTree as ET
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Security
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from matcher import Matcher, NotBuiltError, Proposal, app
from matcher.app import Profile, WatchReport, WatchStore

from .deps import MatcherDep, request_language, within_limit
from .i18n import gettext, label
from .ratelimit import rate_limit
from .responses import REASONS, answers
from .schemas import MAX_TOP, Lang
from .security import api_key_header, get_key_digests, require_api_key

router = APIRouter()
ATOM = "http://www.w3.org/2005/Atom"
TAG = "tag:regio-matcher,2026"  # RFC 4151 tag URIs: stable ids that no other feed can mint
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
NAME_PATTERN = r"^[a-z0-9_-]{1,64}$"
# Characters XML 1.0 cannot carry (control characters but tab, newline, carriage return; lone surrogates).
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

ProfileName = Annotated[str, Path(pattern=NAME_PATTERN, description="1-64 characters a-z, 0-9, - and _")]


class AtomResponse(Response):
    media_type = "application/atom+xml"


class WatchRequest(Proposal):
    """`POST /v1/watch`: a profile's name and the proposal it watches (as for `POST /v1/match`, without `id` and
    `as_of`: each run has its own date), and how many of its top matches to watch."""

    name: str = Field(pattern=NAME_PATTERN, description="1-64 characters a-z, 0-9, - and _")
    top: int = Field(default=10, ge=1, le=MAX_TOP)

    @model_validator(mode="after")
    def _no_id_or_date(self) -> WatchRequest:
        given = {"id", "as_of"} & self.model_fields_set
        if given:
            raise ValueError(f"a profile has no {' or '.join(sorted(given))}: its name names it, each run dates it")
        return self

    def proposal(self) -> Proposal:
        return Proposal.model_validate(self.model_dump(exclude={"name", "top", "id", "as_of"}) | {"id": self.name})


class ProfileBody(BaseModel):
    name: str
    text: str
    region: str | None
    applicant_type: str | None
    budget_eur: float | None
    trl: int | None
    partners: int | None
    stage: str | None
    top: int
    created_at: str
    updated_at: str
    last_run: dt.date | None


class FeedQuery(BaseModel):
    """Query of the feed: the day (default today), since when (default the last run), the deadline window."""

    model_config = ConfigDict(extra="forbid")

    as_of: dt.date | None = None
    since: dt.date | None = None
    days: int = Field(default=14, ge=0, le=3650)
    lang: Lang | None = None  # default: the request's Accept-Language, else Dutch


def get_watch_store(request: Request) -> WatchStore:
    store: WatchStore | None = getattr(request.app.state, "watch_store", None)
    if store is None:
        raise NotBuiltError("the profile store is not open; the service is starting or failed to start")
    return store


def key_owner(
    digests: Annotated[tuple[str, ...], Depends(get_key_digests)],
    key: Annotated[str | None, Security(api_key_header)] = None,
) -> str:
    """The owner of the caller's profiles: the SHA-256 digest of a valid API key (401 without one, 503 when none are
    configured)."""
    require_api_key(digests, key)  # 503 without keys configured, 401 without a valid key
    return hashlib.sha256((key or "").encode("utf-8")).hexdigest()  # `key` is set: it was accepted


WatchStoreDep = Annotated[WatchStore, Depends(get_watch_store)]
OwnerDep = Annotated[str, Depends(key_owner)]


def profile_json(profile: Profile) -> dict[str, Any]:
    fields = profile.proposal.model_dump(mode="json", exclude={"id", "as_of"})
    last = profile.last_run.isoformat() if profile.last_run else None
    times = {"created_at": profile.created_at, "updated_at": profile.updated_at, "last_run": last}
    return {"name": profile.name, **fields, "top": profile.top, **times}


@router.post(
    "/v1/watch",
    status_code=201,
    response_model=None,
    responses={201: {"model": ProfileBody}, **answers(400, 401, 413, 422, 503)},
)
def save_profile(body: WatchRequest, owner: OwnerDep, store: WatchStoreDep) -> dict[str, Any]:
    """Create the caller's profile `name`, or replace it (a replaced profile starts again, with no last run)."""
    return profile_json(store.save(owner, body.name, body.proposal(), body.top))


@router.get("/v1/watch", response_model=None, responses={200: {"model": list[ProfileBody]}, **answers(401, 503)})
def list_profiles(owner: OwnerDep, store: WatchStoreDep) -> list[dict[str, Any]]:
    return [profile_json(p) for p in store.list(owner)]


@router.delete("/v1/watch/{name}", status_code=204, response_class=Response, responses=answers(401, 404, 422, 503))
def delete_profile(name: ProfileName, owner: OwnerDep, store: WatchStoreDep) -> Response:
    store.remove(owner, name)
    return Response(status_code=204)


# The errors stay JSON (`ErrorBody`): documented by reference, since `answers` would file them under the feed's type.
ERROR_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
FEED_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/atom+xml": {"schema": {"type": "string"}}}, "description": "an Atom 1.0 feed"},
    **{code: {"description": REASONS[code], "content": ERROR_BODY} for code in (401, 404, 422, 429, 503)},
}


@router.get(
    "/v1/watch/{name}/feed.atom",
    dependencies=[Depends(rate_limit)],
    response_class=AtomResponse,
    responses=FEED_ANSWERS,
)
async def profile_feed(
    request: Request,
    name: ProfileName,
    query: Annotated[FeedQuery, Query()],
    owner: OwnerDep,
    store: WatchStoreDep,
    matcher: MatcherDep,
) -> AtomResponse:
    """The profile's alerts as an Atom feed: one entry per instrument round that is news (a round opened since the
    last run or `since`, or a deadline within `days`), best match first; reading it records nothing."""
    profile = store.get(owner, name)
    as_of = query.as_of or dt.date.today()
    lang = query.lang or request_language(request)
    report = await within_limit(request, _report, matcher, profile, as_of, query.since, query.days, lang)
    return AtomResponse(atom_feed(report, owner, str(request.url.replace(query="")), lang))


def _report(
    matcher: Matcher, profile: Profile, as_of: dt.date, since: dt.date | None, days: int, lang: str
) -> WatchReport:
    return app.watch_reports(matcher, [profile], as_of, since, days, lang)[0]


def atom_feed(report: WatchReport, owner: str, self_url: str, lang: str = "en") -> bytes:
    """The report as an Atom 1.0 document (RFC 4287): feed id, title, updated, author, a self link, and per item an
    entry with a stable id (`tag:` URI of the instrument and round), title, updated, a link to the source and a
    summary. Text is escaped by ElementTree; characters XML cannot carry are dropped."""
    feed = ET.Element("feed", {"xmlns": ATOM, XML_LANG: lang})
    digest = hashlib.sha256(f"{owner}:{report.profile}".encode()).hexdigest()[:16]
    _text(feed, "id", f"{TAG}:watch/{digest}/{report.profile}")
    _text(feed, "title", f"regio-matcher: {report.profile}")
    _text(feed, "subtitle", gettext(lang, "watch.feed.subtitle", since=report.since.isoformat(), days=report.days))
    days = [i.noticed for i in report.items] or [report.as_of]
    _text(feed, "updated", _stamp(max(days)))
    _text(ET.SubElement(feed, "author"), "name", "regio-matcher")
    ET.SubElement(feed, "link", {"rel": "self", "type": "application/atom+xml", "href": self_url})
    ET.SubElement(feed, "generator").text = "regio-matcher"
    for item in report.items:
        entry = ET.SubElement(feed, "entry")
        _text(entry, "id", f"{TAG}:{item.instrument_id}/{item.round_key}")
        _text(entry, "title", f"{item.name} ({item.instrument_id})")
        _text(entry, "updated", _stamp(item.noticed))
        ET.SubElement(entry, "link", {"rel": "alternate", "href": _clean(item.source_url)})
        when = f"{item.opens or '...'} - {item.closes or '...'}"
        fits = label(lang, "eligibility", item.eligibility)
        summary = gettext(
            lang, "watch.feed.summary", why=item.why(lang), round=when, score=f"{item.score:.2f}", fits=fits
        )
        _text(entry, "summary", summary).set("type", "text")
        for kind in item.kinds:
            ET.SubElement(entry, "category", {"term": kind})
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return body


def _text(parent: ET.Element, tag: str, value: str) -> ET.Element:
    child = ET.SubElement(parent, tag)
    child.text = _clean(value)
    return child


def _clean(value: str) -> str:
    return NOT_XML.sub("", value)


def _stamp(day: dt.date) -> str:
    """An RFC 3339 date-time (Atom's `updated`): midnight UTC of the day."""
    return f"{day.isoformat()}T00:00:00Z"

"""The web pages, server-rendered from `templates/`: the applicant page (`/`) and the adviser page (`/adviser`).

    GET  /                 the applicant form; with `?text=...` (and the other fields) also the results
    POST /                 the form posted: results, or the form again with its errors (422)
    GET  /adviser          the upload form for triage
    POST /adviser          a CSV or JSONL file posted: the triage table, with a CSV download of the same rows; with
                           the API key typed in the form's password field the run is stored like
                           `POST /v1/triage/upload` with a key and its id shown (and sent in `X-Triage-Run`);
                           without one the table is shown and nothing is stored

The pages call the library as the JSON routes do (`get_matcher`, `read_upload`, `store_run`, `matches_csv`) and run
under the same per-client `rate_limit`, matcher slot and time limit (`within_limit`; past it a 503 page). Interface
strings and the results' sentences come from the message catalogues
(`service.i18n`; templates call `_("nav.applicant")`): Dutch by default, English with `?lang=en` (remembered in a
cookie). Feedback from the adviser page goes to `POST /v1/feedback` from `static/app.js`,
with the API key the adviser types in (kept in the tab's sessionStorage); without JavaScript the table still renders.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import anyio
from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates
from jinja2 import FileSystemLoader, select_autoescape
from pydantic import BaseModel, ValidationError

from matcher import InputError, Matcher, MatchResult, __version__, app
from matcher.records import APPLICANT_TYPES
from matcher.records.amounts import AmountError

from .deps import MatcherDep, StoreDep, within_limit
from .export import matches_csv
from .i18n import DEFAULT_LANGUAGE, LANGUAGES, environment, fact_value, gettext, label
from .ratelimit import RateLimiter, get_limiter, rate_limit
from .responses import RUN_HEADER
from .routes import store_run, triage_in_slot
from .schemas import MAX_PROPOSALS, MAX_TOP, MatchRequest, UploadQuery
from .security import ApiKey, Caller, caller_of, get_api_keys
from .timeline import timeline
from .uploads import read_upload

router = APIRouter(include_in_schema=False)
HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"

LANG_COOKIE = "lang"
LANG_COOKIE_AGE = 365 * 24 * 3600
ADVISER_TOP = 5
EXCERPT_CHARS = 160
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)

LimiterDep = Annotated[RateLimiter, Depends(get_limiter)]
KeysDep = Annotated[tuple[ApiKey, ...], Depends(get_api_keys)]


class ApplicantForm(BaseModel):
    """The applicant form as typed: every field a string, '' when left empty; `proposal` checks it."""

    text: str = ""
    region: str = ""
    applicant_type: str = ""
    budget_eur: str = ""
    trl: str = ""
    partners: str = ""
    as_of: str = ""

    def filled(self) -> dict[str, str]:
        return {k: v for k, v in self.model_dump().items() if v.strip()}

    def request(self) -> MatchRequest:
        """The match request, checked by the library's own rules; raises `ValidationError`."""
        data: dict[str, Any] = {k: v.strip() for k, v in self.filled().items()}
        data["text"] = self.text  # an empty text is the library's error to report, not a missing field
        return MatchRequest.model_validate(data)


FormError = tuple[str, str]  # (field, message in the page's language)


def form_errors(exc: ValidationError, values: Mapping[str, str], lang: str) -> list[FormError]:
    """One message per problem, naming the field by its label on the page."""
    out = []
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else "text"
        out.append((field, form_error(err, field, values.get(field, ""), lang)))
    return out


def form_error(err: Any, field: str, value: str, lang: str) -> str:
    kind, ctx = err["type"], err.get("ctx", {})
    shown = value if len(value) <= 40 else value[:37] + "..."
    fill = {"field": label(lang, "field", field), "value": shown}
    if field in ("region", "applicant_type") or kind in ("literal_error", "enum"):
        return gettext(lang, "error.choice", **fill)
    if field == "text" and kind == "value_error":
        return gettext(lang, "error.text_empty", **fill)
    if field == "budget_eur" and isinstance(ctx.get("error"), AmountError):
        return amount_error(ctx["error"], fill, lang)
    if kind == "missing":
        return gettext(lang, "error.required", **fill)
    if kind == "string_too_long":
        return gettext(lang, "error.too_long", **fill, limit=str(ctx.get("max_length", "")))
    if kind in ("float_parsing", "float_type", "finite_number"):
        return gettext(lang, "error.number", **fill)
    if kind in ("int_parsing", "int_from_float", "int_type"):
        return gettext(lang, "error.whole_number", **fill)
    if kind in ("greater_than_equal", "greater_than"):
        return gettext(lang, "error.at_least", **fill, limit=shown_number(ctx.get("ge", ctx.get("gt"))))
    if kind in ("less_than_equal", "less_than"):
        return gettext(lang, "error.at_most", **fill, limit=shown_number(ctx.get("le", ctx.get("lt"))))
    if kind.startswith(("date", "datetime")):
        return gettext(lang, "error.date", **fill)
    return gettext(lang, "error.invalid", **fill, detail=err["msg"])


def amount_error(amount: AmountError, fill: dict[str, str], lang: str) -> str:
    """The page's words for an amount the library could not read (`records.amounts`)."""
    if amount.code == "negative":
        return gettext(lang, "error.amount.negative", **fill)
    if amount.code == "ambiguous":
        return gettext(lang, "error.amount.ambiguous", **fill, **amount.params)
    if amount.code == "unit":
        return gettext(lang, "error.amount.unit", **fill, **amount.params)
    return gettext(lang, "error.amount.malformed", **fill)


def shown_number(value: object) -> str:
    """`0.0` -> `'0'`: limits of float fields are whole numbers, shown without a decimal point."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


# -- rendering -------------------------------------------------------------------------------------------------------
@functools.cache
def templates(lang: str) -> Jinja2Templates:
    """The templates with `_()` in `lang` (Jinja2's i18n extension): one environment per language, made on first use."""
    loader = FileSystemLoader(HERE / "templates")
    return Jinja2Templates(env=environment(loader, lang, autoescape=select_autoescape()))


def page_language(request: Request) -> str:
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return str(asked)
    remembered = request.cookies.get(LANG_COOKIE)
    return remembered if remembered in LANGUAGES else DEFAULT_LANGUAGE


def switch_url(request: Request, lang: str) -> str:
    """The same page in the other language. A filled-in form goes with it in the body of a POST (the page's
    `switch_keep`), never in the link: a proposal in a URL ends up in server logs and browser history."""
    other = "en" if lang == "nl" else "nl"
    return f"{request.scope.get('root_path', '')}{request.url.path}?{urlencode({'lang': other})}"


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    status: int = 200,
    keep: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    lang = page_language(request)
    base = {
        "lang": lang,
        "label": lambda prefix, code: label(lang, prefix, code),
        "fact_value": lambda field, value: fact_value(lang, field, value),
        "root": request.scope.get("root_path", ""),
        "version": __version__,
        "switch_url": switch_url(request, lang),
        "switch_keep": dict(keep or {}),
        "page": template.removesuffix(".html"),
        "errors": [],
    } | context
    base["error_fields"] = {field for field, _ in base["errors"]}
    response = templates(lang).TemplateResponse(request, template, base, status_code=status)
    response.headers.update({"Content-Security-Policy": CSP, **(headers or {})})
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=LANG_COOKIE_AGE, samesite="lax")
    return response


def limited(request: Request, limiter: RateLimiter) -> Response | None:
    """The page answer of `rate_limit` when the client is over the limit (429, Retry-After); None otherwise."""
    try:
        rate_limit(request, limiter)
    except HTTPException as exc:
        wait = (exc.headers or {}).get("Retry-After", "60")
        message = gettext(page_language(request), "error.rate", limit=wait)
        return render(request, "error.html", {"message": message}, status=exc.status_code, headers=exc.headers)
    return None


def busy(request: Request, exc: HTTPException) -> Response:
    """The page answer of a request past its time limit (503 with Retry-After), instead of the API's JSON."""
    return render(request, "error.html", {"message": str(exc.detail)}, status=exc.status_code, headers=exc.headers)


def region_choices(matcher: Matcher, lang: str) -> list[tuple[str, str]]:
    regions = [(r.code, (r.name_en if lang == "en" and r.name_en else r.name)) for r in matcher.corpus.regions]
    return sorted(regions, key=lambda r: r[1])


# -- the applicant page ----------------------------------------------------------------------------------------------
def applicant(
    request: Request, matcher: Matcher, form: ApplicantForm, errors: list[FormError], result: MatchResult | None
) -> Response:
    lang = page_language(request)
    day = dt.date.fromisoformat(form.as_of) if result is not None and form.as_of.strip() else dt.date.today()
    context = {
        "form": form,
        "errors": errors,
        "result": result,
        "timeline": timeline(result, matcher.corpus, day) if result is not None else None,
        "regions": region_choices(matcher, lang),
        "applicant_types": APPLICANT_TYPES,
    }
    return render(request, "applicant.html", context, status=422 if errors else 200, keep=form.filled())


async def run_form(request: Request, matcher: Matcher, limiter: RateLimiter, form: ApplicantForm) -> Response:
    try:
        body = form.request()
    except ValidationError as exc:
        return applicant(request, matcher, form, form_errors(exc, form.model_dump(), page_language(request)), None)
    over = limited(request, limiter)
    if over is not None:
        return over
    lang = page_language(request)
    try:  # in the matcher slot and within the time limit, as POST /v1/match
        result = await within_limit(request, app.match, matcher, body.proposal(), top_k=body.top, lang=lang)
    except HTTPException as exc:
        return busy(request, exc)
    return applicant(request, matcher, form, [], result)


@router.get("/")
async def applicant_page(
    request: Request, form: Annotated[ApplicantForm, Query()], matcher: MatcherDep, limiter: LimiterDep
) -> Response:
    if "text" not in request.query_params:
        return applicant(request, matcher, form, [], None)
    return await run_form(request, matcher, limiter, form)


@router.post("/")
async def applicant_submit(
    request: Request, form: Annotated[ApplicantForm, Form()], matcher: MatcherDep, limiter: LimiterDep
) -> Response:
    return await run_form(request, matcher, limiter, form)


# -- the adviser page ------------------------------------------------------------------------------------------------
def adviser(
    request: Request,
    top: str,
    errors: list[FormError],
    triage: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    status: int | None = None,
) -> Response:
    context = {"top": top, "errors": errors, "max_top": MAX_TOP, "max_proposals": MAX_PROPOSALS, "triage": triage}
    shown = status or (422 if errors else 200)
    return render(request, "adviser.html", context, status=shown, headers=headers)


def page_caller(key: str, keys: tuple[ApiKey, ...], lang: str) -> Caller | FormError | None:
    """The caller of the key typed in the adviser form, None when it was left empty, or the form error to show."""
    if not key.strip():
        return None
    try:
        return caller_of(key.strip(), keys)
    except HTTPException as exc:
        field = gettext(lang, "field.store_key")
        if exc.status_code == 503:
            return ("api_key", gettext(lang, "error.api_key_disabled", field=field))
        return ("api_key", gettext(lang, "error.api_key", field=field))


@router.get("/adviser")
def adviser_page(request: Request) -> Response:
    return adviser(request, str(ADVISER_TOP), [])


@router.post("/adviser")
async def adviser_upload(
    request: Request,
    matcher: MatcherDep,
    store: StoreDep,
    limiter: LimiterDep,
    keys: KeysDep,
    file: Annotated[UploadFile | None, File()] = None,
    top: Annotated[str, Form()] = str(ADVISER_TOP),
    api_key: Annotated[str, Form()] = "",
) -> Response:
    lang = page_language(request)
    try:
        query = UploadQuery.model_validate({"top": top.strip()})
    except ValidationError as exc:
        return adviser(request, top, form_errors(exc, {"top": top}, lang))
    caller = page_caller(api_key, keys, lang)
    if isinstance(caller, tuple):  # a key that is typed in must be valid: checked before any work
        return adviser(request, top, [caller], status=401 if keys else 503)
    if file is None or not file.filename:
        return adviser(request, top, [("file", gettext(lang, "error.file_missing", field=gettext(lang, "field.file")))])
    over = limited(request, limiter)
    if over is not None:
        return over
    name, data = file.filename, await file.read()
    try:  # read and counted outside the matcher slot, then matched a chunk per turn in it, like the upload route
        proposals = await anyio.to_thread.run_sync(read_upload, data, name)
        results = await triage_in_slot(request, matcher, proposals, query.top, lang)
    except InputError as exc:
        return adviser(request, top, [("file", gettext(lang, "error.file", detail=str(exc)))])
    except HTTPException as exc:  # past the time limit: the page says so, with the API's message and Retry-After
        return busy(request, exc)
    run, _ = await anyio.to_thread.run_sync(store_run, store, caller, name, query.top, proposals, results)
    triage = {
        "run_id": None if run is None else run.id,
        "name": file.filename,
        "rows": [
            (p, p.text[:EXCERPT_CHARS] + ("…" if len(p.text) > EXCERPT_CHARS else ""), r)
            for p, r in zip(proposals, results, strict=True)
        ],
        "csv_href": "data:text/csv;charset=utf-8," + quote(matches_csv(results)),
        "csv_name": f"triage-{dt.date.today().isoformat()}.csv",
    }
    return adviser(request, top, [], triage, headers=None if run is None else {RUN_HEADER: run.id})

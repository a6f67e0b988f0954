"""Open and forthcoming EU Funding & Tenders topics from the portal's public search API (SEDIA), as topic objects
for the existing importer (`importers.ft_topics`), written to `ft-topics.yaml` in a folder replaced whole.

    >>> search = FtSearch()                      # tests: FtSearch(transport=httpx.MockTransport(handler))
    >>> result = refresh_ft_topics(Path("imported"), dt.date.today(), search, themes=corpus.themes,
    ...                            programmes=corpus.mappings.ft_programmes, parents=corpus.mappings.ft_parents)
    >>> print(result.changes.summary())

The request is the one the portal's own search page sends: `POST .../rest/search?apiKey=SEDIA&text=***&pageSize=N
&pageNumber=P` with the parts `query` (an Elasticsearch bool query on `type` and `status`), `languages` and `sort`
as JSON files. The answer is `{"totalResults": n, "results": [{"reference": ..., "metadata": {field: [values]}}]}`;
each metadata value is a list (of one string, mostly), and `actions` and `budgetOverview` are JSON text inside it.
`topic_of` maps one result onto the fields the importer reads, as the harvest of ../shared/data/eu-ft-calls-2026
did (see tests/data/refresh/README.md for the sources of the format).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from matcher.io.importers import TOPICS_FILE, import_ft_topics, write_instruments
from matcher.io.refresh.changes import RefreshResult, compare
from matcher.io.refresh.folder import previous_records, staged_folder
from matcher.io.refresh.http import ATTEMPTS, BACKOFF_S, RefreshError, http_client, send
from matcher.records import FtProgramme, Theme

SEARCH_URL = "https://api.tech.ec.europa.eu/search-api/prod/rest/search"
API_KEY = "SEDIA"  # the portal's public key, sent by its own search page
RAW_FILE = "ft-topics.jsonl"  # the topic objects fetched, kept beside the instruments (`matcher import` reads it)
PORTAL_TOPIC = "https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/opportunities/topic-details/"
# Result types 1 (grants: topics) and 2 (calls for proposals); status 31094501 forthcoming, 31094502 open.
QUERY: dict[str, Any] = {
    "bool": {"must": [{"terms": {"type": ["1", "2"]}}, {"terms": {"status": ["31094501", "31094502"]}}]}
}
SORT = {"field": "startDate", "order": "DESC"}
STATUS = {"31094501": "forthcoming", "31094502": "open", "31094503": "closed"}
# The portal's programme ids (`frameworkProgramme`) with the names `ft_programmes` in corpora/mappings.yaml uses.
PROGRAMMES = {
    "43108390": "Horizon Europe",
    "43298916": "Euratom",
    "43252405": "LIFE",
    "43152860": "Digital Europe",
    "43251567": "Connecting Europe Facility",
    "43253967": "Renewable Energy FM",
    "44181033": "European Defence Fund",
    "43252449": "RFCS",
    "44416173": "Interregional Innovation",
    "43252476": "Single Market Programme",
    "43254019": "ESF+",
    "43353764": "Erasmus+",
    "43251589": "CERV",
    "43252386": "Justice",
    "111111": "EU External Action - Prospect (RELEX-PROSPECT)",
    "43392145": "EMFAF",
    "43251814": "Creative Europe",
    "43089234": "Innovation Fund",
    "43332642": "EU4Health",
    "43252368": "ISF",
    "45532249": "EU Agencies",
    "43252433": "Pericles IV",
    "43637601": "Pilot Projects & Preparatory Actions",
    "46324255": "Technical assistance for ERDF, CF and JTF (ERDF-TA)",
}


class FtSearch:
    """The search API, page by page. Settings only here; `results()` does the requests.

    `transport` is the test seam (an `httpx.MockTransport`); `max_pages` stops a query that would need more pages
    (nothing is written then, rather than a partial corpus whose missing topics would read as closed).
    """

    def __init__(
        self,
        transport: httpx.BaseTransport | None = None,
        page_size: int = 100,
        max_pages: int = 50,
        timeout_s: float = 60.0,
        attempts: int = ATTEMPTS,
        backoff_s: float = BACKOFF_S,
    ) -> None:
        self.transport = transport
        self.page_size = page_size
        self.max_pages = max_pages
        self.timeout_s = timeout_s
        self.attempts = attempts
        self.backoff_s = backoff_s

    def results(self) -> list[dict[str, Any]]:
        """Every result of the query, each once (the API repeats rows across pages); RefreshError on failure."""
        with http_client(self.transport, self.timeout_s) as client:
            total, results = self._page(client, 1)
            size = len(results) or self.page_size  # the service may give fewer per page than asked
            pages = math.ceil(total / size)
            if pages > self.max_pages:
                raise RefreshError(
                    f"{SEARCH_URL}: {total} results make {pages} pages of {size}, more than the maximum of "
                    f"{self.max_pages} (--max-pages)"
                )
            for number in range(2, pages + 1):
                _, more = self._page(client, number)
                if not more:
                    break
                results += more
        seen: dict[str, dict[str, Any]] = {}
        for r in results:
            seen.setdefault(str(r.get("reference") or id(r)), r)
        return list(seen.values())

    def request(self, client: httpx.Client, number: int) -> httpx.Request:
        params: dict[str, str | int] = {
            "apiKey": API_KEY,
            "text": "***",
            "pageSize": self.page_size,
            "pageNumber": number,
        }
        parts = {"query": QUERY, "languages": ["en"], "sort": SORT}
        files = {name: ("blob", json.dumps(value), "application/json") for name, value in parts.items()}
        return client.build_request("POST", SEARCH_URL, params=params, files=files)

    def _page(self, client: httpx.Client, number: int) -> tuple[int, list[dict[str, Any]]]:
        request = self.request(client, number)
        response = send(client, request, self.attempts, self.backoff_s)
        return parse_page(response.content, str(request.url))


def parse_page(content: bytes, url: str) -> tuple[int, list[dict[str, Any]]]:
    """(totalResults, results) of one answer; RefreshError naming `url` when it is not in the search API's format."""
    try:
        body = json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise RefreshError(f"{url}: the answer is not JSON (starts {content[:60]!r})") from None
    expected = "an object with 'totalResults' (a number) and 'results' (a list of objects)"
    if not isinstance(body, dict) or not isinstance(body.get("results"), list):
        raise RefreshError(f"{url}: not the search API's format: expected {expected}")
    total = body.get("totalResults")
    if isinstance(total, bool) or not isinstance(total, int | str) or not str(total).isdigit():
        raise RefreshError(f"{url}: not the search API's format: totalResults is {total!r}; expected {expected}")
    results = body["results"]
    bad = next((n for n, r in enumerate(results, 1) if not isinstance(r, dict)), None)
    if bad is not None:
        raise RefreshError(f"{url}: not the search API's format: result {bad} is not an object; expected {expected}")
    return int(total), results


def _values(meta: Mapping[str, Any], key: str) -> list[str]:
    value = meta.get(key)
    values = value if isinstance(value, list) else [value]
    return [str(v).strip() for v in values if v is not None and str(v).strip()]


def _first(meta: Mapping[str, Any], key: str) -> str:
    return next(iter(_values(meta, key)), "")


def _json(meta: Mapping[str, Any], key: str) -> Any:
    text = _first(meta, key)
    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError:
        return None


def _deadline(meta: Mapping[str, Any], as_of: dt.date) -> str:
    """The next deadline on or after `as_of` among the topic's cut-offs, else the last one ('' when none)."""
    raw: list[Any] = []
    actions = _json(meta, "actions")
    for action in actions if isinstance(actions, list) else []:
        if isinstance(action, dict) and isinstance(action.get("deadlineDates"), list):
            raw += action["deadlineDates"]
    raw += _values(meta, "deadlineDate")
    dates = set()
    for value in raw:
        try:
            dates.add(dt.date.fromisoformat(str(value)[:10]))
        except ValueError:
            continue
    upcoming = sorted(d for d in dates if d >= as_of)
    chosen = upcoming[0] if upcoming else max(dates, default=None)
    return chosen.isoformat() if chosen else ""


def _budget(meta: Mapping[str, Any], identifier: str) -> dict[str, Any]:
    """budgetMin, budgetMax and expectedGrants of the topic's own line of its call's budget overview (the line whose
    action starts with '<identifier> - '); absent when no line is the topic's or its amounts are zero."""
    overview = _json(meta, "budgetOverview")
    lines = overview.get("budgetTopicActionMap") if isinstance(overview, dict) else None
    prefix = f"{identifier} - ".upper()
    for entries in lines.values() if isinstance(lines, dict) else []:
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict) and str(entry.get("action", "")).upper().startswith(prefix):
                low, high = entry.get("minContribution"), entry.get("maxContribution")
                if not low and not high:
                    return {}
                return {"budgetMin": low, "budgetMax": high, "expectedGrants": entry.get("expectedGrants")}
    return {}


def topic_of(result: Mapping[str, Any], as_of: dt.date) -> dict[str, Any]:
    """One search result as the topic object `import_ft_topics` reads; fields the answer lacks stay empty."""
    meta = result.get("metadata")
    meta = meta if isinstance(meta, dict) else result  # a few results carry their fields at the top level
    identifier = _first(meta, "identifier")
    programme_ids = _values(meta, "frameworkProgramme")
    programme_id = next((p for p in programme_ids if p in PROGRAMMES), next(iter(programme_ids), ""))
    keywords = _values(meta, "keywords")
    objectives = " ".join(filter(None, [_first(meta, "destinationDescription"), _first(meta, "destinationDetails")]))
    topic: dict[str, Any] = {
        "reference": str(result.get("reference") or ""),
        "topicId": identifier,
        "title": _first(meta, "title") or str(result.get("summary") or ""),
        "programme": PROGRAMMES.get(programme_id, ""),
        "programmeId": programme_id,
        "callIdentifier": _first(meta, "callIdentifier"),
        "callTitle": _first(meta, "callTitle"),
        "deadline": _deadline(meta, as_of),
        "deadlineModel": _first(meta, "deadlineModel"),
        "callStatus": STATUS.get(_first(meta, "status"), ""),
        "keywords": ", ".join(keywords[:10]),
        "portalUrl": PORTAL_TOPIC + identifier.lower() if identifier else "",
        "description": _first(meta, "descriptionByte"),
        "objectives": objectives,
        "typesOfAction": _first(meta, "typesOfAction"),
        "topicConditions": _first(meta, "topicConditions"),
    }
    return topic | _budget(meta, identifier)


def refresh_ft_topics(
    out: Path,
    as_of: dt.date,
    search: FtSearch,
    themes: Sequence[Theme] = (),
    *,
    programmes: Mapping[str, FtProgramme],
    parents: Mapping[str, str | None] | None = None,
) -> RefreshResult:
    """Fetch the topics, import them and replace `out/ft-topics.yaml` (with `out/ft-topics.jsonl`, the topics as
    fetched); the rest of `out` is kept. Nothing is written when the fetch fails or no topic can be imported."""
    before = previous_records(out / TOPICS_FILE)
    topics = [topic_of(r, as_of) for r in search.results()]
    with staged_folder(out) as stage:
        raw = stage / RAW_FILE
        raw.write_text("".join(json.dumps(t, ensure_ascii=False) + "\n" for t in topics), encoding="utf-8")
        instruments, report = import_ft_topics(raw, as_of, False, themes, programmes=programmes, parents=parents)
        if not instruments:
            reasons = ", ".join(f"{reason}: {n}" for reason, n in sorted(report.reasons().items()))
            raise RefreshError(f"{SEARCH_URL}: {len(topics)} results, none could be imported ({reasons or 'none'})")
        write_instruments(stage / TOPICS_FILE, instruments)
    problems = [f"{out / RAW_FILE}:{p.line}: {p.reason}: {p.detail}" for p in report.problems]
    return RefreshResult(
        out / TOPICS_FILE,
        len(topics),
        len(instruments),
        compare("ft-topics", before, instruments),
        report.reasons(),
        problems,
    )

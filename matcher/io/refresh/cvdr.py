"""Provincial and municipal subsidy schemes from CVDR (Centrale Voorziening Decentrale Regelgeving), through the
official SRU search service, as instruments in `cvdr.yaml` in a folder replaced whole.

    >>> search = CvdrSearch(creators=["Gelderland"])   # tests: CvdrSearch(transport=httpx.MockTransport(handler))
    >>> result = refresh_cvdr(Path("imported"), dt.date.today(), search, themes=corpus.themes, places=corpus.places)

The request: `GET https://zoekservice.overheid.nl/sru/Search?x-connection=cvdr&operation=searchRetrieve&version=1.2
&query=CQL&maximumRecords=N&startRecord=S`, page by page; `cvdr_records` reads the answers.

A regulation (a CVDR work: `CVDR357364`, its versions `CVDR357364_1`, `_2`, ...) becomes an instrument when its title
says it is a subsidy scheme and its organisation is a province or municipality: level `provincial`
(`prov-cvdr-<n>`) or `municipal` (`mun-cvdr-<n>`), the province's region (a municipality's by the gazetteer), themes
by keyword hits on the title and subject, our own summary sentence, one criterion pointing to the regulation, and
one round: in force from the first version's `inwerkingtredingDatum` (opens) until the newest version's
`uitwerkingtredingDatum` (closes), open-ended without one. The source is the newest version's page with its date of
issue. Anything the answer does not say (amounts, applicants, conditions) stays empty; regulations no longer in force
on the day, or that fit no theme, are skipped and counted.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from pydantic import ValidationError

from matcher.io.importers import write_instruments
from matcher.io.refresh.changes import RefreshResult, compare
from matcher.io.refresh.cvdr_records import Regulation, parse_page
from matcher.io.refresh.folder import previous_records, staged_folder
from matcher.io.refresh.http import ATTEMPTS, BACKOFF_S, RefreshError, http_client, send
from matcher.records import APPLICANT_TYPES, PROVINCES, Gazetteer, Instrument, Theme
from matcher.records.messages import describe
from matcher.text.places import mentioned_regions
from matcher.text.themes import ThemeTagger, fold

SRU_URL = "https://zoekservice.overheid.nl/sru/Search"
CVDR_FILE = "cvdr.yaml"
# CQL: titles with one of these words (the service matches whole words); --creator narrows to organisations.
QUERY = 'dcterms.title any "subsidieregeling subsidieverordening subsidie subsidies subsidieplafond"'
SUBSIDY = re.compile(r"subsidie")  # in the folded title: subsidieregeling, Subsidieverordening, subsidie voor ...
MAX_THEMES = 4
CRITERION = "Voorwaarden, doelgroep en bedragen: zie de regeling {work} op lokaleregelgeving.overheid.nl."

# Reasons a regulation is skipped (counted in the summary).
NOT_SUBSIDY = "title not a subsidy scheme"
NOT_REGIONAL = "not a province or municipality"
NOT_PLACED = "organisation not in the gazetteer"
ENDED = "no longer in force"
NO_DATES = "no dates in force"
NO_THEME = "no theme"
INVALID = "invalid value"


class CvdrSearch:
    """The CVDR SRU service, page by page. Settings only here; `regulations()` does the requests.

    `creators` limits the query to those organisations (`dcterms.creator`, as CVDR spells them: "Gelderland",
    "Rotterdam"); `transport` is the test seam; `max_pages` stops a query that would need more pages.
    """

    def __init__(
        self,
        transport: httpx.BaseTransport | None = None,
        creators: Sequence[str] = (),
        page_size: int = 100,
        max_pages: int = 50,
        timeout_s: float = 60.0,
        attempts: int = ATTEMPTS,
        backoff_s: float = BACKOFF_S,
    ) -> None:
        self.transport = transport
        self.creators = tuple(creators)
        self.page_size = page_size
        self.max_pages = max_pages
        self.timeout_s = timeout_s
        self.attempts = attempts
        self.backoff_s = backoff_s

    def query(self) -> str:
        if not self.creators:
            return QUERY
        unquoted = (c.replace('"', "") for c in self.creators)
        names = " or ".join(f'dcterms.creator="{c}"' for c in unquoted)
        return f"({QUERY}) and ({names})"

    def regulations(self) -> list[Regulation]:
        """Every record of the query; RefreshError naming the URL when a page fails or is not in the SRU format."""
        found: list[Regulation] = []
        start = 1
        with http_client(self.transport, self.timeout_s) as client:
            for _ in range(self.max_pages):
                request = self.request(client, start)
                response = send(client, request, self.attempts, self.backoff_s)
                total, records, next_start = parse_page(response.content, str(request.url))
                if start == 1:
                    self._check_size(total, len(records) or self.page_size)
                found += records
                start = next_start or start + len(records)
                if not records or start > total:
                    return found
        raise RefreshError(f"{SRU_URL}: still more records after {self.max_pages} pages (--max-pages)")

    def _check_size(self, total: int, size: int) -> None:
        pages = math.ceil(total / size)  # the service may give fewer per page than asked
        if pages > self.max_pages:
            raise RefreshError(
                f"{SRU_URL}: {total} records make {pages} pages of {size}, more than the maximum of {self.max_pages}"
                " (narrow the query with --creator, or raise --max-pages)"
            )

    def request(self, client: httpx.Client, start: int) -> httpx.Request:
        params: dict[str, str | int] = {
            "x-connection": "cvdr",
            "operation": "searchRetrieve",
            "version": "1.2",
            "query": self.query(),
            "maximumRecords": self.page_size,
            "startRecord": start,
        }
        return client.build_request("GET", SRU_URL, params=params)


# -- regulations -> instruments -----------------------------------------------------------------------------------
class _Themes:
    def __init__(self, themes: Sequence[Theme]) -> None:
        self.ids = [t.id for t in themes]
        self.tagger = ThemeTagger(themes, np.zeros((len(themes), 1), dtype=np.float32)) if themes else None

    def __call__(self, title: str, subject: str) -> list[str]:
        if self.tagger is None:
            return []
        hits = 3 * self.tagger.keyword_hits(title) + self.tagger.keyword_hits(subject)
        if hits.max() <= 0:
            return []
        order = np.argsort(-hits, kind="stable")
        return [self.ids[i] for i in order[:MAX_THEMES] if hits[i] >= hits.max() / 3]


def _region(creator: str, places: Gazetteer) -> str | None:
    name = re.sub(r"^(gemeente|provincie)\s+", "", creator, flags=re.IGNORECASE)
    found = mentioned_regions(name, places) & PROVINCES.keys()
    return found.pop() if len(found) == 1 else None


def _fields(versions: list[Regulation], region: str, themes: list[str]) -> dict[str, Any]:
    newest = versions[-1]
    level = "provincial" if newest.organisation_type == "provincie" else "municipal"
    kind = "Provincie" if level == "provincial" else "Gemeente"
    organisation = newest.creator if newest.creator.lower().startswith(kind.lower()) else f"{kind} {newest.creator}"
    opens = min((v.in_force for v in versions if v.in_force), default=None)
    title = newest.title.rstrip(". ")
    return {
        "id": f"{'prov' if level == 'provincial' else 'mun'}-cvdr-{newest.work[4:]}",
        "name": newest.title,
        "level": level,
        "administrator": organisation,
        "regions": [region],
        "municipalities": [re.sub(r"^gemeente\s+", "", newest.creator, flags=re.IGNORECASE)]
        if level == "municipal"
        else [],
        "applicant_types": list(APPLICANT_TYPES),  # the answer does not say who may apply
        "instrument_type": "grant",
        "themes": themes,
        "summary": f"Regeling van {organisation}, gepubliceerd in CVDR: {title}.",
        "criteria": [CRITERION.format(work=newest.work)],
        "rounds": [{"opens": opens, "closes": newest.out_of_force}],
        "source": {"url": newest.url, "as_of": newest.issued or newest.modified or opens},
    }


def _skip(versions: list[Regulation], region: str | None, themes: list[str], as_of: dt.date) -> str | None:
    """Why a regulation (its versions, oldest first) does not become an instrument; None when it does."""
    newest = versions[-1]
    if not SUBSIDY.search(fold(newest.title)):
        return NOT_SUBSIDY
    if newest.organisation_type not in ("provincie", "gemeente"):
        return NOT_REGIONAL
    if region is None:
        return NOT_PLACED
    if newest.out_of_force is None and not any(v.in_force for v in versions):
        return NO_DATES
    if newest.out_of_force is not None and newest.out_of_force < as_of:
        return ENDED
    return None if themes else NO_THEME


def regulation_instruments(
    regulations: Sequence[Regulation], as_of: dt.date, themes: Sequence[Theme], places: Gazetteer
) -> tuple[list[Instrument], Counter[str], list[str]]:
    """The instruments of the subsidy schemes of provinces and municipalities in force on `as_of` (one per work),
    the count of regulations skipped per reason, and a line per invalid one."""
    works: dict[str, list[Regulation]] = {}
    for reg in regulations:
        works.setdefault(reg.work, []).append(reg)
    tag = _Themes(themes)
    out: list[Instrument] = []
    skipped: Counter[str] = Counter()
    problems: list[str] = []
    for work, versions in works.items():
        versions = sorted({v.version: v for v in versions}.values(), key=lambda v: v.version)
        newest = versions[-1]
        region = _region(newest.creator, places)
        themes_of = tag(newest.title, newest.subject)
        reason = _skip(versions, region, themes_of, as_of)
        if reason is not None or region is None:
            skipped[reason or NOT_PLACED] += 1
            continue
        try:
            out.append(Instrument.model_validate(_fields(versions, region, themes_of)))
        except ValidationError as exc:
            skipped[INVALID] += 1
            problems.append(f"{newest.url}: {work}: {describe(exc.errors()[0])}")
    return out, skipped, problems


def refresh_cvdr(
    out: Path, as_of: dt.date, search: CvdrSearch, themes: Sequence[Theme] = (), *, places: Gazetteer
) -> RefreshResult:
    """Fetch the regulations, turn the subsidy schemes into instruments and replace `out/cvdr.yaml` (the rest of
    `out` is kept); nothing is written when the fetch fails or no regulation becomes an instrument."""
    before = previous_records(out / CVDR_FILE)
    regulations = search.regulations()
    instruments, skipped, problems = regulation_instruments(regulations, as_of, themes, places)
    if not instruments:
        reasons = ", ".join(f"{reason}: {n}" for reason, n in sorted(skipped.items())) or "no records"
        raise RefreshError(f"{SRU_URL}: {len(regulations)} records, no subsidy scheme to write ({reasons})")
    with staged_folder(out) as stage:
        note = (
            "Written by `matcher refresh cvdr` from the CVDR search service: titles, organisations and dates as "
            "published; summaries and criteria are template sentences of ours."
        )
        write_instruments(stage / CVDR_FILE, instruments, note)
    works = len({r.work for r in regulations})
    changes = compare("cvdr", before, instruments)
    return RefreshResult(out / CVDR_FILE, works, len(instruments), changes, skipped, problems)

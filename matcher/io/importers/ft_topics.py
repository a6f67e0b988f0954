"""EU Funding & Tenders portal topics (JSONL, one topic object per line, as the portal's search API gives them).

Each topic becomes an `Instrument` (level `eu`, id `eu-ft-<topicId as a slug>`): title, programme, call, type of
action, deadline (`closes`), budget range per grant, expected grants, a summary from the description (or the
objectives) and criteria from the topic conditions, all cleaned of HTML and mojibake. The topic is one round
(`recurrence: one_off`) that closes on the deadline, marked `forthcoming` when the portal says so; its status on a
day is derived from that round (`rules.availability`): a passed deadline is closed, a forthcoming call
`expected`, otherwise `open`. Themes come from keyword hits of the taxonomy (title counts more) plus the
programme's theme, and `funds` from the programme's structural-fund family (both from `ft_programmes` in
corpora/mappings.yaml, passed in as `programmes`); applicant types are not restricted (topics are open to legal
entities of any type unless the conditions, kept as criteria, say otherwise).

A topic whose id fits a pattern of `ft_parents` (corpora/mappings.yaml, passed in as `parents`; `*` stands for any
characters, the most specific pattern wins) is a call of that programme instrument (`parent`): the ranking lists it
under its programme.

    >>> instruments, report = import_ft_topics(
    ...     Path("topics.jsonl"), dt.date(2026, 8, 1), themes=corpus.themes, programmes=corpus.mappings.ft_programmes
    ... )
    >>> print(report.summary())
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from matcher.errors import InputError
from matcher.io.importers.clean import clean_text, clip_sentences
from matcher.io.importers.import_report import DUPLICATE, ENCODING, INVALID, MALFORMED, MISSING, ImportReport
from matcher.records import APPLICANT_TYPES, FtProgramme, Instrument, Theme
from matcher.records.messages import describe
from matcher.text.themes import ThemeTagger

REQUIRED = ("topicId", "title", "deadline", "portalUrl")
SUMMARY_CHARS = 1500
CRITERION_CHARS = 300
MAX_THEMES = 4
ADMINISTRATOR = "Europese Commissie (Funding & Tenders-portaal)"
NO_CONDITIONS = "Voorwaarden: zie de topicpagina op het Funding & Tenders-portaal."
# Numbered sections of the conditions text that state eligibility (evaluation and legal set-up are left out).
_SECTION = re.compile(r"(?<![\d/,])(\d{1,2})([a-c]?)\.\s*(?=[A-Z])")
_HEADINGS = re.compile(
    r"^(admissibility (?:and eligibility )?conditions(?:: proposal page limit and layout)?"
    r"|eligible countries|other eligib\w* conditions|financial and operational capacity and exclusion)\s*:?\s*",
    re.IGNORECASE,
)
_END = re.compile(r"(Specific conditions|Call document and annexes|Application and evaluation forms)")
_SLUG = re.compile(r"[^a-z0-9]+")


def topic_instrument_id(topic_id: str) -> str:
    """'HORIZON-CL5-2026-01-D3-01' -> 'eu-ft-horizon-cl5-2026-01-d3-01'."""
    return "eu-ft-" + _SLUG.sub("-", topic_id.lower()).strip("-")


def parent_of(topic_id: str, parents: Mapping[str, str | None]) -> str | None:
    """The programme instrument of a topic: the value of the most specific pattern of `parents` (most characters
    besides `*`) that `topic_id` fits, case-insensitively; None when none fits or the pattern maps to None (the
    topic stays a call of its own).

    >>> parent_of("HORIZON-JU-CBE-2026-IA-01", {"HORIZON-*": "eu-horizon", "HORIZON-JU-CBE-*": "eu-cbe-ju"})
    'eu-cbe-ju'
    """
    code = topic_id.upper()
    fits = [p for p in parents if fnmatch.fnmatchcase(code, p.upper())]
    best = max(fits, key=lambda p: len(p.replace("*", "")), default=None)
    return parents[best] if best is not None else None


def _criteria(conditions: str) -> list[str]:
    text = clean_text(conditions).lstrip("\"'> ")
    end = _END.search(text)
    text = text[: end.start()] if end else text
    # Accept section numbers only in sequence, so "Annex 5." inside section 6 is not a section.
    cuts: list[tuple[int, int]] = []
    expected = 1
    for m in _SECTION.finditer(text):
        number = int(m.group(1))
        if number == expected or (m.group(2) and number == expected - 1):
            cuts.append((m.start(), m.end()))
            expected = number + 1
    items: list[str] = []
    for (_, start), (stop, _) in zip(cuts, [*cuts[1:], (len(text), 0)][: len(cuts)], strict=True):
        body = text[start:stop].strip()
        heading = _HEADINGS.match(body)
        if not heading:
            continue
        content = body[heading.end() :].strip(" .:")
        if not content or content.lower() in ("n/a", "na", "none"):
            continue
        items.append(clip_sentences(f"{heading.group(1)[0].upper()}{heading.group(1)[1:]}: {content}", CRITERION_CHARS))
    return list(dict.fromkeys(items))


def _amount(topic: dict[str, Any], key: str) -> float | None:
    value = topic.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"field '{key}': value {value!r} is not an amount")
    try:
        amount = float(str(value).replace(" ", "").replace("\u00a0", ""))
    except ValueError:
        raise ValueError(f"field '{key}': value {value!r} is not an amount") from None
    if amount < 0 or amount != amount:
        raise ValueError(f"field '{key}': value {value!r} is negative")
    return amount or None  # 0 means "not published"


def _deadline(value: Any) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ValueError(f"field 'deadline': value {value!r} is not a date (YYYY-MM-DD)") from None


def _round(deadline: dt.date, call_status: str) -> dict[str, Any]:
    """The topic's one call window (its source is the topic's): it closes on the deadline; a forthcoming call has not
    opened yet (no opening date given)."""
    return {"closes": deadline, "forthcoming": call_status == "forthcoming"}


class _Themes:
    def __init__(self, themes: Sequence[Theme], programmes: Mapping[str, FtProgramme]) -> None:
        self.ids = [t.id for t in themes]
        self.tagger = ThemeTagger(themes, np.zeros((len(themes), 1), dtype=np.float32)) if themes else None
        self.programmes = programmes

    def __call__(self, title: str, text: str, programme: str) -> list[str]:
        chosen: list[str] = []
        if self.tagger is not None:
            hits = 3 * self.tagger.keyword_hits(title) + self.tagger.keyword_hits(text)
            if hits.max() > 0:
                order = np.argsort(-hits, kind="stable")
                chosen = [self.ids[i] for i in order[:MAX_THEMES] if hits[i] >= hits.max() / 3]
        # The programme's theme comes after the keyword themes; skipped when the taxonomy in use lacks it.
        fallback = self.programmes[programme].theme if programme in self.programmes else None
        if fallback and fallback not in chosen and (not self.ids or fallback in self.ids):
            chosen = [*chosen[: MAX_THEMES - 1], fallback]
        return chosen


def _instrument(
    topic: dict[str, Any],
    as_of: dt.date,
    themes: _Themes,
    programmes: Mapping[str, FtProgramme],
    parents: Mapping[str, str | None],
) -> dict[str, Any]:
    """The Instrument fields of one topic; raises ValueError naming the field when a value cannot be read."""
    title = clean_text(str(topic["title"]))
    programme = clean_text(str(topic.get("programme") or ""))
    # Only the start of long texts is kept: clean that much and no more.
    raw = str(topic.get("description") or "").strip() or str(topic.get("objectives") or "")
    description = clean_text(raw[: 4 * SUMMARY_CHARS])
    call_title = clean_text(str(topic.get("callTitle") or ""))
    summary = (
        clip_sentences(description, SUMMARY_CHARS) if description else ". ".join(filter(None, [title, call_title]))
    )
    deadline = _deadline(topic["deadline"])
    low, high = _amount(topic, "budgetMin"), _amount(topic, "budgetMax")
    if low is not None and high is not None and low > high:
        raise ValueError(f"field 'budgetMin': value {low:.0f} is larger than budgetMax {high:.0f}")
    grants = topic.get("expectedGrants")
    if grants is not None and (isinstance(grants, bool) or not isinstance(grants, int)):
        raise ValueError(f"field 'expectedGrants': value {grants!r} is not a whole number")
    keywords = [k.strip() for k in clean_text(str(topic.get("keywords") or "")).split(",")]
    codes = {str(topic["topicId"]).lower(), str(topic.get("callIdentifier") or "").lower()}
    fields: dict[str, Any] = {
        "id": topic_instrument_id(str(topic["topicId"])),
        "name": title,
        "level": "eu",
        "administrator": ADMINISTRATOR,
        "regions": ["EU"],
        "applicant_types": list(APPLICANT_TYPES),
        "instrument_type": "grant",
        "themes": themes(title, summary, programme) or _no_theme(),
        "summary": summary,
        "criteria": _criteria(str(topic.get("topicConditions") or "")) or [NO_CONDITIONS],
        "keywords": list(dict.fromkeys(k for k in keywords if k and k.lower() not in codes)),
        "min_amount_eur": low,
        "max_amount_eur": high,
        "recurrence": "one_off",
        "rounds": [_round(deadline, str(topic.get("callStatus") or "").lower())],
        "source": {"url": str(topic["portalUrl"]).strip(), "as_of": as_of},
        "programme": programme or None,
        "call_id": clean_text(str(topic.get("callIdentifier") or "")) or None,
        "type_of_action": clean_text(str(topic.get("typesOfAction") or topic.get("actionType") or "")) or None,
        "expected_grants": grants,
        "funds": list(programmes[programme].funds) if programme in programmes else [],
        "parent": parent_of(str(topic["topicId"]), parents),
    }
    return {k: v for k, v in fields.items() if v is not None}


def _no_theme() -> list[str]:
    raise ValueError("field 'themes': no theme of the taxonomy fits the title or summary, nor the programme")


def _schema_problem(exc: ValidationError) -> str:
    return describe(exc.errors()[0])


def import_ft_topics(
    path: Path,
    as_of: dt.date,
    strict: bool = False,
    themes: Sequence[Theme] = (),
    *,
    programmes: Mapping[str, FtProgramme],
    parents: Mapping[str, str | None] | None = None,
) -> tuple[list[Instrument], ImportReport]:
    """Read a topics JSONL export; return the instruments of the good records and a report of the bad ones.

    `themes` is the taxonomy to tag with, `programmes` what each programme adds (`corpus.mappings.ft_programmes`)
    and `parents` the programme instrument of each topic-id prefix (`corpus.mappings.ft_parents`).
    """
    try:
        raw_lines = path.read_bytes().splitlines()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    report = ImportReport(path, "topics")
    tag = _Themes(themes, programmes)
    out: list[Instrument] = []
    seen: dict[str, int] = {}
    for n, raw in enumerate(raw_lines, 1):
        if not raw.strip():
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            report.reject(
                n, ENCODING, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})", strict
            )
            continue
        try:
            topic = json.loads(line)
        except json.JSONDecodeError as exc:
            report.reject(n, MALFORMED, f"not valid JSON: {exc.msg} (column {exc.colno})", strict)
            continue
        if not isinstance(topic, dict):
            report.reject(n, MALFORMED, f"expected a JSON object, got {type(topic).__name__}", strict)
            continue
        missing = [k for k in REQUIRED if not str(topic.get(k) or "").strip()]
        if missing:
            report.reject(
                n, MISSING, f"topic {topic.get('topicId', '?')}: field '{missing[0]}' is missing or empty", strict
            )
            continue
        try:
            inst = Instrument.model_validate(_instrument(topic, as_of, tag, programmes, parents or {}))
        except ValueError as exc:  # pydantic's ValidationError is a ValueError too
            detail = _schema_problem(exc) if isinstance(exc, ValidationError) else str(exc)
            report.reject(n, INVALID, f"topic {topic['topicId']}: {detail}", strict)
            continue
        if inst.id in seen:
            report.reject(n, DUPLICATE, f"topic {topic['topicId']} is also on line {seen[inst.id]}", strict)
            continue
        seen[inst.id] = n
        out.append(inst)
    report.imported = len(out)
    return out, report

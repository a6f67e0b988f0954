"""Explanations: `why` lines and next steps for one match, in the proposal's language (Dutch or English)."""

from __future__ import annotations

from collections.abc import Sequence

from matcher.records import Instrument
from matcher.rules.eligibility import Check
from matcher.text.language import clip, say

FIELD_HINTS = {
    "region": ("regio", "region"),
    "applicant_type": ("type aanvrager", "applicant type"),
    "budget": ("projectbudget", "project budget"),
    "trl": ("technologische rijpheid (TRL)", "technology readiness (TRL)"),
    "partners": ("aantal partners", "number of partners"),
}


def why_lines(
    inst: Instrument,
    shared_themes: Sequence[str],
    closest_passage: str | None,
    shared_terms: Sequence[str],
    checks: Sequence[Check],
    lang: str,
) -> list[str]:
    lines = []
    if shared_themes:
        names = ", ".join(shared_themes)
        lines.append(say(lang, f"Gedeelde thema's: {names}", f"Shared themes: {names}"))
    if closest_passage:
        quote = clip(closest_passage)
        lines.append(say(lang, f'Sluit het best aan bij: "{quote}"', f'Closest part of the scheme: "{quote}"'))
    if shared_terms:
        terms = ", ".join(shared_terms)
        lines.append(say(lang, f"Gemeenschappelijke termen: {terms}", f"Terms in common: {terms}"))
    missing = [
        say(lang, *FIELD_HINTS[c.criterion]) for c in checks if c.status == "unknown" and c.criterion in FIELD_HINTS
    ]
    if missing:
        what = ", ".join(missing)
        lines.append(
            say(lang, f"Ontbreekt om geschiktheid te bepalen: {what}", f"Missing to decide eligibility: {what}")
        )
    return lines


def next_steps(inst: Instrument, checks: Sequence[Check], lang: str) -> list[str]:
    steps = [f"{c.criterion}: {c.detail}" for c in checks if c.status == "missed"]
    steps += [f"{c.criterion}: {c.detail}" for c in checks if c.status == "unknown" and c.criterion == "deadline"]
    if inst.how_to_apply:
        steps.append(inst.how_to_apply)
    steps.append(say(lang, f"Lees de voorwaarden: {inst.source.url}", f"Read the conditions: {inst.source.url}"))
    return steps

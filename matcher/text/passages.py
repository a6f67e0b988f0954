"""How corpus records become text: passages for the dense index and one document per instrument for TF-IDF.

An instrument is embedded as several short passages (name + summary, English summary, each criterion, keywords)
because sentence encoders work best on sentences and because the closest passage explains a match.
"""

from __future__ import annotations

from dataclasses import dataclass

from matcher.records import FundedProject, Instrument, Region, Theme

# Passage kinds, in the order they are produced. "summary" is the instrument's main description.
SUMMARY, SUMMARY_EN, CRITERION, KEYWORDS = "summary", "summary_en", "criterion", "keywords"


@dataclass(frozen=True)
class Passage:
    owner: str  # instrument id or region code
    kind: str
    text: str


def instrument_passages(inst: Instrument) -> list[Passage]:
    out = [Passage(inst.id, SUMMARY, f"{inst.name}. {inst.summary}")]
    if inst.summary_en:
        out.append(Passage(inst.id, SUMMARY_EN, f"{inst.name_en or inst.name}. {inst.summary_en}"))
    out.extend(Passage(inst.id, CRITERION, c) for c in inst.criteria)
    if inst.keywords:
        out.append(Passage(inst.id, KEYWORDS, f"{inst.name}: " + ", ".join(inst.keywords)))
    return out


def instrument_document(inst: Instrument, theme_names: dict[str, str]) -> str:
    """All searchable text of an instrument in one string, for lexical scoring."""
    parts = [inst.name, inst.name_en or "", inst.summary, inst.summary_en or "", *inst.criteria, *inst.keywords]
    parts.extend(theme_names.get(t, t) for t in inst.themes)
    return "\n".join(p for p in parts if p)


def theme_text(theme: Theme) -> str:
    return f"{theme.name}. {theme.name_en}. " + ", ".join(theme.keywords)


def project_text(project: FundedProject) -> str:
    """What a funded project is embedded as: its title and summary (the proposal-like part of the record)."""
    return f"{project.title}. {project.summary}" if project.summary else project.title


def region_passages(region: Region) -> list[Passage]:
    out = [Passage(region.code, SUMMARY, f"{region.name}. {region.summary}")]
    out.extend(Passage(region.code, CRITERION, c) for c in (*region.clusters, *region.strengths))
    return out

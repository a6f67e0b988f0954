"""Horizon 2020 co-participation as a prior for cross-border partner regions (CORDIS, country level only).

Reads a folder in the format of the CORDIS H2020 extract (e.g. ``../shared/data/h2020-participations/``), given by
``--h2020 DIR`` or ``MATCHER_H2020``; nothing of it is bundled, and without it partner ranking is unchanged.

- ``nl_partner_countries_h2020.csv`` (required): ``partner_country``, ``n_projects_with_NL``,
  ``share_of_NL_projects``: of all H2020 projects with a Dutch participant, how many include that country.
- ``h2020_participations.csv.gz`` (``rcn``, ``country``, ...) with ``h2020_programme_parts.csv.gz`` (``rcn``,
  ``programme_part``) (optional, both or neither): the same shares per programme part, so a health proposal gets
  the co-participation of Dutch Health (SC1) projects rather than that of all projects. Which part covers which
  themes is reference data of the corpus (`h2020_parts` in corpora/mappings.yaml), passed in as a value.

    >>> prior = load_h2020(Path("../shared/data/h2020-participations"), corpus.mappings.h2020_parts)
    >>> prior.share("DE", ["health-medtech"])
    CountryShare(country='DE', share=0.73..., projects=452, basis='SC1', basis_name='Health')
"""

from __future__ import annotations

import csv
import gzip
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from matcher.errors import CorpusError
from matcher.records import H2020Part

NL_COUNTRIES = "nl_partner_countries_h2020.csv"
PARTICIPATIONS = "h2020_participations.csv.gz"
PROGRAMME_PARTS = "h2020_programme_parts.csv.gz"
ALL = "H2020"
MIN_PROJECTS = 50  # a programme part with fewer Dutch projects is too small to say more than the overall share
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_RCN = re.compile(r"^[0-9]+$")


@dataclass(frozen=True)
class CountryShare:
    """Share of the Dutch projects (of one programme part, or all: basis 'H2020') that include `country`."""

    country: str
    share: float
    projects: int
    basis: str = ALL
    basis_name: str = ALL  # the programme part's name, as explanations show it


@dataclass(frozen=True)
class H2020Prior:
    """Country co-participation of Dutch H2020 projects: overall and per programme part (`parts`: their themes)."""

    overall: dict[str, float]
    total: int
    by_part: dict[str, dict[str, float]] = field(default_factory=dict)
    part_totals: dict[str, int] = field(default_factory=dict)
    source: str = "CORDIS"
    parts: Mapping[str, H2020Part] = field(default_factory=dict)

    def share(self, country: str, themes: Sequence[str]) -> CountryShare:
        """Share for the proposal's strongest theme that maps to a large enough programme part, else overall."""
        for theme in themes:
            for code, part in self.parts.items():
                if theme in part.themes and self.part_totals.get(code, 0) >= MIN_PROJECTS:
                    shares = self.by_part[code]
                    return CountryShare(country, shares.get(country, 0.0), self.part_totals[code], code, part.name)
        return CountryShare(country, self.overall.get(country, 0.0), self.total)

    def relative(self, found: CountryShare) -> float:
        """The share divided by that of the most frequent partner country on the same basis, in [0, 1]."""
        shares = self.overall if found.basis == ALL else self.by_part[found.basis]
        top = max(shares.values(), default=0.0)
        return found.share / top if top > 0 else 0.0


def _rows(path: Path, columns: Sequence[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of a CSV (plain or .gz) with their line numbers; the header must hold `columns`."""
    if not path.is_file():
        raise CorpusError(f"{path}: file not found; expected it in the H2020 folder")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in columns if c not in (reader.fieldnames or [])]
            if missing:
                raise CorpusError(f"{path}: line 1: header lacks field {missing[0]!r}; has {reader.fieldnames}")
            for row in reader:
                yield reader.line_num, row
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CorpusError(f"{path}: cannot be read as CSV: {exc}") from None


def _bad(path: Path, line: int, name: str, value: object, why: str) -> CorpusError:
    return CorpusError(f"{path}: line {line}: field {name!r}: value {value!r} {why}")


def _read_countries(path: Path) -> tuple[dict[str, float], int]:
    shares: dict[str, float] = {}
    total = 0
    for line, row in _rows(path, ("partner_country", "n_projects_with_NL", "share_of_NL_projects")):
        country, count, share = row["partner_country"], row["n_projects_with_NL"], row["share_of_NL_projects"]
        if not _COUNTRY.match(country or ""):
            raise _bad(path, line, "partner_country", country, "is not a two-letter country code such as DE")
        if not (count or "").isdigit():
            raise _bad(path, line, "n_projects_with_NL", count, "is not a whole number of projects")
        try:
            value = float(share)
        except (TypeError, ValueError):
            value = -1.0
        if not 0.0 <= value <= 1.0:
            raise _bad(path, line, "share_of_NL_projects", share, "is not a share between 0 and 1")
        if country in shares:
            raise _bad(path, line, "partner_country", country, "appears twice")
        shares[country] = value
        if value > 0 and not total:
            total = round(int(count) / value)  # the number of Dutch projects the shares are taken of
    if not shares:
        raise CorpusError(f"{path}: no rows; expected one per partner country")
    return shares, total


def _read_parts(folder: Path) -> tuple[dict[str, dict[str, float]], dict[str, int]]:
    countries: dict[str, set[str]] = defaultdict(set)
    path = folder / PARTICIPATIONS
    for line, row in _rows(path, ("rcn", "country")):
        rcn, country = row["rcn"], row["country"]
        if not _RCN.match(rcn or ""):
            raise _bad(path, line, "rcn", rcn, "is not a CORDIS project number (digits)")
        if not _COUNTRY.match(country or ""):
            raise _bad(path, line, "country", country, "is not a two-letter country code such as DE")
        countries[rcn].add(country)
    dutch: dict[str, list[set[str]]] = defaultdict(list)
    path = folder / PROGRAMME_PARTS
    for line, row in _rows(path, ("rcn", "programme_part")):
        rcn, part = row["rcn"], (row["programme_part"] or "").strip()
        if not _RCN.match(rcn or ""):
            raise _bad(path, line, "rcn", rcn, "is not a CORDIS project number (digits)")
        if not part:
            raise _bad(path, line, "programme_part", row["programme_part"], "is empty")
        if "NL" in countries.get(rcn, ()):
            dutch[part].append(countries[rcn] - {"NL"})
    by_part: dict[str, dict[str, float]] = {}
    for part, projects in dutch.items():
        counts: dict[str, int] = defaultdict(int)
        for others in projects:
            for country in others:
                counts[country] += 1
        by_part[part] = {c: n / len(projects) for c, n in counts.items()}
    return by_part, {part: len(projects) for part, projects in dutch.items()}


def load_h2020(folder: Path, parts: Mapping[str, H2020Part]) -> H2020Prior:
    """Read and check the folder; per-part shares only when both .gz files are there and `parts` names themes."""
    if not folder.is_dir():
        raise CorpusError(f"{folder}: H2020 folder not found (--h2020 / MATCHER_H2020)")
    overall, total = _read_countries(folder / NL_COUNTRIES)
    if (folder / PARTICIPATIONS).exists() or (folder / PROGRAMME_PARTS).exists():
        by_part, part_totals = _read_parts(folder)
        return H2020Prior(overall, total, by_part, part_totals, parts=parts)
    return H2020Prior(overall, total, parts=parts)

"""Importers for real export formats, read from a path the user gives; their output is an extra corpus folder.

- `import_ft_topics`: EU Funding & Tenders portal topics (JSONL) -> instruments, written as `ft-topics.yaml`
- `import_operations`: lists of operations of the EU structural funds (CSV) -> funded projects, `projects.jsonl`

Bad records are skipped and reported with file, line and reason (`ImportReport`), or stop the import
(`strict=True`). Output files are written whole or not at all. Load a folder with `--extra DIR` or `MATCHER_EXTRA`.

    >>> programmes = corpus.mappings.ft_programmes
    >>> instruments, report = import_ft_topics(Path("topics.jsonl"), dt.date(2026, 8, 1), programmes=programmes)
    >>> write_instruments(Path("imported") / TOPICS_FILE, instruments)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

from matcher.errors import InputError
from matcher.io.atomic import write_bytes
from matcher.io.corpus import PROJECTS_FILE
from matcher.io.importers.ft_topics import import_ft_topics
from matcher.io.importers.import_report import ImportReport, Problem
from matcher.io.importers.operations import import_operations
from matcher.records import FtProgramme, FundedProject, Gazetteer, Instrument, Theme

TOPICS_FILE = "ft-topics.yaml"

__all__ = [
    "PROJECTS_FILE",
    "TOPICS_FILE",
    "ImportReport",
    "Problem",
    "import_ft_topics",
    "import_ft_topics_to",
    "import_operations",
    "import_operations_to",
    "write_instruments",
    "write_projects",
]


PUBLISHER_TEXTS = "Imported by `matcher import`; not our own words: the publisher's texts, cleaned."


def write_instruments(path: Path, instruments: Sequence[Instrument], note: str = PUBLISHER_TEXTS) -> None:
    """An instrument file in the format of corpora/instruments/*.yaml, written atomically, `note` in its header."""
    records = [i.model_dump(mode="json", exclude_defaults=True) for i in instruments]
    header = f"# {note}\n"
    text = yaml.safe_dump(records, allow_unicode=True, sort_keys=False, width=120)
    write_bytes(path, (header + text).encode("utf-8"))


def write_projects(path: Path, projects: Sequence[FundedProject]) -> None:
    """Funded projects as JSON lines (fast to load for thousands of rows), written atomically."""
    lines = (p.model_dump_json(exclude_defaults=True) for p in projects)
    write_bytes(path, "".join(f"{line}\n" for line in lines).encode("utf-8"))


def import_ft_topics_to(
    path: Path,
    out: Path,
    as_of: dt.date,
    strict: bool = False,
    themes: Sequence[Theme] = (),
    *,
    programmes: Mapping[str, FtProgramme],
    parents: Mapping[str, str | None] | None = None,
) -> tuple[Path, ImportReport]:
    """Import a topics export into `out/ft-topics.yaml` (whole or not at all); raise InputError when none is good."""
    instruments, report = import_ft_topics(path, as_of, strict, themes, programmes=programmes, parents=parents)
    target = _target(out, TOPICS_FILE, report)
    write_instruments(target, instruments)
    return target, report


def import_operations_to(
    path: Path, out: Path, strict: bool = False, encoding: str = "utf-8", *, places: Gazetteer
) -> tuple[Path, ImportReport]:
    """Import a list of operations into `out/projects.jsonl` (whole or not at all); InputError when none is good."""
    projects, report = import_operations(path, strict, encoding, places=places)
    target = _target(out, PROJECTS_FILE, report)
    write_projects(target, projects)
    return target, report


def _target(out: Path, name: str, report: ImportReport) -> Path:
    if report.imported == 0:
        first = f"; first problem: {report.problems[0]}" if report.problems else ""
        raise InputError(f"{report.summary()}: nothing imported, nothing written{first}")
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: --out must be a folder")
    out.mkdir(parents=True, exist_ok=True)
    return out / name

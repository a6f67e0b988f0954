"""What an import did: records imported, and each record skipped with its file, line and reason.

    >>> report = ImportReport(Path("topics.jsonl"), "topics")
    >>> report.reject(7, MALFORMED, "Expecting ',' delimiter", strict=False)
    >>> report.summary()
    'topics.jsonl: imported 0 topics, skipped 1 (malformed: 1)'

With `strict=True` the first bad record raises `InputError` naming file and line, and nothing is imported.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from matcher.errors import InputError

log = logging.getLogger(__name__)

# Reasons a record is skipped (the summary line counts them).
ENCODING = "encoding"  # the bytes are not valid in the file's encoding
MALFORMED = "malformed"  # not a JSON object, or a CSV row with the wrong number of fields
MISSING = "missing field"  # a required field is absent or empty
INVALID = "invalid value"  # a field that cannot be parsed (date, amount, fund) or fails the record schema
DUPLICATE = "duplicate id"  # the same id earlier in the file


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    reason: str
    detail: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}: {self.detail}"


@dataclass
class ImportReport:
    path: Path
    kind: str  # what a record is, in the summary: "topics", "projects"
    imported: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return len(self.problems)

    def reasons(self) -> Counter[str]:
        return Counter(p.reason for p in self.problems)

    def reject(self, line: int, reason: str, detail: str, strict: bool) -> None:
        """Record a skipped record; in strict mode stop the import instead."""
        problem = Problem(self.path, line, reason, detail)
        if strict:
            raise InputError(f"{problem} (stopped at the first bad record: --strict)")
        log.info("skipped %s", problem)
        self.problems.append(problem)

    def summary(self) -> str:
        line = f"{self.path}: imported {self.imported} {self.kind}, skipped {self.skipped}"
        if self.problems:
            line += " (" + ", ".join(f"{reason}: {n}" for reason, n in sorted(self.reasons().items())) + ")"
        return line

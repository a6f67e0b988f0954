"""Cross-lingual check: the same proposal in Dutch and in English against English-language EU calls.

The cases file (`corpora/dev_cases_crosslingual.yaml`) holds pairs: `text_nl` and `text_en` say the same thing, and
`relevant` names imported Funding & Tenders topics (`ft-...`). Each pair becomes two dev cases, and the engine is
scored per language: the gap between the rows is what matching across languages costs.

    >>> rows = evaluate_pairs(matcher, load_pairs(path, matcher.corpus), as_of)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from matcher.analysis.metrics import Metrics, evaluate
from matcher.errors import CorpusError
from matcher.io.corpus import Corpus
from matcher.pipeline.matcher import Matcher, Mode
from matcher.records import DevCase, RegionCode
from matcher.records.messages import describe

MODES: tuple[Mode, ...] = ("hybrid", "lexical", "dense")


class Pair(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    relevant: tuple[str, ...] = Field(min_length=1)
    text_nl: str = Field(min_length=1)
    text_en: str = Field(min_length=1)
    region: RegionCode | None = None
    applicant_type: str | None = None
    as_of: dt.date | None = None  # the date the topics describe (their harvest): deadlines are checked then

    def case(self, lang: str) -> DevCase:
        text = self.text_nl if lang == "nl" else self.text_en
        return DevCase.model_validate(
            {
                "id": f"{self.id}-{lang}",
                "text": text,
                "lang": lang,
                "relevant": {r: 2 for r in self.relevant},
                "region": self.region,
                "applicant_type": self.applicant_type,
                "as_of": self.as_of,
            }
        )


def load_pairs(path: Path, corpus: Corpus) -> list[Pair]:
    """Read and check the pairs; every relevant id must be in the corpus (the topics imported next to it)."""
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CorpusError(f"{path}: cannot read the cases: {exc}") from None
    if not isinstance(raw, list) or not raw:
        raise CorpusError(f"{path}: expected a list of cases")
    known = {i.id for i in corpus.instruments}
    pairs, problems = [], []
    for n, item in enumerate(raw, 1):
        try:
            pair = Pair.model_validate(item)
        except ValidationError as exc:
            problems.append(f"{path}: case {n}: {describe(exc.errors()[0])}")
            continue
        missing = [r for r in pair.relevant if r not in known]
        if missing:
            problems.append(
                f"{path}: case {pair.id}: field 'relevant': value {missing[0]!r}: no such instrument "
                "(import the F&T topics and pass their folder with --extra)"
            )
        pairs.append(pair)
    if problems:
        raise CorpusError("\n".join(problems))
    return pairs


def evaluate_pairs(
    matcher: Matcher, pairs: Sequence[Pair], as_of: dt.date, modes: Sequence[Mode] = MODES
) -> list[tuple[str, Metrics]]:
    """One row per (language, mode): ("nl", Metrics(...)), ("en", ...)."""
    rows = []
    for lang in ("nl", "en"):
        cases = [p.case(lang) for p in pairs]
        rows += [(lang, m) for m in evaluate(matcher, cases, as_of, modes)]
    return rows


def format_pairs_table(rows: Sequence[tuple[str, Metrics]], n_pairs: int, model: str, n_instruments: int) -> str:
    head = ["proposal language", "ranker", "success@1", "success@5", "MRR", "nDCG@10"]
    lines = [
        f"{n_pairs} case pairs (Dutch and English), {n_instruments} instruments, encoder {model}",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    lines += ["| " + " | ".join([lang, *m.row()[:5]]) + " |" for lang, m in rows]
    return "\n".join(lines)

"""Really funded projects as examples of what each instrument pays for: read from the labelled real cases.

The real dev cases (`dev_cases_real.yaml`: a funded project's description and the instrument that paid, `paid_by`)
and the real partner cases (`partner_cases_real.yaml`: `programme`) are public descriptions of projects that an
instrument really funded. Encoded once per encoder and stored as an artefact, they let the engine rank an
instrument higher when a proposal is close to a project it paid for (`pipeline.evidence.FundedExamples`), and say
so with that project's page.

    >>> examples = load_or_encode(matcher, [settings.real_cases, settings.partner_cases], settings.artefacts)
    >>> matcher = matcher.with_examples(examples)

Every figure that measures the engine on these same cases judges each case without its own project
(`Matcher.leaving_out`, by the case's page).
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from matcher.io.atomic import write_bytes
from matcher.io.corpus import load_dev_cases, load_partner_cases
from matcher.pipeline.evidence import FundedExample, FundedExamples
from matcher.pipeline.matcher import Matcher

log = logging.getLogger(__name__)
VERSION = 1


def read_examples(matcher: Matcher, real_cases: Path, partner_cases: Path) -> list[tuple[str, FundedExample]]:
    """The text and the example of every real case that names the instrument that paid (files that are missing
    are skipped)."""
    out: list[tuple[str, FundedExample]] = []
    if real_cases.exists():
        for c in load_dev_cases(real_cases, matcher.corpus):
            if c.paid_by is not None and c.source is not None:
                out.append((c.text, FundedExample(c.paid_by, str(c.source))))
    if partner_cases.exists():
        for p in load_partner_cases(partner_cases, matcher.corpus):
            out.append((p.text, FundedExample(p.programme, str(p.source))))
    return out


def artefact_path(matcher: Matcher, found: Sequence[tuple[str, FundedExample]], artefacts: Path) -> Path:
    digest = hashlib.sha256(f"{VERSION}|{matcher.encoder.name}|".encode())
    for text, example in found:
        digest.update(f"{example.instrument_id}|{example.source}|{text}\n".encode())
    return artefacts / "examples" / f"examples-{digest.hexdigest()[:16]}.npy"


def load_or_encode(matcher: Matcher, real_cases: Path, partner_cases: Path, artefacts: Path) -> FundedExamples | None:
    """The funded examples with their vectors (stored, or encoded and stored); None when there are none."""
    found = read_examples(matcher, real_cases, partner_cases)
    if not found:
        return None
    path = artefact_path(matcher, found, artefacts)
    vectors: np.ndarray | None = None
    if path.exists():
        try:
            vectors = np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            log.warning("%s: unreadable, encoding again", path)
        if vectors is not None and vectors.shape[0] != len(found):
            vectors = None
    if vectors is None:
        vectors = matcher.encode([text for text, _ in found])
        buffer = io.BytesIO()
        np.save(buffer, vectors, allow_pickle=False)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes(path, buffer.getvalue())
        log.info("%d funded examples encoded and stored in %s", len(found), path)
    return FundedExamples([e for _, e in found], vectors, [i.id for i in matcher.instruments])

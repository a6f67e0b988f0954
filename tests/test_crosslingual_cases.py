"""The cross-lingual dev cases (corpora/dev_cases_crosslingual.yaml): well formed, and every relevant id is a topic
of the EU Funding & Tenders export they were written against (../shared/data/eu-ft-calls-2026/topics.jsonl)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from matcher.io.importers.ft_topics import topic_instrument_id
from matcher.records import APPLICANT_TYPES, REGION_CODES

REPO = Path(__file__).resolve().parent.parent
CASES = REPO / "corpora" / "dev_cases_crosslingual.yaml"
TOPICS = REPO.parent / "shared" / "data" / "eu-ft-calls-2026" / "topics.jsonl"
FIELDS = {"id", "relevant", "text_nl", "text_en", "region", "applicant_type", "as_of"}


@pytest.fixture(scope="module")
def cases() -> list[dict[str, Any]]:
    data = yaml.safe_load(CASES.read_text(encoding="utf-8"))
    assert isinstance(data, list)
    return data


def test_at_least_30_cases_with_unique_ids(cases: list[dict[str, Any]]) -> None:
    assert len(cases) >= 30
    ids = [case["id"] for case in cases]
    assert len(ids) == len(set(ids)), "duplicate case ids"


def test_fields_and_texts(cases: list[dict[str, Any]]) -> None:
    for case in cases:
        assert set(case) <= FIELDS, f"{case.get('id')}: unknown fields {set(case) - FIELDS}"
        nl, en = case["text_nl"], case["text_en"]
        assert isinstance(nl, str) and nl.strip(), f"{case['id']}: empty text_nl"
        assert isinstance(en, str) and en.strip(), f"{case['id']}: empty text_en"
        assert nl.strip() != en.strip(), f"{case['id']}: text_nl and text_en are the same"
        if "region" in case:
            assert case["region"] in REGION_CODES, f"{case['id']}: unknown region {case['region']!r}"
        if "applicant_type" in case:
            assert case["applicant_type"] in APPLICANT_TYPES, f"{case['id']}: unknown applicant type"


def test_relevant_ids_are_topic_instruments(cases: list[dict[str, Any]]) -> None:
    for case in cases:
        relevant = case["relevant"]
        assert isinstance(relevant, list) and 1 <= len(relevant) <= 3, f"{case['id']}: relevant needs 1-3 ids"
        assert len(relevant) == len(set(relevant)), f"{case['id']}: repeated relevant id"
        for rid in relevant:
            assert isinstance(rid, str) and rid.startswith("eu-ft-"), f"{case['id']}: {rid!r} is not an eu-ft- topic id"
            assert rid == rid.lower(), f"{case['id']}: {rid!r} is not lower case"


@pytest.mark.skipif(not TOPICS.is_file(), reason=f"{TOPICS} not found (the shared data folder is absent)")
def test_relevant_ids_exist_in_topics_file(cases: list[dict[str, Any]]) -> None:
    with TOPICS.open(encoding="utf-8") as lines:
        known = {topic_instrument_id(json.loads(line)["topicId"]) for line in lines if line.strip()}
    missing = [(case["id"], rid) for case in cases for rid in case["relevant"] if rid not in known]
    assert not missing, f"relevant ids without a topic in {TOPICS.name}: {missing}"

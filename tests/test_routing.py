from __future__ import annotations

from pathlib import Path

import pytest

from matcher import HashingEncoder, InputError, Matcher, load_corpus
from matcher.analysis.fund_routing import read_operations, route, routing_table

from .conftest import BUNDLED, SHARED, instrument, write_corpus

FUNDS = [
    instrument(
        id="eu-efro-noord",
        name="EFRO Noord",
        level="eu",
        themes=["energy"],
        summary="Europees geld voor innovatie in bedrijven: waterstof, elektrolysers en nieuwe producten.",
        keywords=["innovatie", "waterstof", "product"],
        funds=["EFRO"],
    ),
    instrument(
        id="eu-esf-plus-nl",
        name="ESF+",
        level="eu",
        themes=["human-capital"],
        summary="Europees geld voor scholing en opleiding van werknemers en werkzoekenden.",
        keywords=["scholing", "opleiding", "werknemers"],
        funds=["ESF"],
    ),
]
MAPPINGS = {"fund_routing": {"EFRO": ["eu-efro-noord"], "ESF": ["eu-esf-plus-nl"]}}
CSV = (
    "row_id,title_nl,summary,fund\n"
    "a,Waterstofinnovatie,Een bedrijf ontwikkelt een nieuw product met waterstof en elektrolysers,EFRO\n"
    "b,Scholing,Opleiding en scholing van werknemers in de bouw,ESF\n"
    "c,,,ESF\n"
)


@pytest.fixture
def fund_matcher(tmp_path: Path) -> Matcher:
    return Matcher.build(load_corpus(write_corpus(tmp_path / "c", FUNDS, mappings=MAPPINGS)), HashingEncoder())


def test_operations_are_read_and_empty_rows_skipped(tmp_path: Path) -> None:
    (tmp_path / "ops.csv").write_text(CSV, encoding="utf-8")
    rows = read_operations(tmp_path / "ops.csv")
    assert [(r.id, r.fund) for r in rows] == [("a", "EFRO"), ("b", "ESF")]
    assert rows[0].text.startswith("Waterstofinnovatie. Een bedrijf")


def test_each_operation_is_routed_to_its_fund(fund_matcher: Matcher, tmp_path: Path) -> None:
    (tmp_path / "ops.csv").write_text(CSV, encoding="utf-8")
    rows = read_operations(tmp_path / "ops.csv")
    assert route(fund_matcher, [r.text for r in rows]) == ["EFRO", "ESF"]
    table = routing_table(fund_matcher, rows)
    assert table.splitlines()[3] == "| hybrid (engine) | 1.000 | 1.000 |"


def test_bad_fund_and_missing_file_are_named(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("summary,fund\ntekst,EAGF\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 1: field 'fund': value 'EAGF'; expected one of EFRO, ESF"):
        read_operations(tmp_path / "bad.csv")
    with pytest.raises(InputError, match="file not found"):
        read_operations(tmp_path / "nope.csv")


def test_corpus_without_fund_instruments_is_refused(tiny_matcher: Matcher, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="lacks the EFRO or ESF instruments"):
        route(tiny_matcher, ["x"])
    only_efro = {"fund_routing": {"EFRO": ["eu-efro-noord"]}}
    matcher = Matcher.build(load_corpus(write_corpus(tmp_path / "c", FUNDS, mappings=only_efro)), HashingEncoder())
    with pytest.raises(InputError, match=r"lacks the EFRO or ESF instruments .*`fund_routing` in mappings\.yaml"):
        route(matcher, ["x"])


REAL = SHARED / "data" / "nl-structural-funds-2007-2013" / "projects_dev.csv"


@pytest.mark.skipif(not REAL.exists(), reason="../shared/data/nl-structural-funds-2007-2013 is absent")
def test_real_operations_are_routed_better_than_lexical_and_above_0_9() -> None:
    from matcher import load_encoder

    matcher = Matcher.build(load_corpus(BUNDLED), load_encoder("use-multilingual-v3"))
    rows = read_operations(REAL)
    truth = [r.fund for r in rows]
    hybrid = route(matcher, [r.text for r in rows], "hybrid")
    lexical = route(matcher, [r.text for r in rows], "lexical")
    acc = sum(p == t for p, t in zip(hybrid, truth, strict=True)) / len(rows)
    base = sum(p == t for p, t in zip(lexical, truth, strict=True)) / len(rows)
    assert acc >= 0.9
    assert acc > base

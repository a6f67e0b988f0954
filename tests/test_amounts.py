"""Amounts as people write them: one parser for the CLI, batch files, the API and the web form."""

from __future__ import annotations

import pytest

from matcher import Proposal
from matcher.records.amounts import AmountError, parse_amount


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("900.000", 900_000),
        ("900000", 900_000),
        ("250 000", 250_000),
        ("1.500", 1_500),
        ("1.500.000", 1_500_000),
        ("1,500,000", 1_500_000),
        ("€ 2.500,50", 2_500.5),
        ("2,500.50", 2_500.5),
        ("12,5", 12.5),
        ("2.5", 2.5),
        ("EUR 1,2 mln", 1_200_000),
        ("2,5 miljoen", 2_500_000),
        ("1.2 million", 1_200_000),
        ("35k", 35_000),
        ("€450k", 450_000),
        ("35.000 euro", 35_000),
        ("€ 1,1 mld", 1_100_000_000),
    ],
)
def test_dutch_and_english_notation(text: str, value: float) -> None:
    assert parse_amount(text) == value


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        ("1,500", "ambiguous", "ambiguous: 1500 in English notation or 1.5 in Dutch notation"),
        ("-5", "negative", "an amount cannot be negative"),
        ("abc", "malformed", "not an amount in euros"),
        ("€", "malformed", "not an amount in euros"),
        ("1e9", "malformed", "not an amount in euros"),
        ("1.50.000", "malformed", "not a well-formed amount"),
        ("12 appels", "unit", "unknown unit 'appels'"),
        ("", "malformed", "not an amount in euros"),
    ],
)
def test_what_cannot_be_read_is_refused_with_the_reason(text: str, code: str, message: str) -> None:
    with pytest.raises(AmountError, match=message) as caught:
        parse_amount(text)
    assert caught.value.code == code


def test_a_proposal_reads_its_budget_with_the_parser_and_refuses_booleans_and_infinity() -> None:
    assert Proposal(text="x", budget_eur="900.000").budget_eur == 900_000
    assert Proposal(text="x", budget_eur=35_000).budget_eur == 35_000
    for bad in (True, float("inf"), "Infinity", "1,500"):
        with pytest.raises(ValueError):
            Proposal(text="x", budget_eur=bad)
    with pytest.raises(ValueError, match="not true or false"):
        Proposal(text="x", trl=True)

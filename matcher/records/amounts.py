"""Amounts in euros as people write them, Dutch or English: the one parser for the CLI, batch files, the API and
the web form (a `Proposal` reads its `budget_eur` with it).

    >>> parse_amount("900.000"), parse_amount("EUR 1,2 mln"), parse_amount("35k"), parse_amount("€ 2.500,50")
    (900000.0, 1200000.0, 35000.0, 2500.5)

Separators decide the notation: a dot or comma followed by groups of exactly three digits groups thousands, one
followed by one or two digits marks decimals, and with both the last one is the decimal mark. The one ambiguous
form, a single comma before three digits ("1,500": English 1500 or Dutch 1.5), is refused with both readings, never
guessed. Babel's `parse_decimal` (strict, locale nl_NL or en_GB) does the final reading, so malformed grouping
("1.50.000") is refused too.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

from babel.numbers import NumberFormatError, parse_decimal

MULTIPLIERS = {
    "k": 1_000,
    "duizend": 1_000,
    "thousand": 1_000,
    "m": 1_000_000,
    "mln": 1_000_000,
    "mn": 1_000_000,
    "mio": 1_000_000,
    "miljoen": 1_000_000,
    "million": 1_000_000,
    "mld": 1_000_000_000,
    "mrd": 1_000_000_000,
    "miljard": 1_000_000_000,
    "billion": 1_000_000_000,
    "bn": 1_000_000_000,
}
_CURRENCY = re.compile(r"^(?:€|eur(?:o|os)?\b)\s*|\s*(?:€|eur(?:o|os)?)$", re.IGNORECASE)
_AMOUNT = re.compile(r"^(?P<number>[0-9][0-9.,]*)\s*(?P<unit>[a-z]+)?\.?$", re.IGNORECASE)
_GROUPING = re.compile(r"[\s\u00a0\u202f_']")


class AmountError(ValueError):
    """An amount that cannot be read: `code` says why (a message id suffix for the pages), `params` the details."""

    def __init__(self, message: str, code: str, **params: str) -> None:
        super().__init__(message)
        self.code, self.params = code, params


def parse_amount(text: str) -> float:
    """The amount in euros written in `text` (see the module docstring); `AmountError` says why not."""
    raw = text.strip()
    body = _CURRENCY.sub("", raw).strip()
    body = re.sub(r"(?<=\d)[\s\u00a0\u202f_'](?=\d{3}\b)", "", body)  # "250 000" -> "250000"
    if body.startswith("-"):
        raise AmountError("an amount cannot be negative", "negative")
    found = _AMOUNT.match(body)
    if not raw or found is None:
        raise AmountError("not an amount in euros; write it like 250000, 250.000, 1,5 miljoen or 35k", "malformed")
    unit = (found.group("unit") or "").lower()
    if unit and unit not in MULTIPLIERS:
        raise AmountError(f"unknown unit {unit!r}; use k, mln (miljoen, million) or mld", "unit", unit=unit)
    value = _number(found.group("number"), raw) * MULTIPLIERS.get(unit, 1)
    if not math.isfinite(value):
        raise AmountError("not a finite amount", "malformed")
    return value


def _number(number: str, raw: str) -> float:
    number = _GROUPING.sub("", number)
    dots, commas = number.count("."), number.count(",")
    if dots and commas:
        locale = "nl_NL" if number.rfind(",") > number.rfind(".") else "en_GB"
    elif dots or commas:
        mark = "." if dots else ","
        groups = number.split(mark)[1:]
        thousands = all(len(g) == 3 for g in groups)
        if mark == "," and len(groups) == 1 and thousands:
            whole, part = number.split(",")
            english, dutch = str(int(whole + part)), f"{whole}.{part.rstrip('0') or '0'}"
            raise AmountError(
                f"ambiguous: {english} in English notation or {dutch} in Dutch notation; write it without the comma "
                f"(e.g. {english}) or with a dot for thousands ({whole}.{part})",
                "ambiguous",
                english=english,
                dutch=dutch,
            )
        # Groups of three after the mark: thousands (Dutch dots, English commas); otherwise the mark is the decimal.
        locale = ("nl_NL" if mark == "." else "en_GB") if thousands else ("en_GB" if mark == "." else "nl_NL")
    else:
        return float(number)
    try:
        value: Decimal = parse_decimal(number, locale=locale, strict=True)
    except NumberFormatError:
        raise AmountError("not a well-formed amount (thousands in groups of three)", "malformed") from None
    return float(value)

"""Small text helpers shared by ranking and explanations: language guess, Dutch/English phrasing, formatting."""

from __future__ import annotations

import re

_NL = frozenset(
    "de het een en van voor met wij we willen zijn is op in te dat die niet ook naar bij onze ons om".split()
)
_EN = frozenset("the a an and of for with we want are is on in to that this our us at by be from".split())
_WORD = re.compile(r"[a-zà-ÿ]+")


def guess_language(text: str) -> str:
    """'en' when English function words outnumber Dutch ones, else 'nl' (most proposals are Dutch)."""
    words = _WORD.findall(text.lower())
    nl = sum(w in _NL for w in words)
    en = sum(w in _EN for w in words)
    return "en" if en > nl else "nl"


def say(lang: str, nl: str, en: str) -> str:
    return en if lang == "en" else nl


def euro(amount: float) -> str:
    """Format an amount the Dutch way: 1250000 -> '€ 1.250.000'."""
    return "€ " + f"{amount:,.0f}".replace(",", ".")


def clip(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + " …"

"""Small text helpers shared by ranking and explanations: the language guess and clipping a quote.

Wording and number formats per language live in `matcher.text.i18n`.
"""

from __future__ import annotations

import re
from typing import Any

from matcher.records import Reason

_NL = frozenset(
    "de het een en van voor met wij we willen zijn is op in te dat die niet ook naar bij onze ons om".split()
)
_EN = frozenset(
    "the a an and of for with we want are is on in to that this our us at by be from "
    "hello hi please thanks thank you my i".split()  # greetings and the first person: short English texts
)
_WORD = re.compile(r"[a-zà-ÿ]+")


def guess_language(text: str) -> str:
    """'en' when English function words outnumber Dutch ones, else 'nl' (most proposals are Dutch)."""
    words = _WORD.findall(text.lower())
    nl = sum(w in _NL for w in words)
    en = sum(w in _EN for w in words)
    return "en" if en > nl else "nl"


def clip(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + " …"


def reason(code: str, **params: Any) -> Reason:
    """A reason in codes, worded later in the language asked for (`matcher.text.i18n`): a message id and its values.

    >>> reason("check.trl.met", trl=6, min=4, max=7).params
    {'trl': 6, 'min': 4, 'max': 7}

    Values are plain JSON (lists, not tuples), so a result read back from its JSON equals the result.
    """
    return Reason(code=code, params=params)

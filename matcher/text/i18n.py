"""Sentences from reason codes, in the language the user asked for (Dutch or English).

    >>> localise(result, "en").matches[0].why
    ('Shared themes: ...', ...)

Interim: the engine still writes its sentences in the proposal's language; `localise` only records the language asked
for. The message catalogues replace this.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from matcher.records import MatchResult

LANGUAGES: Final = ("nl", "en")
DEFAULT_LANGUAGE: Final = "nl"


def localise(result: MatchResult, lang: str, theme_names: Mapping[str, str]) -> MatchResult:
    """`result` with `why`, `next_steps`, check details and partner `why` in `lang` (theme names in that language)."""
    return result.model_copy(update={"lang": lang})

"""The language of the pages and of the answers' sentences; the strings are in the catalogues of `matcher/locales`.

    >>> gettext("en", "nav.applicant")
    'Find funding'

Everything here is `matcher.text.i18n` (one home for wording): the templates call `_("nav.applicant")` through one
Jinja2 environment per language (`environment`), `web` fills its form errors with `gettext`, and codes from the
engine (criteria, flags, eligibility, levels) have a `label`, a code without one being shown as it is. `localised`
words a result for a page or an answer.
"""

from __future__ import annotations

from matcher import Matcher, MatchResult
from matcher.text.i18n import DEFAULT_LANGUAGE, LANGUAGES, environment, gettext, label, localise

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "environment", "gettext", "label", "localised"]


def localised(matcher: Matcher, result: MatchResult, lang: str | None = None) -> MatchResult:
    """`result` with its sentences in `lang`, or in the proposal's own language when `lang` is None.

    None is how the JSON routes answer until requests carry `lang` (the contract's `lang` field).
    """
    lang = lang or result.language
    return localise(result, lang, matcher.corpus.theme_names(lang))

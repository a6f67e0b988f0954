"""The language of the pages; the strings are in the message catalogues of `matcher/locales`.

    >>> gettext("en", "nav.applicant")
    'Find funding'

Everything here is `matcher.text.i18n` (the one home of wording): the templates call `_("nav.applicant")` through one
Jinja2 environment per language (`environment`), `web` fills its form errors with `gettext`, and codes from the
engine (criteria, flags, eligibility, levels) have a `label`, a code without one being shown as it is. The results'
own sentences come worded from `matcher.app` in the language asked for.
"""

from __future__ import annotations

from matcher.text.i18n import DEFAULT_LANGUAGE, LANGUAGES, environment, fact_value, gettext, label

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "environment", "fact_value", "gettext", "label"]

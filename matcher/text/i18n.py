"""Sentences from reason codes, in the language the user asked for (Dutch or English): the one home of wording.

    >>> gettext("en", "check.region.met", region="NL-GR", area=["NL"])
    'NL-GR lies within NL'
    >>> amount("nl", 1_250_000)
    '€ 1.250.000'
    >>> localise(result, "en", corpus.theme_names("en")).matches[0].why[0]
    'Shared themes: Energy'

The engine answers in codes (`Reason`: a message id and its parameters); `localise` turns a `MatchResult` into
sentences: check `detail`, `why`, `next_steps` and partner `why`. The pages (`service/templates`), the command line
table and the gap report take their strings from the same catalogues, `matcher/locales/{nl,en}/LC_MESSAGES/
messages.po`: message ids are dotted keys ("nav.applicant", "check.region.met"), and messages are filled with
`%(name)s` placeholders, as Jinja2's i18n extension does (so `%%` is a literal percent sign). The .po files are the
source; each is read with Babel and compiled in memory on first use (cached per language), so no compiled .mo file is
kept in the repository. `tests/test_i18n.py` fails when a message is missing, empty or in one language only.

A parameter is formatted by its name, so the reasons carry plain JSON values:
- `*_eur`: an amount in euro in the language's format; a list of amounts is a range ("€ 50.000 - € 500.000");
- `themes`: theme ids, shown by their names in the language (`theme_names`);
- `criteria`: criteria, shown as the information that is missing ("missing.<criterion>");
- `criterion`: a criterion, shown by its label ("criterion.<criterion>"); `country`: a country code, as an adjective;
- `share`: a fraction, shown as a percentage; `check`: a nested reason (the check a next step is about);
- other numbers in the language's format, other lists joined with ", ", anything else as it is.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
from collections.abc import Mapping, Sequence
from importlib.resources import files
from types import MappingProxyType
from typing import Any, Final

from babel import Locale
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent
from babel.support import Translations
from jinja2 import BaseLoader, Environment

from matcher.records import CriterionCheck, Match, MatchResult, PartnerRegion, Reason

LANGUAGES: Final = ("nl", "en")
DEFAULT_LANGUAGE: Final = "nl"
LOCALES: Final = {"nl": "nl_NL", "en": "en_GB"}
DOMAIN: Final = "messages"
NO_NAMES: Final[Mapping[str, str]] = MappingProxyType({})


def language(lang: str | None) -> str:
    """`lang` when it is one of `LANGUAGES`, else the default language."""
    return lang if lang is not None and lang in LANGUAGES else DEFAULT_LANGUAGE


@functools.cache
def translations(lang: str) -> Translations:
    """The catalogue of `lang` (the default language's for any other value), read and compiled once."""
    lang = language(lang)
    po = files("matcher") / "locales" / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def gettext(lang: str, msgid: str, **params: Any) -> str:
    """The message `msgid` in `lang`, filled with `params` (formatted by name, see the module docstring)."""
    return _fill(lang, msgid, params, NO_NAMES)


def label(lang: str, kind: str, code: str) -> str:
    """The label of an engine code, `label("en", "flag", "missing_budget")`, or the code itself when it has none."""
    msgid = f"{kind}.{code}"
    text: str = translations(lang).gettext(msgid)
    return code if text == msgid else text


def message(lang: str, reason: Reason, theme_names: Mapping[str, str] = NO_NAMES) -> str:
    """The sentence of one reason code in `lang`."""
    return _fill(lang, reason.code, reason.params, theme_names)


def localise(result: MatchResult, lang: str, theme_names: Mapping[str, str] = NO_NAMES) -> MatchResult:
    """`result` with check details, `why`, `next_steps` and partner `why` written in `lang`, from the codes.

    `theme_names` maps theme ids to their names in `lang` (`corpus.theme_names(lang)`); ids without a name are shown
    as they are.
    """
    lang = language(lang)
    matches = tuple(_match(m, lang, theme_names) for m in result.matches)
    partners = tuple(_partner(p, lang, theme_names) for p in result.partner_regions)
    notice = gettext(lang, "result.weak_match") if "weak_match" in result.flags else None
    update = {"matches": matches, "partner_regions": partners, "lang": lang, "notice": notice}
    return result.model_copy(update=update)


def environment(loader: BaseLoader, lang: str, **options: Any) -> Environment:
    """A Jinja2 environment whose `_()` and `gettext()` read the catalogue of `lang` (the i18n extension, newstyle).

    One environment per language: installing translations per request on a shared one would race between threads.
    """
    env = Environment(loader=loader, extensions=["jinja2.ext.i18n"], **options)
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(lang=language(lang), amount=functools.partial(amount, lang))
    env.globals.update(number=functools.partial(number, lang))
    env.globals.update(month=functools.partial(month, lang), day=functools.partial(day, lang))
    return env


# -- numbers ---------------------------------------------------------------------------------------------------------
@functools.cache
def _currency_pattern(locale: str) -> str:
    # Parsing the locale costs ~0.2 ms; a triage of 250 proposals words ~2,300 amounts (measured 0.5 s before caching).
    return str(Locale.parse(locale).currency_formats["standard"].pattern).split(";")[0].replace(".00", "")


@functools.lru_cache(maxsize=4096)  # the same limits of the same instruments are worded again and again
def amount(lang: str, eur: float) -> str:
    """An amount in whole euro as the language writes it: '€ 1.250.000' (nl), '€1,250,000' (en)."""
    locale = LOCALES[language(lang)]
    pattern = _currency_pattern(locale)
    # A plain space instead of the locale's no-break space, as the sentences have always been written.
    return format_currency(eur, "EUR", format=pattern, locale=locale, currency_digits=False).replace("\xa0", " ")


@functools.lru_cache(maxsize=256)
def month(lang: str, day: dt.date) -> str:
    """A month as the language abbreviates it, with the year: 'jan. 2027' (nl), 'Jan 2027' (en)."""
    return str(format_date(day, "MMM y", locale=LOCALES[language(lang)]))


@functools.lru_cache(maxsize=256)
def day(lang: str, value: dt.date) -> str:
    """A date as the language writes it in full: '1 december 2026' (nl), '1 December 2026' (en)."""
    return str(format_date(value, "long", locale=LOCALES[language(lang)]))


@functools.lru_cache(maxsize=4096)
def number(lang: str, value: float, digits: int | None = None) -> str:
    """A number as the language writes it: 1234.5 -> '1.234,5' (nl); `digits` fixes the decimals ('0,700')."""
    locale = LOCALES[language(lang)]
    if digits is not None:
        return format_decimal(value, format="#,##0." + "0" * digits if digits else "#,##0", locale=locale)
    return format_decimal(value, locale=locale, decimal_quantization=False)


# -- filling messages ------------------------------------------------------------------------------------------------
def _fill(lang: str, msgid: str, params: Mapping[str, Any], theme_names: Mapping[str, str]) -> str:
    text: str = translations(lang).gettext(msgid)
    return text % {key: _value(lang, key, value, theme_names) for key, value in params.items()}


def _value(lang: str, key: str, value: Any, theme_names: Mapping[str, str]) -> str:
    if key.endswith("_eur"):
        return " - ".join(amount(lang, x) for x in value) if isinstance(value, list) else amount(lang, value)
    if key == "themes":
        return ", ".join(theme_names.get(t, t) for t in value)
    if key == "theme":
        return theme_names.get(value, value)
    if key == "criteria":
        return ", ".join(label(lang, "missing", c) for c in value)
    if key in ("criterion", "country", "requirement", "stage", "type"):
        return label(lang, key, value)
    if key == "applicant":
        return label(lang, "applicant_type", value)
    if key == "allowed":
        return ", ".join(label(lang, "applicant_type", v) for v in value)
    if key == "share":
        return str(format_percent(value, locale=LOCALES[language(lang)]))
    if key == "check":
        found = value if isinstance(value, Reason) else Reason(**value)
        return message(lang, found, theme_names)
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int | float):
        return number(lang, value)
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _match(m: Match, lang: str, theme_names: Mapping[str, str]) -> Match:
    checks = tuple(_check(c, lang, theme_names) for c in m.checks)
    calls = tuple(
        c.model_copy(update={"deadline": _check(c.deadline, lang, theme_names)}) if c.deadline is not None else c
        for c in m.calls
    )
    return m.model_copy(
        update={
            "checks": checks,
            "calls": calls,
            "why": _sentences(m.why_codes, lang, theme_names),
            "next_steps": _sentences(m.next_step_codes, lang, theme_names),
        }
    )


def _check(c: CriterionCheck, lang: str, theme_names: Mapping[str, str]) -> CriterionCheck:
    return c.model_copy(update={"detail": message(lang, c.reason, theme_names)})


def _partner(p: PartnerRegion, lang: str, theme_names: Mapping[str, str]) -> PartnerRegion:
    return p.model_copy(update={"why": _sentences(p.why_codes, lang, theme_names)})


def _sentences(reasons: Sequence[Reason], lang: str, theme_names: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(message(lang, r, theme_names) for r in reasons)


def fact_value(lang: str, field: str, value: str | int | float) -> str:
    """A value read from a proposal's text, as the user would write it: '€ 35.000', 'Mkb-bedrijf', 'NL-OV'."""
    if field == "budget_eur":
        return amount(lang, float(value))
    if field == "applicant_type":
        return label(lang, "applicant_type", str(value))
    if field == "stage":
        return label(lang, "stage", str(value))
    return str(value)

"""Facts a proposal states in its own words: where the applicant is, what kind of organisation, the budget and the
number of partners. Each comes with the words it was read from, so a user can see and correct it.

    >>> facts = read_facts("Wij zijn een mkb-bedrijf met 12 medewerkers in Enschede ... voor 35.000 euro", places)
    >>> {k: (f.value, f.evidence) for k, f in facts.items()}
    {'region': ('NL-OV', 'enschede'), 'applicant_type': ('sme', 'mkb-bedrijf'), 'budget_eur': (35000.0, '35.000 euro')}

The rules are deliberately plain (a reader can tell why a value was read):
- region: the one province the opening of the text names, else the one Dutch province the whole text names; a text
  that names several Dutch provinces gives none;
- applicant type: a self-description ("wij zijn een stichting", "we are a start-up"), else a word that only an
  applicant of that kind uses of itself (mkb, mkb-bedrijf, SME), else a head count ("12 medewerkers": below 250 an SME);
- budget: an amount in euros (see `records.amounts`); near a budget word ("budget", "begroting", "kosten",
  "investering", "total") first, else the largest;
- partners: "met drie partners", "samen met twee bedrijven en een hogeschool", "with a university group" (the
  applicant plus the parties named), "consortium van vijf";
- trl: "TRL 5", "TRL-niveau 6";
- stage: the first stage word of the text (haalbaarheid, prototype, pilot, marktintroductie, opschalen, aanschaf ...).

`requirement_cues` reads what a text says towards the hard requirements of instruments (a farm, researchers'
mobility, a network of European interest, foreign partners ...): the eligibility checks use it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from matcher.records import ABOUT_THE_APPLICANT, PROVINCES, Gazetteer, ReadFact
from matcher.records.amounts import AmountError, parse_amount
from matcher.text.places import opening, region_mentions
from matcher.text.themes import fold

_PARTNER_CUE = re.compile(
    r"\b(partners?|partnerbedrijf|samen met|met een \w+ uit|together with|with an? \w+ (?:from|in)|alongside)\b"
)
_CUE_REACH = 40  # characters before a place in which a partner cue makes it a partner's place
_WITH_PLACE = re.compile(r"\b(?:met|with)\s+(?:de |het |the )?$")  # "met Wageningen onderzoek doen": a partner

# Words an organisation uses of itself, after "wij zijn een", "we are a", "als", "as a".
KINDS: dict[str, str] = {
    "start-up": "startup",
    "startup": "startup",
    "starter": "startup",
    "scale-up": "sme",
    "mkb-bedrijf": "sme",
    "mkb-onderneming": "sme",
    "mkb'er": "sme",
    "mkb": "sme",
    "familiebedrijf": "sme",
    "eenmanszaak": "sme",
    "zzp'er": "sme",
    "sme": "sme",
    "small business": "sme",
    "small company": "sme",
    "family business": "sme",
    "stichting": "nonprofit",
    "vereniging": "nonprofit",
    "cooperatie": "nonprofit",
    "energiecooperatie": "nonprofit",
    "foundation": "nonprofit",
    "association": "nonprofit",
    "cooperative": "nonprofit",
    "non-profit": "nonprofit",
    "nonprofit": "nonprofit",
    "gemeente": "public_body",
    "municipality": "public_body",
    "waterschap": "public_body",
    "provincie": "public_body",
    "hogeschool": "knowledge_institution",
    "universiteit": "knowledge_institution",
    "university": "knowledge_institution",
    "kennisinstelling": "knowledge_institution",
    "onderzoeksinstituut": "knowledge_institution",
    "research institute": "knowledge_institution",
    "multinational": "large_enterprise",
    "groot bedrijf": "large_enterprise",
    "large company": "large_enterprise",
}
_KIND = "|".join(sorted(map(re.escape, KINDS), key=len, reverse=True))
_SELF = re.compile(
    r"\b(?:wij zijn|we zijn|ik ben|ik heb|wij hebben|we hebben|als|we are|we're|i am|i run|we run|as)\s+"
    r"(?:een|a|an|de|het|the|onze|our)?\s*(?:\w+\s+){0,3}?(" + _KIND + r")\b"
)
_OPENS_WITH = re.compile(r"\s*(?:de |het |onze |our |the )?(" + _KIND + r")\b")  # "Stichting Dorpshuis wil ..."
_OWN_WORDS = re.compile(r"\b(mkb-bedrijf|mkb-onderneming|mkb'er|mkb|sme|start-?up)\b")
_HEADCOUNT = re.compile(
    r"\b(\d{1,6})\s*(?:medewerkers|werknemers|man personeel|mensen in dienst|fte|employees|staff|people|-person)\b"
)
LARGE = 250  # the EU definition of an SME: fewer than 250 staff

_UNITS = r"(?:k|m|mn|mln|mio|miljoen|million|mld|miljard|billion|bn)"
_MONEY = re.compile(
    r"(?:€|\beur(?:o|os)?\b)\s*[0-9][0-9.,\s]*(?:\s*" + _UNITS + r"\b)?"
    r"|\b[0-9][0-9.,]*\s*" + _UNITS + r"?\s*(?:€|euro's|euros?\b|eur\b)"
    r"|\b[0-9][0-9.,]*\s*(?:k|mln|miljoen|million)\b",
    re.IGNORECASE,
)
# A number with a scale word but no currency is money unless a word for something else follows it ("400 million
# people", "4 miljoen ton CO2", "2 million users"): then it is a count, not a budget.
_CURRENCY_WORD = re.compile(r"€|\beur", re.IGNORECASE)
_COUNTED = re.compile(
    r"\s*(?:mensen|personen|inwoners|gebruikers|klanten|bezoekers|huishoudens|pati[eë]nten|leerlingen|studenten|"
    r"dieren|bomen|stuks|banen|ton|tonnen|liter|kilo|kg|km|kilometer|hectare|ha|m2|m3|kwh|mwh|gwh|kw|mw|gw|"
    r"vierkante|kubieke|keer|jaar|people|persons|inhabitants|users|customers|visitors|households|patients|pupils|"
    r"students|animals|trees|units|pieces|jobs|tons?|tonnes|litres?|liters?|square|cubic|times|years|downloads|"
    r"views|passengers|passagiers|reizigers|vehicles|voertuigen|kilometres?|kilometers?|miles)\b",
    re.IGNORECASE,
)
_BUDGET_WORDS = re.compile(r"\b(budget|begroting|kosten|investering|totaal|total|costs?|omvang|projectbudget)\b")
_BUDGET_REACH = 40  # characters before an amount in which a budget word counts

NUMBERS = {
    "een": 1, "één": 1, "one": 1, "twee": 2, "two": 2, "drie": 3, "three": 3, "vier": 4, "four": 4, "vijf": 5,
    "five": 5, "zes": 6, "six": 6, "zeven": 7, "seven": 7, "acht": 8, "eight": 8, "negen": 9, "nine": 9, "tien": 10,
    "ten": 10,
}  # fmt: skip
_COUNT = r"(\d{1,3}|" + "|".join(NUMBERS) + r")"
# A party the applicant works with, counted: "drie mkb-bedrijven", "een softwarebedrijf", "a university group",
# "twee Duitse telers". Singular nouns count only after "een"/"a"/"an"; compounds end in a party noun ("-bedrijf").
_PARTY_NOUN = (
    r"(?:partners?|\w*bedrij(?:f|ven)|ondernemingen|onderneming|organisaties?|\w*instelling(?:en)?|universiteit(?:en)?"
    r"|hogescho(?:ol|len)|ziekenhui(?:s|zen)|\w*institu(?:ut|ten)|\w*bureaus?|gemeenten?|scho(?:ol|len)|telers?"
    r"|boer(?:en)?|cooperaties?|stichtingen|stichting|\w*groep(?:en)?|start-?ups?|companies|company|firms?"
    r"|organi[sz]ations?|universit(?:y|ies)|hospitals?|institutes?|colleges?|municipalit(?:y|ies)|growers?"
    r"|farmers?|suppliers?|producers?|manufacturers?|smes?|groups?|mkb-bedrij(?:f|ven)|\w*labs?|\w*laboratori(?:um|a))"
)
_PARTY = r"(\d{1,3}|" + "|".join(NUMBERS) + r"|a|an)\s+(?:[\w-]+\s+){0,2}" + _PARTY_NOUN
_WITH = re.compile(
    r"\b(?:samen met|met|together with|with)\s+" + _PARTY + r"\b(?:(?:\s*,?\s+(?:en|and)\s+|\s*,\s*)" + _PARTY + r"\b)*"
)
_ONE_PARTY = re.compile(_PARTY + r"\b")
_CONSORTIUM = re.compile(r"\b(?:consortium van|consortium of)\s+" + _COUNT + r"\b|\b" + _COUNT + r"\s+partners\b")


# The `Proposal` fields a text can state, in the order they are read and shown (`read_from_text`).
FACT_FIELDS = ("region", "applicant_type", "budget_eur", "partners", "trl", "stage")


def read_facts(text: str, places: Gazetteer) -> dict[str, ReadFact]:
    """The facts `text` states (see the module docstring), by field name of `Proposal`."""
    folded = fold(text)
    found = {
        "region": _region(text, folded, places),
        "applicant_type": _applicant(folded),
        "budget_eur": _budget(text),
        "partners": _partners(folded),
        "trl": _trl(folded),
        "stage": _stage(folded),
    }
    return {k: v for k, v in found.items() if v is not None}


def _region(text: str, folded: str, places: Gazetteer) -> ReadFact | None:
    first = [(c, w) for c, w, _ in region_mentions(opening(text), places)]
    if len({c for c, _ in first}) == 1 and first[0][0] in PROVINCES:
        return ReadFact(value=first[0][0], evidence=first[0][1])
    # Elsewhere in the text a place may be a partner's: "samen met een partner uit Gelderland" says nothing of us.
    dutch = [
        (c, w)
        for c, w, at in region_mentions(text, places)
        if c in PROVINCES
        and not _PARTNER_CUE.search(folded[max(0, at - _CUE_REACH) : at])
        and not _WITH_PLACE.search(folded[max(0, at - _CUE_REACH) : at])
    ]
    if len({c for c, _ in dutch}) == 1:
        return ReadFact(value=dutch[0][0], evidence=dutch[0][1])
    return None


def _applicant(folded: str) -> ReadFact | None:
    own = _SELF.search(folded) or _OPENS_WITH.match(folded)
    if own is not None:
        return ReadFact(value=KINDS[own.group(1)], evidence=own.group(0).strip())
    word = _OWN_WORDS.search(folded)
    if word is not None:
        kind = "startup" if word.group(1).startswith("start") else "sme"
        return ReadFact(value=kind, evidence=word.group(0))
    head = _HEADCOUNT.search(folded)
    if head is not None:
        return ReadFact(value="sme" if int(head.group(1)) < LARGE else "large_enterprise", evidence=head.group(0))
    return None


def without_amounts(text: str) -> str:
    """The text with its amounts of money left out: read as a fact (`budget_eur`), an amount says nothing of the
    topic, and left in it draws the encoder to passages that are lists of amounts."""
    return _MONEY.sub(" ", text)


def _budget(text: str) -> ReadFact | None:
    amounts: list[tuple[bool, float, str]] = []
    for m in _MONEY.finditer(text):
        written = m.group(0).strip().rstrip(".,")
        if _CURRENCY_WORD.search(written) is None and _COUNTED.match(text, m.end()):
            continue  # a count of people, tonnes or users, not an amount of money
        try:
            value = parse_amount(written)
        except AmountError:
            continue
        near = _BUDGET_WORDS.search(fold(text[max(0, m.start() - _BUDGET_REACH) : m.start()])) is not None
        amounts.append((near, value, written))
    if not amounts:
        return None
    _, value, written = max(amounts, key=lambda a: (a[0], a[1]))
    return ReadFact(value=value, evidence=written)


def _count(word: str) -> int:
    return int(word) if word.isdigit() else NUMBERS.get(word, 1)  # "a", "an": one


def _partners(folded: str) -> ReadFact | None:
    joint = _WITH.search(folded)
    if joint is not None:  # the applicant plus each party named in the list
        parties = sum(_count(m.group(1)) for m in _ONE_PARTY.finditer(joint.group(0)))
        return ReadFact(value=parties + 1, evidence=joint.group(0))
    group = _CONSORTIUM.search(folded)
    if group is not None:
        return ReadFact(value=_count(group.group(1) or group.group(2)), evidence=group.group(0))
    return None


_TRL = re.compile(r"\btrl[- ]?(?:niveau |level )?([1-9])\b")


def _trl(folded: str) -> ReadFact | None:
    found = _TRL.search(folded)
    return None if found is None else ReadFact(value=int(found.group(1)), evidence=found.group(0))


# Words that name a project's stage, per stage (folded: lower case, no accents). The first one in the text counts.
STAGE_WORDS: dict[str, tuple[str, ...]] = {
    "feasibility": ("haalbaarheid", "haalbaarheidsstudie", "haalbaarheidsonderzoek", "feasibility"),
    "prototype": ("prototype", "prototypes", "proof of concept", "demonstrator", "eerste versie"),
    "demonstration": (
        "pilot", "pilots", "pilotproject", "proeftuin", "demonstratie", "demonstratieproject", "praktijkproef",
        "veldtest", "testen in de praktijk", "demonstration", "field test", "living lab", "fieldlab",
    ),
    "market_introduction": (
        "marktintroductie", "op de markt brengen", "naar de markt", "markt op", "lancering", "eerste klanten",
        "commercialisering", "market launch", "market introduction", "go-to-market", "commercialisation",
        "commercialization", "first customers",
    ),
    "scale_up": ("opschalen", "opschaling", "opschaalfase", "groeifase", "scale up", "scale-up fase", "scaling up"),
    "investment": (
        "aanschaf", "aanschaffen", "aan te schaffen", "kopen", "investeren in", "investering in", "nieuwe machine",
        "nieuwe productielijn", "bedrijfspand", "buy", "buying", "purchase", "invest in", "new machine",
    ),
    "research": ("onderzoek", "onderzoeken", "r&d", "speur- en ontwikkelingswerk", "research", "experimental"),
    "training": ("scholing", "opleiden", "opleiding", "omscholing", "bijscholing", "training", "upskilling"),
    "idea": ("idee", "ideefase", "concept uitwerken", "idea", "early stage"),
}  # fmt: skip
_STAGE = re.compile(
    r"\b("
    + "|".join(sorted((re.escape(w) for words in STAGE_WORDS.values() for w in words), key=len, reverse=True))
    + r")\b"
)
_STAGE_OF = {w: stage for stage, words in STAGE_WORDS.items() for w in words}


def _stage(folded: str) -> ReadFact | None:
    found = _STAGE.search(folded)
    return None if found is None else ReadFact(value=_STAGE_OF[found.group(1)], evidence=found.group(0))


# What a text says towards an instrument's hard requirements, per requirement (see `records.Requirement`).
_REQUIREMENT_CUES: dict[str, str] = {
    "international_consortium": (
        r"(internationale|buitenlandse|europese|vlaamse|belgische|duitse|franse|deense|spaanse|italiaanse|"
        r"foreign|international|european|german|belgian|flemish|french|danish|spanish|italian)\s+"
        r"(partners?|partnerbedrijf|bedrijven|universiteit|universiteiten|kennisinstellingen?|consortium|companies)"
        r"|(\d|twee|drie|vier|vijf|zes|two|three|four|five|six)\s+(landen|countries|lidstaten|member states)"
        r"|(over de grens|grensoverschrijdend|cross-border|transnational|both countries|beide landen)"
    ),
    "research_organisation": r"(universiteit|university|hogeschool|kennisinstelling|onderzoeksinstituut|"
    r"research (institute|organisation|organization|group)|onderzoeksgroep|lab van)",
    "researcher_mobility": (
        r"(promovend\w*|phd|postdoc\w*|doctoral|doctoraat|doctorandi|onderzoekers? (uit te wisselen|uitwisselen|"
        r"uitwisseling|detacheren)|uitwisseling van onderzoekers|secondment\w*|fellowship\w*|"
        r"mobiliteit van onderzoekers|researcher mobility|staff exchange\w*|marie curie|msca|training network|"
        r"early[- ]stage researchers?|doctoral (candidates?|networks?)|jonge onderzoekers op te leiden|"
        r"train\w* (the next generation of )?(\d+ )?(early[- ]stage |young )?researchers)"
    ),
    "network_of_european_interest": (
        r"(ten-t|ten-e|corridor\w*|kernnetwerk|core network|spoorverbinding\w*|spoorlijn\w*|railway line|"
        r"interconnector\w*|hoogspanningsnet|transmission grid|laadinfrastructuur|laadpunten langs|"
        r"charging infrastructure|waterstoftankstation\w*|tankinfrastructuur|refuelling station\w*|"
        r"binnenvaartroute|vaarweg\w*|inland waterway\w*|zeehaven\w*|seaport\w*|grensoverschrijdende verbinding|"
        r"cross-border (link|connection|interconnection)|backbone|5g-corridor|pijpleiding|pipeline\w*|"
        r"europese (hoofd)?(transport|vervoers)route\w*|(main )?european (transport|freight) (route|corridor)\w*|"
        r"snelweg\w*|motorway\w*|langs de a\d+|along the a\d+|laadplein\w*|charging (hub|station|point)s?|"
        r"walstroom|shore power|binnenhaven\w*|inland port\w*|spoorweg\w*|spoorinfra\w*|spoorknelpunt\w*|"
        r"spoorknooppunt\w*|spoorbeheer\w*|spoorgoederen\w*|spoorverkeer|spoorbrug\w*|spoortunnel\w*|prorail|"
        r"railway\w*|rail (infrastructure|freight|link|node|bottleneck)s?|elektriciteitsnet\w*|hoogspanning\w*|"
        r"waterstofnet\w*|hydrogen (network|grid)s?|co2-(transport|netwerk)\w*|co2 (transport|network)s?)"
    ),
    "farmer": (
        r"(boer|boeren|boerderij|boerenbedrijf|melkvee\w*|veehouder\w*|\w*veehouderij|varkensbedrijf|pluimvee\w*|"
        r"akkerbouw\w*|agrarisch\w*|landbouwbedrijf|tuinbouwbedrijf|glastuinbouw\w*|"
        r"landbouwer\w*|fruitteler\w*|varkenshouder\w*|pluimveehouder\w*|geitenhouder\w*|tuinder\w*|teler\w*|"
        r"farmer\w*|farm|farms|dairy farm\w*|grower\w*|arable)"
    ),
    "fisheries": (
        r"(visser|vissers|visserij\w*|viskotter\w*|kotter\w*|aquacultuur|aquacultuurbedrijf|mosselkweker\w*|"
        r"oesterkweker\w*|viskwekerij|fishing|fisheries|fishermen|fisherman|aquaculture)"
    ),
    "cooperative": r"(\w*cooperatie\w*|cooperative\w*|co-op)",
    "cultural_organisation": (
        r"(theater\w*|museum|musea|kunstenaar\w*|orkest|gezelschap|festival|filmmaker\w*|film|ontwerper\w*|"
        r"vormgever\w*|designer\w*|artist\w*|ensemble|podium|galerie|erfgoed|culturele instelling|"
        r"cultural organi[sz]ation|creative studio|creatieve sector|creative industr\w*|kunst)"
    ),
    "public_partner": r"(gemeente\w*|provincie\w*|waterschap\w*|municipalit\w*|province|overheid|public authorit\w*)",
    "earthquake_damage": (
        r"(aardbeving\w*|bevingsschade|bevingsgebied|versterking(sopgave|sprogramma)?|schadeherstel|earthquake\w*)"
    ),
    # Something new is developed, tested or brought to market: the words of R&D, of technology and of a first.
    # Buying a new oven or opening a second shop says none of them.
    "innovation": (
        r"(innovat\w*|innover\w*|ontwikkel\w*|develop\w*|prototype\w*|proof of concept|r&d|research\w*|onderzo\w*|"
        r"technolog\w*|techniek\w*|patent\w*|octrooi\w*|uitvind\w*|invent\w*|breakthrough|doorbraak\w*|radical\w*|"
        r"radica\w*|nieuwe manier|new way|nieuw\w* (product|producten|proces|processen|dienst|diensten|technologie|"
        r"materia\w*|methode|concept|toepassing\w*|soort|generatie)|new (product|process|service|technology|material|"
        r"method|type|generation)|pilot\w*|demonstrat\w*|test\w*|valid\w*|deep[- ]?tech|start-?up|scale-?up|"
        r"software|platform|algoritm\w*|algorithm\w*|sensor\w*|ai|kunstmatige intelligentie|machine learning|robot\w*|"
        r"chip\w*|batter\w*|waterstof|hydrogen|biotech\w*|medtech|diagnos\w*|vaccin\w*|therap\w*|clinical|"
        r"klinisch\w*|ontwerp\w*|design\w*|engineer\w*|uniek\w*|unique|eerste|first)"
    ),
}
_REQUIREMENT_RE = {k: re.compile(r"\b" + v + r"\b") for k, v in _REQUIREMENT_CUES.items()}


_COLLABORATION = re.compile(
    r"\b(partners?|partnerbedrijf|partnerregio|samen met|samenwerk\w*|consortium|kennisinstelling\w*|universiteit\w*|"
    r"together with|collaborat\w*|cooperat\w*|joint|alongside|with an? \w+ (?:from|in)|met een \w+ uit|keten\w*|"
    r"(?:met|with) (?:\w+ )?(?:telers|verwerkers|bedrijven|ondernemers|boeren|partijen|organisaties|gemeenten|"
    r"scholen|ziekenhuizen|hogescholen|instellingen|producenten|leveranciers|growers|companies|firms|farmers|"
    r"hospitals|universities|schools|municipalities|organi[sz]ations)|"
    r"(?:met|with) (?:een|a|an) (?:\w+ )?(?:bedrijf|hogeschool|instelling|organisatie|ziekenhuis|gemeente|school|"
    r"producent|leverancier|teler|boer|ondernemer|instituut|onderzoeksinstituut|company|firm|college|hospital|"
    r"municipality|organi[sz]ation|institute|farmer|grower|supplier|producer))\b"
)


def speaks_of_partners(text: str) -> str | None:
    """The words with which a text says it works with others (or across a border), else None."""
    folded = fold(text)
    found = _COLLABORATION.search(folded)
    if found is not None:
        return found.group(0)
    return requirement_cues(text).get("international_consortium")


# Requirements about who applies (`records.ABOUT_THE_APPLICANT`): a cue counts only where it is not another
# party's ("vleesvervangers van Nederlandse boeren", "samen met een museum", "for farmers" name someone else).
_OTHER_PARTY = re.compile(r"\b(?:van|met|voor|bij|aan|naar|samen met|from|with|for|of|to|by)\s+(?:\w+\s+){0,2}$")
_OTHER_REACH = 30  # characters before a cue in which a preposition makes it another party


@functools.lru_cache(maxsize=256)  # asked once per instrument with requirements while one proposal is ranked
def requirement_cues(text: str) -> Mapping[str, str]:
    """Per requirement that the text speaks to, the words it does so with (see `_REQUIREMENT_CUES`)."""
    folded = fold(text)
    found: dict[str, str] = {}
    for need, rx in _REQUIREMENT_RE.items():
        for m in rx.finditer(folded):
            before = folded[max(0, m.start() - _OTHER_REACH) : m.start()]
            if need in ABOUT_THE_APPLICANT and _OTHER_PARTY.search(before):
                continue
            found[need] = m.group(0)
            break
    return MappingProxyType(found)


# The kinds of money a text asks for, by the instrument type that gives it (`records.InstrumentType`): "we zoeken een
# lening" asks for a loan, "een investeerder" for equity, "borgstelling" for a guarantee. An investment in machines
# ("investering") is not equity: only the words for investors and rounds are.
_MONEY_CUES: Final = {
    "grant": r"subsidie\w*|grants?|cofinanciering|co-financing|voucher\w*",
    "loan": r"lening\w*|lenen|leen|krediet\w*|microkrediet|loans?|borrow\w*|credit(?: line| facility)?",
    "equity": (
        r"investeerders?|investors?|aandeelhouders?|aandelen|participatie|equity|risicokapitaal|durfkapitaal"
        r"|venture capital|(?:seed|investerings|financierings)ronde|(?:funding|investment|seed|series [ab]) round"
        r"|(?:kapitaal|geld) (?:op te halen|ophalen)|halen (?:we|wij) .{1,30} op|raising"
    ),
    "guarantee": r"borgstelling|borg|garantstelling|bankgarantie|guarantee|zekerheden|onderpand|collateral",
    "tax": r"fiscale?|belastingvoordeel|aftrek|tax (?:credit|relief|deduction)",
}
_MONEY_RE: Final = {kind: re.compile(r"\b(?:" + rx + r")\b") for kind, rx in _MONEY_CUES.items()}


@functools.lru_cache(maxsize=256)  # asked by the fit and by each match's explanation while one proposal is ranked
def money_asked(text: str) -> Mapping[str, str]:
    """Per kind of money (instrument type) the text asks for, the words it does so with."""
    folded = fold(text)
    found = {kind: m.group(0) for kind, rx in _MONEY_RE.items() if (m := rx.search(folded)) is not None}
    return MappingProxyType(found)

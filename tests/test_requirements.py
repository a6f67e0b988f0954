"""Hard requirements and project stages: facets of an instrument checked against what the proposal says."""

from __future__ import annotations

import datetime as dt
import typing

import numpy as np
import pytest

from matcher import HashingEncoder, Matcher, Proposal
from matcher.pipeline.matcher import MONEY_WEIGHT, PARTNER_WEIGHT
from matcher.records import ABOUT_THE_APPLICANT, ABOUT_THE_PROJECT, Instrument, Requirement
from matcher.rules.eligibility import CANNOT_MEET, check_all, check_requirements, overall
from matcher.text.facts import money_asked, read_facts, requirement_cues

from .conftest import bundled_corpus, instrument

DAY = dt.date(2026, 12, 1)
WELDER = "Wij zijn een mkb-bedrijf met 12 medewerkers in Enschede en willen een lasrobot aanschaffen voor onze fabriek."


def need(*requirements: str) -> Instrument:
    return Instrument.model_validate(
        instrument(
            id="eu-x", name="X", level="eu", regions=["EU"], themes=["research"], requirements=list(requirements),
            applicant_types=["sme", "knowledge_institution"], summary="Een Europese regeling met harde voorwaarden.",
        )
    )  # fmt: skip


def statuses(inst: Instrument, text: str, **given: object) -> list[tuple[str, str]]:
    return [(c.reason.params["requirement"], c.status) for c in check_requirements(inst, Proposal(text=text, **given))]


def test_what_the_project_is_must_be_described_and_who_applies_must_be_able_to() -> None:
    assert statuses(need("researcher_mobility", "network_of_european_interest"), WELDER) == [
        ("researcher_mobility", "missed"),
        ("network_of_european_interest", "missed"),
    ]
    mobility = "Wij willen promovendi uitwisselen met een Duitse universiteit en zes partners uit drie landen"
    assert statuses(need("researcher_mobility", "international_consortium"), mobility) == [
        ("researcher_mobility", "met"),
        ("international_consortium", "met"),
    ]
    assert statuses(need("research_organisation"), WELDER, applicant_type="sme") == [
        ("research_organisation", "missed")
    ]
    assert statuses(need("research_organisation"), "x", applicant_type="knowledge_institution") == [
        ("research_organisation", "met")
    ]
    assert statuses(need("farmer"), "Wij willen investeren") == [("farmer", "unknown")]  # too short to judge
    assert statuses(need("farmer"), "Als melkveehouder in Drenthe willen we een nieuwe stal") == [("farmer", "met")]
    assert statuses(need("international_consortium"), "Een innovatief project", partners=1) == [
        ("international_consortium", "missed")
    ]


def test_a_party_named_after_a_preposition_is_not_the_applicant() -> None:
    supplier = "Wij maken vleesvervangers van erwten en veldbonen van Nederlandse boeren voor supermarkten"
    assert statuses(need("farmer"), supplier) == [("farmer", "unknown")]
    assert statuses(need("cultural_organisation"), "Samen met een museum ontwikkelen wij een app") == [
        ("cultural_organisation", "unknown")
    ]
    assert statuses(need("farmer"), "Een melkveehouder in Friesland wil overstappen op eiwitgewassen") == [
        ("farmer", "met")
    ]


def test_every_requirement_is_about_the_project_or_the_applicant_and_each_names_who_cannot_meet_it() -> None:
    assert set(CANNOT_MEET) == ABOUT_THE_APPLICANT
    assert not ABOUT_THE_APPLICANT & ABOUT_THE_PROJECT
    assert ABOUT_THE_APPLICANT | ABOUT_THE_PROJECT < set(typing.get_args(Requirement))


def test_cues_carry_the_words_they_were_read_from() -> None:
    assert dict(requirement_cues("Onze energiecoöperatie wil laadinfrastructuur langs de A12")) == {
        "cooperative": "energiecooperatie",
        "network_of_european_interest": "laadinfrastructuur",
    }


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("De spoorbeheerder pakt het spoorknelpunt bij Amersfoort aan", "spoorbeheerder"),
        ("A new railway bridge on the freight corridor", "railway"),
        ("Verzwaring van het elektriciteitsnet naar de haven", "elektriciteitsnet"),
        ("Ons plan spoort met het beleid en zet innovatie op het spoor", None),  # a verb and a figure of speech
    ],
)
def test_rail_and_grid_words_speak_to_networks_of_european_interest(text: str, cue: str | None) -> None:
    assert requirement_cues(text).get("network_of_european_interest") == cue


@pytest.mark.parametrize(
    ("text", "stage"),
    [
        ("We doen eerst een haalbaarheidsstudie naar de markt", ("feasibility", "haalbaarheidsstudie")),
        ("Wij willen een prototype bouwen en daarna testen", ("prototype", "prototype")),
        ("We are ready for market launch in Germany", ("market_introduction", "market launch")),
        ("Wij willen onze productie opschalen", ("scale_up", "opschalen")),
        ("Een nieuw bedrijfsgebouw, TRL 7, voor onze pilot", ("demonstration", "pilot")),
    ],
)
def test_the_stage_is_the_first_stage_word_of_the_text(text: str, stage: tuple[str, str]) -> None:
    found = read_facts(text, bundled_corpus().places)["stage"]
    assert (found.value, found.evidence) == stage


def test_trl_is_read_from_the_text() -> None:
    found = read_facts("Onze technologie zit op TRL-niveau 6", bundled_corpus().places)["trl"]
    assert (found.value, found.evidence) == (6, "trl-niveau 6")


def test_msca_and_cef_are_not_offered_to_an_sme_buying_equipment() -> None:
    corpus = bundled_corpus()
    prop = Proposal(text=WELDER, region="NL-OV", applicant_type="sme", budget_eur=35_000)
    for inst_id in ("eu-horizon-msca", "eu-cef"):
        checks = check_all(corpus.instrument(inst_id), prop, DAY)
        assert overall(checks) == "ineligible", inst_id
        assert any(c.criterion == "requirement" and c.status == "missed" for c in checks), inst_id


def test_no_instrument_with_a_missed_requirement_ranks_above_an_eligible_or_unknown_one() -> None:
    matcher = Matcher.build(bundled_corpus(), HashingEncoder())
    result = matcher.match(Proposal(text=WELDER, applicant_type="sme"), top_k=len(matcher.instruments), as_of=DAY)
    order = [m.eligibility for m in result.matches]
    first_ineligible = order.index("ineligible")
    assert "ineligible" not in order[:first_ineligible] and set(order[first_ineligible:]) == {"ineligible"}
    missed = {
        m.instrument_id
        for m in result.matches
        if any(c.criterion == "requirement" and c.status == "missed" for c in m.checks)
    }
    assert {"eu-horizon-msca", "eu-cef"} <= missed
    assert all(result.matches.index(m) >= first_ineligible for m in result.matches if m.instrument_id in missed)


@pytest.mark.parametrize(
    ("text", "partners"),
    [
        ("Samen met een softwarebedrijf uit Eindhoven ontwikkelen wij een robot", (2, "samen met een softwarebedrijf")),
        ("We build it with two growers and a university", (4, "with two growers and a university")),
        ("With a university group and a camera firm we develop", (3, "with a university group and a camera firm")),
        ("Met drie smes, een hogeschool en twee telers", (7, "met drie smes, een hogeschool en twee telers")),
        ("Wij zijn een mkb-bedrijf met een omzet van twee ton en met 12 medewerkers", None),  # no party named
    ],
)  # fmt: skip
def test_partners_are_the_applicant_and_every_party_it_names(text: str, partners: tuple[int, str] | None) -> None:
    found = read_facts(text, bundled_corpus().places).get("partners")
    assert (None if found is None else (found.value, found.evidence)) == partners


def test_a_consortium_lifts_the_instruments_that_ask_for_one() -> None:
    matcher = Matcher.build(bundled_corpus(), HashingEncoder())
    row = np.full(len(matcher.instruments), 0.5, dtype=np.float32)
    pos = {inst.id: k for k, inst in enumerate(matcher.instruments)}
    alone, joint = Proposal(text="x"), Proposal(text="x", partners=3)
    lifted = matcher.fit(row, joint) - matcher.fit(row, alone)
    assert lifted[pos["nl-mit-rd"]] == pytest.approx(PARTNER_WEIGHT)  # asks for two: met by three
    assert lifted[pos["nl-wbso"]] == 0.0  # no consortium asked for
    five = next(k for k, inst in enumerate(matcher.instruments) if (inst.min_partners or 0) > 3)
    assert lifted[five] == 0.0  # asks for more than three: no lift (the partners check misses it)


@pytest.mark.parametrize(
    ("text", "asked"),
    [
        ("We zoeken een lening van 100k voor een nieuwe machine", {"loan": "lening"}),
        ("Voor opschaling zoeken we een investeerder", {"equity": "investeerder"}),
        ("We are raising a seed round", {"equity": "raising"}),
        ("De bank wil een borgstelling", {"guarantee": "borgstelling"}),
        ("Zoek subsidie voor ontwikkeluren", {"grant": "subsidie"}),
        ("Wij willen investeren in een nieuwe machine", {}),  # an investment is not an investor
    ],
)
def test_the_kind_of_money_a_text_asks_for(text: str, asked: dict[str, str]) -> None:
    assert dict(money_asked(text)) == asked


def test_asking_for_a_loan_lifts_the_instruments_that_lend_and_says_so() -> None:
    matcher = Matcher.build(bundled_corpus(), HashingEncoder())
    row = np.full(len(matcher.instruments), 0.5, dtype=np.float32)
    kinds = [inst.instrument_type for inst in matcher.instruments]
    loan = Proposal(text="Wij zoeken een lening voor onze bakkerij")
    lifted = matcher.fit(row, loan) - matcher.fit(row, Proposal(text="Wij hebben een bakkerij"))
    assert lifted[kinds.index("loan")] == pytest.approx(MONEY_WEIGHT)
    assert lifted[kinds.index("equity")] == 0.0  # a loan is not an investor's money
    assert lifted[kinds.index("grant")] == 0.0
    grant = Proposal(text="Zoek subsidie voor ontwikkeluren van onze programmeurs")
    same = Proposal(text="Zoek geld voor ontwikkeluren van onze programmeurs")
    assert (matcher.fit(row, grant) == matcher.fit(row, same)).all()  # "subsidie" is said of every scheme
    result = matcher.match(loan, top_k=len(matcher.instruments), as_of=DAY)
    lender = next(m for m in result.matches if m.instrument_type == "loan")
    assert ("why.money_kind", {"type": "loan", "words": "lening"}) in [(r.code, r.params) for r in lender.why_codes]


def test_innovation_schemes_are_not_offered_for_a_new_oven() -> None:
    corpus = bundled_corpus()
    bakery = "Wij zijn een bakkerij in Dokkum met 6 medewerkers en zoeken een lening voor een nieuwe oven."
    sensor = "Wij ontwikkelen met twee mkb-bedrijven een sensor die schimmel in graansilo's vroeg herkent."
    for inst_id in ("eu-eic-accelerator", "nl-innovatiekrediet", "nl-wbso", "nl-mit-rd"):
        assert statuses(corpus.instrument(inst_id), bakery) == [("innovation", "missed")], inst_id
        assert ("innovation", "met") in statuses(corpus.instrument(inst_id), sensor), inst_id
    assert statuses(corpus.instrument("nl-mit-rd"), "Wij willen investeren") == [("innovation", "unknown")]

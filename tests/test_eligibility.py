from __future__ import annotations

import datetime as dt

import pytest

from matcher.records import Instrument, Proposal, Reason
from matcher.rules.eligibility import check_all, overall
from matcher.text.i18n import message

from .conftest import INSTRUMENTS

TODAY = dt.date(2026, 11, 30)
BY_ID = {i["id"]: Instrument.model_validate(i) for i in INSTRUMENTS}


def statuses(inst_id: str, **prop: object) -> dict[str, str]:
    proposal = Proposal(text="project", **prop)  # type: ignore[arg-type]
    return {c.criterion: c.status for c in check_all(BY_ID[inst_id], proposal, TODAY)}


def test_nothing_known_gives_unknown_for_stated_conditions_only() -> None:
    assert statuses("nl-waterstof") == {
        "region": "unknown",
        "applicant_type": "unknown",
        "trl": "unknown",
        "partners": "unknown",
        "deadline": "met",
    }
    assert statuses("nl-scholing") == {"region": "unknown", "applicant_type": "unknown", "deadline": "met"}


def test_everything_met_is_eligible() -> None:
    proposal = Proposal(text="x", region="NL-GR", applicant_type="sme", trl=6, partners=3)
    checks = check_all(BY_ID["nl-waterstof"], proposal, TODAY)
    assert overall(checks) == "eligible"


@pytest.mark.parametrize(
    ("inst_id", "prop", "criterion"),
    [
        ("prov-gelderland-eiwit", {"region": "NL-GR"}, "region"),
        ("nl-waterstof", {"applicant_type": "nonprofit"}, "applicant_type"),
        ("nl-waterstof", {"trl": 3}, "trl"),
        ("nl-waterstof", {"trl": 8}, "trl"),
        ("nl-waterstof", {"partners": 1}, "partners"),
        ("eu-zorg", {"budget_eur": 500_000}, "budget"),  # 70 % of 500k = 350k < 500k minimum
        ("prov-gelderland-eiwit", {}, "deadline"),  # closed scheme, deadline passed
        ("rom-oost-lening", {"applicant_type": "sme"}, "applicant_type"),
    ],
)
def test_each_miss_makes_the_instrument_ineligible(inst_id: str, prop: dict[str, object], criterion: str) -> None:
    assert statuses(inst_id, **prop)[criterion] == "missed"
    checks = check_all(BY_ID[inst_id], Proposal(text="x", **prop), TODAY)  # type: ignore[arg-type]
    assert overall(checks) == "ineligible"


def test_region_rules() -> None:
    assert statuses("nl-scholing", region="NL-LI")["region"] == "met"
    assert statuses("nl-scholing", region="BE-VLG")["region"] == "missed"
    assert statuses("eu-zorg", region="BE-VLG")["region"] == "met"
    assert statuses("prov-gelderland-eiwit", region="NL-GE")["region"] == "met"


def test_startup_counts_as_sme_but_not_the_reverse() -> None:
    assert statuses("nl-scholing", applicant_type="startup")["applicant_type"] == "met"
    assert statuses("rom-oost-lening", applicant_type="sme")["applicant_type"] == "missed"


def test_budget_large_enough_is_met_and_cap_is_explained() -> None:
    proposal = Proposal(text="x", budget_eur=10_000_000)
    check = next(c for c in check_all(BY_ID["eu-zorg"], proposal, TODAY) if c.criterion == "budget")
    assert check.status == "met"
    assert check.reason == Reason(code="check.budget.capped", params={"max_eur": 2_500_000, "budget_eur": 10_000_000})
    assert message("nl", check.reason) == "Bijdrage begrensd op € 2.500.000 van € 10.000.000"
    assert message("en", check.reason) == "Contribution capped at €2,500,000 of €10,000,000"


def test_deadline_before_opening_and_in_window() -> None:
    inst = BY_ID["prov-gelderland-eiwit"]
    early = check_all(inst, Proposal(text="x"), dt.date(2024, 1, 1))
    during = check_all(inst, Proposal(text="x"), dt.date(2024, 6, 1))
    assert [c.status for c in early if c.criterion == "deadline"] == ["unknown"]
    assert [message("nl", c.reason) for c in during if c.criterion == "deadline"] == ["Open tot 2025-01-31"]
    assert [message("en", c.reason) for c in during if c.criterion == "deadline"] == ["Open until 2025-01-31"]


def deadline(data: dict[str, object], lang: str = "en") -> list[tuple[str, str]]:
    checks = check_all(Instrument.model_validate(data), Proposal(text="x"), TODAY)
    return [(c.status, message(lang, c.reason)) for c in checks if c.criterion == "deadline"]


PAST = {"opens": dt.date(2025, 1, 6), "closes": dt.date(2025, 3, 1)}
ANNOUNCED = {"opens": dt.date(2027, 4, 1), "source": {"url": "https://www.rvo.nl/x", "as_of": dt.date(2026, 10, 1)}}


def test_a_closed_last_round_with_a_next_round_announced_is_unknown_with_its_month_and_source() -> None:
    data = {**INSTRUMENTS[1], "recurrence": "annual", "rounds": [PAST], "next_round": ANNOUNCED}
    assert deadline(data) == [
        ("unknown", "No open round now; next round expected in 2027-04 (source: www.rvo.nl, 2026-10-01)")
    ]


def test_a_closed_last_round_with_nothing_announced_is_missed_and_an_ended_scheme_too() -> None:
    data = {**INSTRUMENTS[1], "recurrence": "annual", "rounds": [PAST]}
    assert deadline(data) == [("missed", "No open round since 2025-03-01 and no new round announced")]
    assert deadline(data, "nl") == [("missed", "Geen open ronde sinds 2025-03-01 en geen nieuwe ronde aangekondigd")]
    ended = {**data, "recurrence": "ended"}
    assert deadline(ended) == [("missed", "Scheme ended; last round closed on 2025-03-01")]


def test_open_and_rolling_rounds_are_met_and_a_scheme_without_dates_is_unknown() -> None:
    assert deadline({**INSTRUMENTS[1], "recurrence": "rolling"}) == [("met", "Open all year")]
    running = {**INSTRUMENTS[1], "rounds": [{"opens": dt.date(2026, 1, 5)}]}
    assert deadline(running) == [("met", "Open since 2026-01-05, no closing date published")]
    assert deadline({**INSTRUMENTS[1], "recurrence": "annual"})[0][0] == "unknown"


def test_a_scheme_of_some_municipalities_is_missed_by_an_applicant_placed_elsewhere() -> None:
    from matcher.text.places import home_municipality

    from .conftest import bundled_corpus

    corpus = bundled_corpus()
    inst = corpus.instrument("eu-jtf-ijmond")  # Beverwijk, Castricum, Heemskerk, Uitgeest, Velsen

    def status(text: str) -> str:
        home = home_municipality(text, corpus.places)
        checks = check_all(inst, Proposal(text=text), None, home=home)
        return next(c.status for c in checks if c.criterion == "municipality")

    assert status("Wij zijn een staalbedrijf uit IJmuiden en willen elektrificeren") == "met"  # IJmuiden is in Velsen
    assert status("Wij zijn een adviesbureau uit Haarlem en willen elektrificeren") == "missed"
    assert status("Wij zijn een bedrijf en willen in Velsen elektrificeren") == "met"  # the text names the area
    assert status("Wij willen elektrificeren") == "unknown"


def test_a_number_of_partners_read_from_the_text_is_a_lower_bound() -> None:
    from matcher.rules.eligibility import check_partners

    from .conftest import bundled_corpus

    horizon = bundled_corpus().instrument("eu-horizon-collaborative")  # at least three partners
    two = Proposal(text="Wij ontwikkelen met een bouwbedrijf en de TU Delft", partners=2)
    given, read = check_partners(horizon, two), check_partners(horizon, two, read=True)
    assert given is not None and given.status == "missed"  # the user said two
    assert read is not None and (read.status, read.reason.code) == ("unknown", "check.partners.read")

"""Imported calls are rounds of their programme: one programme per ranking, its best calls under it.

A tiny corpus: the five instruments of conftest plus a hydrogen programme `eu-h2-programme` (annual, its own last
round closed in 2025) with three calls: an electrolyser call open until 2026-09-30, a hydrogen-storage call closed
on 2026-03-01 and a forthcoming fuel-cell call closing 2027-02-01.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from matcher import HashingEncoder, Matcher, Proposal, load_corpus
from matcher.analysis.metrics import ranked_ids
from matcher.app import instrument_json
from matcher.errors import CorpusError
from matcher.io.importers import import_ft_topics
from matcher.io.importers.ft_topics import parent_of
from matcher.records import FtProgramme
from matcher.rules.availability import window
from matcher.text.i18n import localise
from tests.conftest import INSTRUMENTS, SHARED, bundled_corpus, instrument, write_corpus

DAY = dt.date(2026, 8, 1)
PROGRAMME = instrument(
    id="eu-h2-programme",
    name="EU waterstofprogramma",
    level="eu",
    administrator="Europese Commissie",
    regions=["EU"],
    themes=["energy"],
    summary="Europees programma met oproepen voor onderzoek naar waterstof, voor consortia uit meerdere landen.",
    recurrence="annual",
    rounds=[{"opens": dt.date(2025, 1, 10), "closes": dt.date(2025, 4, 1)}],
)


def call(cid: str, name: str, summary: str, **fields: Any) -> dict[str, Any]:
    return instrument(
        id=cid,
        name=name,
        level="eu",
        administrator="Europese Commissie",
        regions=["EU"],
        themes=["energy"],
        summary=summary,
        recurrence="one_off",
        parent="eu-h2-programme",
        **fields,
    )


CALLS = [
    call(
        "eu-ft-h2-electrolyser",
        "Electrolyser stacks",
        "Call for hydrogen electrolyser stacks with lower cost and longer life, tested in a pilot plant.",
        keywords=["elektrolyser", "electrolyser"],
        rounds=[{"opens": dt.date(2026, 5, 1), "closes": dt.date(2026, 9, 30)}],
    ),
    call(
        "eu-ft-h2-storage",
        "Hydrogen storage in salt caverns",
        "Call for storing hydrogen underground in salt caverns and depleted gas fields.",
        keywords=["waterstofopslag", "storage"],
        rounds=[{"opens": dt.date(2025, 11, 1), "closes": dt.date(2026, 3, 1)}],
    ),
    call(
        "eu-ft-h2-fuel-cell",
        "Fuel cells for ships",
        "Call for hydrogen fuel cells that power inland ships and ferries.",
        rounds=[{"closes": dt.date(2027, 2, 1), "forthcoming": True}],
    ),
]


@pytest.fixture(scope="module")
def calls_matcher(tmp_path_factory: pytest.TempPathFactory) -> Matcher:
    root = write_corpus(tmp_path_factory.mktemp("calls") / "corpora", [*INSTRUMENTS, PROGRAMME, *CALLS])
    return Matcher.build(load_corpus(root), HashingEncoder())


ELECTROLYSER = Proposal(id="p", text="Wij bouwen een elektrolyser voor groene waterstof, electrolyser stacks pilot")


def test_a_programme_is_ranked_once_with_its_open_calls_under_it(calls_matcher: Matcher) -> None:
    result = localise(calls_matcher.match(ELECTROLYSER, top_k=10, as_of=DAY), "nl")
    ids = [m.instrument_id for m in result.matches]
    assert not any(i.startswith("eu-ft-") for i in ids)  # calls never stand on their own
    assert ids.count("eu-h2-programme") == 1
    programme = next(m for m in result.matches if m.instrument_id == "eu-h2-programme")
    # On the day, the closed storage call is left out; the forthcoming call is unknown, not ineligible.
    assert [c.instrument_id for c in programme.calls] == ["eu-ft-h2-electrolyser", "eu-ft-h2-fuel-cell"]
    first = programme.calls[0]
    assert first.closes == dt.date(2026, 9, 30)
    assert first.deadline is not None and first.deadline.status == "met"
    assert first.deadline.detail == "Open tot 2026-09-30"
    # The programme's own round closed in 2025, but it has an open call: its deadline check is met.
    deadline = next(c for c in programme.checks if c.criterion == "deadline")
    assert (deadline.status, deadline.reason.code) == ("met", "deadline.open_calls")
    assert deadline.reason.params == {"count": 1, "closes": "2026-09-30"}
    # A specific call lifts its programme: the programme scores what its best call scores.
    assert programme.score == first.score


def test_the_table_and_the_page_list_the_calls(calls_matcher: Matcher) -> None:
    from matcher.cli import render
    from tests.conftest import service_client

    result = localise(calls_matcher.match(ELECTROLYSER, top_k=10, as_of=DAY), "en")
    table = render(result, "en")
    assert "best-fitting calls:" in table
    assert "eu-ft-h2-electrolyser: Electrolyser stacks - Open until 2026-09-30" in table
    assert "+ Open calls: 1; the first closes on 2026-09-30" in table
    client = service_client(calls_matcher, store=None)
    page = client.post("/", data={"text": ELECTROLYSER.text, "as_of": "2026-08-01"})
    assert page.status_code == 200, page.text
    assert "Best passende open oproepen" in page.text and "Electrolyser stacks" in page.text


def test_a_programme_s_hard_requirements_hold_for_its_calls(tmp_path: Path) -> None:
    mobility = dict(PROGRAMME, requirements=["researcher_mobility"])
    matcher = Matcher.build(
        load_corpus(write_corpus(tmp_path / "c", [*INSTRUMENTS, mobility, *CALLS])), HashingEncoder()
    )
    text = ELECTROLYSER.text + ". " + "Wij testen de stack een jaar lang in onze eigen fabriek in Delfzijl." * 3
    result = matcher.match(Proposal(id="p", text=text), top_k=10, as_of=DAY)
    programme = next(m for m in result.matches if m.instrument_id == "eu-h2-programme")
    assert (programme.eligibility, programme.calls) == ("ineligible", ())  # no call rescues it
    checks = matcher._checks(
        matcher.instruments.index(matcher.corpus.instrument("eu-ft-h2-electrolyser")),
        Proposal(text=text),
        DAY,
        matcher.requirement_checks(Proposal(text=text)),
    )
    assert [(c.criterion, c.status) for c in checks if c.criterion == "requirement"] == [("requirement", "missed")]


def test_fit_only_lists_the_best_calls_whatever_their_dates(calls_matcher: Matcher) -> None:
    result = calls_matcher.match_batch([ELECTROLYSER], top_k=10, as_of=DAY, availability=False)[0]
    programme = next(m for m in result.matches if m.instrument_id == "eu-h2-programme")
    assert len(programme.calls) == 3
    assert programme.calls[0].instrument_id == "eu-ft-h2-electrolyser"
    assert all(c.deadline is None for c in programme.calls)
    assert [c.score for c in programme.calls] == sorted((c.score for c in programme.calls), reverse=True)


def test_the_programme_s_availability_is_read_over_its_calls(calls_matcher: Matcher) -> None:
    corpus = calls_matcher.corpus
    programme = corpus.instrument("eu-h2-programme")
    calls = corpus.calls_of("eu-h2-programme")
    assert [c.id for c in calls] == ["eu-ft-h2-electrolyser", "eu-ft-h2-storage", "eu-ft-h2-fuel-cell"]
    assert window(programme, DAY).code == "deadline.no_round_since"  # on its own rounds: closed
    open_now = window(programme, DAY, calls)
    assert (open_now.state, open_now.code, open_now.status) == ("open", "deadline.open_calls", "open")
    # After the electrolyser call closed, only the forthcoming call is left: expected, not closed.
    later = window(programme, dt.date(2026, 10, 15), calls)
    assert (later.state, later.code, later.params, later.status) == (
        "uncertain",
        "deadline.calls_coming",
        {"count": 1},
        "expected",
    )
    # After every call: what the programme's own rounds say.
    assert window(programme, dt.date(2027, 3, 1), calls).code == "deadline.no_round_since"
    data = instrument_json(programme, DAY, calls)
    assert data["status"] == "open" and "closes" not in data
    assert data["calls"] == ["eu-ft-h2-electrolyser", "eu-ft-h2-storage", "eu-ft-h2-fuel-cell"]
    assert data["availability"] == {
        "as_of": "2026-08-01",
        "state": "open",
        "code": "deadline.open_calls",
        "count": 1,
        "closes": "2026-09-30",
    }


def test_a_call_counts_at_its_programme_s_rank_in_the_metrics(calls_matcher: Matcher) -> None:
    result = calls_matcher.match(ELECTROLYSER, top_k=10, as_of=DAY)
    ids = ranked_ids(result, {"eu-ft-h2-electrolyser": 2})
    position = [m.instrument_id for m in result.matches].index("eu-h2-programme")
    assert ids[position] == "eu-ft-h2-electrolyser"
    assert ids[:position] == [m.instrument_id for m in result.matches][:position]
    assert ranked_ids(result, {}) == [m.instrument_id for m in result.matches]


def test_a_corpus_without_calls_ranks_as_before(tiny_matcher: Matcher) -> None:
    result = tiny_matcher.match(ELECTROLYSER, top_k=10, as_of=DAY)
    assert all(m.calls == () for m in result.matches)
    assert len(result.matches) == len(tiny_matcher.instruments)


@pytest.mark.parametrize(
    ("parent", "message"),
    [
        ("eu-nope", "field 'parent': value 'eu-nope' does not exist; expected the id of a programme instrument"),
        ("eu-ft-h2-storage", "field 'parent': value 'eu-ft-h2-storage' is itself a call (of 'eu-h2-programme')"),
    ],
)
def test_a_call_must_belong_to_a_programme_of_the_corpus(tmp_path: Path, parent: str, message: str) -> None:
    bad = call("eu-ft-h2-bad", "Bad call", "A call whose programme is not a programme of the corpus at all.")
    bad["parent"] = parent
    root = write_corpus(tmp_path / "c", [*INSTRUMENTS, PROGRAMME, *CALLS, bad])
    with pytest.raises(CorpusError) as info:
        load_corpus(root)
    assert f"{root / 'instruments' / 'tiny.yaml'}: record eu-ft-h2-bad: {message}" in str(info.value)


def test_a_record_cannot_be_its_own_parent(tmp_path: Path) -> None:
    loop = dict(PROGRAMME, parent="eu-h2-programme")
    root = write_corpus(tmp_path / "c", [*INSTRUMENTS, loop])
    with pytest.raises(CorpusError, match="parent 'eu-h2-programme' is the record itself"):
        load_corpus(root)


def test_a_mapping_to_an_unknown_programme_is_an_error(tmp_path: Path) -> None:
    root = write_corpus(tmp_path / "c", mappings={"ft_parents": {"LIFE-*": "eu-life"}})
    with pytest.raises(CorpusError, match=r"field 'ft_parents.LIFE-\*': value 'eu-life' does not exist"):
        load_corpus(root)


PARENTS = {
    "HORIZON-*": "eu-horizon-collaborative",
    "HORIZON-JU-*": None,
    "HORIZON-JU-CBE-*": "eu-cbe-ju",
    "HORIZON-EIC-*-PATHFINDER*": "eu-eic-pathfinder",
}


@pytest.mark.parametrize(
    ("topic", "parent"),
    [
        ("HORIZON-CL5-2026-01-D3-01", "eu-horizon-collaborative"),
        ("horizon-cl5-2026-01-d3-01", "eu-horizon-collaborative"),  # case does not matter
        ("HORIZON-JU-CBE-2026-IA-01", "eu-cbe-ju"),  # the more specific pattern wins
        ("HORIZON-JU-EUROHPC-2026-QML-07-01", None),  # mapped to null: a call of its own
        ("HORIZON-EIC-2026-PATHFINDERCHALLENGES-01-01", "eu-eic-pathfinder"),
        ("LIFE-2026-SAP-ENV", None),  # no pattern fits
    ],
)
def test_parent_of_a_topic_is_its_most_specific_pattern(topic: str, parent: str | None) -> None:
    assert parent_of(topic, PARENTS) == parent


def test_imported_topics_carry_their_programme(tmp_path: Path) -> None:
    topics = [
        {"topicId": "HORIZON-JU-CBE-2026-IA-05", "title": "Films and coatings for circular packaging"},
        {"topicId": "HORIZON-JU-EUROHPC-2026-QML-07-01", "title": "Quantum machine learning for hydrogen"},
    ]
    path = tmp_path / "topics.jsonl"
    lines = [
        json.dumps(t | {"deadline": "2026-09-22", "portalUrl": "https://ec.europa.eu/x", "programme": "Horizon Europe"})
        for t in topics
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    instruments, report = import_ft_topics(
        path, DAY, programmes={"Horizon Europe": FtProgramme(theme="energy")}, parents=PARENTS
    )
    assert report.imported == 2
    assert [i.parent for i in instruments] == ["eu-cbe-ju", None]


def test_the_bundled_mappings_give_the_real_topics_their_programmes() -> None:
    topics = SHARED / "data" / "eu-ft-calls-2026" / "topics.jsonl"
    if not topics.is_file():
        pytest.skip(f"{topics} is absent")
    mappings = bundled_corpus().mappings
    ids = [json.loads(line)["topicId"] for line in topics.read_text(encoding="utf-8").splitlines() if line.strip()]
    parents = [parent_of(i, mappings.ft_parents) for i in ids]
    known = {i.id for i in bundled_corpus().instruments}
    assert {p for p in parents if p is not None} <= known
    # Most topics are calls of a programme of ours; Euratom, ERC grants other than Proof of Concept, the other joint
    # undertakings, EU external action and the like stay calls of their own.
    assert sum(p is not None for p in parents) == 538
    assert parent_of("HORIZON-EURATOM-2026-01-01", mappings.ft_parents) is None

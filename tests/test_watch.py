"""Saved profiles and alerts: the profile store, what a run finds new, and `matcher watch` end to end.

The corpus is the tiny one with dated rounds: `nl-scholing` had a round in January 2026 and opens its next on
2026-03-01 (closing 2026-04-30); `rom-oost-lening` (start-ups only) opens a round on the same day. A profile about
training staff of an SME matches `nl-scholing` best (score 1.0 with the hashing encoder) and may not apply for the
start-up loan; one about hydrogen pilots matches `nl-scholing` below the weak-match level (0.19 < 0.2).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from matcher import load_corpus
from matcher.analysis.watch import unreported, watch_items
from matcher.app import LOCAL, UnknownProfileError, WatchStore, check_name
from matcher.cli import main
from matcher.errors import InputError
from matcher.io.watch import MIGRATIONS, WatchStoreError
from matcher.records import CallMatch, Match, MatchResult, Proposal
from service.storage import FeedbackStore

from .conftest import INSTRUMENTS, write_corpus

SKILLS = "Scholing en opleiding van werknemers in het mkb"
HYDROGEN = "Wij bouwen een waterstof pilot met een elektrolyser"
STARTUP = "Lening voor onze start-up in Gelderland"
NEXT_ROUND = {"opens": dt.date(2026, 3, 1), "closes": dt.date(2026, 4, 30)}
SCHOLING_NAME = 'Scholing & "leren" <mkb>'  # characters that must be escaped in the feed


def watch_corpus(root: Path) -> Path:
    """The tiny corpus with rounds: `nl-scholing` closed in January, its next round opens on 2026-03-01."""
    instruments: list[dict[str, Any]] = [dict(i) for i in INSTRUMENTS]
    for inst in instruments:
        if inst["id"] == "nl-scholing":
            january = {"opens": dt.date(2026, 1, 1), "closes": dt.date(2026, 1, 31)}
            inst.update(name=SCHOLING_NAME, recurrence="annual", rounds=[january, NEXT_ROUND])
        if inst["id"] == "rom-oost-lening":
            inst.update(recurrence="annual", rounds=[NEXT_ROUND])
    return write_corpus(root, instruments)


# -- the store ---------------------------------------------------------------------------------------------------
@pytest.fixture
def watch_store(tmp_path: Path) -> Any:
    with WatchStore.open(tmp_path / "feedback.sqlite3") as opened:
        yield opened


def test_profiles_are_saved_listed_and_removed_per_owner(watch_store: WatchStore) -> None:
    saved = watch_store.save("alice", "skills", Proposal(text=SKILLS, region="NL-GE"), top=5)
    watch_store.save("alice", "h2", Proposal(text=HYDROGEN))
    watch_store.save("bob", "skills", Proposal(text=HYDROGEN))
    assert (saved.name, saved.top, saved.proposal.id, saved.proposal.region, saved.last_run) == (
        "skills",
        5,
        "skills",
        "NL-GE",
        None,
    )
    assert [p.name for p in watch_store.list("alice")] == ["h2", "skills"]
    assert watch_store.get("bob", "skills").proposal.text == HYDROGEN
    watch_store.remove("alice", "skills")
    assert [p.name for p in watch_store.list("alice")] == ["h2"]
    assert watch_store.get("bob", "skills").name == "skills"  # another owner's profile of the same name stays
    with pytest.raises(UnknownProfileError, match="no saved profile 'skills'"):
        watch_store.get("alice", "skills")
    with pytest.raises(UnknownProfileError):
        watch_store.remove("carol", "h2")


def test_a_run_is_recorded_and_replacing_a_profile_starts_again(watch_store: WatchStore) -> None:
    first = watch_store.save(LOCAL, "skills", Proposal(text=SKILLS))
    watch_store.record_run(LOCAL, "skills", dt.date(2026, 3, 2), ["opened:nl-scholing:2026-03-01/2026-04-30"])
    ran = watch_store.get(LOCAL, "skills")
    assert (ran.last_run, ran.reported) == (
        dt.date(2026, 3, 2),
        frozenset({"opened:nl-scholing:2026-03-01/2026-04-30"}),
    )
    replaced = watch_store.save(LOCAL, "skills", Proposal(text=HYDROGEN))
    assert (replaced.created_at, replaced.last_run, replaced.reported) == (first.created_at, None, frozenset())
    with pytest.raises(UnknownProfileError):
        watch_store.record_run(LOCAL, "gone", dt.date(2026, 3, 2), [])


@pytest.mark.parametrize("name", ["", "Skills", "a b", "a/b", "x" * 65, "é"])
def test_bad_names_are_refused(watch_store: WatchStore, name: str) -> None:
    with pytest.raises(InputError, match="use 1-64 characters a-z, 0-9, '-' or '_'"):
        watch_store.save(LOCAL, name, Proposal(text=SKILLS))
    assert check_name("a-b_9" + "x" * 59) == "a-b_9" + "x" * 59


def test_profiles_share_the_service_database_file(tmp_path: Path) -> None:
    db = tmp_path / "feedback.sqlite3"
    with FeedbackStore.open(db) as feedback, WatchStore.open(db) as profiles:
        feedback.add("p1", "nl-scholing", relevant=True)
        profiles.save("owner", "skills", Proposal(text=SKILLS))
    with WatchStore.open(db) as again, FeedbackStore.open(db) as feedback_again:  # reopened: tables kept, migrated once
        assert [p.name for p in again.list("owner")] == ["skills"]
        assert feedback_again.count() == 1
    with sqlite3.connect(db) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        versions = conn.execute("SELECT version FROM watch_schema_version").fetchall()
    conn.close()
    assert {"feedback", "triage_run", "schema_version", "watch_profile", "watch_schema_version"} <= tables
    assert versions == [(1,)]


def test_a_newer_profile_schema_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "feedback.sqlite3"
    WatchStore.open(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO watch_schema_version VALUES (?, '2030-01-01T00:00:00+00:00')", (len(MIGRATIONS) + 1,))
    conn.close()
    with pytest.raises(WatchStoreError, match="schema version 2, newer than this program knows"):
        WatchStore.open(db)


def test_a_failed_write_leaves_nothing_half_written(watch_store: WatchStore) -> None:
    watch_store.save(LOCAL, "skills", Proposal(text=SKILLS))
    with pytest.raises(InputError, match="top 0"):
        watch_store.save(LOCAL, "skills", Proposal(text=HYDROGEN), top=0)
    assert watch_store.get(LOCAL, "skills").proposal.text == SKILLS


# -- what is new ---------------------------------------------------------------------------------------------------
def a_match(instrument_id: str, score: float, calls: tuple[CallMatch, ...] = ()) -> Match:
    return Match(
        instrument_id=instrument_id,
        name=instrument_id,
        level="national",
        regions=("NL",),
        score=score,
        eligibility="eligible",
        checks=(),
        instrument_type="programme",
        administrator="RVO",
        source_url="https://example.org/regeling",
        calls=calls,
    )


def test_a_programmes_listed_calls_are_judged_as_instruments(tmp_path: Path) -> None:
    corpus = load_corpus(watch_corpus(tmp_path / "corpora"))
    call = CallMatch(instrument_id="nl-scholing", name="call", score=0.5, source_url="https://example.org/call")
    result = MatchResult(proposal_id="p1", matches=(a_match("nl-waterstof", 0.9, (call,)),))
    items = watch_items(result, corpus, dt.date(2026, 3, 2), dt.date(2026, 2, 10), weak_match=0.2)
    assert [(i.instrument_id, i.programme_id, i.kinds, i.score, i.round_key) for i in items] == [
        ("nl-scholing", "nl-waterstof", ("opened",), 0.5, "2026-03-01/2026-04-30")
    ]  # the programme itself is rolling: open all along, no news
    weak = MatchResult(proposal_id="p1", matches=(a_match("nl-waterstof", 0.1, (call,)),))
    assert watch_items(weak, corpus, dt.date(2026, 3, 2), dt.date(2026, 2, 10), weak_match=0.2) == []


def test_only_kinds_not_reported_before_are_kept(tmp_path: Path) -> None:
    corpus = load_corpus(watch_corpus(tmp_path / "corpora"))
    result = MatchResult(proposal_id="p1", matches=(a_match("nl-scholing", 0.9),))
    [item] = watch_items(result, corpus, dt.date(2026, 4, 20), dt.date(2026, 2, 10))
    assert item.keys() == {"opened:nl-scholing:2026-03-01/2026-04-30", "closing:nl-scholing:2026-03-01/2026-04-30"}
    [left] = unreported([item], frozenset({"opened:nl-scholing:2026-03-01/2026-04-30"}))
    assert (left.kinds, left.why("nl")) == (("closing",), "sluit op 2026-04-30, over 10 dagen")
    assert unreported([item], item.keys()) == []


# -- matcher watch ------------------------------------------------------------------------------------------------
@pytest.fixture
def watch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Any:
    corpora = watch_corpus(tmp_path / "corpora")
    base = ["--corpora", str(corpora), "--model", "hashing", "--artefacts", str(tmp_path / "art")]
    base += ["--db", str(tmp_path / "feedback.sqlite3"), "--lang", "en"]

    def invoke(*args: str) -> tuple[int, str, str]:
        try:
            code = main(["watch", args[0], *base, *args[1:]])
        except SystemExit as exc:  # argparse exits 2 on bad arguments
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def run_json(watch: Any, *args: str) -> list[dict[str, Any]]:
    code, out, err = watch("run", "--json", *args)
    assert code == 0, err
    profiles: list[dict[str, Any]] = json.loads(out)["profiles"]
    return profiles


def scholing_item(new: list[str], why: str, noticed: str) -> dict[str, Any]:
    return {
        "instrument_id": "nl-scholing",
        "name": SCHOLING_NAME,
        "programme_id": None,
        "round": {"opens": "2026-03-01", "closes": "2026-04-30"},
        "new": new,
        "why": why,
        "score": pytest.approx(1.0),
        "eligibility": "eligible",
        "source_url": "https://example.org/regeling",
        "noticed": noticed,
    }


def test_a_new_round_is_reported_on_the_run_after_it_opened_and_not_again(watch: Any) -> None:
    assert watch("add", "skills", "--text", SKILLS, "--region", "NL-GE", "--applicant-type", "sme")[:2] == (
        0,
        "saved profile skills\n",
    )
    before = run_json(watch, "--as-of", "2026-02-10")  # between the rounds: nothing is open that was not before
    assert before == [{"profile": "skills", "as_of": "2026-02-10", "since": "2026-01-27", "days": 14, "items": []}]
    # The start-up loan opens the same day but the SME may not apply; the rolling schemes were open all along.
    opened = run_json(watch, "--as-of", "2026-03-02")
    assert opened == [
        {
            "profile": "skills",
            "as_of": "2026-03-02",
            "since": "2026-02-10",
            "days": 14,
            "items": [scholing_item(["opened"], "new round open since 2026-03-01", "2026-03-01")],
        }
    ]
    assert run_json(watch, "--as-of", "2026-03-05")[0]["items"] == []
    code, out, _ = watch("list")
    assert (code, out.split()[:5]) == (0, ["skills", "top", "10", "last", "run"])
    assert "2026-03-05" in out


def test_a_deadline_within_the_window_is_reported_once(watch: Any) -> None:
    watch("add", "skills", "--text", SKILLS, "--region", "NL-GE", "--applicant-type", "sme")
    run_json(watch, "--as-of", "2026-03-02")
    assert run_json(watch, "--as-of", "2026-04-10")[0]["items"] == []  # 20 days left: outside 14
    closing = run_json(watch, "--as-of", "2026-04-20")[0]["items"]
    assert closing == [scholing_item(["closing"], "closes on 2026-04-30, in 10 days", "2026-04-16")]
    assert run_json(watch, "--as-of", "2026-04-22")[0]["items"] == []
    assert run_json(watch, "--as-of", "2026-04-25", "--days", "3")[0]["items"] == []  # 5 days left, window of 3


def test_since_overrides_the_last_run(watch: Any) -> None:
    watch("add", "skills", "--text", SKILLS, "--region", "NL-GE", "--applicant-type", "sme")
    run_json(watch, "--as-of", "2026-03-02")
    again = run_json(watch, "--as-of", "2026-04-20", "--since", "2026-02-01")[0]
    assert again["since"] == "2026-02-01"
    assert again["items"] == [
        scholing_item(
            ["opened", "closing"], "new round open since 2026-03-01; closes on 2026-04-30, in 10 days", "2026-04-16"
        )
    ]


def test_weak_and_ineligible_matches_and_those_outside_the_top_are_left_out(watch: Any) -> None:
    watch("add", "h2", "--text", HYDROGEN, "--region", "NL-GR", "--applicant-type", "sme")  # nl-scholing at 0.19
    # An SME may not take the start-up loan (0.91, ineligible); nl-scholing still fits above the weak level (0.30).
    watch(
        "add",
        "loan-sme",
        "--text",
        "Lening voor start-ups in Gelderland",
        "--region",
        "NL-GE",
        "--applicant-type",
        "sme",
    )
    watch("add", "loan-startup", "--text", STARTUP, "--region", "NL-GE", "--applicant-type", "startup")
    watch("add", "loan-top1", "--text", STARTUP, "--region", "NL-GE", "--applicant-type", "startup", "--top", "1")
    found = run_json(watch, "--as-of", "2026-03-02", "--since", "2026-02-10")
    assert {p["profile"]: [i["instrument_id"] for i in p["items"]] for p in found} == {
        "h2": [],
        "loan-sme": ["nl-scholing"],
        "loan-startup": ["rom-oost-lening", "nl-scholing"],
        "loan-top1": ["rom-oost-lening"],
    }


def test_the_table_names_instrument_round_reason_and_score(watch: Any) -> None:
    watch("add", "skills", "--text", SKILLS, "--region", "NL-GE", "--applicant-type", "sme")
    code, out, _ = watch("run", "--as-of", "2026-03-02", "--since", "2026-02-10")
    assert code == 0
    assert out.splitlines() == [
        "skills: 1 new since 2026-02-10 (run of 2026-03-02)",
        f"   1.00  nl-scholing{' ' * 24}2026-03-01 - 2026-04-30  {SCHOLING_NAME}: new round open since 2026-03-01",
    ]


def test_bad_watch_input_exits_2_with_one_line(watch: Any) -> None:
    code, _, err = watch("add", "Bad Name", "--text", SKILLS)
    assert code == 2 and "profile name 'Bad Name': use 1-64 characters a-z, 0-9, '-' or '_'" in err
    code, _, err = watch("add", "skills", "--text", "   ")
    assert code == 2 and "text is empty" in err
    code, _, err = watch("remove", "nothing")
    assert (code, err) == (
        2,
        "matcher: error: no saved profile 'nothing'; `matcher watch list` (GET /v1/watch) lists them\n",
    )
    assert watch("remove", "nothing")[0] == 2
    watch("add", "skills", "--text", SKILLS)
    assert watch("remove", "skills")[:2] == (0, "removed profile skills\n")
    assert watch("list")[1] == ""

"""Rounds, not a status field: what a record stores, what is derived on a day, and the audit of the corpus."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from matcher import CorpusError, load_corpus
from matcher.analysis.audit import audit
from matcher.cli import main
from matcher.records import Instrument
from matcher.rules.availability import status_on, window

from .conftest import INSTRUMENTS, instrument, write_corpus

RVO = {"url": "https://www.rvo.nl/subsidies-financiering/x", "as_of": dt.date(2026, 3, 1)}
BLOG = {"url": "https://www.example-blog.nl/x", "as_of": dt.date(2026, 3, 1)}


def scheme(**fields: Any) -> Instrument:
    return Instrument.model_validate(
        {
            **instrument(id="nl-x", name="X", themes=["energy"], summary="Een regeling voor het testen van rondes."),
            **fields,
        }  # fmt: skip
    )


ROUNDS = [
    {"name": "2025", "opens": dt.date(2025, 4, 1), "closes": dt.date(2025, 9, 30), "source": RVO},
    {"name": "2026", "opens": dt.date(2026, 4, 1), "closes": dt.date(2026, 9, 30), "budget_eur": 5e6},
]


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2025, 1, 1), ("expected", dt.date(2025, 4, 1), dt.date(2025, 9, 30))),
        (dt.date(2025, 6, 1), ("open", dt.date(2025, 4, 1), dt.date(2025, 9, 30))),
        (dt.date(2025, 12, 1), ("expected", dt.date(2026, 4, 1), dt.date(2026, 9, 30))),
        (dt.date(2026, 9, 30), ("open", dt.date(2026, 4, 1), dt.date(2026, 9, 30))),
        # an annual scheme between rounds: not announced, so unknown rather than closed, for about a year
        (dt.date(2026, 12, 1), (None, dt.date(2026, 4, 1), dt.date(2026, 9, 30))),
        (dt.date(2027, 10, 30), (None, dt.date(2026, 4, 1), dt.date(2026, 9, 30))),
        (dt.date(2027, 10, 31), ("closed", dt.date(2026, 4, 1), dt.date(2026, 9, 30))),
    ],
)
def test_status_opens_and_closes_are_derived_from_the_rounds_on_a_day(
    day: dt.date, expected: tuple[str, dt.date, dt.date]
) -> None:
    assert status_on(scheme(recurrence="annual", rounds=ROUNDS), day) == expected


def test_only_an_annual_scheme_is_between_rounds_after_its_last_round_closed() -> None:
    day = dt.date(2026, 12, 1)
    assert window(scheme(recurrence="annual", rounds=ROUNDS), day).code == "deadline.between_rounds"
    assert window(scheme(recurrence="one_off", rounds=ROUNDS), day).code == "deadline.no_round_since"
    assert window(scheme(recurrence="ended", rounds=ROUNDS), day).code == "deadline.ended"


def test_an_announced_next_round_makes_a_closed_scheme_expected_and_a_rolling_one_is_open_without_rounds() -> None:
    announced = {"opens": dt.date(2027, 4, 1), "source": RVO}
    later = scheme(recurrence="annual", rounds=ROUNDS, next_round=announced)
    assert status_on(later, dt.date(2026, 12, 1)) == ("expected", None, None)
    assert window(later, dt.date(2026, 12, 1)).code == "deadline.next_round"
    assert status_on(scheme(recurrence="rolling"), dt.date(2026, 12, 1)) == ("rolling", None, None)
    assert status_on(scheme(recurrence="annual"), dt.date(2026, 12, 1)) == (None, None, None)  # unknown
    running = scheme(recurrence="rolling", rounds=[{"opens": dt.date(2025, 1, 6)}])
    assert status_on(running, dt.date(2026, 12, 1)) == ("rolling", dt.date(2025, 1, 6), None)


BAD = [
    ({"rounds": [{"opens": dt.date(2026, 5, 1), "closes": dt.date(2026, 4, 1)}]}, "rounds.0", "2026-04-01 before"),
    ({"rounds": list(reversed(ROUNDS))}, "(record)", "rounds overlap or are out of order"),
    ({"recurrence": "monthly"}, "recurrence", "'monthly'"),
    ({"recurrence": None}, "(record)", "give 'recurrence'"),
    ({"status": "open", "closes": dt.date(2026, 1, 1)}, "(record)", "record-level closes, status are replaced"),
    ({"recurrence": "ended", "rounds": [{"opens": dt.date(2025, 1, 1)}]}, "(record)", "no closing date"),
    ({"rounds": [{"closes": "31-12-2026"}]}, "rounds.0.closes", "'31-12-2026'"),
]


@pytest.mark.parametrize(("change", "field", "fragment"), BAD, ids=[b[2][:24] for b in BAD])
def test_contradicting_or_unreadable_dates_name_file_line_record_field_and_value(
    tmp_path: Path, change: dict[str, Any], field: str, fragment: str
) -> None:
    records = [dict(i) for i in INSTRUMENTS]
    records[1] = {k: v for k, v in {**records[1], **change}.items() if v is not None}
    root = write_corpus(tmp_path / "c", records)
    with pytest.raises(CorpusError) as info:
        load_corpus(root)
    message = str(info.value)
    assert "tiny.yaml:" in message and "(id nl-scholing)" in message, message
    assert f"field '{field}'" in message and fragment in message, message


def test_instruments_json_keeps_the_contract_fields_as_derived_on_the_day_and_adds_rounds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = [dict(i) for i in INSTRUMENTS]
    records[1] = {**records[1], "recurrence": "annual", "rounds": ROUNDS}
    root = write_corpus(tmp_path / "c", records)
    base = ["--corpora", str(root), "--model", "hashing", "--artefacts", str(tmp_path / "a")]
    assert main(["instruments", "nl-scholing", *base, "--json", "--as-of", "2026-05-01"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["status"], shown["opens"], shown["closes"]) == ("open", "2026-04-01", "2026-09-30")
    assert [r["name"] for r in shown["rounds"]] == ["2025", "2026"]
    assert shown["availability"]["code"] == "deadline.open_until"
    assert main(["instruments", *base, "--json", "--as-of", "2027-12-01"]) == 0
    listed = {i["id"]: i for i in json.loads(capsys.readouterr().out)}
    assert listed["nl-scholing"]["status"] == "closed" and listed["nl-waterstof"]["status"] == "rolling"
    assert "status" not in listed["eu-zorg"]  # no round dates: unknown, left out rather than guessed
    assert main(["instruments", "nl-scholing", *base, "--json", "--as-of", "2026-12-01"]) == 0
    between = json.loads(capsys.readouterr().out)  # two months after its 2026 round: between rounds, not closed
    assert "status" not in between and between["availability"]["code"] == "deadline.between_rounds"


def test_the_audit_names_what_needs_attention_and_fails_only_on_a_contradiction(tmp_path: Path) -> None:
    records = [dict(i) for i in INSTRUMENTS]
    records[0] = {**records[0], "source": {"url": "https://www.rvo.nl/y", "as_of": dt.date(2026, 6, 1)}}
    records[1] = {**records[1], "recurrence": "annual", "rounds": ROUNDS[:1], "source": BLOG}
    records[4] = {**records[4], "source": {"url": "https://www.rvo.nl/z", "as_of": dt.date(2023, 5, 1)}}
    mappings = {"official_sites": ["rvo.nl"]}
    corpus = load_corpus(write_corpus(tmp_path / "c", records, mappings=mappings))
    report = audit(corpus, dt.date(2026, 12, 1), today=dt.date(2026, 12, 1))
    kinds = {r.instrument_id: [f.kind for f in r.findings] for r in report.records}
    # the 2025 round's own source is official (rvo.nl), the record's page a blog: not secondary-only
    assert kinds["nl-scholing"] == ["no_successor", "empty_facts"]  # a grant without a rate or a maximum
    assert kinds["nl-waterstof"] == ["empty_facts"]
    assert kinds["rom-oost-lening"] == ["stale_source", "empty_facts"]  # newest source 2023-05-01
    assert kinds["prov-gelderland-eiwit"] == ["secondary_only", "no_successor", "empty_facts"]  # example.org
    assert report.contradictions == 0
    late = audit(corpus, dt.date(2026, 12, 1), today=dt.date(2026, 2, 1))  # sources dated after "today"
    assert late.contradictions == 2  # nl-waterstof (2026-06-01) and nl-scholing (its round's 2026-03-01)
    assert late.summary().startswith("5 records (eu 1, national 2, provincial 1, regional 1) on 2026-12-01:")


def test_the_audit_command_prints_a_summary_line_and_exits_0_on_the_bundled_corpus(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["audit", "--as-of", "2026-12-01", "--model", "hashing"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("2") and "records (eu " in last and last.endswith("0 contradictions")


def test_a_later_round_named_without_dates_makes_a_closed_scheme_uncertain_for_a_year() -> None:
    undated = {"name": "2026", "source": {"url": "https://www.fryslan.frl/x", "as_of": dt.date(2026, 2, 1)}}
    found = scheme(recurrence="one_off", rounds=[ROUNDS[0], undated])  # 2025 round closed 2025-09-30
    assert window(found, dt.date(2026, 11, 30)).code == "deadline.undated_round"
    assert window(found, dt.date(2026, 11, 30)).params == {"source": "www.fryslan.frl, 2026-02-01"}
    assert window(found, dt.date(2027, 3, 15)).code == "deadline.no_round_since"  # over a year after that source
    assert window(found, dt.date(2026, 1, 15)).code == "deadline.no_round_since"  # before the source said so

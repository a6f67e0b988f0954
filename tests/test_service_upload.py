"""Triage by file upload (CSV or JSONL, as ROM advisers export them) and the per-client rate limit.

The matcher is the tiny one of conftest: a hydrogen pilot ranks nl-waterstof first, training ranks nl-scholing
first, medical technology ranks eu-zorg first; the closed Gelderland protein scheme misses region and deadline
outside Gelderland. The rate limiter runs on a fake clock, so refills are exact.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from matcher import InputError, Matcher, Proposal, app
from matcher.io.batch import parse_proposals, read_proposals
from service.config import DEFAULT_RATE_PER_MINUTE, ServiceSettings, parse_rate
from service.export import CSV_COLUMNS
from service.ratelimit import RateLimiter, get_limiter
from service.storage import FeedbackStore

from .conftest import service_client, wait_for_job

AS_OF = "2026-11-30"
HYDROGEN = "Wij bouwen een waterstof pilot met een elektrolyser"
TRAINING = "Scholing en opleiding van onze werknemers"
MEDTECH = "Medische technologie voor de zorg"
PROTEIN = "plantaardige eiwitten en vleesvervangers"
HEADER = "proposal_id,rank,instrument_id,name,level,score,eligibility,missed,unknown,why,flags"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def upload(client: TestClient, name: str, content: str | bytes, query: str = "") -> Any:
    data = content.encode() if isinstance(content, str) else content
    return client.post(f"/v1/triage/upload{query}", files={"file": (name, data, "application/octet-stream")})


def first_matches(body: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(r["proposal_id"], r["matches"][0]["instrument_id"]) for r in body]


# -- POST /v1/triage/upload: JSON --------------------------------------------------------------------------------------
def test_csv_upload_keeps_input_order_numbers_rows_and_ignores_extra_columns(client: TestClient) -> None:
    content = f'text,id,as_of,adviseur\n{TRAINING},,{AS_OF},Anna\n"{HYDROGEN}",w7,{AS_OF},Bram\n{MEDTECH},,{AS_OF},\n'
    response = upload(client, "export.csv", "\ufeff" + content, "?top=1")
    assert response.status_code == 200
    body = response.json()
    assert first_matches(body) == [("1", "nl-scholing"), ("w7", "nl-waterstof"), ("3", "eu-zorg")]
    assert [len(r["matches"]) for r in body] == [1, 1, 1]


def test_jsonl_upload_equals_the_library_batch(client: TestClient, tiny_matcher: Matcher) -> None:
    rows = [
        {"id": "m1", "text": MEDTECH, "as_of": AS_OF, "notes": "ignored"},
        {"id": "h1", "text": HYDROGEN, "region": "NL-GR", "trl": 6, "partners": 3, "as_of": AS_OF},
    ]
    content = "\n".join(json.dumps(r) for r in rows) + "\n\n"
    response = upload(client, "export.jsonl", content, "?top=2")
    assert response.status_code == 200
    body = response.json()
    assert first_matches(body) == [("m1", "eu-zorg"), ("h1", "nl-waterstof")]
    expected = app.triage(tiny_matcher, parse_proposals(content, "x", ".jsonl"), top_k=2, lang="nl")
    assert body == json.loads(json.dumps([r.to_dict() for r in expected]))


def test_upload_defaults_to_ten_matches(client: TestClient) -> None:
    body = upload(client, "one.csv", f"text\n{HYDROGEN}\n").json()
    assert [len(r["matches"]) for r in body] == [5]  # all five instruments of the tiny corpus


# -- files as advisers have them: semicolons in cp1252, Excel workbooks ------------------------------------------------
SEMICOLON_CP1252 = (
    "id;text;budget_eur;as_of;adviseur\r\n"
    f"w1;{HYDROGEN}, café-eigenaar René;900.000;{AS_OF};Zoë\r\n"
    f"s1;{TRAINING} (één team);€ 35.000;{AS_OF};Noël\r\n"
).encode("cp1252")


def intake_xlsx() -> bytes:
    """Sheet "Intake" with a two-row header ("text" merged over B:C under "Voorstel"), numbers as numbers and as
    Dutch text, and a second sheet that is not read."""
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws.title = "Intake"
    ws.append(["id", "Voorstel", None, "budget_eur", "as_of"])
    ws.append([None, "text", None, None, None])
    for cells in ("A1:A2", "B1:C1", "B2:C2", "D1:D2", "E1:E2"):
        ws.merge_cells(cells)
    ws.append(["w1", HYDROGEN, "in Groningen", 900000, AS_OF])
    ws.append([2, TRAINING, None, "900.000", AS_OF])
    ws.append(["m1", MEDTECH, None, None, AS_OF])
    book.create_sheet("Toelichting").append(["geen", "voorstellen"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_semicolon_cp1252_upload_is_read_as_the_cli_reads_it(client: TestClient, tiny_matcher: Matcher) -> None:
    response = upload(client, "intake.csv", SEMICOLON_CP1252, "?top=2")
    assert response.status_code == 200
    body = response.json()
    assert first_matches(body) == [("w1", "nl-waterstof"), ("s1", "nl-scholing")]
    proposals = app.parse_batch(SEMICOLON_CP1252, "intake.csv")
    assert [(p.text, p.budget_eur) for p in proposals] == [
        (f"{HYDROGEN}, café-eigenaar René", 900000.0),
        (f"{TRAINING} (één team)", 35000.0),
    ]
    expected = app.triage(tiny_matcher, proposals, top_k=2, lang="nl")
    assert body == json.loads(json.dumps([r.to_dict() for r in expected]))


def test_an_xlsx_upload_reads_its_first_sheet(client: TestClient) -> None:
    response = upload(client, "intake.xlsx", intake_xlsx(), "?top=1")
    assert response.status_code == 200
    assert first_matches(response.json()) == [("w1", "nl-waterstof"), ("2", "nl-scholing"), ("m1", "eu-zorg")]
    proposals = app.parse_batch(intake_xlsx(), "intake.xlsx")
    assert [(p.id, p.text, p.budget_eur) for p in proposals] == [
        ("w1", f"{HYDROGEN} in Groningen", 900000.0),
        ("2", TRAINING, 900000.0),
        ("m1", MEDTECH, None),
    ]
    csv_rows = list(csv.DictReader(io.StringIO(upload(client, "intake.xlsx", intake_xlsx(), "?format=csv").text)))
    assert [r["proposal_id"] for r in csv_rows if r["rank"] == "1"] == ["w1", "2", "m1"]


def test_the_adviser_page_takes_a_semicolon_csv_and_an_xlsx(client: TestClient) -> None:
    for name, data in (("intake.csv", SEMICOLON_CP1252), ("intake.xlsx", intake_xlsx())):
        page = client.post("/adviser", files={"file": (name, data, "application/octet-stream")}, data={"top": "1"})
        assert page.status_code == 200, name
        assert 'data-instrument="nl-waterstof"' in page.text and 'data-instrument="nl-scholing"' in page.text
    broken = client.post("/adviser?lang=en", files={"file": ("intake.xlsx", intake_xlsx()[:400])}, data={"top": "1"})
    assert broken.status_code == 422
    assert "The file could not be processed: intake.xlsx: not a readable .xlsx workbook (" in broken.text
    assert "Traceback" not in broken.text


# -- POST /v1/triage/upload?format=csv ---------------------------------------------------------------------------------
def test_csv_download_has_one_row_per_proposal_and_match(client: TestClient, tiny_matcher: Matcher) -> None:
    content = (
        "id,text,region,applicant_type,trl,partners,as_of\n"
        f"w1,{HYDROGEN},NL-GR,sme,6,3,{AS_OF}\n"
        f"e1,{PROTEIN},NL-GR,,,,{AS_OF}\n"
    )
    response = upload(client, "ideas.csv", content, "?top=5&format=csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="triage-matches.csv"'
    assert response.text.splitlines()[0] == HEADER
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [(r["proposal_id"], r["rank"], r["instrument_id"], r["eligibility"]) for r in rows[:2]] == [
        ("w1", "1", "nl-waterstof", "eligible"),
        ("w1", "2", "eu-zorg", "unknown"),
    ]
    assert len(rows) == 10
    assert (rows[0]["missed"], rows[0]["unknown"], rows[0]["flags"]) == ("", "", "missing_budget")
    assert (rows[1]["missed"], rows[1]["unknown"]) == ("", "budget;deadline")
    protein = next(r for r in rows if r["proposal_id"] == "e1" and r["instrument_id"] == "prov-gelderland-eiwit")
    assert (protein["eligibility"], protein["missed"]) == ("ineligible", "region;deadline")
    expected = app.triage(tiny_matcher, parse_proposals(content, "x", ".csv"), top_k=5, lang="nl")
    top = expected[0].matches[0]
    assert rows[0]["name"] == top.name
    assert rows[0]["level"] == "national"
    assert float(rows[0]["score"]) == top.score
    assert rows[0]["why"] == " | ".join(top.why)
    assert rows[0]["why"].startswith("Gedeelde thema's: Energie | ")


# -- POST /v1/triage/upload: errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("ideas.csv", f"id,text,trl\na,{HYDROGEN},6\nb,{HYDROGEN},12\n",
         "ideas.csv: row 2: field 'trl': value '12': Input should be less than or equal to 9"),
        ("ideas.jsonl", json.dumps({"text": HYDROGEN, "region": "NL-XX"}) + "\n",
         "ideas.jsonl: row 1 (line 1): field 'region': value 'NL-XX': not a known region code; use one of "
         "NL-GR, NL-FR, NL-DR, NL-OV, NL-FL, NL-GE, NL-UT, NL-NH, NL-ZH, NL-ZE, NL-NB, NL-LI, BE-VLG, BE-WAL, DE-NW, "
         "DE-NI, NL, EU"),
        ("ideas.jsonl", '{"text": "x"}\n{"text": \n', "ideas.jsonl: row 2 (line 2): invalid JSON: Expecting value"),
        ("ideas.csv", "id,text\na,x,extra\n", "ideas.csv: row 1 (line 2): more values than header columns"),
        ("ideas.csv", f"id,text\nq,{HYDROGEN}\nq,{MEDTECH}\n", "ideas.csv: row 2: field 'id': value 'q' repeats row 1"),
        ("ideas.csv", "", "ideas.csv: empty file, expected a header row with column 'text'"),
        ("ideas.jsonl", "\n\n", "ideas.jsonl: no proposals in the file"),
        ("ideas.csv", "text\n", "ideas.csv: no proposals in the file"),
        ("ideas.xlsx", f"text\n{HYDROGEN}\n",
         "ideas.xlsx: not a readable .xlsx workbook (File is not a zip file); open it in Excel and save it again"),
        ("ideas.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
         "ideas.xlsx: encrypted (password-protected) or an old .xls workbook; save it in Excel as .xlsx, no password"),
        ("ideas.ods", f"text\n{HYDROGEN}\n", "ideas.ods: unknown file type '.ods'; use .csv, .tsv, .jsonl or .xlsx"),
        ("ideas", f"text\n{HYDROGEN}\n", "ideas: unknown file type ''; use .csv, .tsv, .jsonl or .xlsx"),
        ("ideas.csv", b"text\n\x81\x8d",
         "ideas.csv: neither UTF-8 (byte 5) nor cp1252 (byte 5); save it as UTF-8, or name its encoding (--encoding)"),
        ("ideas.csv", f'id,text\nw1,"{HYDROGEN}\ns1,{TRAINING}\n',
         "ideas.csv: row 1 (line 2): a quote opened here is never closed, so the lines after it would read as one "
         "field; check the quotes"),
        ("ideas.csv", "id|text\nw1|x\n",
         "ideas.csv: cannot detect the delimiter: the header line 'id|text' has no comma, semicolon or tab; save the "
         "file as CSV, or name the delimiter (--delimiter)"),
    ],
)  # fmt: skip
def test_upload_rejects_bad_files_naming_row_field_and_value(
    client: TestClient, name: str, content: str | bytes, error: str
) -> None:
    response = upload(client, name, content)
    assert (response.status_code, response.json()) == (422, {"error": error})


def test_upload_rejects_more_than_500_rows_and_accepts_500(client: TestClient) -> None:
    many = "id,text\n" + "".join(f"p{n},{HYDROGEN}\n" for n in range(1, 502))
    response = upload(client, "many.csv", many, "?top=1")
    assert response.status_code == 422
    assert response.json() == {"error": "many.csv: more than 500 rows; at most 500 per file"}
    full = upload(client, "full.csv", "id,text\n" + "".join(f"p{n},{HYDROGEN}\n" for n in range(1, 501)), "?top=1")
    assert full.status_code == 202  # more than MATCHER_JOB_ROWS: a background job
    assert len(wait_for_job(client, full.headers["location"])["results"]) == 500


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("?top=0", "field 'top': value '0': Input should be greater than or equal to 1"),
        ("?top=101", "field 'top': value '101': Input should be less than or equal to 100"),
        ("?format=xlsx", "field 'format': value 'xlsx': Input should be 'json' or 'csv'"),
    ],
)
def test_upload_rejects_bad_query(client: TestClient, query: str, error: str) -> None:
    response = upload(client, "ideas.csv", f"text\n{HYDROGEN}\n", query)
    assert (response.status_code, response.json()["error"]) == (422, error)


def test_upload_without_a_file_is_422(client: TestClient) -> None:
    response = client.post("/v1/triage/upload")
    assert (response.status_code, response.json()["error"]) == (422, "field 'file': Field required")


def test_read_proposals_still_reads_files_through_parse_proposals(tmp_path: Path) -> None:
    path = tmp_path / "ideas.CSV"
    path.write_text(f"id,text\nq1,{HYDROGEN}\n", encoding="utf-8")
    assert read_proposals(path) == [Proposal(id="q1", text=HYDROGEN)]
    with pytest.raises(InputError, match=r"ideas\.jsonl: row 1 \(line 1\): expected a JSON object, got list"):
        parse_proposals("[1]\n", "ideas.jsonl", ".JSONL")


# -- rate limit --------------------------------------------------------------------------------------------------------
def test_rate_limit_answers_429_with_retry_after_then_refills(tiny_matcher: Matcher, store: FeedbackStore) -> None:
    client = service_client(tiny_matcher, store)
    clock = FakeClock()
    limiter = RateLimiter(per_minute=2, clock=clock)  # a token every 30 s, a burst of 2
    client.app.dependency_overrides[get_limiter] = lambda: limiter  # type: ignore[attr-defined]
    assert client.post("/v1/match", json={"text": HYDROGEN}).status_code == 200
    assert client.post("/v1/triage", json={"proposals": [{"text": HYDROGEN}]}).status_code == 200
    over = upload(client, "ideas.csv", f"text\n{HYDROGEN}\n")
    assert over.status_code == 429
    assert over.headers["retry-after"] == "30"
    assert over.json() == {"error": "too many requests: at most 2 a minute per client; retry in 30 s"}
    assert client.get("/v1/instruments").status_code == 200  # reading is not limited
    clock.now += 20
    limited = client.post("/v1/match", json={"text": HYDROGEN})
    assert (limited.status_code, limited.headers["retry-after"]) == (429, "10")
    clock.now += 10
    assert upload(client, "ideas.csv", f"text\n{HYDROGEN}\n").status_code == 200
    assert client.post("/v1/match", json={"text": HYDROGEN}).status_code == 429
    clock.now += 600  # a long pause refills up to the burst, not beyond
    assert [client.post("/v1/match", json={"text": HYDROGEN}).status_code for _ in range(3)] == [200, 200, 429]


def test_rate_limit_is_per_client() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=1, clock=clock)
    assert (limiter.take("203.0.113.1"), limiter.take("203.0.113.2")) == (0.0, 0.0)
    assert limiter.take("203.0.113.1") == 60.0
    clock.now += 15
    assert limiter.take("203.0.113.2") == 45.0


def test_rate_comes_from_the_service_settings(
    tiny_matcher: Matcher, store: FeedbackStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = service_client(tiny_matcher, store, rate_per_minute=1)
    assert client.post("/v1/match", json={"text": HYDROGEN}).status_code == 200
    again = client.post("/v1/match", json={"text": HYDROGEN})
    assert again.status_code == 429
    assert int(again.headers["retry-after"]) in (59, 60)
    monkeypatch.delenv("MATCHER_RATE_PER_MINUTE", raising=False)
    assert ServiceSettings.from_env().rate_per_minute == DEFAULT_RATE_PER_MINUTE == 120
    monkeypatch.setenv("MATCHER_RATE_PER_MINUTE", "30")
    assert ServiceSettings.from_env().rate_per_minute == 30


@pytest.mark.parametrize("value", ["0", "-5", "fast", "1.5"])
def test_a_bad_rate_setting_is_refused(value: str) -> None:
    with pytest.raises(InputError) as info:
        parse_rate(value)
    assert str(info.value) == (
        f"MATCHER_RATE_PER_MINUTE: value {value!r}: should be a whole number of requests, at least 1"
    )

"""End to end in a browser: the real service on the bundled corpora with the real default model, driven by the
system Chromium (Debian packages chromium and chromium-driver, installed by setup.sh) through Playwright.

Without /usr/bin/chromium or Playwright the test is skipped, except under CI (the variable CI set), where it fails.
Screenshots go to tests/artifacts/ (applicant.png, applicant-375.png, adviser.png).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from matcher import Settings, load_corpus
from matcher.records import ID_PATTERN
from service.app import create_app
from service.config import ServiceSettings

from .conftest import BUNDLED

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
API_KEY = "browser-test-key"
AS_OF = "2026-11-30"
PROPOSAL = (
    "Wij zijn een mkb-bedrijf uit Ede en willen samen met Wageningen University nieuwe plantaardige eiwitproducten "
    "ontwikkelen: vleesvervangers van erwten en veldbonen van Nederlandse boeren. Het project draagt bij aan de "
    "eiwittransitie en duurzame landbouw in de Foodvalley."
)
FIELDS = {"region": "NL-GE", "applicant_type": "sme", "budget_eur": 350000, "trl": 5, "partners": 2, "as_of": AS_OF}
TRIAGE_CSV = (
    "id,text,region,applicant_type,budget_eur\n"
    'r1,"Omscholing van werknemers in de bouw naar banen in de energietransitie.",NL-OV,sme,80000\n'
    'r2,"A start-up develops a medical device for home monitoring of heart patients.",NL-UT,startup,\n'
    'r3,"Wij bouwen een waterstofpilot met een elektrolyser in de Eemshaven met drie partners.",NL-GR,,2500000\n'
)


def unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; under CI (CI is set) the browser test must run, not be skipped")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app in a uvicorn thread; the index lives where `matcher` keeps it, so it is built only when stale."""
    import uvicorn

    settings = Settings.from_env(corpora=BUNDLED, model="use-multilingual-v3")
    digest = hashlib.sha256(API_KEY.encode()).hexdigest()
    db = tmp_path_factory.mktemp("web") / "feedback.sqlite3"
    app = create_app(settings, ServiceSettings(db=db, api_key_digests=(digest,)))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 600
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the service did not start; see the log above")
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing (Debian package chromium; setup.sh installs it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (the dev extra of pyproject.toml)")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page; console errors (a blocked script or style, a failed request) fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="nl-NL")
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert errors == []


def test_applicant_finds_real_schemes_for_a_dutch_proposal(page: Any, base_url: str, browser: Any) -> None:
    known = {i.id: i for i in load_corpus(BUNDLED).instruments}
    page.goto(f"{base_url}/")
    assert page.get_attribute("html", "lang") == "nl"
    page.keyboard.press("Tab")  # the first stop is the skip link
    assert page.evaluate("document.activeElement.textContent") == "Naar de inhoud"
    page.get_by_label("Projectbeschrijving").fill(PROPOSAL)
    page.get_by_label("Provincie of regio").select_option("NL-GE")
    page.get_by_label("Type aanvrager").select_option("sme")
    page.get_by_label("Projectbudget (euro)").fill("350000")
    page.get_by_label("Technology Readiness Level (TRL, 1-9)").select_option("5")
    page.get_by_label("Aantal partners (inclusief uzelf)").fill("2")
    page.get_by_label("Peildatum").fill(AS_OF)
    page.get_by_label("Peildatum").focus()
    for _ in range(4):  # Tab through the date's day, month and year to the submit button, then Enter
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.tagName") == "BUTTON":
            break
    assert page.evaluate("document.activeElement.textContent") == "Zoek regelingen"
    with page.expect_navigation():
        page.keyboard.press("Enter")

    cards = page.locator("li.match")
    assert cards.count() == 10
    ids = [cards.nth(n).get_attribute("data-instrument") for n in range(cards.count())]
    assert all(re.fullmatch(ID_PATTERN, i) and i in known for i in ids), ids
    api = urllib.request.Request(
        f"{base_url}/v1/match",
        data=json.dumps({"text": PROPOSAL, **FIELDS}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(api) as response:
        expected = json.load(response)
    assert ids == [m["instrument_id"] for m in expected["matches"]]  # the page shows what the API answers
    first = cards.first
    assert first.locator("h3").inner_text() == f"1. {known[ids[0]].name}"
    assert first.locator(".badge").inner_text() in ("Komt in aanmerking", "Nog onbekend", "Komt niet in aanmerking")
    criteria = first.locator(".checklist li").evaluate_all("items => items.map(i => i.dataset.criterion)")
    assert criteria[:2] == ["region", "applicant_type"] and "deadline" in criteria
    assert first.locator(".why li").count() >= 1
    # A Gelderland applicant is shown at least one scheme of the province or its ROM.
    assert any(known[i].level in ("provincial", "regional") and "NL-GE" in known[i].regions for i in ids), ids
    partners = page.locator("li.partner")
    assert partners.count() >= 1
    assert all(p != "NL-GE" for p in partners.evaluate_all("items => items.map(i => i.dataset.region)"))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "applicant.png"), full_page=True)

    with page.expect_navigation():
        page.get_by_role("button", name="Switch to English").click()
    assert page.get_attribute("html", "lang") == "en"
    assert page.locator("label[for=f-text]").inner_text() == "Project description"
    assert page.locator("li.match").first.get_attribute("data-instrument") == ids[0]  # the switch kept the form
    assert "Gelderland" not in page.url and "text=" not in page.url  # posted, not carried in the URL

    phone = browser.new_context(viewport={"width": 375, "height": 812}, device_scale_factor=2, is_mobile=True)
    small = phone.new_page()
    small.goto(f"{base_url}/?lang=en")
    small.get_by_label("Project description").fill(PROPOSAL)
    small.get_by_label("Province or region").select_option("NL-GE")
    with small.expect_navigation():
        small.get_by_role("button", name="Find schemes").click()
    assert small.locator("li.match").count() == 10
    assert small.evaluate("document.documentElement.scrollWidth") <= 375  # nothing wider than the phone
    small.screenshot(path=str(ARTIFACTS / "applicant-375.png"), full_page=True)
    phone.close()


def test_adviser_uploads_a_csv_and_gets_a_triage_table(page: Any, base_url: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{base_url}/adviser?lang=nl")
    page.get_by_label("Bestand met voorstellen (.csv, .tsv, .xlsx of .jsonl)").set_input_files(
        files=[{"name": "voorstellen.csv", "mimeType": "text/csv", "buffer": TRIAGE_CSV.encode()}]
    )
    page.get_by_label("Aantal regelingen per voorstel").fill("3")
    page.get_by_role("button", name="Triage maken").click()
    rows = page.locator("#triage-table tbody tr")
    assert rows.evaluate_all("rows => rows.map(r => r.dataset.proposal)") == ["r1", "r2", "r3"]
    assert [rows.nth(n).locator(".triage-matches > li").count() for n in range(3)] == [3, 3, 3]
    assert page.locator("#triage-table th[scope=col]").all_inner_texts() == [
        "Voorstel",
        "Best passende regelingen",
        "Signalen",
        "Partnerregio's",
    ]
    assert "Type aanvrager ontbreekt" in rows.nth(2).inner_text()  # r3 gives no applicant type
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "adviser.png"), full_page=True)

    # Feedback: with JavaScript the buttons appear; the key stays in this tab and goes along as X-API-Key.
    first = rows.first.locator(".triage-matches > li").first
    instrument = first.get_attribute("data-instrument")
    first.get_by_role("button", name="Goed").click()
    expect(first.locator(".feedback-status")).to_have_text("vul eerst een API-sleutel in")
    page.get_by_label("API-sleutel (voor feedback)").fill(API_KEY)
    first.get_by_role("button", name="Goed").click()
    expect(first.locator(".feedback-status")).to_have_text("opgeslagen")
    stored_request = urllib.request.Request(f"{base_url}/v1/feedback?proposal_id=r1", headers={"X-API-Key": API_KEY})
    with urllib.request.urlopen(stored_request) as response:
        stored = json.load(response)
    assert [(r["proposal_id"], r["instrument_id"], r["relevant"]) for r in stored] == [("r1", instrument, True)]

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download als CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("triage-") and download.suggested_filename.endswith(".csv")
    table = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert [(r["proposal_id"], r["rank"]) for r in table] == [
        (p, str(n)) for p in ("r1", "r2", "r3") for n in (1, 2, 3)
    ]
    assert table[0]["instrument_id"] == instrument

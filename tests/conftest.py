"""Shared fixtures: a tiny corpus written in code, with answers known in advance, and a matcher over it.

Instruments of the tiny corpus:
- nl-waterstof: national grant for hydrogen pilots (electrolysers), SMEs and large firms, TRL 5-7, >= 2 partners
- nl-scholing: national grant for training employees of SMEs, rolling
- prov-gelderland-eiwit: Gelderland-only grant for the protein transition, closed since 2025-01-31
- eu-zorg: EU grant for medical technology, min contribution EUR 500,000 at 70 %
- rom-oost-lening: ROM loan for start-ups in Gelderland and Overijssel

Its gazetteer (places.yaml) knows the three regions of regions.yaml and Germany; it has no mappings.yaml.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from matcher import Corpus, HashingEncoder, Matcher, Proposal, load_corpus
from matcher.records.threshold import Threshold
from service.app import create_app
from service.config import ServiceSettings
from service.deps import get_matcher, get_store
from service.storage import MIGRATIONS, FeedbackStore

SOURCE = {"url": "https://example.org/regeling", "as_of": dt.date(2026, 1, 1)}

THEMES: list[dict[str, Any]] = [
    {"id": "energy", "name": "Energie", "name_en": "Energy", "keywords": ["waterstof", "elektrolyser", "hydrogen"]},
    {
        "id": "human-capital",
        "name": "Scholing",
        "name_en": "Skills",
        "priority": True,
        "keywords": ["scholing", "opleiding", "training"],
    },
    {"id": "agrifood", "name": "Agrifood", "name_en": "Agrifood", "keywords": ["eiwit", "plantaardig", "protein"]},
    {"id": "health-medtech", "name": "Zorg", "name_en": "Health", "keywords": ["medische", "zorg", "medical"]},
    {"id": "finance-scaleup", "name": "Financiering", "name_en": "Finance", "keywords": ["lening", "loan"]},
]


def instrument(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "level": "national",
        "administrator": "RVO",
        "regions": ["NL"],
        "applicant_types": ["sme"],
        "instrument_type": "grant",
        "criteria": ["Het project wordt in Nederland uitgevoerd."],
        "recurrence": "rolling",
        "source": SOURCE,
    }
    return base | fields


INSTRUMENTS: list[dict[str, Any]] = [
    instrument(
        id="nl-waterstof",
        name="Waterstofpilots",
        applicant_types=["sme", "large_enterprise"],
        themes=["energy"],
        summary="Subsidie voor pilots met waterstof en elektrolysers die CO2-uitstoot verminderen.",
        criteria=["Minimaal twee partners werken samen aan een waterstofpilot.", "De techniek is getest in een lab."],
        keywords=["waterstof", "elektrolyser", "hydrogen pilot"],
        min_partners=2,
        trl_min=5,
        trl_max=7,
        recurrence="rolling",
    ),
    instrument(
        id="nl-scholing",
        name="Scholingssubsidie mkb",
        themes=["human-capital"],
        summary="Subsidie voor opleiding en scholing van werknemers in het mkb, zodat zij blijven leren.",
        keywords=["scholing", "opleiding", "training employees"],
        recurrence="rolling",
    ),
    instrument(
        id="prov-gelderland-eiwit",
        name="Eiwittransitie Gelderland",
        level="provincial",
        administrator="Provincie Gelderland",
        regions=["NL-GE"],
        themes=["agrifood"],
        summary="Subsidie voor Gelderse bedrijven die plantaardige eiwitten en vleesvervangers ontwikkelen.",
        keywords=["eiwit", "plantaardig", "vleesvervanger"],
        recurrence="annual",
        rounds=[{"opens": dt.date(2024, 2, 1), "closes": dt.date(2025, 1, 31)}],
    ),
    instrument(
        id="eu-zorg",
        name="EU Medtech",
        level="eu",
        administrator="Europese Commissie",
        regions=["EU"],
        applicant_types=["sme", "startup", "knowledge_institution"],
        themes=["health-medtech"],
        summary="Europese subsidie voor medische technologie en innovatie in de zorg.",
        summary_en="European grant for medical technology and innovation in healthcare.",
        keywords=["medische technologie", "medical device", "zorg"],
        funding_rate=0.7,
        min_amount_eur=500_000,
        max_amount_eur=2_500_000,
        recurrence="annual",  # no round dates known: availability unknown
    ),
    instrument(
        id="rom-oost-lening",
        name="Startlening Oost",
        level="regional",
        administrator="Oost NL",
        regions=["NL-GE", "NL-OV"],
        applicant_types=["startup"],
        instrument_type="loan",
        themes=["finance-scaleup"],
        summary="Lening voor jonge start-ups in Gelderland en Overijssel die willen groeien.",
        keywords=["lening", "start-up", "groeikapitaal"],
        recurrence="rolling",
    ),
]

REGIONS: dict[str, Any] = {
    "regions": [
        {
            "code": "NL-GE",
            "name": "Gelderland",
            "landsdeel": "Oost",
            "interreg_programmes": [],
            "clusters": ["Foodvalley: plantaardige eiwitten en voeding"],
            "themes": ["agrifood", "health-medtech"],
            "summary": "Provincie met Foodvalley en zorginnovatie.",
            "source": SOURCE,
        },
        {
            "code": "NL-GR",
            "name": "Groningen",
            "landsdeel": "Noord",
            "clusters": ["Waterstofvallei: elektrolysers en groene waterstof"],
            "themes": ["energy"],
            "summary": "Provincie met een waterstofcluster.",
            "source": SOURCE,
        },
        {
            "code": "NL-ZH",
            "name": "Zuid-Holland",
            "landsdeel": "West",
            "clusters": ["Haven Rotterdam: waterstofimport"],
            "themes": ["energy"],
            "summary": "Provincie met de Rotterdamse haven.",
            "source": SOURCE,
        },
    ],
    "collaborations": [
        {
            "id": "noord-waterstof",
            "name": "Waterstof Noord en West",
            "regions": ["NL-GR", "NL-ZH"],
            "themes": ["energy"],
            "summary": "Samenwerking rond waterstof.",
            "source": SOURCE,
        }
    ],
}


PLACES: dict[str, Any] = {
    "regions": {
        "NL-GE": {"names": ["Gelderland", "Foodvalley"], "adjectives": ["Gelderse"], "cities": ["Arnhem", "Ede"]},
        "NL-GR": {"names": ["Groningen"], "adjectives": ["Groningse"], "cities": ["Eemshaven"]},
        "NL-ZH": {"names": ["Zuid-Holland"], "cities": ["Rotterdam", "Den Haag"]},
        "DE-NW": {"names": ["Nordrhein-Westfalen"], "cities": ["Aken"]},
    },
    "countries": {"DE": ["Duitsland", "Duitse"]},
}


def write_corpus(
    root: Path,
    instruments: list[dict[str, Any]] | None = None,
    places: dict[str, Any] | None = PLACES,
    mappings: dict[str, Any] | None = None,
) -> Path:
    """The tiny corpus under `root`; places.yaml and mappings.yaml only when given (both are optional)."""
    (root / "instruments").mkdir(parents=True, exist_ok=True)
    (root / "themes.yaml").write_text(yaml.safe_dump(THEMES, allow_unicode=True))
    (root / "regions.yaml").write_text(yaml.safe_dump(REGIONS, allow_unicode=True))
    data = INSTRUMENTS if instruments is None else instruments
    (root / "instruments" / "tiny.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    for name, table in (("places.yaml", places), ("mappings.yaml", mappings)):
        if table is not None:
            (root / name).write_text(yaml.safe_dump(table, allow_unicode=True, sort_keys=False))
    return root


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "corpora")


@pytest.fixture(scope="session")
def tiny_matcher(tmp_path_factory: pytest.TempPathFactory) -> Matcher:
    root = write_corpus(tmp_path_factory.mktemp("tiny") / "corpora")
    return Matcher.build(load_corpus(root), HashingEncoder())


def service_client(matcher: Any, store: FeedbackStore, **service: Any) -> TestClient:
    """A client of the app over `matcher` and `store`, with the lifespan not run (no model, no database of its own)."""
    app = create_app(service=ServiceSettings(db=Path("unused"), **service))
    app.dependency_overrides[get_matcher] = lambda: matcher
    app.dependency_overrides[get_store] = lambda: store
    return TestClient(app)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[FeedbackStore]:
    with FeedbackStore.open(tmp_path / "feedback.sqlite3") as opened:
        yield opened


@pytest.fixture
def client(tiny_matcher: Matcher, store: FeedbackStore) -> TestClient:
    return service_client(tiny_matcher, store)


REPO = Path(__file__).resolve().parent.parent
BUNDLED = REPO / "corpora"
SHARED = REPO.parent / "shared"


@functools.cache
def bundled_corpus() -> Corpus:
    """The bundled corpora, loaded once (for their gazetteer and mappings in tests of a tiny corpus)."""
    return load_corpus(BUNDLED)


# -- the gap analysis corpus and batch (test_gaps, test_service_gaps) ------------------------------------------
GAP_AS_OF = dt.date(2026, 11, 30)
GAP_THRESHOLD = Threshold.fixed(0.7, "fixed for the tests")
GAP_BATCH = [
    ("h1", "Wij bouwen een waterstof pilot met een elektrolyser", "NL-GR"),
    ("s1", "Scholing en opleiding van werknemers in het mkb", "NL-UT"),
    ("e1", "Plantaardige eiwitten: wij ontwikkelen vleesvervangers van erwten", "NL-GE"),
    ("e2", "Vleesvervangers uit plantaardige eiwitten van bonen", "NL-GE"),
    ("t1", "Ons theatergezelschap maakt een voorstelling met nieuwe decors en kostuums", "NL-UT"),
    ("t2", "Een theatergezelschap zoekt geld voor decors voor de voorstelling", "NL-UT"),
]


def closing_soon_corpus(root: Path) -> Path:
    instruments: list[dict[str, Any]] = [dict(i) for i in INSTRUMENTS]
    for inst in instruments:
        if inst["id"] == "nl-scholing":
            inst.update(rounds=[{"opens": dt.date(2026, 1, 1), "closes": GAP_AS_OF + dt.timedelta(days=30)}])
    return write_corpus(root, instruments)


@pytest.fixture(scope="module")
def gap_matcher(tmp_path_factory: pytest.TempPathFactory) -> Matcher:
    """The tiny corpus with one instrument closing 30 days after GAP_AS_OF (gap analysis tests)."""
    root = closing_soon_corpus(tmp_path_factory.mktemp("gaps") / "corpora")
    return Matcher.build(load_corpus(root), HashingEncoder())


def gap_proposals() -> list[Proposal]:
    extra: dict[str, Any] = {"applicant_type": "sme", "trl": 6, "partners": 3}
    return [Proposal(id=i, text=t, region=r, **(extra if i == "h1" else {})) for i, t, r in GAP_BATCH]


def version_2_database(path: Path) -> None:
    """The file as the second release left it: feedback and one triage run, without the run's proposals."""
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
        for version, script in enumerate(MIGRATIONS[:2], 1):
            conn.executescript(script)
            conn.execute("INSERT INTO schema_version VALUES (?, '2026-10-01T00:00:00+00:00')", (version,))
        conn.execute("INSERT INTO feedback VALUES (1, 'p1', 'eu-zorg', 1, 'oud', '2026-10-02T00:00:00+00:00')")
        conn.execute(
            "INSERT INTO triage_run VALUES (1, '2026-10-03T00:00:00+00:00', 'oud.csv', 1, 5, ?)",
            (json.dumps([{"proposal_id": "o1", "matches": []}]),),
        )
    conn.close()


def wait_for_job(client: TestClient, location: str, timeout_s: float = 30.0, **kwargs: Any) -> dict[str, Any]:
    """The body of a triage job (`GET location`) once it is done or failed; fails the test past `timeout_s`."""
    import time

    deadline = time.monotonic() + timeout_s
    while True:
        response = client.get(location, **kwargs)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] in ("done", "failed"):
            return body
        assert time.monotonic() < deadline, f"job still {body['status']} after {timeout_s} s"
        time.sleep(0.02)

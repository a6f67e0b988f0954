"""Partner regions: the H2020 co-participation prior, where the applicant and its partners are, and the
Herstelplan's own examples on the bundled corpora with the real model (slow)."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from matcher import CorpusError, HashingEncoder, Instrument, Matcher, Proposal, Region, Settings, app
from matcher.cli import _parser, _settings
from matcher.io.h2020 import CountryShare, H2020Prior, load_h2020
from matcher.pipeline.partners import W_H2020, PartnerFinder, applicant_region, named_areas, wide_programmes
from matcher.records import PartnerRegion
from matcher.text.i18n import localise, message
from matcher.text.passages import region_passages

from .conftest import SHARED, SOURCE, bundled_corpus, instrument

TODAY = dt.date(2026, 11, 30)
REAL_H2020 = SHARED / "data" / "h2020-participations"
PARTS = bundled_corpus().mappings.h2020_parts
PLACES = bundled_corpus().places
COUNTRIES_CSV = "partner_country,n_projects_with_NL,share_of_NL_projects\nDE,50,0.5\nFR,40,0.4\nBE,25,0.25\n"


def write_h2020(root: Path, parts: bool = True) -> Path:
    """100 Dutch projects overall; with `parts`, 60 Dutch Health (SC1) projects: BE in 45, DE in 30; and 10 in SC3."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "nl_partner_countries_h2020.csv").write_text(COUNTRIES_CSV)
    if not parts:
        return root
    rows, part_rows = ["rcn,role,country"], ["rcn,programme_part"]
    for n in range(60):
        others = (["BE"] if n < 45 else []) + (["DE"] if n % 2 == 0 else [])
        rows += [f"{n},coordinator,NL", *(f"{n},participant,{c}" for c in others)]
        part_rows.append(f"{n},SC1")
    for n in range(100, 110):  # too few projects to say anything per part
        rows += [f"{n},coordinator,NL", f"{n},participant,FR"]
        part_rows.append(f"{n},SC3")
    rows += ["900,coordinator,BE", "900,participant,DE"]  # not Dutch: not counted
    part_rows.append("900,SC1")
    with gzip.open(root / "h2020_participations.csv.gz", "wt") as fh:
        fh.write("\n".join(rows) + "\n")
    with gzip.open(root / "h2020_programme_parts.csv.gz", "wt") as fh:
        fh.write("\n".join(part_rows) + "\n")
    return root


# -- reading and checking the folder -------------------------------------------------------------------------------
def test_overall_shares_without_the_participation_files(tmp_path: Path) -> None:
    prior = load_h2020(write_h2020(tmp_path / "h2020", parts=False), PARTS)
    assert (prior.overall, prior.total, prior.by_part) == ({"DE": 0.5, "FR": 0.4, "BE": 0.25}, 100, {})
    found = prior.share("BE", ["health-medtech"])
    assert found == CountryShare("BE", 0.25, 100, "H2020")
    assert prior.relative(found) == 0.5


def test_shares_per_programme_part_for_the_proposals_theme(tmp_path: Path) -> None:
    prior = load_h2020(write_h2020(tmp_path / "h2020"), PARTS)
    assert prior.part_totals == {"SC1": 60, "SC3": 10}
    assert prior.by_part["SC1"] == {"BE": 0.75, "DE": 0.5}
    assert prior.share("BE", ["sme-innovation", "health-medtech"]) == CountryShare("BE", 0.75, 60, "SC1", "Health")
    assert prior.relative(prior.share("DE", ["health-medtech"])) == pytest.approx(0.5 / 0.75)
    # SC3 has 10 Dutch projects, under the minimum: energy falls back to all projects.
    assert prior.share("DE", ["energy"]) == CountryShare("DE", 0.5, 100, "H2020")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (COUNTRIES_CSV.replace("0.25", "1.7"), "line 4: field 'share_of_NL_projects': value '1.7' is not a share"),
        (COUNTRIES_CSV.replace("FR,40", "France,40"), "line 3: field 'partner_country': value 'France' is not a two"),
        (COUNTRIES_CSV.replace("DE,50", "DE,many"), "line 2: field 'n_projects_with_NL': value 'many' is not a whole"),
        (COUNTRIES_CSV.replace("BE,25", "DE,25"), "line 4: field 'partner_country': value 'DE' appears twice"),
        ("country,n\nDE,5\n", "line 1: header lacks field 'partner_country'"),
    ],
)
def test_a_bad_countries_file_is_named_with_line_field_and_value(tmp_path: Path, content: str, message: str) -> None:
    root = write_h2020(tmp_path / "h2020", parts=False)
    (root / "nl_partner_countries_h2020.csv").write_text(content)
    with pytest.raises(CorpusError) as err:
        load_h2020(root, PARTS)
    assert str(err.value).startswith(f"{root / 'nl_partner_countries_h2020.csv'}: {message}")


def test_bad_participation_rows_and_missing_files_are_named(tmp_path: Path) -> None:
    root = write_h2020(tmp_path / "h2020")
    with gzip.open(root / "h2020_participations.csv.gz", "wt") as fh:
        fh.write("rcn,country\n1,NL\nx1,DE\n")
    with pytest.raises(CorpusError, match=r"h2020_participations\.csv\.gz: line 3: field 'rcn': value 'x1'"):
        load_h2020(root, PARTS)
    (root / "h2020_participations.csv.gz").unlink()
    with pytest.raises(CorpusError, match=r"h2020_participations\.csv\.gz: file not found"):
        load_h2020(root, PARTS)
    with pytest.raises(CorpusError, match="H2020 folder not found"):
        load_h2020(tmp_path / "nowhere", PARTS)


def test_the_folder_flows_from_cli_option_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MATCHER_H2020", raising=False)
    assert Settings.from_env().h2020 is None
    monkeypatch.setenv("MATCHER_H2020", "/data/h2020")
    assert Settings.from_env().h2020 == Path("/data/h2020")
    for command in (["match", "x"], ["triage", "in.csv", "--output", "o.jsonl"], ["evaluate"], ["serve"]):
        args = _parser().parse_args([*command, "--h2020", "/other"])
        assert _settings(args).h2020 == Path("/other")


@pytest.mark.skipif(not REAL_H2020.is_dir(), reason="../shared/data/h2020-participations is absent")
def test_the_real_cordis_folder() -> None:
    prior = load_h2020(REAL_H2020, PARTS)
    assert prior.total == 5405
    assert prior.overall["DE"] == pytest.approx(2903 / 5405)
    assert prior.overall["BE"] == pytest.approx(1916 / 5405)
    assert prior.part_totals["SC1"] >= 400
    health = prior.share("DE", ["health-medtech"])
    assert health.basis == "SC1" and 0.6 < health.share < 0.8


# -- ranking with a tiny set of regions ------------------------------------------------------------------------------
def region(code: str, name: str, landsdeel: str, themes: list[str], **fields: Any) -> Region:
    base = {"clusters": [f"{name}: bedrijven"], "summary": f"Regio {name}.", "source": SOURCE}
    return Region(code=code, name=name, landsdeel=landsdeel, themes=themes, **(base | fields))


REGIONS = [
    region("NL-GR", "Groningen", "Noord", ["energy"], neighbours=["NL-DR", "DE-NI"]),
    region("NL-DR", "Drenthe", "Noord", ["energy"], neighbours=["NL-GR", "DE-NI"]),
    region("NL-LI", "Limburg", "Zuid", ["health-medtech"], neighbours=["DE-NW", "BE-VLG"]),
    region("BE-VLG", "Vlaanderen", "België", ["health-medtech"], neighbours=["NL-LI"]),
    region("DE-NW", "Nordrhein-Westfalen", "Duitsland", ["health-medtech"], neighbours=["NL-LI"]),
    region("DE-NI", "Niedersachsen", "Duitsland", ["energy"], neighbours=["NL-GR", "NL-DR"]),
]
NAMES = {"energy": "Energie", "health-medtech": "Zorg"}


def finder(prior: H2020Prior | None = None) -> PartnerFinder:
    passages = [p for r in REGIONS for p in region_passages(r)]
    encoder = HashingEncoder()
    vectors = encoder.encode([p.text for p in passages])
    return PartnerFinder(REGIONS, [], passages, vectors, prior, places=PLACES, instruments=())


def suggest(f: PartnerFinder, text: str, themes: list[str], own: str | None, lang: str = "nl") -> dict[str, Any]:
    """The suggestions by region, with `why` worded in `lang`."""
    vec = HashingEncoder().encode([text])[0]
    return {p.region: worded(p, lang) for p in f.suggest(text, themes, vec, own, top=10)}


def worded(p: PartnerRegion, lang: str) -> PartnerRegion:
    return p.model_copy(update={"why": tuple(message(lang, r, NAMES) for r in p.why_codes)})


def test_the_prior_adds_a_bounded_boost_abroad_only_and_says_why(tmp_path: Path) -> None:
    prior = load_h2020(write_h2020(tmp_path / "h2020", parts=False), PARTS)
    text = "Wij ontwikkelen een medisch hulpmiddel"
    plain = suggest(finder(), text, ["health-medtech"], "NL-GR")
    boosted = suggest(finder(prior), text, ["health-medtech"], "NL-GR")
    assert boosted["NL-LI"] == plain["NL-LI"]
    assert boosted["DE-NW"].score == pytest.approx(plain["DE-NW"].score + W_H2020, abs=1e-4)
    assert boosted["BE-VLG"].score == pytest.approx(plain["BE-VLG"].score + W_H2020 * 0.5, abs=1e-4)
    assert boosted["DE-NW"].why[-1] == "H2020: 50% van de 100 Nederlandse projecten had een Duitse partner (CORDIS)"
    assert boosted["DE-NW"].why_codes[-1].params == {"share": 0.5, "projects": 100, "country": "DE", "source": "CORDIS"}
    assert not any(w.startswith("H2020") for p in plain.values() for w in p.why)


def test_the_prior_uses_the_programme_part_of_the_theme(tmp_path: Path) -> None:
    prior = load_h2020(write_h2020(tmp_path / "h2020"), PARTS)
    got = suggest(finder(prior), "We develop a medical device", ["health-medtech"], "NL-LI", lang="en")
    assert got["BE-VLG"].why[-1] == "H2020: 75% of the 60 Dutch projects in Health (SC1) had a Belgian partner (CORDIS)"


def test_own_region_is_excluded_given_or_read_from_the_opening() -> None:
    f = finder()
    assert "NL-GR" not in suggest(f, "Waterstof en energie", ["energy"], "NL-GR")
    assert applicant_region("Transportbedrijf in Assen met 45 trucks.", PLACES) == "NL-DR"
    assert applicant_region("A nature organisation in Zeeland wants to restore salt marshes", PLACES) == "NL-ZE"
    assert applicant_region("Wij willen samen met een partner uit Groningen iets maken", PLACES) is None
    assert applicant_region("Bedrijven uit Groningen en Limburg werken samen", PLACES) is None
    got = suggest(f, "Transportbedrijf in Drenthe met waterstoftrucks, samen met vervoerders", ["energy"], None)
    assert "NL-DR" not in got
    assert got["DE-NI"].score > got["NL-LI"].score  # Drenthe borders Niedersachsen


def test_a_named_partner_region_comes_first_and_areas_count_less() -> None:
    f = finder()
    got = suggest(f, "Wij zoeken een partner uit Limburg voor waterstof", ["energy"], "NL-GR")
    assert next(iter(got)) == "NL-LI" and got["NL-LI"].why[0] == "Het voorstel noemt deze regio"
    assert named_areas("Mkb-bedrijven in Noord-Nederland en the southern Netherlands") == {"Noord", "Zuid"}
    got = suggest(f, "Samenwerking met bedrijven in Noord-Nederland", ["health-medtech"], "NL-LI")
    assert got["NL-GR"].why[0] == "Ligt in het genoemde landsdeel Noord"


def test_a_partner_across_the_border_points_to_the_neighbours_abroad() -> None:
    got = suggest(finder(), "Wij zoeken een ziekenhuis over de grens", ["health-medtech"], "NL-LI")
    assert set(list(got)[:2]) == {"DE-NW", "BE-VLG"}
    assert "Over de grens, zoals het voorstel vraagt" in got["DE-NW"].why
    assert "Over de grens, zoals het voorstel vraagt" not in got["DE-NI"].why  # does not border Limburg


def test_programmes_that_cover_every_province_are_not_shared_evidence() -> None:
    corpus = bundled_corpus()
    interreg = {p for r in corpus.regions for p in r.interreg_programmes}
    assert wide_programmes(corpus.instruments) & interreg == {
        "eu-interreg-north-sea",
        "eu-interreg-nwe",
        "eu-interreg-europe",
    }
    summary = "Een programma voor samenwerking tussen regio's."
    programmes = [
        Instrument.model_validate(instrument(id=i, name=i, level="eu", regions=r, themes=["energy"], summary=summary))
        for i, r in (("eu-cross", ["NL-GR", "DE-NI"]), ("eu-wide", ["NL", "DE-NI"]), ("eu-all", ["EU"]))
    ]
    regions = [
        region(r.code, r.name, r.landsdeel, list(r.themes), neighbours=list(r.neighbours), interreg_programmes=ids)
        for r, ids in ((REGIONS[0], ["eu-cross", "eu-wide", "eu-all"]), (REGIONS[5], ["eu-cross", "eu-wide"]))
    ]
    passages = [p for r in regions for p in region_passages(r)]
    vectors = HashingEncoder().encode([p.text for p in passages])
    f = PartnerFinder(regions, [], passages, vectors, places=PLACES, instruments=programmes)
    got = suggest(f, "Waterstof en energie", ["energy"], "NL-GR")
    assert "Samen in programma: eu-cross" in got["DE-NI"].why


# -- the Herstelplan's examples, on the bundled corpora with the default model ----------------------------------------
HERSTELPLAN = [
    (
        "Wij zijn een mkb-bedrijf dat vleesvervangers maakt op basis van erwten en veldbonen. We willen met telers en "
        "verwerkers een keten voor plantaardige eiwitten opzetten en de eiwittransitie versnellen.",
        "NL-UT",
        {"NL-GE", "NL-OV", "NL-NB", "NL-LI"},
    ),
    (
        "Our company builds climate computers for greenhouses. With growers and a university we want to develop an "
        "autonomous greenhouse in which AI and sensors steer climate, irrigation and crop growth without a grower.",
        "NL-NB",
        {"NL-ZH", "NL-NH"},
    ),
    (
        "Wij willen met een consortium van industriebedrijven een elektrolyser van 20 MW bouwen voor groene waterstof "
        "en de restwarmte en CO2 van de fabriek hergebruiken in een circulaire keten met chemische bedrijven.",
        "NL-NH",
        {"NL-GR", "NL-DR", "NL-FR", "NL-ZE"},
    ),
    (
        "We are a medtech start-up developing a wearable sensor that monitors heart patients at home. We want to run "
        "clinical trials with hospitals and scale up production of the medical device with partners.",
        "NL-GE",
        {"BE-VLG", "DE-NW", "NL-OV", "NL-NB", "NL-LI"},
    ),
]


@pytest.fixture(scope="module")
def real_matcher(tmp_path_factory: pytest.TempPathFactory) -> Matcher:
    # Like tests/test_e2e.py: the bundled corpora, the default model, a fresh artefact folder.
    art = tmp_path_factory.mktemp("artefacts")
    return app.load_matcher(Settings(artefacts=art, model="use-multilingual-v3"))


@pytest.mark.slow
@pytest.mark.parametrize(("text", "own", "named"), HERSTELPLAN, ids=["protein", "greenhouse", "hydrogen", "medtech"])
def test_herstelplan_examples_name_the_regions_the_plan_names(
    real_matcher: Matcher, text: str, own: str, named: set[str]
) -> None:
    result = real_matcher.match(Proposal(text=text, region=own), top_k=3, as_of=TODAY)
    result = localise(result, result.language, real_matcher.corpus.theme_names(result.language))
    top3 = result.partner_regions[:3]
    assert own not in [p.region for p in result.partner_regions]
    assert named & {p.region for p in top3}, [p.region for p in top3]
    for p in top3:  # every suggestion cites concrete evidence: a collaboration, a cluster or a shared programme
        evidence = ("Samenwerking uit het Herstelplan", "Herstelplan collaboration", "Cluster:", "Samen in", "Shared")
        assert any(w.startswith(evidence) for w in p.why), p.why
    assert np.all(np.diff([p.score for p in result.partner_regions]) <= 0)

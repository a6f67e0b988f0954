"""Partner regions: the H2020 co-participation prior, where the applicant and its partners are, and the
Herstelplan's own examples on the bundled corpora with the real model (slow)."""

from __future__ import annotations

import datetime as dt
import gzip
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from matcher import CorpusError, HashingEncoder, Instrument, Matcher, Proposal, Region, Settings, app
from matcher.analysis.partner_model import check_why, neighbour_baseline, out_of_fold, rank_metrics
from matcher.cli import _parser, _settings
from matcher.io.corpus import load_partner_cases
from matcher.io.h2020 import CountryShare, H2020Prior, load_h2020
from matcher.pipeline.partners import (
    FEATURES,
    HAND,
    PartnerFinder,
    PartnerModel,
    applicant_region,
    named_areas,
    ranked_order,
    wide_programmes,
)
from matcher.records import JointProject, PartnerRegion, Reason
from matcher.text.i18n import localise, message
from matcher.text.passages import region_passages

from .conftest import BUNDLED, SHARED, SOURCE, bundled_corpus, instrument

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
    assert boosted["DE-NW"].score == pytest.approx(plain["DE-NW"].score + HAND["h2020"], abs=1e-4)
    assert boosted["BE-VLG"].score == pytest.approx(plain["BE-VLG"].score + HAND["h2020"] * 0.5, abs=1e-4)
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
    assert 'Over de grens, zoals het voorstel vraagt ("over de grens")' in got["DE-NW"].why
    assert not any(w.startswith("Over de grens") for w in got["DE-NI"].why)  # does not border Limburg


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
    assert "Ligt met Groningen in het gebied van eu-cross" in got["DE-NI"].why


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
    assert len(result.partner_regions) == 5
    top3 = result.partner_regions[:3]
    assert own not in [p.region for p in result.partner_regions]
    # Among the five: real collaborations (the evidence) put the neighbours first more often than the plan does.
    assert named & {p.region for p in result.partner_regions}, [p.region for p in result.partner_regions]
    for p in (
        top3
    ):  # every suggestion cites a checkable fact: evidence, a programme area, a strength, a collaboration or a cluster
        evidence = (
            "Samenwerking uit het Herstelplan",
            "Herstelplan collaboration",
            "Cluster:",
            "Ligt met",
            "Lies with",
        )
        evidence += ("Echte projecten", "Real projects", "Sterk in", "Strong in")
        assert any(w.startswith(evidence) for w in p.why), p.why
    assert np.all(np.diff([p.score for p in result.partner_regions]) <= 0)


# -- evidence from real collaborations, the order of suggestions, the rules of why lines ----------------------------
def joint(name: str, regions: list[str], themes: list[str], url: str = "https://example.org/p") -> JointProject:
    return JointProject.model_validate(
        {"project": name, "programme": "eu-x", "regions": regions, "themes": themes, "source": {"url": url}}
    )


EVIDENCE = [
    joint("A", ["NL-LI", "BE-VLG"], ["health-medtech"], "https://example.org/a"),
    joint("B", ["NL-LI", "BE-VLG"], ["health-medtech"], "https://example.org/b"),
    joint("C", ["NL-LI", "BE-VLG", "DE-NW"], ["energy"], "https://example.org/c"),
    joint("D", ["NL-GR", "DE-NI"], ["energy"], "https://example.org/d"),
]


def evidence_finder(evidence: list[JointProject] = EVIDENCE) -> PartnerFinder:
    passages = [p for r in REGIONS for p in region_passages(r)]
    vectors = HashingEncoder().encode([p.text for p in passages])
    return PartnerFinder(REGIONS, [], passages, vectors, places=PLACES, instruments=(), joint_projects=evidence)


def test_joint_projects_are_counted_per_pair_and_on_the_proposals_strongest_themes() -> None:
    f = evidence_finder()
    vec = HashingEncoder().encode(["Zorg"])[0]
    found = f.candidates("Een zorgproject", ["health-medtech", "energy"], vec, "NL-LI")
    assert [j.project for j in found.joint["BE-VLG"]] == ["A", "B", "C"]
    assert [j.project for j in found.on_theme["BE-VLG"]] == ["A", "B", "C"]  # energy is the second strongest
    assert [j.project for j in found.joint["DE-NW"]] == ["C"]
    assert found.joint["NL-GR"] == []  # D does not involve Limburg
    row = dict(zip(FEATURES, found.x[found.codes.index("BE-VLG")], strict=True))
    assert row["evidence_pair"] == pytest.approx(math.log1p(3) / math.log1p(20))
    got = suggest(f, "Een zorgproject", ["health-medtech"], "NL-LI")
    assert got["BE-VLG"].why_codes[0] == Reason(
        code="partner.evidence_theme",
        params={
            "themed": 2,
            "themes": ["health-medtech"],
            "count": 3,
            "own": "Limburg",
            "other": "Vlaanderen",
            "source": "https://example.org/a",  # no dates: the first listed
        },
    )
    assert got["BE-VLG"].why[0].startswith("Echte projecten met partners uit Limburg en Vlaanderen: 3, waarvan 2 over")


def test_a_case_is_judged_without_the_evidence_of_its_own_project() -> None:
    f = evidence_finder()
    vec = HashingEncoder().encode(["Zorg"])[0]
    with f.leaving_out({"https://example.org/a", "b"}):
        assert [j.project for j in f.evidence()] == ["C", "D"]
        found = f.candidates("Een zorgproject", ["health-medtech"], vec, "NL-LI")
    assert [j.project for j in found.joint["BE-VLG"]] == ["C"]
    assert len(f.evidence()) == 4  # restored on leaving


def test_regions_the_text_names_come_first_whatever_the_scores() -> None:
    f = evidence_finder()
    got = list(suggest(f, "Wij zoeken een partner in Groningen voor ons zorgproject", ["health-medtech"], "NL-LI"))
    assert got[0] == "NL-GR"
    model = PartnerModel(FEATURES, tuple(0.0 for _ in FEATURES), 0.0, True, "zeros")
    found = f.candidates("Een partner in Groningen", [], HashingEncoder().encode(["x"])[0], "NL-LI")
    order = [found.codes[k] for k in ranked_order(found, model.scores(found.x))]
    assert order[0] == "NL-GR" and order[1:] == sorted(order[1:])  # ties broken by code


def test_the_neighbour_baseline_and_the_rank_metrics() -> None:
    corpus = bundled_corpus()
    assert neighbour_baseline("NL-LI", corpus)[:5] == ["BE-VLG", "BE-WAL", "DE-NW", "NL-NB", "NL-GE"]
    assert len(neighbour_baseline("NL-LI", corpus)) == 15
    got = rank_metrics([["A", "B", "C"], ["B", "A"], ["C"]], [{"A"}, {"A"}, {"Z"}])
    assert got == {"hit@1": 0.333, "hit@3": 0.667, "MRR": 0.5, "cases": 3}


def test_every_kind_of_why_line_is_checked_against_its_rule() -> None:
    corpus = bundled_corpus()
    text = "Wij zoeken grensoverschrijdend een partner in Vlaanderen voor zorginnovatie"
    themes = ["health-medtech", "cross-border"]
    vl_nl = corpus.instrument("eu-interreg-vl-nl").name
    de_nl = corpus.instrument("eu-interreg-de-nl").name
    holds = [
        Reason(code="partner.named", params={}),
        Reason(code="partner.across_border", params={"words": "grensoverschrijdend"}),
        Reason(code="partner.programme_area", params={"programmes": [vl_nl], "region": "Limburg"}),
        Reason(code="partner.outside_areas", params={"programmes": [de_nl]}),
        Reason(code="partner.strong_in", params={"themes": ["health-medtech"]}),
    ]
    for why in holds:
        assert check_why(why, text, themes, "NL-LI", "BE-VLG", corpus), why
    fails = [
        Reason(code="partner.named", params={}),  # the text names no region of Niedersachsen
        Reason(code="partner.programme_area", params={"programmes": [vl_nl], "region": "Limburg"}),
        Reason(code="partner.strong_in", params={"themes": ["agrifood"]}),  # not a theme of the proposal
        Reason(code="partner.collaboration", params={"name": "no such collaboration"}),
        Reason(code="partner.unknown", params={}),
    ]
    for why in fails:
        assert not check_why(why, text, themes, "NL-LI", "DE-NI", corpus), why
    pair = [j for j in corpus.joint_projects if {"NL-LI", "BE-VLG"} <= set(j.regions)]
    line = {"count": len(pair), "own": "Limburg", "other": "Vlaanderen", "source": str(pair[0].source.url)}
    assert check_why(Reason(code="partner.evidence", params=line), text, themes, "NL-LI", "BE-VLG", corpus)
    wrong = line | {"count": len(pair) + 1}
    assert not check_why(Reason(code="partner.evidence", params=wrong), text, themes, "NL-LI", "BE-VLG", corpus)


def test_the_learned_weights_are_trained_and_cross_validated_on_rows_grouped_by_case() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((60, len(FEATURES)))
    y = (x[:, FEATURES.index("border")] > 0.7).astype(int)
    groups = np.repeat(np.arange(12), 5)
    scores = out_of_fold(x, y, groups)
    assert scores.shape == (60,)
    assert np.corrcoef(scores, x[:, FEATURES.index("border")])[0, 1] > 0.8


def test_bad_partner_cases_and_evidence_are_named(tmp_path: Path) -> None:
    corpus = bundled_corpus()
    good = {
        "id": "c1",
        "text": "Een grensoverschrijdend zorgproject",
        "lang": "nl",
        "region": "NL-LI",
        "partner_regions": ["BE-VLG"],
        "programme": "eu-interreg-vl-nl",
        "source": "https://example.org/c1",
    }
    path = tmp_path / "cases.yaml"
    for change, expected in (
        ({"partner_regions": ["NL-LI"]}, "value 'NL-LI': is the applicant's own region"),
        ({"partner_regions": ["NL"]}, "field 'regions'"),
        ({"programme": "eu-nothing"}, "field 'programme': value 'eu-nothing'"),
        ({"projects": ["No such project"]}, "field 'projects': value 'No such project'"),
        ({"lang": "xx"}, "field 'lang'"),
    ):
        path.write_text(yaml.safe_dump([good | change]))
        with pytest.raises(CorpusError, match=re.escape(expected)):
            load_partner_cases(path, corpus)
    path.write_text(yaml.safe_dump([good]))
    assert load_partner_cases(path, corpus)[0].partner_regions == ("BE-VLG",)
    with pytest.raises(ValueError, match="regions listed twice"):
        joint("E", ["NL-LI", "NL-LI"], ["energy"])


def test_the_bundled_evidence_and_partner_cases_hold_together() -> None:
    corpus = bundled_corpus()
    assert len(corpus.joint_projects) >= 80
    cases = load_partner_cases(BUNDLED / "partner_cases_real.yaml", corpus)
    assert len(cases) >= 40
    assert all(c.source is not None and c.region.startswith("NL-") for c in cases)
    named = {j.project for j in corpus.joint_projects}
    assert all(c.projects and set(c.projects) <= named for c in cases)  # each case's own project can be left out


@pytest.mark.slow
def test_a_zeeland_hydrogen_pilot_with_a_flemish_partner_and_a_bakery(real_matcher: Matcher) -> None:
    pilot = Proposal(
        text="Wij zijn een mkb-bedrijf in Vlissingen en willen een pilot met groene waterstof in de haven opzetten, "
        "samen met een Vlaamse partner.",
    )
    result = real_matcher.match(pilot, as_of=TODAY)
    result = localise(result, "nl", real_matcher.corpus.theme_names("nl"))
    first = result.partner_regions[0]
    assert first.region == "BE-VLG" and first.why[0] == "Het voorstel noemt deze regio"
    assert any(w.startswith("Ligt met Zeeland in het gebied van Interreg Vlaanderen-Nederland") for w in first.why)
    assert any(w.startswith("Echte projecten met partners uit Zeeland en Vlaanderen: ") for w in first.why)
    bakery = Proposal(text="Onze bakkerij in Zwolle wil twee nieuwe ovens kopen om meer brood te bakken.")
    assert real_matcher.match(bakery, as_of=TODAY).partner_regions == ()
    # one partner named in the singular ("met een Vlaamse hogeschool") calls for partners too, its region first
    coating = Proposal(
        text="Wij ontwikkelen in Breda een nieuwe coating voor windturbinebladen met een Vlaamse hogeschool.",
    )
    assert real_matcher.match(coating, as_of=TODAY).partner_regions[0].region == "BE-VLG"


@pytest.mark.slow
def test_every_why_line_of_the_real_partner_cases_passes_its_rule(real_matcher: Matcher) -> None:
    from matcher.analysis.partner_model import labelled, why_checks

    corpus = real_matcher.corpus
    cases = labelled(load_partner_cases(BUNDLED / "partner_cases_real.yaml", corpus))
    failed, lines = [], 0
    for case in cases:
        with real_matcher.partners.leaving_out(set(case.leave_out)):
            result = real_matcher.match(case.proposal, as_of=TODAY)
            counted = real_matcher.partners.evidence()
        own = case.proposal.region
        checks = why_checks(result.partner_regions, case.proposal.text, result.themes, own, corpus, counted)
        lines += len(checks)
        failed += [(case.proposal.id, c.kind) for c in checks if not c.passed]
    assert lines > 300 and failed == []

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from matcher import CorpusError, load_corpus, load_dev_cases
from matcher.cli import main
from matcher.records import NEIGHBOURS, PROVINCES, Gazetteer, Mappings

from .conftest import BUNDLED, INSTRUMENTS, PLACES, instrument, write_corpus

CONTRACT_IDS = """nl-groeifonds nl-mit-haalbaarheid nl-mit-rd nl-wbso nl-innovatiekrediet nl-vff nl-seed-capital
nl-dei-plus nl-mooi nl-sde-plus-plus nl-eia nl-mia-vamil nl-bmkb nl-invest-nl nl-pps-toeslag
nl-circulaire-ketenprojecten nl-slim
nl-regio-deals nl-nwo-kic eu-react-eu eu-efro-noord eu-efro-oost eu-efro-zuid eu-efro-west eu-jtf-nl eu-esf-plus-nl
eu-interreg-vl-nl eu-interreg-de-nl eu-interreg-emr eu-interreg-north-sea eu-interreg-nwe eu-interreg-europe
eu-eic-accelerator eu-eic-pathfinder eu-horizon-collaborative eu-eurostars eu-life eu-innovation-fund eu-digital-europe
eu-cef""".split()


def test_tiny_corpus_loads_every_record(corpus_dir: Path) -> None:
    corpus = load_corpus(corpus_dir)
    assert [i.id for i in corpus.instruments] == [i["id"] for i in INSTRUMENTS]
    assert [r.code for r in corpus.regions] == ["NL-GE", "NL-GR", "NL-ZH"]
    assert corpus.instrument("eu-zorg").funding_rate == 0.7


def test_unknown_field_is_named_with_file_line_and_id(tmp_path: Path) -> None:
    bad = [
        *INSTRUMENTS[:1],
        instrument(
            id="nl-typo", name="X", themes=["energy"], summary="Een samenvatting van twintig tekens.", fundingrate=0.4
        ),
    ]
    root = write_corpus(tmp_path, bad)
    with pytest.raises(CorpusError) as err:
        load_corpus(root)
    message = str(err.value)
    assert "tiny.yaml:" in message
    assert "(id nl-typo)" in message
    assert "field 'fundingrate'" in message
    assert "Extra inputs are not permitted" in message


def test_theme_reference_must_exist(tmp_path: Path) -> None:
    bad = [instrument(id="nl-x", name="X", themes=["quantum"], summary="Een samenvatting van twintig tekens.")]
    with pytest.raises(CorpusError, match=r"record nl-x: field 'themes': value 'quantum' does not exist"):
        load_corpus(write_corpus(tmp_path, bad))


def test_out_of_range_value_is_reported(tmp_path: Path) -> None:
    bad = [
        instrument(id="nl-x", name="X", themes=["energy"], summary="Een samenvatting van twintig tekens.", trl_min=12)
    ]
    with pytest.raises(CorpusError, match=r"field 'trl_min': value 12: Input should be less than or equal to 9"):
        load_corpus(write_corpus(tmp_path, bad))


def test_id_prefix_must_agree_with_level(tmp_path: Path) -> None:
    bad = [instrument(id="prov-x", name="X", themes=["energy"], summary="Een samenvatting van twintig tekens.")]
    with pytest.raises(CorpusError, match=r"id prefix 'prov-' needs level 'provincial'"):
        load_corpus(write_corpus(tmp_path, bad))


def test_duplicate_ids_are_reported(tmp_path: Path) -> None:
    root = write_corpus(tmp_path)
    (root / "instruments" / "copy.yaml").write_text(yaml.safe_dump(INSTRUMENTS[:1]))
    with pytest.raises(CorpusError, match=r"duplicate id 'nl-waterstof'"):
        load_corpus(root)


def test_malformed_yaml_names_the_file(tmp_path: Path) -> None:
    root = write_corpus(tmp_path)
    (root / "instruments" / "broken.yaml").write_text("- id: nl-x\n  name: [unclosed\n")
    with pytest.raises(CorpusError, match=r"broken.yaml: invalid YAML"):
        load_corpus(root)


def test_missing_themes_file(tmp_path: Path) -> None:
    root = write_corpus(tmp_path)
    (root / "themes.yaml").unlink()
    with pytest.raises(CorpusError, match=r"themes.yaml: file not found"):
        load_corpus(root)


def test_hash_changes_with_content(tmp_path: Path) -> None:
    root = write_corpus(tmp_path)
    before = load_corpus(root).hash
    write_corpus(tmp_path, INSTRUMENTS[:2])
    assert load_corpus(root).hash != before


# -- reference tables: places.yaml (the gazetteer) and mappings.yaml ---------------------------------------------------
def _tables(root: Path, places: str | None = None, mappings: str | None = None) -> Path:
    """The tiny corpus with the reference files as written here (so their line numbers are known)."""
    write_corpus(root, INSTRUMENTS, places=None)
    for name, text in (("places.yaml", places), ("mappings.yaml", mappings)):
        if text is not None:
            (root / name).write_text(text, encoding="utf-8")
    return root


def _problems(root: Path) -> list[str]:
    with pytest.raises(CorpusError) as err:
        load_corpus(root)
    return str(err.value).splitlines()[1:]


def test_the_reference_files_are_optional(tmp_path: Path) -> None:
    corpus = load_corpus(_tables(tmp_path))
    assert (corpus.places, corpus.mappings) == (Gazetteer(), Mappings())


def test_the_reference_files_load_and_change_the_corpus_hash(tmp_path: Path) -> None:
    root = _tables(tmp_path)
    hashes = [load_corpus(root).hash]
    write_corpus(root, INSTRUMENTS, places=PLACES)
    corpus = load_corpus(root)
    hashes.append(corpus.hash)
    assert corpus.places.regions["NL-GE"].cities == ("Arnhem", "Ede")
    assert corpus.places.countries == {"DE": ("Duitsland", "Duitse")}
    (root / "mappings.yaml").write_text("ft_programmes:\n  ESF+: {theme: human-capital, funds: [ESF]}\n")
    corpus = load_corpus(root)
    hashes.append(corpus.hash)
    assert corpus.mappings.ft_programmes["ESF+"].funds == ("ESF",)
    (root / "mappings.yaml").write_text("ft_programmes:\n  ESF+: {theme: human-capital}\n")
    hashes.append(load_corpus(root).hash)
    assert len(set(hashes)) == 4


PLACES_BAD = """\
regions:
  NL-GE:
    names: [Gelderland]
  NL-XX:
    names: [Nergens]
countries:
  DE: [Duitsland]
  FR: [Frankrijk]
compounds:
  NL-ZZ: [Ergens-Anders]
"""


def test_unknown_region_and_country_codes_of_the_gazetteer_are_named(tmp_path: Path) -> None:
    path = tmp_path / "places.yaml"
    assert _problems(_tables(tmp_path, places=PLACES_BAD)) == [
        f"{path}:4: field 'regions.NL-XX': value 'NL-XX' does not exist; expected a region code such as NL-GE",
        f"{path}:10: field 'compounds.NL-ZZ': value 'NL-ZZ' does not exist; expected a region code such as NL-GE",
        f"{path}:8: field 'countries.FR': value 'FR' does not exist; expected a country of the region codes "
        "(NL, BE, DE)",
    ]


def test_an_unknown_field_of_the_gazetteer_is_named_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "places.yaml"
    text = "regions:\n  NL-GE:\n    names: [Gelderland]\n    towns: [Ede]\nprovinces: {}\n"
    assert _problems(_tables(tmp_path, places=text)) == [
        f"{path}:4: field 'regions.NL-GE.towns': Extra inputs are not permitted",
        f"{path}:5: field 'provinces': Extra inputs are not permitted",
    ]


MAPPINGS_BAD = """\
ft_programmes:
  LIFE: {theme: quantum}
  ESF+: {theme: human-capital, funds: [ESF]}
h2020_parts:
  SC1:
    name: Health
    themes: [energy, quantum]
fund_routing:
  EFRO: [nl-waterstof, eu-nowhere]
"""


def test_unknown_themes_and_instruments_of_the_mappings_are_named(tmp_path: Path) -> None:
    path = tmp_path / "mappings.yaml"
    assert _problems(_tables(tmp_path, mappings=MAPPINGS_BAD)) == [
        f"{path}:2: field 'ft_programmes.LIFE.theme': value 'quantum' does not exist; expected an id from themes.yaml",
        f"{path}:7: field 'h2020_parts.SC1.themes.1': value 'quantum' does not exist; expected an id from themes.yaml",
        f"{path}:9: field 'fund_routing.EFRO.0': value 'nl-waterstof' is not paid from EFRO; expected an instrument "
        "whose `funds` list EFRO",
        f"{path}:9: field 'fund_routing.EFRO.1': value 'eu-nowhere' does not exist; expected an instrument id",
    ]


def test_unknown_fields_and_funds_of_the_mappings_are_named(tmp_path: Path) -> None:
    path = tmp_path / "mappings.yaml"
    text = "ft_programmes:\n  LIFE: {theme: climate-water, fund: [EFRO]}\nfund_routing:\n  EAGF: [eu-zorg]\n"
    assert _problems(_tables(tmp_path, mappings=text)) == [
        f"{path}:2: field 'ft_programmes.LIFE.fund': Extra inputs are not permitted",
        f"{path}:4: field 'fund_routing.EAGF.[key]': value 'EAGF': Input should be 'EFRO' or 'ESF'",
    ]


def test_matcher_validate_checks_the_reference_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _tables(tmp_path, places=PLACES_BAD)
    assert main(["validate", "--corpora", str(root)]) == 2
    err = capsys.readouterr().err
    assert f"{root / 'places.yaml'}:4: field 'regions.NL-XX': value 'NL-XX' does not exist" in err


# -- the bundled corpora --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bundled():  # type: ignore[no-untyped-def]
    return load_corpus(BUNDLED)


def test_bundled_corpus_has_every_contract_instrument(bundled) -> None:  # type: ignore[no-untyped-def]
    ids = {i.id for i in bundled.instruments}
    assert sorted(set(CONTRACT_IDS) - ids) == []
    assert len(bundled.instruments) >= 60


def test_every_province_has_a_provincial_or_rom_instrument(bundled) -> None:  # type: ignore[no-untyped-def]
    covered = {r for i in bundled.instruments if i.level in ("provincial", "regional") for r in i.regions}
    assert sorted(set(PROVINCES) - covered) == []


def test_every_bundled_record_cites_a_source(bundled) -> None:  # type: ignore[no-untyped-def]
    for inst in bundled.instruments:
        assert inst.source.url.scheme in ("http", "https"), inst.id
        assert re.fullmatch(r"[a-z0-9-]+", inst.id)
    assert {r.code for r in bundled.regions} == set(PROVINCES) | {"BE-VLG", "BE-WAL", "DE-NW", "DE-NI"}


def test_bundled_reference_tables_load(bundled) -> None:  # type: ignore[no-untyped-def]
    assert set(bundled.places.regions) == set(PROVINCES) | set(NEIGHBOURS)
    assert set(bundled.places.countries) == {"BE", "DE"}
    assert bundled.places.compounds["NL-ZE"] == ("Zeeuws-Vlaanderen", "Zeeuws-Vlaamse", "Zeeuws-Vlaams")
    assert bundled.mappings.ft_programmes["ESF+"].funds == ("ESF",)
    assert bundled.mappings.h2020_parts["SC1"].themes == ("health-medtech",)
    assert bundled.mappings.fund_routing == {
        "EFRO": ("eu-efro-noord", "eu-efro-oost", "eu-efro-zuid", "eu-efro-west"),
        "ESF": ("eu-esf-plus-nl",),
    }
    themes = [t for part in bundled.mappings.h2020_parts.values() for t in part.themes]
    assert len(themes) == len(set(themes))  # each theme under one programme part


def test_bundled_dev_cases_are_valid_and_varied(bundled) -> None:  # type: ignore[no-untyped-def]
    cases = load_dev_cases(BUNDLED / "dev_cases.yaml", bundled)
    assert len(cases) >= 80
    assert {c.lang for c in cases} == {"nl", "en"}
    assert all(2 in c.relevant.values() for c in cases)

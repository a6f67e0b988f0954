from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from matcher import CorpusError, load_corpus, load_dev_cases
from matcher.records import PROVINCES

from .conftest import BUNDLED, INSTRUMENTS, instrument, write_corpus

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


def test_bundled_dev_cases_are_valid_and_varied(bundled) -> None:  # type: ignore[no-untyped-def]
    cases = load_dev_cases(BUNDLED / "dev_cases.yaml", bundled)
    assert len(cases) >= 80
    assert {c.lang for c in cases} == {"nl", "en"}
    assert all(2 in c.relevant.values() for c in cases)

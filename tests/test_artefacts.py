from __future__ import annotations

import json
from pathlib import Path

from matcher import HashingEncoder, load_corpus
from matcher.retrieval.artefacts import load_or_build, read_manifest

from .conftest import INSTRUMENTS, write_corpus


def test_build_writes_manifest_and_reuses_it(tmp_path: Path) -> None:
    corpus = load_corpus(write_corpus(tmp_path / "c"))
    folder = tmp_path / "art"
    first = load_or_build(corpus, HashingEncoder(), folder)
    manifest = read_manifest(folder)
    assert manifest is not None
    assert {k: manifest[k] for k in ("model", "dimension", "instruments", "corpus_hash")} == {
        "model": "hashing",
        "dimension": 256,
        "instruments": 5,
        "corpus_hash": corpus.hash,
    }
    assert manifest["count"] == len(first.passages)
    again = load_or_build(corpus, HashingEncoder(), folder)
    assert again.manifest["built_at"] == manifest["built_at"]  # loaded, not rebuilt
    assert sorted(p.name for p in folder.iterdir()) == [
        "manifest.json",
        "passages.faiss",
        "passages.json",
        "vectors.npz",
    ]


def test_corpus_change_triggers_rebuild(tmp_path: Path) -> None:
    root = write_corpus(tmp_path / "c")
    folder = tmp_path / "art"
    load_or_build(load_corpus(root), HashingEncoder(), folder)
    write_corpus(tmp_path / "c", INSTRUMENTS[:3])
    rebuilt = load_or_build(load_corpus(root), HashingEncoder(), folder)
    assert rebuilt.manifest["instruments"] == 3
    assert json.loads((folder / "manifest.json").read_text())["instruments"] == 3


def test_model_change_triggers_rebuild(tmp_path: Path) -> None:
    corpus = load_corpus(write_corpus(tmp_path / "c"))
    folder = tmp_path / "art"
    load_or_build(corpus, HashingEncoder(), folder)
    other = load_or_build(corpus, HashingEncoder(dimension=64), folder)
    assert other.manifest["model"] == "hashing-64"
    assert other.index.dimension == 64


def test_damaged_index_is_rebuilt(tmp_path: Path) -> None:
    corpus = load_corpus(write_corpus(tmp_path / "c"))
    folder = tmp_path / "art"
    load_or_build(corpus, HashingEncoder(), folder)
    (folder / "passages.faiss").write_bytes(b"garbage")
    emb = load_or_build(corpus, HashingEncoder(), folder)
    assert len(emb.index) == emb.manifest["count"]

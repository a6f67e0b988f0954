"""Built embedding artefacts: the passage index plus theme and region vectors, saved with a manifest.

The artefact folder holds `manifest.json`, `passages.faiss`, `passages.json` and `vectors.npz` (theme, region and
funded-project vectors). Each file is
written to a temporary name and renamed into place; the manifest is written last, so a crash mid-build leaves
either the previous complete build or one that fails the manifest check and is rebuilt. The manifest records the
model, dimension, passage count, corpus hash, index setting (`MATCHER_INDEX`) and build time; `load_or_build`
rebuilds when any of them differs.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from matcher.io.atomic import atomic_path, write_bytes
from matcher.io.corpus import Corpus
from matcher.retrieval.encoders import Encoder
from matcher.retrieval.index import VectorIndex
from matcher.retrieval.spec import IndexSpec
from matcher.text.passages import SUMMARY, Passage, instrument_passages, project_text, region_passages, theme_text

log = logging.getLogger(__name__)
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Embeddings:
    passages: tuple[Passage, ...]
    index: VectorIndex
    theme_vectors: np.ndarray
    region_passages: tuple[Passage, ...]
    region_vectors: np.ndarray
    reference: float  # typical cosine between two descriptions of the same instrument
    manifest: dict[str, Any]
    # One row per funded project of the corpus, in corpus order (empty without a projects corpus).
    project_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))


def _reference_cosine(passages: list[Passage], vectors: np.ndarray) -> float:
    """Median over instruments of the best similarity between the summary and another passage of it."""
    best: list[float] = []
    by_owner: dict[str, list[int]] = {}
    for i, p in enumerate(passages):  # one pass: a scan per owner grew with instruments x passages
        by_owner.setdefault(p.owner, []).append(i)
    for rows in by_owner.values():
        summary = next(i for i in rows if passages[i].kind == SUMMARY)
        others = [i for i in rows if i != summary]
        if others:
            best.append(float((vectors[others] @ vectors[summary]).max()))
    return float(np.median(best)) if best else 0.5


def build(corpus: Corpus, encoder: Encoder, index_spec: IndexSpec | None = None) -> Embeddings:
    passages = [p for inst in corpus.instruments for p in instrument_passages(inst)]
    vectors = encoder.encode([p.text for p in passages])
    spec = index_spec or IndexSpec()
    index = VectorIndex.build(vectors, [p.owner for p in passages], spec)
    reg_passages = [p for reg in corpus.regions for p in region_passages(reg)]
    texts = [theme_text(t) for t in corpus.themes] + [p.text for p in reg_passages]
    extra = encoder.encode(texts)
    projects = encoder.encode([project_text(p) for p in corpus.projects]) if corpus.projects else None
    n_themes = len(corpus.themes)
    reference = _reference_cosine(passages, vectors)
    manifest: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "model": encoder.name,
        "dimension": int(vectors.shape[1]),
        "count": len(passages),
        "instruments": len(corpus.instruments),
        "projects": len(corpus.projects),
        "corpus_hash": corpus.hash,
        "index": str(spec),
        "index_kind": index.kind,  # `exact` where the corpus is below the setting's `min`
        "reference_cosine": reference,
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    return Embeddings(
        passages=tuple(passages),
        index=index,
        theme_vectors=extra[:n_themes],
        region_passages=tuple(reg_passages),
        region_vectors=extra[n_themes:],
        reference=reference,
        manifest=manifest,
        project_vectors=projects if projects is not None else np.zeros((0, vectors.shape[1]), dtype=np.float32),
    )


def save(emb: Embeddings, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    # Invalidate first: a crash before the new manifest is written leaves a folder that will be rebuilt.
    (folder / "manifest.json").unlink(missing_ok=True)
    emb.index.save(folder / "passages.faiss")
    meta = {
        "passages": [[p.owner, p.kind, p.text] for p in emb.passages],
        "region_passages": [[p.owner, p.kind, p.text] for p in emb.region_passages],
    }
    write_bytes(folder / "passages.json", json.dumps(meta, ensure_ascii=False).encode())
    with atomic_path(folder / "vectors.npz") as tmp, tmp.open("wb") as fh:
        np.savez(fh, themes=emb.theme_vectors, regions=emb.region_vectors, projects=emb.project_vectors)
    write_bytes(folder / "manifest.json", json.dumps(emb.manifest, indent=2).encode())


def read_manifest(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def load(folder: Path, manifest: dict[str, Any]) -> Embeddings:
    meta = json.loads((folder / "passages.json").read_text())
    passages = tuple(Passage(*row) for row in meta["passages"])
    reg_passages = tuple(Passage(*row) for row in meta["region_passages"])
    with np.load(folder / "vectors.npz") as vec:
        themes, regions = vec["themes"], vec["regions"]
        projects = vec["projects"] if "projects" in vec.files else np.zeros((0, themes.shape[1]), dtype=np.float32)
    index = VectorIndex.load(folder / "passages.faiss", [p.owner for p in passages])
    if len(index) != manifest["count"] or index.dimension != manifest["dimension"]:
        raise ValueError("index does not match its manifest")
    if len(projects) != manifest.get("projects", 0):
        raise ValueError("project vectors do not match the manifest")
    reference = float(manifest["reference_cosine"])
    return Embeddings(passages, index, themes, reg_passages, regions, reference, manifest, projects)


def is_current(
    manifest: dict[str, Any] | None, corpus: Corpus, encoder: Encoder, index_spec: IndexSpec | None = None
) -> bool:
    return (
        manifest is not None
        and manifest.get("format") == FORMAT_VERSION
        and manifest.get("model") == encoder.name
        and manifest.get("corpus_hash") == corpus.hash
        and manifest.get("index", "exact") == str(index_spec or IndexSpec())  # builds before the setting were exact
    )


def load_or_build(
    corpus: Corpus, encoder: Encoder, folder: Path | None, force: bool = False, index_spec: IndexSpec | None = None
) -> Embeddings:
    """Load the artefacts in `folder` when they match corpus, model and index setting; else build (and save) them."""
    if folder is not None and not force:
        manifest = read_manifest(folder)
        if manifest is not None and is_current(manifest, corpus, encoder, index_spec):
            try:
                return load(folder, manifest)
            except (OSError, ValueError, KeyError, RuntimeError) as exc:  # faiss raises RuntimeError
                log.warning("artefacts in %s are damaged (%s); rebuilding", folder, exc)
        else:
            log.info("artefacts in %s are missing or stale; building", folder)
    emb = build(corpus, encoder, index_spec)
    if folder is not None:
        save(emb, folder)
    return emb

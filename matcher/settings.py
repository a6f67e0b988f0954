"""Settings read once, at the edge (CLI, service), from arguments or MATCHER_* environment variables.

MATCHER_CORPORA    corpora folder (default: the corpora/ folder next to the package)
MATCHER_ARTEFACTS  where built indexes are stored (default: $XDG_CACHE_HOME/regio-matcher or ~/.cache/regio-matcher)
MATCHER_MODEL      encoder name or path (default: use-multilingual-v3)
MATCHER_INDEX      vector index: `exact` (default) or `hnsw[:M=32,efc=80,ef=128,min=10000]` (retrieval/index.py)
MATCHER_EXTRA      comma-separated folders written by `matcher import` (instruments and funded projects), loaded and
                   validated with the corpora
MATCHER_H2020      optional folder of CORDIS H2020 participations: a prior for cross-border partner regions
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from matcher.retrieval.encoders import DEFAULT_MODEL
from matcher.retrieval.spec import IndexSpec

PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "regio-matcher"


def default_db() -> Path:
    """The database of feedback, stored triage runs and saved profiles, shared by the service and `matcher watch`
    (`MATCHER_DB` overrides it)."""
    return default_cache() / "feedback.sqlite3"


def split_paths(value: str | Sequence[str]) -> tuple[Path, ...]:
    """Folders from 'a,b' or from a list of such strings (a repeated CLI option)."""
    parts = [value] if isinstance(value, str) else list(value)
    return tuple(Path(p.strip()) for part in parts for p in part.split(",") if p.strip())


@dataclass(frozen=True)
class Settings:
    corpora: Path = PACKAGE_ROOT / "corpora"
    artefacts: Path = field(default_factory=default_cache)
    model: str = DEFAULT_MODEL
    index: IndexSpec = IndexSpec()
    extra: tuple[Path, ...] = ()
    h2020: Path | None = None

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        base = cls(
            corpora=Path(os.environ.get("MATCHER_CORPORA", str(cls.corpora))),
            artefacts=Path(os.environ.get("MATCHER_ARTEFACTS") or default_cache()),
            model=os.environ.get("MATCHER_MODEL", DEFAULT_MODEL),
            index=IndexSpec.parse(os.environ.get("MATCHER_INDEX") or "exact"),
            extra=split_paths(os.environ.get("MATCHER_EXTRA", "")),
            h2020=Path(os.environ["MATCHER_H2020"]) if os.environ.get("MATCHER_H2020") else None,
        )
        given = {k: v for k, v in overrides.items() if v is not None}
        return replace(base, **given)  # type: ignore[arg-type]

    @property
    def dev_cases(self) -> Path:
        return self.corpora / "dev_cases.yaml"

    @property
    def real_cases(self) -> Path:
        """Dev cases taken from real funded projects (with their source pages)."""
        return self.corpora / "dev_cases_real.yaml"

    @property
    def partner_cases(self) -> Path:
        """Real collaborative projects with the regions their partners came from (for the partner model)."""
        return self.corpora / "partner_cases_real.yaml"

    @property
    def out_of_scope(self) -> Path:
        """Real requests that no instrument is for."""
        return self.corpora / "out_of_scope_real.yaml"

"""Settings read once, at the edge (CLI, service), from arguments or MATCHER_* environment variables.

MATCHER_CORPORA    corpora folder (default: the corpora/ folder next to the package)
MATCHER_ARTEFACTS  where built indexes are stored (default: $XDG_CACHE_HOME/regio-matcher or ~/.cache/regio-matcher)
MATCHER_MODEL      encoder name or path (default: use-multilingual-v3)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from .encoders import DEFAULT_MODEL

PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "regio-matcher"


@dataclass(frozen=True)
class Settings:
    corpora: Path = PACKAGE_ROOT / "corpora"
    artefacts: Path = field(default_factory=default_cache)
    model: str = DEFAULT_MODEL

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        base = cls(
            corpora=Path(os.environ.get("MATCHER_CORPORA", str(cls.corpora))),
            artefacts=Path(os.environ.get("MATCHER_ARTEFACTS") or default_cache()),
            model=os.environ.get("MATCHER_MODEL", DEFAULT_MODEL),
        )
        given = {k: v for k, v in overrides.items() if v is not None}
        return replace(base, **given)  # type: ignore[arg-type]

    @property
    def dev_cases(self) -> Path:
        return self.corpora / "dev_cases.yaml"

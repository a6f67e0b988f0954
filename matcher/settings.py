"""Settings read once, at the edge (CLI, service), from arguments or MATCHER_* environment variables.

MATCHER_CORPORA    corpora folder (default: the corpora/ folder next to the package)
MATCHER_ARTEFACTS  where built indexes are stored (default: .matcher/ in the current folder)
MATCHER_MODEL      encoder name or path (default: use-multilingual-v3)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from .encoders import DEFAULT_MODEL

PACKAGE_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    corpora: Path = PACKAGE_ROOT / "corpora"
    artefacts: Path = Path(".matcher")
    model: str = DEFAULT_MODEL

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        base = cls(
            corpora=Path(os.environ.get("MATCHER_CORPORA", str(cls.corpora))),
            artefacts=Path(os.environ.get("MATCHER_ARTEFACTS", str(cls.artefacts))),
            model=os.environ.get("MATCHER_MODEL", DEFAULT_MODEL),
        )
        given = {k: v for k, v in overrides.items() if v is not None}
        return replace(base, **given)  # type: ignore[arg-type]

    @property
    def dev_cases(self) -> Path:
        return self.corpora / "dev_cases.yaml"

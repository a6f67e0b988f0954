"""Which vector index to build: `IndexSpec`, parsed from the `MATCHER_INDEX` setting (see `retrieval.index`).

Kept apart from the faiss code so that reading settings does not import faiss.

    >>> str(IndexSpec.parse("hnsw:ef=64"))
    'hnsw:M=32,efc=80,ef=64,min=10000'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from matcher.errors import InputError

Kind = Literal["exact", "hnsw"]
KINDS: tuple[Kind, ...] = ("exact", "hnsw")
_KEYS = {"m": "m", "efc": "ef_construction", "ef": "ef_search", "min": "min_vectors"}


@dataclass(frozen=True)
class IndexSpec:
    """Which index to build: `IndexSpec.parse("hnsw:M=32,ef=128")`; `str(spec)` is the canonical form."""

    kind: Kind = "exact"
    m: int = 32
    ef_construction: int = 80
    ef_search: int = 128
    min_vectors: int = 10_000

    @classmethod
    def parse(cls, text: str) -> IndexSpec:
        """Parse `exact`, `hnsw` or `hnsw:M=32,efc=80,ef=128,min=10000` (keys case-insensitive, any order)."""
        where = f"index setting (MATCHER_INDEX) {text!r}"
        kind, _, params = text.strip().partition(":")
        kind = kind.strip().lower()
        if kind not in KINDS:
            raise InputError(f"{where}: unknown kind {kind!r}; use 'exact' or 'hnsw[:M=32,ef=128]'")
        if kind == "exact":
            if params.strip():
                raise InputError(f"{where}: 'exact' takes no parameters")
            return cls()
        values: dict[str, int] = {}
        for item in filter(None, (p.strip() for p in params.split(","))):
            key, eq, value = (s.strip() for s in item.partition("="))
            if key.lower() not in _KEYS or not eq:
                raise InputError(f"{where}: bad parameter {item!r}; use M=, efc=, ef= or min=")
            try:
                number = int(value)
            except ValueError:
                number = 0
            if number < 1:
                raise InputError(f"{where}: {key} must be a positive whole number, not {value!r}")
            values[_KEYS[key.lower()]] = number
        base = cls(kind="hnsw")
        return cls(
            kind="hnsw",
            m=values.get("m", base.m),
            ef_construction=values.get("ef_construction", base.ef_construction),
            ef_search=values.get("ef_search", base.ef_search),
            min_vectors=values.get("min_vectors", base.min_vectors),
        )

    def __str__(self) -> str:
        if self.kind == "exact":
            return "exact"
        return f"hnsw:M={self.m},efc={self.ef_construction},ef={self.ef_search},min={self.min_vectors}"

    def kind_for(self, count: int) -> Kind:
        """The kind actually built for `count` vectors: small collections are always exact."""
        return "exact" if count < self.min_vectors else self.kind

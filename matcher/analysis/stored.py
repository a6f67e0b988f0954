"""What a stored, trained model says about how it was made: one manifest shape for the scope and partner models."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matcher.pipeline.matcher import Matcher


def manifest(version: int, matcher: Matcher, files: Sequence[Path], files_key: str = "files") -> dict[str, Any]:
    """Format version, encoder, corpus hash, the sha256 of each labelled file (under `files_key`) and the time."""
    return {
        "format": version,
        "model": matcher.encoder.name,
        "corpus_hash": matcher.corpus.hash,
        files_key: {str(f): hashlib.sha256(f.read_bytes()).hexdigest() for f in files},
        "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }

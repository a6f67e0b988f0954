"""Write-then-rename: a file appears complete or not at all, and a crash never leaves half a file in place.

>>> with atomic_path(Path("out.jsonl")) as tmp:
...     tmp.write_text("...")

A run killed while writing leaves its hidden temporary file (`.out.jsonl.XXXX.tmp`) behind; the next write beside
it removes those of our own naming pattern that are older than `STALE_AFTER_S` (a live run's file is younger), so
they never pile up. The gap report's temporary folders (`.gaps-XXXX.tmp`) are removed the same way.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)
STALE_AFTER_S = 3600.0  # an hour: longer than any write of one output, far shorter than a file is worth keeping


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success flush it to disk and rename it to `path`."""
    remove_stale(path.parent, f".{path.name}.*.tmp")
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def remove_stale(folder: Path, pattern: str, older_than_s: float = STALE_AFTER_S) -> list[Path]:
    """Remove the entries of `folder` matching `pattern` (files or folders) last changed over `older_than_s` ago:
    temporary files of runs that were killed. Returns what was removed; one that cannot be removed is left."""
    cutoff = time.time() - older_than_s
    removed = []
    try:
        found = [p for p in Path(folder or ".").glob(pattern) if p.name.startswith(".")]
    except OSError:
        return []
    for stale in found:
        try:
            if stale.lstat().st_mtime >= cutoff:
                continue
            if stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale)
            else:
                stale.unlink()
        except OSError:
            continue
        log.info("removed %s, left by a run that was stopped", stale)
        removed.append(stale)
    return removed


def write_bytes(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)

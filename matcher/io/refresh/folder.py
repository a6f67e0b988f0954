"""An output folder replaced whole or not at all: the new content is written into a copy of the folder beside it,
which then takes the folder's place; when anything fails first, the previous folder stays as it was.

    >>> with staged_folder(Path("imported")) as stage:
    ...     (stage / "cvdr.yaml").write_bytes(data)   # other files of the folder are in `stage` too

Two renames swap the folders (POSIX cannot exchange two folders in one step): the old one is moved aside, the new one
moved in, the old one deleted.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from matcher.io.refresh.http import RefreshError


@contextmanager
def staged_folder(out: Path) -> Iterator[Path]:
    """Yield a copy of `out` (empty when `out` does not exist yet) beside it; on success it replaces `out`."""
    if out.exists() and not out.is_dir():
        raise RefreshError(f"{out}: --out must be a folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.refresh-"))
    try:
        if out.is_dir():
            shutil.copytree(out, stage, symlinks=True, dirs_exist_ok=True)
        yield stage
        _sync(stage)
        _swap(stage, out)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _sync(folder: Path) -> None:
    for path in folder.iterdir():
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as fh:
                os.fsync(fh.fileno())


def _swap(stage: Path, out: Path) -> None:
    aside = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
    had_old = out.exists()
    if had_old:
        os.replace(out, aside)
    try:
        os.replace(stage, out)
    except OSError:
        if had_old:
            os.replace(aside, out)
        raise
    if had_old:
        shutil.rmtree(aside, ignore_errors=True)


def previous_records(path: Path) -> list[dict[str, Any]]:
    """The records of an instrument file written by an earlier import or refresh (none when there is no file)."""
    if not path.is_file():
        return []
    try:
        records = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RefreshError(f"{path}: cannot read the previous content to compare with ({exc})") from None
    if not isinstance(records, list) or not all(isinstance(r, dict) and "id" in r for r in records):
        raise RefreshError(f"{path}: not an instrument file (a list of records with an id); move it away first")
    return records

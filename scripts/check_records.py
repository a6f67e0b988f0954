"""Validate instrument files with the bundled corpus, before they are added to it (for people writing records).

    python scripts/check_records.py NEW.yaml [MORE.yaml ...] [--as-of 2026-12-01]

A file named like one in corpora/instruments/ replaces it; any other file is added. The whole corpus is loaded as
`matcher validate` would (ids unique, fields, dates and rounds, theme and region codes); then each record of the
given files is printed with the availability derived on the day. Exit 0 when valid, 2 with the error otherwise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
from pathlib import Path

import yaml

from matcher.errors import MatcherError
from matcher.io.corpus import load_corpus
from matcher.rules.availability import window

CORPORA = Path(__file__).resolve().parent.parent / "corpora"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2026, 12, 1))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "corpora"
        shutil.copytree(CORPORA, folder, ignore=shutil.ignore_patterns("*.md", "projects"))
        for f in args.files:
            shutil.copy(f, folder / "instruments" / f.name)
        try:
            corpus = load_corpus(folder)
        except MatcherError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    ids: set[str] = set()
    for f in args.files:
        ids |= {r["id"] for r in yaml.safe_load(f.read_text(encoding="utf-8")) or []}
    mine = [i for i in corpus.instruments if i.id in ids]
    for inst in mine:
        w = window(inst, args.as_of)
        print(f"{inst.id:<60} {inst.level:<10} {w.state:<9} {w.code} {w.params}")
    print(f"ok: {len(mine)} records in {len(args.files)} file(s); corpus {len(corpus.instruments)} instruments")
    return 0


if __name__ == "__main__":
    sys.exit(main())

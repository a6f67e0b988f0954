"""Per province: instruments an SME there can use that are open or rolling on a day (the knowledge-base check).

    python scripts/province_supply.py [--as-of 2026-12-01]

Counts, per province, the instruments whose area covers it (`rules.availability.covers`), that an SME may apply for
(`may_apply`) and whose availability on the day is `open` (a round includes the day, or the scheme is rolling), split
by level; municipal schemes count for their province but only serve firms in that municipality (shown apart).
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections import Counter
from pathlib import Path

from matcher.io.corpus import load_corpus
from matcher.records import PROVINCES
from matcher.rules.availability import covers, may_apply, window

CORPORA = Path(__file__).resolve().parent.parent / "corpora"
LEVELS = ("eu", "national", "provincial", "regional", "municipal")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2026, 12, 1))
    parser.add_argument("--corpora", type=Path, default=CORPORA)
    args = parser.parse_args()
    corpus = load_corpus(args.corpora)
    print(f"| province | {' | '.join(LEVELS)} | total | total without municipal |")
    print("|---|" + "---|" * (len(LEVELS) + 2))
    for code, name in PROVINCES.items():
        usable = [
            i
            for i in corpus.instruments
            if covers(i.regions, code) and may_apply(i.applicant_types, "sme") and window(i, args.as_of).state == "open"
        ]
        per = Counter(i.level for i in usable)
        total = len(usable)
        cells = " | ".join(str(per[lvl]) for lvl in LEVELS)
        print(f"| {name} ({code}) | {cells} | {total} | {total - per['municipal']} |")


if __name__ == "__main__":
    main()

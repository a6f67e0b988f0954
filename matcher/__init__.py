"""Match project proposals to funding instruments and suggest partner regions.

>>> from matcher import Proposal, Settings, app
>>> matcher = app.load_matcher(Settings.from_env())
>>> result = app.match(matcher, Proposal(text="Wij ontwikkelen een oogstrobot voor de glastuinbouw"), lang="nl")

`matcher.app` is the front door (one function per use case); the layers below it are, from the bottom:
`records` <- `text` <- `io` <- `retrieval` <- `rules` <- `pipeline` <- `analysis` (see the README's "How it is built").
Names are imported on first use, so `import matcher` (and `matcher --version`) loads no model, faiss or scikit-learn.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matcher import app
    from matcher.errors import CorpusError, InputError, MatcherError, ModelError, NotBuiltError, UnknownIdError
    from matcher.io.corpus import Corpus, load_corpus, load_dev_cases
    from matcher.pipeline.matcher import Matcher
    from matcher.records import (
        CriterionCheck,
        DevCase,
        Instrument,
        Match,
        MatchResult,
        PartnerRegion,
        Proposal,
        Reason,
        Region,
    )
    from matcher.retrieval.encoders import Encoder, HashingEncoder, load_encoder
    from matcher.settings import Settings

__version__ = "0.1.0"

# public name -> module that defines it
_HOMES = {
    "app": "matcher.app",
    "Corpus": "matcher.io.corpus",
    "load_corpus": "matcher.io.corpus",
    "load_dev_cases": "matcher.io.corpus",
    "Encoder": "matcher.retrieval.encoders",
    "HashingEncoder": "matcher.retrieval.encoders",
    "load_encoder": "matcher.retrieval.encoders",
    "Matcher": "matcher.pipeline.matcher",
    "Settings": "matcher.settings",
    **dict.fromkeys(
        ("CorpusError", "InputError", "MatcherError", "ModelError", "NotBuiltError", "UnknownIdError"), "matcher.errors"
    ),
    **dict.fromkeys(
        (
            "CriterionCheck",
            "DevCase",
            "Instrument",
            "Match",
            "MatchResult",
            "PartnerRegion",
            "Proposal",
            "Reason",
            "Region",
        ),
        "matcher.records",
    ),
}

__all__ = [
    "Corpus",
    "CorpusError",
    "CriterionCheck",
    "DevCase",
    "Encoder",
    "HashingEncoder",
    "InputError",
    "Instrument",
    "Match",
    "MatchResult",
    "Matcher",
    "MatcherError",
    "ModelError",
    "NotBuiltError",
    "PartnerRegion",
    "Proposal",
    "Reason",
    "Region",
    "Settings",
    "UnknownIdError",
    "app",
    "load_corpus",
    "load_dev_cases",
    "load_encoder",
]


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'matcher' has no attribute {name!r}")
    module = importlib.import_module(home)
    value: object = module if name == "app" else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])


def _console() -> int:
    """The `matcher` command (pyproject's console script): `--version` is answered before anything heavy is imported
    (the CLI's parser needs pydantic, numpy and the records, ~1 s), every other call goes to `matcher.cli.main`."""
    import sys

    if sys.argv[1:] == ["--version"]:
        print(f"matcher {__version__}")
        return 0
    from matcher.cli import main

    return main()

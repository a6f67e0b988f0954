"""The matcher's error tree.

MatcherError            base class; the CLI maps it to exit status 2, the service to a 4xx body
├── CorpusError         a corpus file is missing, malformed or inconsistent (names file, record, field)
├── InputError          a proposal or batch row is invalid (names row, field, value)
│   └── UnknownIdError  an id (instrument) that the corpus does not hold
├── NotBuiltError       an estimator or index was used before it was fitted or built
└── ModelError          an encoder model could not be loaded (offline, wrong name or path)
"""

from __future__ import annotations


class MatcherError(Exception):
    """Base class for every error the matcher raises on purpose."""


class CorpusError(MatcherError):
    """A corpus file is missing, malformed or refers to something that does not exist."""


class InputError(MatcherError):
    """A proposal, CLI argument or batch row is invalid."""


class UnknownIdError(InputError):
    """An id given by the user names nothing in the corpus."""


class NotBuiltError(MatcherError):
    """Something was used before it was fitted or built."""


class ModelError(MatcherError):
    """An encoder model could not be loaded."""

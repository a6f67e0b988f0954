"""Match project proposals to funding instruments and suggest partner regions.

>>> from matcher import Matcher, Proposal, Settings
>>> matcher = Matcher.from_settings(Settings.from_env())
>>> result = matcher.match(Proposal(text="Wij ontwikkelen een oogstrobot voor de glastuinbouw", region="NL-ZH"))
"""

from matcher.errors import CorpusError, InputError, MatcherError, ModelError, NotBuiltError, UnknownIdError
from matcher.io.corpus import Corpus, load_corpus, load_dev_cases
from matcher.pipeline.matcher import Matcher
from matcher.records import CriterionCheck, DevCase, Instrument, Match, MatchResult, PartnerRegion, Proposal, Region
from matcher.retrieval.encoders import Encoder, HashingEncoder, load_encoder
from matcher.settings import Settings

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
    "Region",
    "Settings",
    "UnknownIdError",
    "load_corpus",
    "load_dev_cases",
    "load_encoder",
]
__version__ = "0.1.0"

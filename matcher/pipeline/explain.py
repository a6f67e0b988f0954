"""Explanations of one match in codes: why it fits and what to do next (`matcher.text.i18n` words them).

>>> [r.code for r in why_codes(inst, ["energy"], None, [], checks)]
['why.shared_themes']
"""

from __future__ import annotations

from collections.abc import Sequence

from matcher.records import Instrument, Reason
from matcher.rules.eligibility import Check
from matcher.text.language import clip, reason

# Criteria whose value the proposal can give (the deadline is the instrument's).
ASKABLE = ("region", "applicant_type", "budget", "trl", "partners")


def why_codes(
    inst: Instrument,
    shared_themes: Sequence[str],
    closest_passage: str | None,
    shared_terms: Sequence[str],
    checks: Sequence[Check],
    stage: str | None = None,
    funded: str | None = None,
    money: str | None = None,
) -> list[Reason]:
    """Shared theme ids, the page of a similar project the scheme really paid for (`funded`), the project's stage
    where the scheme serves it, the words asking for the kind of money it gives (`money`), the closest passage of the
    scheme (quoted as it is), shared terms, the information missing."""
    lines = []
    if shared_themes:
        lines.append(reason("why.shared_themes", themes=list(shared_themes)))
    if funded:
        lines.append(reason("why.funded_example", url=funded))
    if stage is not None and stage in inst.stages:
        lines.append(reason("why.stage_fit", stage=stage))
    if money:
        lines.append(reason("why.money_kind", type=inst.instrument_type, words=money))
    if closest_passage:
        lines.append(reason("why.closest_passage", passage=clip(closest_passage)))
    if shared_terms:
        lines.append(reason("why.shared_terms", terms=list(shared_terms)))
    missing = [c.criterion for c in checks if c.status == "unknown" and c.criterion in ASKABLE]
    if missing:
        lines.append(reason("why.missing", criteria=missing))
    return lines


def next_step_codes(inst: Instrument, checks: Sequence[Check]) -> list[Reason]:
    """The checks missed (and an uncertain deadline) to look at, how to apply, and where the conditions are."""
    todo = [c for c in checks if c.status == "missed"]
    todo += [c for c in checks if c.status == "unknown" and c.criterion == "deadline"]
    steps = [
        reason("next.check", criterion=c.criterion, check={"code": c.reason.code, "params": c.reason.params})
        for c in todo
    ]
    if inst.how_to_apply:
        steps.append(reason("next.how_to_apply", text=inst.how_to_apply))
    steps.append(reason("next.read_conditions", url=str(inst.source.url)))
    return steps

"""The applicant page's timeline of rounds, on the gap corpus: `nl-scholing` runs from 2026-01-01 to 30 days after
GAP_AS_OF (2026-11-30); `prov-gelderland-eiwit` closed on 2025-01-31, before the window; the others have no dates."""

from __future__ import annotations

import datetime as dt

from matcher import Matcher, Proposal, app
from service.timeline import timeline
from tests.conftest import GAP_AS_OF, service_client
from tests.test_web import Tags

TRAINING = "Scholing en opleiding van werknemers in het mkb"


def test_the_timeline_draws_the_rounds_in_the_window(gap_matcher: Matcher) -> None:
    result = app.match(gap_matcher, Proposal(text=TRAINING, as_of=GAP_AS_OF), top_k=10, lang="nl")
    found = timeline(result, gap_matcher.corpus, GAP_AS_OF)
    assert found is not None
    assert (found.start, found.end) == (dt.date(2026, 10, 30), dt.date(2027, 12, 1))
    assert found.names == ("Scholingssubsidie mkb",)  # the only match with a round in the window
    (bar,) = found.bars
    # Opened before the window: the bar starts at its left edge and ends 30 days after the day.
    assert (bar.row, bar.x, bar.opens, bar.closes, bar.state) == (
        0,
        0.0,
        dt.date(2026, 1, 1),
        dt.date(2026, 12, 30),
        "open",
    )
    assert bar.width == round(100 * 61 / 397, 2)
    assert found.today_x == round(100 * 31 / 397, 2)
    assert [m for _, m in found.months][:3] == [dt.date(2026, 11, 1), dt.date(2026, 12, 1), dt.date(2027, 1, 1)]


def test_no_timeline_without_dated_rounds(tiny_matcher: Matcher) -> None:
    result = app.match(tiny_matcher, Proposal(text=TRAINING, as_of=GAP_AS_OF), top_k=10, lang="nl")
    assert timeline(result, tiny_matcher.corpus, GAP_AS_OF) is None


def test_the_page_shows_the_timeline_without_javascript(gap_matcher: Matcher) -> None:
    client = service_client(gap_matcher, store=None)
    page = client.post("/?lang=en", data={"text": TRAINING, "as_of": GAP_AS_OF.isoformat()}).text
    assert [a["class"] for a in Tags(page).with_attr("class", "svg")] == ["timeline-chart"]
    assert "Rounds of the best matches" in page
    assert "Scholingssubsidie mkb: 1 January 2026 – 30 December 2026 (open)" in page
    assert ">Nov 2026</text>" in page

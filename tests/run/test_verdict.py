"""The verdict: "ok" needs evidence (hkcrawl/verdict.py)."""

from __future__ import annotations

from collections import Counter

import pytest
from scrapy.settings import Settings

from hkcrawl import settings as project_settings
from hkcrawl.verdict import RunFacts, failure_reason

SETTINGS = Settings({name: getattr(project_settings, name) for name in dir(project_settings) if name.isupper()})
FINE = {"finish_reason": "finished", "response_received_count": 50, "hkcrawl/pages/article": 40}


def _facts(**overrides: object) -> RunFacts:
    facts = RunFacts(urls_tried=50, urls_failed=0, lists_expected=True, article_links=40, articles_tried=40)
    for name, value in overrides.items():
        setattr(facts, name, value)
    return facts


@pytest.mark.parametrize(
    ("stats", "facts", "says"),
    [
        (FINE, _facts(), None),
        ({**FINE, "response_received_count": 0}, _facts(), "no page of the site could be reached"),
        # Every URL failed fails at any size, even one.
        ({**FINE, "response_received_count": 1}, _facts(urls_tried=1, urls_failed=1), "every one of the 1 URL"),
        # Distinct URLs: 10 of 50 is 20%, not over; 11 is.
        (FINE, _facts(urls_failed=10), None),
        (FINE, _facts(urls_failed=11), "11 of 50 URLs failed"),
        (FINE, _facts(article_links=0, articles_tried=0), "no article link found"),
        # A resumed JOBDIR run reads no list but fetches articles: fine.
        (FINE, _facts(article_links=0), None),
        (FINE, _facts(unsaved=Counter({"http_500": 2, "truncated": 1})), "3 article(s) could not be saved"),
        # A page whose handling raised: what it listed may be missing, however the rest went.
        (
            {**FINE, "spider_exceptions/count": 1, "spider_exceptions/KeyError": 1},
            _facts(),
            "1 page(s) raised an error",
        ),
        ({**FINE, "hkcrawl/frontier/unreadable": 2}, _facts(), "2 entr(ies) of the shared queue could not be read"),
        (FINE, _facts(own_failure="cannot write x: No space left on device"), "No space left on device"),
        ({**FINE, "finish_reason": "shutdown"}, _facts(), "the crawl ended early: shutdown"),
        ({**FINE, "finish_reason": "blocked"}, _facts(), "blocked by the site"),
        ({"finish_reason": "finished"}, _facts(urls_tried=0, article_links=0, articles_tried=0), "nothing was fetched"),
    ],
)
def test_failure_reason(stats: dict, facts: RunFacts, says: str | None) -> None:
    reason = failure_reason(stats, facts, SETTINGS)
    assert (reason is None) if says is None else (reason is not None and says in reason), reason


def test_unsaved_articles_can_be_tolerated_by_setting() -> None:
    tolerant = SETTINGS.copy()
    tolerant.set("HKCRAWL_MAX_UNSAVED_ARTICLES", 5)
    assert failure_reason(FINE, _facts(unsaved=Counter({"http_404": 5})), tolerant) is None
    assert failure_reason(FINE, _facts(unsaved=Counter({"http_404": 6})), tolerant)

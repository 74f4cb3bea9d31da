"""Which lists a rerun reads: the latest sitemap first, the list walk only when it may add something.

On the live site every request costs about 2 s, and a steady-state cron run used to
spend more of them on list pages (the first page of every section and sub-section)
than on the new articles themselves. The latest sitemap is one request and lists every
article of its window (the last 48 h on hankyung.com, newest first, up to 1000 entries;
hankyung-site.md §2.2). When that window reaches back past the newest article an
earlier run exported, everything published since is in it, and the section lists can
only repeat it. One list page (``/all-news``, the newest articles of every section)
is still read as a canary: an article on it that is neither known nor in the sitemap
means the sitemap is not to be trusted this time, and the lists are walked as before.

The functions are pure decisions; :class:`CostAwareDiscovery`, the spider's part, fetches,
counts (``hkcrawl/discovery/<name>``) and logs them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

import scrapy
from twisted.python.failure import Failure

from hkcrawl.pages.listing import Listing
from hkcrawl.pages.text import KST

ECONOMICAL, THOROUGH = "economical", "thorough"
DISCOVERY_COSTS = (ECONOMICAL, THOROUGH)


@dataclass(frozen=True)
class Decision:
    """``name`` is the counter's last part; ``walk_lists``: read the section lists (and
    /all-news) as a first run does, with the usual paging stops."""

    name: str
    walk_lists: bool
    why: str


def before_sitemap(cost: str, newest_known: str | None, last_run_status: str | None) -> Decision | None:
    """The decision that needs no sitemap, or None: fetch the latest sitemap and ask :func:`after_sitemap`."""
    if cost not in DISCOVERY_COSTS:
        raise ValueError(f"HKCRAWL_DISCOVERY={cost!r}: choose one of {', '.join(DISCOVERY_COSTS)}")
    if cost == THOROUGH:
        return Decision("thorough", True, "HKCRAWL_DISCOVERY=thorough")
    if newest_known is None:
        return Decision("first_run", True, "no article is known yet")
    if last_run_status != "ok":
        # A run that was killed, blocked or failed may have stopped before its lists:
        # what it never saw can be older than the newest article it did export.
        return Decision("previous_run_incomplete", True, f"the last run ended {last_run_status or 'unfinished'}")
    return None


def after_sitemap(newest_known: str, published: Iterable[str | None]) -> Decision:
    """Does the latest sitemap reach back past the newest known article?

    Strictly before it: at the same minute a capped sitemap may have cut some articles.
    """
    times = [moment for text in published if text and (moment := _moment(text)) is not None]
    known = _moment(newest_known)
    if not times or known is None:
        return Decision("sitemap_undated", True, "the latest sitemap gave no publish times to compare")
    oldest = min(times)
    if oldest < known:
        return Decision(
            "sitemap_covers",
            False,
            f"the latest sitemap reaches back to {oldest.isoformat()}, before the newest known article "
            f"({newest_known}): it lists everything new; one list page checks it",
        )
    return Decision(
        "gap_too_long",
        True,
        f"the latest sitemap starts at {oldest.isoformat()}, after the newest known article ({newest_known}): "
        "articles published in between are only in the lists",
    )


def sitemap_gap(unlisted: list[str]) -> Decision | None:
    """The canary's verdict: None when every article on it was known or listed."""
    if not unlisted:
        return None
    shown = ", ".join(unlisted[:5]) + (" …" if len(unlisted) > 5 else "")
    return Decision("sitemap_gap", True, f"{len(unlisted)} article(s) on /all-news missing from the sitemap: {shown}")


def _moment(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=KST)  # the site's times are KST


class CostAwareDiscovery:
    """The spider's side of these decisions: it asks them, fetches what they call for,
    counts and logs them. Mixed into :class:`hkcrawl.spiders.hankyung.HankyungSpider`,
    which gives the run, the settings and the list requests used here."""

    #: Article ids the latest sitemap listed: what the canary page is checked against.
    _sitemap_listed: frozenset[str] = frozenset()
    #: True while the list walk waits for the latest sitemap's verdict (see _decision_before_sitemap).
    _deferred_walk = False

    def _discovery_requests(self) -> Iterator[scrapy.Request]:
        self._sitemap_listed = frozenset()
        self._deferred_walk = False
        decision = self._decision_before_sitemap()
        if decision is not None:
            self._note_decision(decision)
        for request in self._sitemap_requests():
            if request.cb_kwargs["kind"] == "latest-sitemap" and self._deferred_walk:
                request = request.replace(errback=self._on_deciding_error)
            yield request
        if not self._deferred_walk:
            yield from self._list_walk()
        yield from self._feed_requests()

    def _decision_before_sitemap(self) -> Decision | None:
        """Whether the list walk can wait for the latest sitemap (then ``_deferred_walk``),
        or None when there is nothing to decide (no sitemap, no lists, a date range)."""
        walk = {"sections", "all-news"} & set(self.discovery)
        if "sitemap" not in self.discovery or not walk or self.since or self.until:
            return None
        run = self.run
        known = run.newest_known if run.state is not None else None
        decision = before_sitemap(self.settings.get("HKCRAWL_DISCOVERY"), known, run.last_run_status)
        self._deferred_walk = decision is None
        return decision

    def _note_decision(self, decision: Decision) -> None:
        self.crawler.stats.inc_value(f"hkcrawl/discovery/{decision.name}")
        what = "walking the section lists" if decision.walk_lists else "not walking the section lists"
        self.logger.info("Discovery: %s (%s): %s", decision.name, decision.why, what)

    def _after_latest_sitemap(self, listing: Listing) -> Iterator[scrapy.Request]:
        """The deferred walk's verdict: the canary page (/all-news) when the sitemap reaches
        back past the newest known article, else the walk."""
        self._deferred_walk = False
        self._sitemap_listed = frozenset(link.article_id for link in listing.links)
        decision = after_sitemap(self.run.newest_known or "", (link.published for link in listing.links))
        self._note_decision(decision)
        if decision.walk_lists:
            yield from self._list_walk()
            return
        if "sections" in self.discovery:
            self.crawler.stats.inc_value("hkcrawl/discovery/lists_skipped", len(self.list_paths))
        canary = self._list_request(f"{self.base_url}/all-news", "all-news", page=1)
        yield canary.replace(errback=self._on_deciding_error, meta={**canary.meta, "hkcrawl_canary": True})

    def _after_canary(self, listing: Listing) -> list[scrapy.Request] | None:
        """None when every article on /all-news is known or in the sitemap. Else the sitemap
        misses articles this time, and the lists are walked (this page is /all-news's first)."""
        retried = set(self.run.retried)
        unlisted = [
            link.article_id
            for link in listing.links
            if link.article_id not in self._sitemap_listed
            and link.article_id not in retried
            and self._rejection(link.url) is None
            and self.run.known(link.article_id) is None
        ]
        decision = sitemap_gap(unlisted)
        if decision is None:
            self.crawler.stats.inc_value("hkcrawl/discovery/canary_ok")
            return None
        self._note_decision(decision)
        self.logger.warning("The latest sitemap misses articles: %s", decision.why)
        # This page is /all-news's first: its paging follows in parse_listing if it was asked for.
        return [request for request in self._list_walk() if request.cb_kwargs["kind"] != "all-news"]

    def _on_deciding_error(self, failure: Failure) -> Iterator[scrapy.Request]:
        """The latest sitemap or the canary page failed: nothing vouches for the sitemap, so walk the lists."""
        self.on_error(failure)
        canary = bool(failure.request.meta.get("hkcrawl_canary"))
        self._deferred_walk = False
        self._note_decision(
            Decision("canary_failed" if canary else "sitemap_failed", True, f"{failure.request.url} failed")
        )
        yield from self._list_walk(all_news_again=canary)

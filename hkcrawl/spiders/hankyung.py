"""The ``hankyung`` spider: decides what to fetch; page classes do the extracting."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import date
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import CloseSpider
from scrapy.http import Response
from twisted.python.failure import Failure

from hkcrawl import discovery, urls
from hkcrawl.browser import BrowserNotFound, find_chromium, playwright_settings
from hkcrawl.items import Article
from hkcrawl.outcomes import failure_reason, looks_truncated
from hkcrawl.pages import article as article_page
from hkcrawl.pages.listing import Listing, parse_all_news, parse_rss, parse_section_list, parse_sitemap
from hkcrawl.recent import DEFAULT_SIZE, RecentSet
from hkcrawl.record import utc_now
from hkcrawl.run import Run
from hkcrawl.spiders.arguments import NAMES, SpiderArguments, parse_arguments
from hkcrawl.spiders.failures import FailureHandling
from hkcrawl.spiders.filters import LinkFilters
from hkcrawl.spiders.requests import SpiderRequests, asked_url


class HankyungSpider(discovery.CostAwareDiscovery, SpiderRequests, LinkFilters, FailureHandling, scrapy.Spider):
    """Crawl hankyung.com articles.

    Arguments (``-a name=value``):

    - ``urls=URL,URL…`` / ``urls_file=PATH``: fetch these articles (any URL form, each
      fetched once as ``/article/<id>`` on the base URL) instead of discovering; only
      them, no related article, unless ``related_depth`` is given; combine with
      ``discover=`` to do both.
    - ``discover=sitemap,sections``: where to find articles, any of ``sections``
      (every section and sub-section list), ``all-news``, ``sitemap`` (Google-News
      sitemaps), ``feeds`` (RSS; Cloudflare-blocked on the live site since 2026-08).
    - ``sections=economy,finance``: narrow the section lists (``economy/macro`` too).
    - ``max_pages=N``: list pages per list (default 3; unlimited when ``since`` is set).
    - ``since=YYYY-MM-DD`` / ``until=YYYY-MM-DD``: only articles published in that
      range (KST), whatever found them: a record outside it is dropped and counted
      (``hkcrawl/dropped/outside_range``); with ``sitemap`` it reads the daily
      sitemaps of every day in it.
    - ``related_depth=N``: follow "관련 뉴스" links N steps from a discovered article (1),
      and from given URLs (0 unless given).
    - ``max_articles=N``: stop cleanly after N exported articles.

    A bad argument raises BadArgument (hkcrawl/spiders/arguments.py); ``scrapy crawl``
    checks them before starting and says what is wrong in one line.
    """

    name = "hankyung"

    def __init__(self, **kwargs: Any) -> None:
        own = {name: kwargs.pop(name) for name in NAMES if name in kwargs}
        super().__init__(**kwargs)
        args: SpiderArguments = parse_arguments(own)
        self.render = args.render
        self.can_render = False  # set in from_crawler, once the browser is looked for
        self.requested_urls = args.requested_urls
        self.discovery = args.discovery
        self.list_paths = args.list_paths
        self.since = args.since
        self.until = args.until
        self.max_pages = args.max_pages
        self.related_depth = args.related_depth
        self.urls_depth = args.urls_depth
        self.max_articles = args.max_articles
        self.exported = 0
        # Article ids this crawl asked for. Distributed: only the latest (set in
        # from_crawler), Redis's request filter drops an older repeat; alone, every one:
        # the run counts each id asked for as owed (hkcrawl/run.py).
        self.requested_ids: set[str] | RecentSet[str] = set()
        self.shared_frontier = False  # set in from_crawler: requests shared with other workers
        self.newest_known: str | None = None

    @staticmethod
    def check_arguments(given: dict[str, Any]) -> None:
        """Raise BadArgument for an argument the spider cannot use: ``scrapy crawl`` asks
        before it starts the crawl, so a typo is one line and exit 2, not a traceback."""
        parse_arguments(given)

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> HankyungSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider._set_up_rendering(crawler)
        crawler.signals.connect(spider._count_exported, signal=signals.item_scraped)
        crawler.signals.connect(spider._on_request_dropped, signal=signals.request_dropped)
        # Distributed mode (hkcrawl/distributed.py): an article this worker finds may be
        # fetched by another, so the run expects only the articles it takes from the queue.
        spider.shared_frontier = bool(crawler.settings.get("HKCRAWL_REDIS_URL"))
        if spider.shared_frontier:
            crawler.signals.connect(spider._on_shared_request_taken, signal=signals.request_reached_downloader)
            spider.requested_ids = RecentSet(crawler.settings.getint("HKCRAWL_RECENT_KEYS", DEFAULT_SIZE))
        return spider

    @cached_property
    def run(self) -> Run:
        """The run (hkcrawl/run.py): what is known, what to fetch again, how each URL ended."""
        return Run.of(self.crawler)

    def _set_up_rendering(self, crawler: Any) -> None:
        """Find the browser and route rendered requests to it (settings are not frozen yet).

        ``always`` without a browser refuses to start; ``auto`` warns once and goes on,
        counting each page it could not render (that makes the crawl count as failed).
        """
        if self.render == "never":
            return
        try:
            executable = find_chromium(crawler.settings.get("CHROMIUM_PATH"))
        except BrowserNotFound as missing:
            if self.render == "always":
                raise BrowserNotFound(f"render=always needs a browser: {missing}") from None
            self.logger.warning(
                "No browser, so pages that need JavaScript will be exported without their "
                "script-filled parts and counted (hkcrawl/render/unavailable): %s. Use -a render=never to silence.",
                missing,
            )
            return
        concurrency = crawler.settings.getint("HKCRAWL_RENDER_CONCURRENCY")
        site_hosts = self.allowed_hosts_for(crawler.settings)
        handlers = crawler.settings.getdict("DOWNLOAD_HANDLERS")
        crawler.settings.setdict(playwright_settings(executable, concurrency, site_hosts, handlers), priority="spider")
        self.can_render = True

    def _on_shared_request_taken(self, request: scrapy.Request) -> None:
        """The run answers for an article from the shared queue once this worker fetches it."""
        article_id = request.meta.get("hkcrawl_article_id")
        if article_id:
            self.run.article_requested(article_id, request.meta.get("redirect_urls", [request.url])[0])

    def _count_exported(self) -> None:
        self.exported += 1

    # Cached: asked for every link of every list page; settings are frozen by then.
    @cached_property
    def base_url(self) -> str:
        return self.settings.get("HANKYUNG_BASE_URL").rstrip("/")

    @cached_property
    def allowed_hosts(self) -> frozenset[str]:
        return self.allowed_hosts_for(self.settings)

    @staticmethod
    def allowed_hosts_for(settings: Any) -> frozenset[str]:
        return urls.site_hosts(settings.get("HANKYUNG_BASE_URL"))

    # -- what to fetch first -------------------------------------------------
    async def start(self) -> AsyncIterator[scrapy.Request]:
        if self.run.failed:  # it could not open its files or lock: it said why
            return
        if not self.requested_urls and not self.discovery:
            self.logger.error("Nothing to crawl: give -a urls=…, -a urls_file=… or -a discover=…")
            self.crawler.stats.inc_value("hkcrawl/errors/nothing_to_crawl")
            return
        # Paging stops at a page of known articles older than this (see parse_listing).
        self.newest_known = self.run.newest_known
        for request in self._retry_requests():
            yield request
        for url in self.requested_urls:
            reason = self._rejection(url)
            if reason:
                self.logger.warning("Skipping %r: %s", url, reason)
                self.crawler.stats.inc_value(f"hkcrawl/rejected_urls/{reason.split(':')[0]}")
                continue
            self.run.article_links()
            # Every URL form of an article is one article: fetched once, as /article/<id>
            # on the base URL (old forms redirect there on the live site anyway).
            article_id = urls.article_id_from_url(url)
            assert article_id is not None  # _rejection() said it has one
            if request := self._article_request(article_id, depth=self.urls_depth):
                yield request
            else:
                self.crawler.stats.inc_value("hkcrawl/given_urls/same_article")
        if self.discovery:
            self.run.expect_articles()
        for request in self._discovery_requests():
            yield request

    def _retry_requests(self) -> Iterator[scrapy.Request]:
        """Articles earlier runs tried and did not save: fetched again whatever discovery finds."""
        for article_id, _url, why in self.run.retry_targets():
            if self._id_outside_range(article_id):
                # Left in the state for a run whose range holds it (or one with no range).
                self.crawler.stats.inc_value("hkcrawl/retries/outside_range")
                continue
            if request := self._article_request(article_id, depth=0):
                self.crawler.stats.inc_value(f"hkcrawl/retries/{why}")
                self.run.retried.append(article_id)
                yield request

    def seed_requests(self) -> Iterator[scrapy.Request]:
        """What a seeded shared crawl starts from (``hkcrawl seed``): this spider's discovery
        requests for its arguments, without a run of its own (no retries, no cost decision:
        the lists asked for are walked). The workers that take them parse them as usual."""
        yield from self._sitemap_requests()
        yield from self._list_walk()
        yield from self._feed_requests()

    # -- lists ------------------------------------------------------------------
    async def parse_listing(self, response: Response, kind: str, list_url: str, page: int | None) -> AsyncIterator:
        stats = self.crawler.stats
        stats.inc_value(f"hkcrawl/lists/{kind}")
        self.run.url_done(asked_url(response.request), ok=True)
        try:
            text = response.text
        except AttributeError:  # not a text response (binary, or an empty body)
            text = response.body.decode("utf-8", "replace")
        listing: Listing = _LIST_PARSERS[kind](text, response.url)
        self.run.article_links(len(listing.links))
        self.run.prefetch_known([link.article_id for link in listing.links])
        for sitemap in listing.sitemaps:
            yield self._list_request(sitemap, "sitemap")
        if kind == "latest-sitemap" and self._deferred_walk:
            for request in self._after_latest_sitemap(listing):
                yield request
        if kind == "latest-sitemap" and self.run.state is not None:
            # The latest sitemap has no 수정 times; the daily ones do (lastmod). Reading
            # the days it covers lets a rerun find the articles edited since it last ran.
            days = sorted({link.published[:10] for link in listing.links if link.published}, reverse=True)
            for day in days[: self.settings.getint("HKCRAWL_UPDATE_DAYS")]:
                compact = day.replace("-", "")
                yield self._list_request(f"{self.base_url}/sitemap/daily-article/{compact}.xml", "sitemap")
        for href in listing.rejected:
            scheme = urlsplit(href).scheme
            reason = "bad_scheme" if scheme and scheme not in ("http", "https") else "not_article"
            stats.inc_value(f"hkcrawl/links/{reason}")

        older_seen = False
        known_and_old = 0
        for link in listing.links:
            day = date.fromisoformat(link.published[:10]) if link.published else None
            if self.since and day and day < self.since:
                older_seen = True
                stats.inc_value("hkcrawl/links/before_since")
                continue
            if self.until and day and day > self.until:
                stats.inc_value("hkcrawl/links/after_until")
                continue
            reason = self._rejection(link.url)
            if reason:
                stats.inc_value(f"hkcrawl/links/{reason.split(':')[0]}")
                continue
            if self._already_exported(link.article_id, link.modified):
                if self.newest_known and link.published and link.published < self.newest_known:
                    known_and_old += 1
                continue
            if self._limit_reached():
                return
            if request := self._article_request(link.article_id, depth=0):
                yield request

        if page is None:  # sitemaps and feeds are not paged
            return
        if response.meta.get("hkcrawl_canary"):
            walk = self._after_canary(listing)
            for request in walk or ():
                yield request
            if walk is None and "all-news" in self.discovery:
                # /all-news was asked for, and its first page says the sitemap holds the rest.
                stats.inc_value("hkcrawl/lists/stopped/canary")
            if walk is None or "all-news" not in self.discovery:
                return
        # The pager's total (span.total) is not trusted as a stop: the empty page is
        # the site's own end-of-list signal (hankyung-site.md §1.3), one request later.
        if not listing.links:
            stats.inc_value("hkcrawl/lists/stopped/empty_page")
        elif older_seen:
            stats.inc_value("hkcrawl/lists/stopped/since")
        elif known_and_old == len(listing.links):
            # Everything here was exported before and is older than the newest known
            # article: the pages after it (older still) hold nothing new.
            stats.inc_value("hkcrawl/lists/stopped/known")
        elif self.max_pages is not None and page >= self.max_pages:
            stats.inc_value("hkcrawl/lists/stopped/max_pages")
        else:
            yield self._list_request(list_url, kind, page=page + 1)

    # -- articles ---------------------------------------------------------------
    async def parse_article(self, response: Response, depth: int = 0) -> AsyncIterator:
        if self._limit_reached():
            raise CloseSpider("max_articles")
        asked = asked_url(response.request)
        article_id = response.meta.get("hkcrawl_article_id") or urls.article_id_from_url(asked)
        if "dataloss" in response.flags or looks_truncated(response.body):
            # A body cut short is a failed fetch, never a complete record (a server that
            # closes early without Content-Length looks like a finished download): tried
            # again like any failed download, then remembered for the next run.
            retry = get_retry_request(response.request, spider=self, reason="truncated")
            if retry is not None:
                self.crawler.stats.inc_value("hkcrawl/retries/truncated")
                yield retry
                return
            self._article_failed(article_id, asked, "truncated", f"body cut short ({len(response.body)} bytes)")
            return
        content_type = response.headers.get("Content-Type")
        content_type = content_type.decode("latin-1") if content_type else None
        try:
            result = article_page.parse_article(response.body, response.url, content_type)
        except Exception as error:  # a page shape we never planned for: keep crawling, fetch it again later
            self.logger.exception("Cannot parse %s", response.url)
            self._article_failed(article_id, asked, "parse_error", f"{type(error).__name__}: {error}")
            return
        rendered = "playwright" in response.flags
        if result.needs_render and not rendered and result.article is not None:
            render_request = self._render_request(response, depth, result.article)
            if render_request is not None:
                yield render_request  # the rendered page yields the record
                return
        for problem in result.problems:
            self.crawler.stats.inc_value(f"hkcrawl/pages/{problem}")
            self.logger.warning("%s: %s", problem, response.url)
        # Which cue gave each field: a guessed selector that stops matching on the
        # live site shows up as its fallback's counter growing (one call per field).
        for name, cue in result.cues.items():
            self.crawler.stats.inc_value(f"hkcrawl/cue/{name}/{cue}")
        if result.article is None:
            # An article URL that answered with no article (empty, binary, a list page):
            # not saved, so fetched again next time.
            reason = next((p for p in ("empty_page", "not_article") if p in result.problems), "not_article")
            self._article_failed(article_id, asked, reason, "no article on the page")
            return
        self.run.url_done(asked, ok=True)
        for output in self._export(result.article, depth):
            yield output

    def _export(self, article: Article, depth: int) -> Iterable:
        self.crawler.stats.inc_value("hkcrawl/pages/article")
        if self._published_outside_range(article):
            # Found by a path that could not tell its date (a related link, a sitemap entry
            # without one): a range is a range. Its related links are not followed either.
            self.crawler.stats.inc_value("hkcrawl/dropped/outside_range")
            self.logger.debug("Dropped %s: published %s, outside the range", article.url, article.datePublished)
            if article.articleId:
                self.run.article_passed_over(article.articleId)
            return
        article.dateDownloaded = utc_now()
        article.isUpdate = bool(article.articleId and self.run.known(article.articleId))
        yield article
        if depth < self.related_depth:
            for related in article.relatedArticles:
                article_id = urls.article_id_from_url(related)
                if not article_id:
                    continue
                if self._id_outside_range(article_id):
                    self.crawler.stats.inc_value("hkcrawl/links/related_outside_range")
                    continue
                if not self._already_exported(article_id, None):
                    self.crawler.stats.inc_value("hkcrawl/links/related")
                    if request := self._article_request(article_id, depth=depth + 1):
                        yield request

    def on_error(self, failure: Failure) -> None:
        """A request that finally failed (after retries): counted by reason; an article is
        remembered and fetched again by later runs. Refusals by policy (robots.txt) are not errors."""
        request = failure.request
        reason = failure_reason(failure)
        if reason is None:
            self.logger.info("Not fetched %s: %s", request.url, failure.getErrorMessage())
            return
        self._request_failed(request, reason, failure.getErrorMessage())


_LIST_PARSERS = {
    "section": parse_section_list,
    "all-news": parse_all_news,
    "sitemap": parse_sitemap,
    "latest-sitemap": parse_sitemap,
    "feed": parse_rss,
}

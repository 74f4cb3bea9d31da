"""The ``hankyung`` spider: decides what to fetch; page classes do the extracting."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import date, datetime, timedelta
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
from hkcrawl.discovery import Decision
from hkcrawl.items import Article
from hkcrawl.outcomes import failure_reason, looks_truncated
from hkcrawl.pages import article as article_page
from hkcrawl.pages.listing import Listing, parse_all_news, parse_rss, parse_section_list, parse_sitemap
from hkcrawl.pages.text import KST
from hkcrawl.recent import DEFAULT_SIZE, RecentSet
from hkcrawl.record import utc_now
from hkcrawl.run import Run
from hkcrawl.sections import FEEDS, PREMIUM_PATHS
from hkcrawl.spiders.arguments import NAMES, SpiderArguments, parse_arguments


class HankyungSpider(scrapy.Spider):
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
    #: Article ids the latest sitemap listed: what the canary page is checked against.
    _sitemap_listed: frozenset[str] = frozenset()
    #: True while the list walk waits for the latest sitemap's verdict (hkcrawl/discovery.py).
    _deferred_walk = False

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

    def _on_request_dropped(self, request: scrapy.Request) -> None:
        """A redirect chain that came back to a URL it had fetched (A -> A, A -> B -> A) is
        dropped by Scrapy's duplicate filter with neither callback nor errback: without this,
        the page would vanish with only a dupefilter count. (Another URL form redirecting to
        an article already fetched is no loop: its chain does not hold the URL.)"""
        chain = request.meta.get("redirect_urls") or []
        if request.url not in chain:
            return
        self._request_failed(request, "redirect_loop", f"redirected back to {request.url}")

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

    def seed_requests(self) -> Iterator[scrapy.Request]:
        """What a seeded shared crawl starts from (``hkcrawl seed``): this spider's discovery
        requests for its arguments, without a run of its own (no retries, no cost decision:
        the lists asked for are walked). The workers that take them parse them as usual."""
        yield from self._sitemap_requests()
        yield from self._list_walk()
        yield from self._feed_requests()

    def _sitemap_requests(self) -> Iterator[scrapy.Request]:
        """The daily sitemap of every day in since..until; without since, the latest sitemap."""
        if "sitemap" not in self.discovery:
            return
        if not self.since:
            yield self._list_request(f"{self.base_url}/sitemap/latest-article.xml", "latest-sitemap")
            return
        day, last = self.since, self.until or datetime.now(KST).date()
        while day <= last:
            yield self._list_request(f"{self.base_url}/sitemap/daily-article/{day:%Y%m%d}.xml", "sitemap")
            day += timedelta(days=1)

    def _feed_requests(self) -> Iterator[scrapy.Request]:
        if "feeds" in self.discovery:
            for feed in FEEDS:
                yield self._list_request(f"{self.base_url}/feed/{feed}", "feed")

    def _list_walk(self, all_news_again: bool = False) -> Iterator[scrapy.Request]:
        """The first page of each list asked for; paging goes on in parse_listing.
        ``all_news_again``: /all-news was fetched as the canary and failed, so ask anew."""
        base = self.base_url
        if "all-news" in self.discovery:
            request = self._list_request(f"{base}/all-news", "all-news", page=1)
            yield request.replace(dont_filter=True) if all_news_again else request
        if "sections" in self.discovery:
            for path in self.list_paths:
                yield self._list_request(f"{base}{path}", "section", page=1)

    # -- what discovery costs ------------------------------------------------------
    def _decision_before_sitemap(self) -> Decision | None:
        """Whether the list walk can wait for the latest sitemap (then ``_deferred_walk``),
        or None when there is nothing to decide (no sitemap, no lists, a date range)."""
        walk = {"sections", "all-news"} & set(self.discovery)
        if "sitemap" not in self.discovery or not walk or self.since or self.until:
            return None
        run = self.run
        known = run.newest_known if run.state is not None else None
        decision = discovery.before_sitemap(self.settings.get("HKCRAWL_DISCOVERY"), known, run.last_run_status)
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
        decision = discovery.after_sitemap(self.run.newest_known or "", (link.published for link in listing.links))
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
        decision = discovery.sitemap_gap(unlisted)
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

    def _list_request(self, url: str, kind: str, page: int | None = None) -> scrapy.Request:
        paged = f"{url}?page={page}" if page and page > 1 else url
        return scrapy.Request(
            paged,
            callback=self.parse_listing,
            errback=self.on_error,
            cb_kwargs={"kind": kind, "list_url": url, "page": page},
            # Lists are read before articles: they decide what else exists.
            priority=10,
        )

    def _article_request(self, article_id: str, depth: int) -> scrapy.Request | None:
        """The request for an article, or None when this crawl already asked for it.

        Each article is linked from several lists, sitemaps and related blocks;
        Scrapy's dupefilter would drop the repeats too, but only after building,
        fingerprinting and refer-ing each one (a tenth of the crawl's CPU).
        """
        if article_id in self.requested_ids:
            return None
        self.requested_ids.add(article_id)
        url = f"{self.base_url}/article/{article_id}"
        if not self.shared_frontier:
            self.run.article_requested(article_id, url)
        return scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.on_error,
            cb_kwargs={"depth": depth},
            meta={**self._article_meta(), "hkcrawl_article_id": article_id},
        )

    def _article_meta(self) -> dict[str, Any]:
        # render=always: every article page through the browser from the start.
        return self._render_meta() if self.render == "always" and self.can_render else {}

    def _render_meta(self) -> dict[str, Any]:
        wait_until = self.settings.get("HKCRAWL_RENDER_WAIT_UNTIL")
        return {"playwright": True, "playwright_page_goto_kwargs": {"wait_until": wait_until}}

    def _rejection(self, url: str) -> str | None:
        try:
            parts = urlsplit(url)
        except ValueError:
            return "malformed: not a URL"
        if parts.scheme not in ("http", "https"):
            return f"bad_scheme: only http(s) is fetched, not {parts.scheme or 'none'!r}"
        if parts.hostname not in self.allowed_hosts:
            return f"off_site: {parts.hostname} is not a hankyung.com article host"
        if parts.path.startswith(PREMIUM_PATHS):
            return "premium: member-only area"
        if urls.article_id_from_url(url) is None:
            return "not_article_url: no article id in the URL"
        return None

    # -- lists ------------------------------------------------------------------
    async def parse_listing(self, response: Response, kind: str, list_url: str, page: int | None) -> AsyncIterator:
        stats = self.crawler.stats
        stats.inc_value(f"hkcrawl/lists/{kind}")
        self.run.url_done(_asked_url(response.request), ok=True)
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
        asked = _asked_url(response.request)
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

    def _article_failed(self, article_id: str | None, url: str, reason: str, detail: str) -> None:
        self.crawler.stats.inc_value(f"hkcrawl/errors/{reason}")
        self.logger.error("Failed %s: %s: %s", url, reason, detail)
        self.run.url_done(url, ok=False)
        if article_id:
            self.run.article_failed(article_id, url, reason)

    def _render_request(self, response: Response, depth: int, plain: Article) -> scrapy.Request | None:
        """The same page again through Chromium, or None to keep the plain record."""
        stats = self.crawler.stats
        if self.render == "never":
            return None
        if not self.can_render:
            stats.inc_value("hkcrawl/render/unavailable")
            return None
        # A misdetection must not turn the crawl into a browser crawl: at most
        # HKCRAWL_RENDER_MAX_SHARE of the article pages (after a first few) go to the browser.
        pages = stats.get_value("hkcrawl/pages/article", 0) + 1
        budget = max(
            self.settings.getint("HKCRAWL_RENDER_MIN_BUDGET"),
            pages * self.settings.getfloat("HKCRAWL_RENDER_MAX_SHARE"),
        )
        if stats.get_value("hkcrawl/render/requested", 0) >= budget:
            stats.inc_value("hkcrawl/render/over_budget")
            return None
        stats.inc_value("hkcrawl/render/requested")
        return scrapy.Request(
            response.url,
            callback=self.parse_article,
            errback=self.on_render_error,
            cb_kwargs={"depth": depth},
            meta={**self._render_meta(), "hkcrawl_plain_article": plain},
            dont_filter=True,
            priority=5,
        )

    def on_render_error(self, failure: Failure) -> Iterable:
        """The browser failed: export what the plain page gave rather than nothing."""
        self.crawler.stats.inc_value("hkcrawl/render/failed")
        self.logger.warning(
            "Rendering failed for %s (%s): exporting the plain page", failure.request.url, failure.getErrorMessage()
        )
        plain = failure.request.meta.get("hkcrawl_plain_article")
        if plain is not None:
            self.run.url_done(_asked_url(failure.request), ok=True)
            yield from self._export(plain, failure.request.cb_kwargs.get("depth", 0))

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

    def _outside_range(self, day: date) -> bool:
        return bool((self.since and day < self.since) or (self.until and day > self.until))

    def _id_outside_range(self, article_id: str) -> bool:
        """By the id's date (its first 8 digits are the publication day, hankyung-site.md §1.1)."""
        if not (self.since or self.until):
            return False
        try:
            day = date(int(article_id[:4]), int(article_id[4:6]), int(article_id[6:8]))
        except ValueError:
            return False  # not a date after all: the record's own date decides
        return self._outside_range(day)

    def _published_outside_range(self, article: Article) -> bool:
        """By the record's 입력 time, in KST (a record without one is the validator's to drop)."""
        if not (self.since or self.until) or not article.datePublished:
            return False
        try:
            published = datetime.fromisoformat(article.datePublished)
        except ValueError:
            return False
        day = (published.astimezone(KST) if published.tzinfo else published).date()
        return self._outside_range(day)

    def _already_exported(self, article_id: str, modified: str | None) -> bool:
        """Known from an earlier run, and not modified since (as far as the link tells)."""
        known = self.run.known(article_id)
        if known is None:
            return False
        if modified and modified > (known.modified or known.published or ""):
            self.crawler.stats.inc_value("hkcrawl/links/modified")
            return False
        self.crawler.stats.inc_value("hkcrawl/links/known")
        return True

    def _limit_reached(self) -> bool:
        return self.max_articles is not None and self.exported >= self.max_articles

    def on_error(self, failure: Failure) -> None:
        """A request that finally failed (after retries): counted by reason; an article is
        remembered and fetched again by later runs. Refusals by policy (robots.txt) are not errors."""
        request = failure.request
        reason = failure_reason(failure)
        if reason is None:
            self.logger.info("Not fetched %s: %s", request.url, failure.getErrorMessage())
            return
        self._request_failed(request, reason, failure.getErrorMessage())

    def _request_failed(self, request: scrapy.Request, reason: str, detail: str) -> None:
        """Count a finally failed request; an article's is also remembered to fetch again."""
        asked = _asked_url(request)
        article_id = request.meta.get("hkcrawl_article_id")
        if article_id or request.callback == self.parse_article:
            self._article_failed(article_id or urls.article_id_from_url(asked), asked, reason, detail)
            return
        self.crawler.stats.inc_value(f"hkcrawl/errors/{reason}")
        self.logger.error("Failed %s: %s: %s", asked, reason, detail)
        self.run.url_done(asked, ok=False)


_LIST_PARSERS = {
    "section": parse_section_list,
    "all-news": parse_all_news,
    "sitemap": parse_sitemap,
    "latest-sitemap": parse_sitemap,
    "feed": parse_rss,
}


def _asked_url(request: scrapy.Request) -> str:
    """The URL the spider asked for, before any redirect: one URL however it ends."""
    redirects = request.meta.get("redirect_urls")
    return redirects[0] if redirects else request.url

"""The requests the spider makes: list pages, sitemaps and feeds, articles, rendered pages.

Mixed into :class:`hkcrawl.spiders.hankyung.HankyungSpider`, which gives the arguments,
the run, the settings and the callbacks these requests name.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import scrapy
from scrapy.http import Response

from hkcrawl.items import Article
from hkcrawl.pages.text import KST
from hkcrawl.sections import FEEDS


class SpiderRequests:
    """How the spider asks for each kind of page (see the module docstring)."""

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


def asked_url(request: scrapy.Request) -> str:
    """The URL the spider asked for, before any redirect: one URL however it ends."""
    redirects = request.meta.get("redirect_urls")
    return redirects[0] if redirects else request.url

"""Cloudflare challenge pages are blocks: counted, backed off, never parsed.

hankyung.com sits behind Cloudflare, which answers a rapid client with an
interactive JS challenge: HTTP 403/503, "Just a moment...", ``window._cf_chl_opt``
(hankyung-site.md §6). Such a page is neither an article nor an empty page. We do
not try to solve it: we slow down (the download slot's delay doubles, up to a cap),
retry a few times, and stop the crawl when the site keeps blocking, so a long run
never silently collects nothing.
"""

from __future__ import annotations

import logging

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.defer import deferred_from_coro

logger = logging.getLogger(__name__)

_BODY_MARKERS = (b"_cf_chl_opt", b"Just a moment...", b"challenge-platform", b"cf-browser-verification")

#: Spider close reason when the crawl gave up; the crawl command exits non-zero on it.
BLOCKED_REASON = "blocked"


def is_challenge(response: Response) -> bool:
    if response.status not in (403, 429, 503):
        return False
    if response.headers.get("cf-mitigated", b"").lower() == b"challenge":
        return True
    head = response.body[:20_000]
    return any(marker in head for marker in _BODY_MARKERS)


class ChallengeMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        self.retries = settings.getint("HKCRAWL_BLOCK_RETRIES")
        self.backoff = settings.getfloat("HKCRAWL_BLOCK_BACKOFF")
        self.max_delay = settings.getfloat("HKCRAWL_BLOCK_MAX_DELAY")
        self.max_consecutive = settings.getint("HKCRAWL_MAX_CONSECUTIVE_BLOCKS")
        self.consecutive = 0
        self.stopping = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ChallengeMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if not is_challenge(response):
            self.consecutive = 0
            return response
        self.consecutive += 1
        self.stats.inc_value("hkcrawl/blocks/challenge")
        logger.warning("Cloudflare challenge (HTTP %s) for %s", response.status, request.url)
        if self.consecutive >= self.max_consecutive and not self.stopping:
            self.stopping = True
            logger.error(
                "Blocked: %d challenge pages in a row from %s. Stopping the crawl. The site is rate-limiting "
                "this client; wait before the next run, or crawl slower (-s DOWNLOAD_DELAY=5).",
                self.consecutive,
                request.url,
            )
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=BLOCKED_REASON))
        self._slow_down(request)
        attempts = request.meta.get("hkcrawl_block_retries", 0)
        if attempts < self.retries and not self.stopping:
            self.stats.inc_value("hkcrawl/blocks/retried")
            retry = request.replace(dont_filter=True)
            retry.meta["hkcrawl_block_retries"] = attempts + 1
            return retry
        self.stats.inc_value("hkcrawl/blocks/gave_up")
        raise IgnoreRequest(f"blocked by a challenge page: {request.url}")

    def _slow_down(self, request: Request) -> None:
        downloader = self.crawler.engine.downloader
        slot = downloader.slots.get(downloader.get_slot_key(request))
        if slot is not None:
            slot.delay = min(max(slot.delay * 2, self.backoff), self.max_delay)

"""429/503 with ``Retry-After``: retry no sooner than the server asked.

Scrapy's RetryMiddleware retries 429 and 503 at once, ignoring ``Retry-After``; a
rate-limiting server then sees the retry as the next offence. Here the retry waits
the time the server gave (seconds or an HTTP-date). A separate component from the
challenge middleware: a challenge is a block to back off from and count towards
stopping; a Retry-After is the server's own, exact answer to when to come back.

The wait is an asyncio sleep in ``process_response``: the reactor runs on, and the
request keeps its place in the downloader meanwhile, so with the live site's
CONCURRENT_REQUESTS = 1 nothing else is sent to the host either, which is what a
rate limit asks for. A wait longer than ``HKCRAWL_MAX_RETRY_AFTER`` is not waited
for: the request is given up (:class:`RetryAfterTooLong`, counted).
"""

from __future__ import annotations

import asyncio
import logging
import time
from email.utils import parsedate_to_datetime

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

logger = logging.getLogger(__name__)

STATUSES = frozenset({429, 503})


class RetryAfterTooLong(IgnoreRequest):
    """The server asked for a longer wait than HKCRAWL_MAX_RETRY_AFTER allows."""


def retry_after_seconds(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or HTTP-date), or
    None when there is none or it cannot be read. A date in the past means 0."""
    if value is None:
        return None
    text = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; a malformed one is taken as such
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class RetryAfterMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.max_wait = crawler.settings.getfloat("HKCRAWL_MAX_RETRY_AFTER")
        self.max_retry_times = crawler.settings.getint("RETRY_TIMES")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        return cls(crawler)

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        if response.status not in STATUSES or request.meta.get("dont_retry"):
            return response
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        if wait is None:
            return response  # no usable Retry-After: RetryMiddleware's usual retry
        self.stats.inc_value(f"hkcrawl/retry_after/{response.status}")
        if wait > self.max_wait:
            self.stats.inc_value("hkcrawl/retry_after/gave_up")
            logger.warning(
                "HTTP %s asks to retry %s after %.0f s, more than HKCRAWL_MAX_RETRY_AFTER (%.0f s): giving up on it",
                response.status,
                request.url,
                wait,
                self.max_wait,
            )
            raise RetryAfterTooLong(f"Retry-After {wait:.0f} s is over HKCRAWL_MAX_RETRY_AFTER: {request.url}")
        max_times = request.meta.get("max_retry_times", self.max_retry_times)
        if request.meta.get("retry_times", 0) >= max_times:
            return response  # out of retries: RetryMiddleware gives up on it and counts that
        retry = get_retry_request(
            request,
            spider=self.crawler.spider,
            reason=f"{response.status} Retry-After {wait:g}s",
            max_retry_times=max_times,
        )
        if retry is None:
            return response
        logger.info("HTTP %s for %s: retrying in %.1f s as Retry-After asks", response.status, request.url, wait)
        await asyncio.sleep(wait)
        return retry

"""A site that cannot be reached at all ends the run in one line, not minutes of retries.

With no network, a wrong base URL or a dead DNS, every request fails the same way;
Scrapy would retry each one and the run would end with an error rate. Here the
first ``HKCRAWL_UNREACHABLE_AFTER`` connection-level failures (DNS, refused,
unreachable, timeouts), seen before any response at all, mean the site is
unreachable: the run fails with that reason and stops. Once any response has come
back, single failures are ordinary errors again.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import CannotResolveHostError, DownloadConnectionRefusedError, DownloadTimeoutError
from scrapy.http import Response
from twisted.internet.error import ConnectError, DNSLookupError
from twisted.internet.error import TimeoutError as ConnectTimeout

from hkcrawl.run import Run

logger = logging.getLogger(__name__)

#: Failures to connect at all (Scrapy wraps Twisted's DNS, refused and timeout errors);
#: a timeout counts too, as long as nothing has ever answered.
CONNECT_FAILURES = (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    DNSLookupError,
    ConnectError,
    ConnectTimeout,
)


class ReachabilityMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.limit = crawler.settings.getint("HKCRAWL_UNREACHABLE_AFTER")
        self.reached = False
        self.failures = 0
        self.stopped = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ReachabilityMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        self.reached = True
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        if self.reached or self.stopped or self.limit <= 0 or not isinstance(exception, CONNECT_FAILURES):
            return None
        self.failures += 1
        if self.failures >= self.limit:
            self.stopped = True
            host = urlsplit(request.url).netloc
            Run.of(self.crawler).fail(
                f"the site cannot be reached: {host}: {exception.__class__.__name__}: {exception} "
                f"({self.failures} attempts, no answer at all)",
                close_reason="unreachable",
            )
        return None

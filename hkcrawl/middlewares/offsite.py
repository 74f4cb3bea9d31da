"""The safety net under the spider's link filter: no request leaves the site.

The spider only yields links to hankyung.com's article hosts, but other requests reach
the downloader without passing its filter: a sitemap index's ``<loc>`` entries (one
could say ``file:///dev/zero`` or ``ftp://…``), every redirect hop, and the robots.txt
request Scrapy makes for each new host. Each of them comes through every downloader
middleware's ``process_request`` (redirects and retries are rescheduled through the
engine; robots.txt goes through ``engine.download_async``), so one check here sees
them all. Refused requests fail with :class:`OffsiteRequest` and are counted
(``hkcrawl/offsite/<reason>``); each host is logged once.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest

from hkcrawl import urls

logger = logging.getLogger(__name__)

ALLOWED_SCHEMES = frozenset({"http", "https"})


class OffsiteRequest(IgnoreRequest):
    """A request refused because its scheme or host is not the site's.

    An IgnoreRequest, so errbacks that already treat those as "not fetched" (and not
    as download errors) do the same with these.
    """


def offsite_reason(url: str, hosts: frozenset[str], redirected: bool = False) -> str | None:
    """Why ``url`` may not be fetched (``scheme``, ``host``; ``redirect_…`` for a
    redirect hop), or None when it is on the site."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # e.g. an invalid IPv6 literal or port
        return "redirect_host" if redirected else "host"
    prefix = "redirect_" if redirected else ""
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        return f"{prefix}scheme"
    if host not in hosts:
        return f"{prefix}host"
    return None


class OffsiteGuardMiddleware:
    """Refuse every request that is not http(s) to the site's hosts (``urls.site_hosts``)."""

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        self.hosts = urls.site_hosts(crawler.settings.get("HANKYUNG_BASE_URL"))
        self.logged: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> OffsiteGuardMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        # RedirectMiddleware puts the URLs before this hop in redirect_urls.
        redirected = bool(request.meta.get("redirect_urls"))
        reason = offsite_reason(request.url, self.hosts, redirected)
        if reason is None:
            return
        self.stats.inc_value(f"hkcrawl/offsite/{reason}")
        try:
            parts = urlsplit(request.url)
            where = parts.hostname or f"{parts.scheme}:"
        except ValueError:
            where = request.url
        if where not in self.logged:
            self.logged.add(where)
            logger.warning(
                "Refused off-site request%s to %s (%s; only http(s) to %s is fetched; later ones not logged): %s",
                f" (redirect from {request.meta['redirect_urls'][0]})" if redirected else "",
                where,
                reason,
                ", ".join(sorted(self.hosts)),
                request.url,
            )
        raise OffsiteRequest(f"Off-site request refused ({reason}): {request.url}")

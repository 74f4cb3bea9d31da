"""The ``hankyung`` spider: decides what to fetch; page classes do the extracting."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from hkcrawl import urls
from hkcrawl.pages.article import parse_article
from hkcrawl.record import utc_now


class HankyungSpider(scrapy.Spider):
    """Crawl hankyung.com articles.

    Arguments: ``-a urls=URL,URL…`` and/or ``-a urls_file=PATH`` (one URL per line,
    ``#`` comments allowed): the article pages to fetch, in any of the site's URL forms.
    """

    name = "hankyung"

    def __init__(self, urls: str | None = None, urls_file: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.requested_urls = _split_urls(urls) + (_read_urls_file(urls_file) if urls_file else [])

    @property
    def allowed_hosts(self) -> frozenset[str]:
        base_host = urlsplit(self.settings.get("HANKYUNG_BASE_URL")).hostname
        return urls.ARTICLE_HOSTS | ({base_host} if base_host else set())

    async def start(self) -> AsyncIterator[scrapy.Request]:
        if not self.requested_urls:
            self.logger.error("No article URLs given: use -a urls=URL,URL… or -a urls_file=PATH")
            self.crawler.stats.inc_value("hkcrawl/errors/no_start_urls")
            return
        for url in self.requested_urls:
            reason = self._rejection(url)
            if reason:
                self.logger.warning("Skipping %r: %s", url, reason)
                self.crawler.stats.inc_value(f"hkcrawl/rejected_urls/{reason.split(':')[0]}")
                continue
            yield scrapy.Request(url, callback=self.parse_article, errback=self.on_error)

    def _rejection(self, url: str) -> str | None:
        try:
            parts = urlsplit(url)
        except ValueError:
            return "malformed: not a URL"
        if parts.scheme not in ("http", "https"):
            return f"bad_scheme: only http(s) is fetched, not {parts.scheme or 'none'!r}"
        if parts.hostname not in self.allowed_hosts:
            return f"off_site: {parts.hostname} is not a hankyung.com article host"
        if urls.article_id_from_url(url) is None:
            return "not_article_url: no article id in the URL"
        return None

    def parse_article(self, response: Response) -> Iterable:
        content_type = response.headers.get("Content-Type")
        result = parse_article(response.body, response.url, content_type.decode("latin-1") if content_type else None)
        for problem in result.problems:
            self.crawler.stats.inc_value(f"hkcrawl/pages/{problem}")
            self.logger.warning("%s: %s", problem, response.url)
        if result.article is not None:
            self.crawler.stats.inc_value("hkcrawl/pages/article")
            result.article.dateDownloaded = utc_now()
            yield result.article

    def on_error(self, failure: Failure) -> None:
        self.crawler.stats.inc_value(f"hkcrawl/errors/{failure.type.__name__}")
        self.logger.error("Failed %s: %s", failure.request.url, failure.getErrorMessage())


def _split_urls(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _read_urls_file(path: str) -> list[str]:
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]

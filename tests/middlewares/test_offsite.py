"""The off-site guard's decisions, and the download handlers the crawl can use."""

from __future__ import annotations

import logging

import pytest
from scrapy import Request
from scrapy.settings import Settings
from scrapy.utils.misc import load_object
from scrapy.utils.python import without_none_values
from scrapy.utils.test import get_crawler

from hkcrawl import settings as project_settings
from hkcrawl.browser import playwright_settings
from hkcrawl.middlewares.offsite import OffsiteGuardMiddleware, OffsiteRequest
from hkcrawl.spiders.hankyung import HankyungSpider

BASE_URL = "http://127.0.0.1:8000"


@pytest.fixture
def guard() -> OffsiteGuardMiddleware:
    crawler = get_crawler(HankyungSpider, {"HANKYUNG_BASE_URL": BASE_URL})
    crawler.stats.open_spider()
    return OffsiteGuardMiddleware.from_crawler(crawler)


def _hop(url: str) -> Request:
    """A request as RedirectMiddleware builds it for the next hop."""
    return Request(url, meta={"redirect_urls": [f"{BASE_URL}/article/2022061771721"]})


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (Request("https://www.hankyung.com/article/2022061771721"), None),
        (Request("http://news.hankyung.com/article/2022061771721"), None),
        (Request(f"{BASE_URL}/sitemap/latest-article.xml"), None),
        (Request("http://127.0.0.1:9999/robots.txt"), None),  # the base host on another port
        (Request("https://static.hankyung.com/js/widget.js"), "host"),  # not an article host
        (Request("https://hankyung.com.evil.example/x"), "host"),
        (Request("http://127.0.0.2:8000/sitemap.xml"), "host"),
        (Request("http://localhost:8000/sitemap.xml"), "host"),
        (Request("file:///etc/hostname"), "scheme"),
        (Request("file:///dev/zero"), "scheme"),
        (Request("ftp://127.0.0.1:1/x.xml"), "scheme"),
        (Request("s3://bucket/x.xml"), "scheme"),
        (Request("data:text/xml,<urlset/>"), "scheme"),
        (_hop("https://www.hankyung.com/article/2022061771721"), None),
        (_hop("http://127.0.0.2:8000/article/2022061771721"), "redirect_host"),
        (_hop("https://www.example.com/"), "redirect_host"),
        (_hop("file:///etc/passwd"), "redirect_scheme"),
        (_hop("ftp://www.hankyung.com/x"), "redirect_scheme"),
    ],
    ids=lambda value: value.url if isinstance(value, Request) else str(value),
)
def test_only_http_to_the_sites_hosts_is_fetched(
    guard: OffsiteGuardMiddleware, request_: Request, reason: str | None
) -> None:
    if reason is None:
        assert guard.process_request(request_) is None
        assert guard.stats.get_stats() == {}
        return
    with pytest.raises(OffsiteRequest, match=rf"^Off-site request refused \({reason}\): "):
        guard.process_request(request_)
    assert guard.stats.get_stats() == {f"hkcrawl/offsite/{reason}": 1}


def test_each_host_is_logged_once_and_every_request_counted(
    guard: OffsiteGuardMiddleware, caplog: pytest.LogCaptureFixture
) -> None:
    urls = ["http://other.example/a", "http://other.example/b", "http://third.example/", "file:///a", "file:///b"]
    with caplog.at_level(logging.WARNING, logger="hkcrawl.middlewares.offsite"):
        for url in urls:
            with pytest.raises(OffsiteRequest):
                guard.process_request(Request(url))
    logged = [r.getMessage() for r in caplog.records]
    assert len(logged) == 3
    assert "to other.example" in logged[0] and logged[0].endswith("http://other.example/a")
    assert "to third.example" in logged[1] and "to file:" in logged[2]
    assert guard.stats.get_value("hkcrawl/offsite/host") == 3
    assert guard.stats.get_value("hkcrawl/offsite/scheme") == 2


def _handlers(settings: Settings) -> set[str]:
    """The schemes Scrapy's downloader will have a handler for (its own merge)."""
    return set(without_none_values(settings.getwithbase("DOWNLOAD_HANDLERS")))


def test_only_http_download_handlers_with_and_without_the_browser() -> None:
    settings = Settings()
    settings.setmodule(project_settings, priority="project")
    assert _handlers(settings) == {"http", "https"}
    current = settings.getdict("DOWNLOAD_HANDLERS")
    settings.setdict(playwright_settings("/usr/bin/chromium", 4, (), current), priority="spider")
    assert _handlers(settings) == {"http", "https"}
    handler = settings.getwithbase("DOWNLOAD_HANDLERS")["https"]
    assert load_object(handler).__name__ == "OnDemandPlaywrightHandler"

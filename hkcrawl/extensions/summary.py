"""The end-of-crawl summary and verdict.

Scrapy's stats dump is complete but long; users running from cron need three lines:
what was exported (per section), what was dropped and why, and what went wrong
(blocks, errors). The verdict decides the exit status of ``scrapy crawl``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.settings import BaseSettings

from hkcrawl.items import Article
from hkcrawl.middlewares.challenge import BLOCKED_REASON

if TYPE_CHECKING:
    from hkcrawl.state import StateStore

logger = logging.getLogger(__name__)

#: Close reasons of a crawl that ended normally.
OK_REASONS = frozenset({"finished", "max_articles", "closespider_itemcount"})


def _with_prefix(stats: dict[str, Any], prefix: str) -> dict[str, int]:
    return {key[len(prefix) :]: value for key, value in sorted(stats.items()) if key.startswith(prefix)}


def _line(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts.items()) or "none"


def failure_reason(stats: dict[str, Any], settings: BaseSettings, state: StateStore | None = None) -> str | None:
    """Why this crawl counts as failed, or None when it did its job.

    Besides a block or an early end: too many download errors, too few article
    pages giving a valid record (the site's markup changed: "layout drift"), or no
    new article for longer than the site ever goes quiet.
    """
    reason = stats.get("finish_reason")
    if reason == BLOCKED_REASON:
        return "blocked by the site (Cloudflare challenges)"
    if reason is not None and reason not in OK_REASONS:
        return f"the crawl ended early: {reason}"
    if stats.get("hkcrawl/errors/nothing_to_crawl"):
        return "nothing to crawl (no URLs and no discovery)"
    if unrendered := stats.get("hkcrawl/render/unavailable"):
        return f"{unrendered} page(s) needed JavaScript but no browser was found (see the log's first warning)"
    requests = stats.get("downloader/request_count", 0)
    # Download errors and exceptions in our own callbacks (a bug, or a page shape we
    # never planned for) both count.
    errors = sum(_with_prefix(stats, "hkcrawl/errors/").values()) + stats.get("spider_exceptions/count", 0)
    if requests >= 20 and errors / requests > settings.getfloat("HKCRAWL_MAX_ERROR_RATE"):
        return f"{errors} of {requests} requests failed (over HKCRAWL_MAX_ERROR_RATE)"
    pages = stats.get("hkcrawl/pages/article", 0)
    invalid = stats.get("hkcrawl/dropped/invalid", 0)
    if pages >= 20 and (pages - invalid) / pages < settings.getfloat("HKCRAWL_MIN_VALID_RATE"):
        return (
            f"layout drift: only {pages - invalid} of {pages} article pages gave a valid record "
            f"(see hkcrawl/dropped/missing_* and docs/site-markup.md)"
        )
    window = settings.getfloat("HKCRAWL_EXPECT_NEW_WITHIN_HOURS")
    if state is not None and window > 0 and not stats.get("hkcrawl/exported/new"):
        last = state.last_run_with_new_articles()
        if last is not None and datetime.fromisoformat(last.replace("Z", "+00:00")) < datetime.now(UTC) - timedelta(
            hours=window
        ):
            return f"no new article since {last} (more than HKCRAWL_EXPECT_NEW_WITHIN_HOURS={window:g} h)"
    return None


def summary_lines(stats: dict[str, Any]) -> list[str]:
    exported = stats.get("item_scraped_count", 0)
    lists = _with_prefix(stats, "hkcrawl/lists/")
    lists_read = sum(count for name, count in lists.items() if not name.startswith("stopped/"))
    lines = [
        f"exported {exported} article(s); by section: {_line(_with_prefix(stats, 'hkcrawl/exported/section/'))}",
        f"dropped: {_line(_with_prefix(stats, 'hkcrawl/dropped/'))}",
        f"blocks: {_line(_with_prefix(stats, 'hkcrawl/blocks/'))}; "
        f"errors: {_line(_with_prefix(stats, 'hkcrawl/errors/'))}, "
        f"spider exceptions {stats.get('spider_exceptions/count', 0)}; "
        f"page problems: {_line({k: v for k, v in _with_prefix(stats, 'hkcrawl/pages/').items() if k != 'article'})}",
        f"requests {stats.get('downloader/request_count', 0)}, list pages read {lists_read}, "
        f"finish reason {stats.get('finish_reason')}",
    ]
    return lines


class CrawlSummary:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlSummary:
        extension = cls(crawler)
        crawler.signals.connect(extension.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def item_scraped(self, item: Article) -> None:
        self.crawler.stats.inc_value(f"hkcrawl/exported/section/{item.section or 'unknown'}")

    def spider_closed(self, reason: str) -> None:
        stats = self.crawler.stats.get_stats()
        stats.setdefault("finish_reason", reason)
        for line in summary_lines(stats):
            logger.info("Summary: %s", line)
        failure = failure_reason(stats, self.crawler.settings, getattr(self.crawler, "_hkcrawl_state", None))
        # Read by the run report (hkcrawl.output) and the crawl command's exit status.
        self.crawler.stats.set_value("hkcrawl/failure", failure)
        if failure:
            logger.error("Crawl FAILED: %s", failure)

from __future__ import annotations

import logging

from scrapy.crawler import Crawler
from scrapy.utils.defer import deferred_from_coro

from hkcrawl.items import Article
from hkcrawl.run import KeepPending

logger = logging.getLogger(__name__)


class ArticleLimitPipeline:
    """Enforces ``-a max_articles=N`` exactly: the crawl closes at the Nth record, and any
    record still on its way after it is dropped.

    The spider also stops scheduling once N records are out, but pages already
    downloading still produce records; only the last pipeline sees the true count.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.passed = 0
        self.closing = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArticleLimitPipeline:
        return cls(crawler)

    def process_item(self, item: Article) -> Article:
        limit = getattr(self.crawler.spider, "max_articles", None)
        if limit is not None and self.passed >= limit:
            self.crawler.stats.inc_value("hkcrawl/dropped/max_articles")
            self._close(limit)
            # Not the article's fate: it stays to be fetched by the next run.
            raise KeepPending(f"max_articles={limit} reached: {item.articleId} left for the next run")
        self.passed += 1
        if limit is not None and self.passed == limit:
            # Close now, not at the next record: the requests already scheduled would
            # otherwise go on being fetched, one per download delay, for nothing.
            # (This record is still exported: closing waits for pages in progress.)
            self._close(limit)
        return item

    def _close(self, limit: int) -> None:
        if self.closing:
            return
        self.closing = True
        logger.info("max_articles=%d reached: closing the crawl", limit)
        deferred_from_coro(self.crawler.engine.close_spider_async(reason="max_articles"))

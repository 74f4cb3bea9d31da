from __future__ import annotations

from scrapy.crawler import Crawler

from hkcrawl.cleaning import clean_article
from hkcrawl.items import Article


class CleanPipeline:
    """Applies :mod:`hkcrawl.cleaning` and counts each rule under ``hkcrawl/cleaned/<rule>``."""

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CleanPipeline:
        return cls(crawler)

    def process_item(self, item: Article) -> Article:
        result = clean_article(item)
        for rule, count in result.removed.items():
            self.stats.inc_value(f"hkcrawl/cleaned/{rule}", count)
        return result.article

from __future__ import annotations

import logging

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from hkcrawl.items import Article
from hkcrawl.record import missing_fields

logger = logging.getLogger(__name__)


class ValidatePipeline:
    """Drops a record that lacks a required field: a dataset row without a date or
    body is worse than no row. Counted as ``hkcrawl/dropped/missing_<field>``."""

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidatePipeline:
        return cls(crawler)

    def process_item(self, item: Article) -> Article:
        missing = missing_fields(item)
        if missing:
            for name in missing:
                self.stats.inc_value(f"hkcrawl/dropped/missing_{name}")
            self.stats.inc_value("hkcrawl/dropped/invalid")
            raise DropItem(f"{item.url}: missing required field(s) {', '.join(missing)}")
        return item

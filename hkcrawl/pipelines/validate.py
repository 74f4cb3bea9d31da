from __future__ import annotations

import logging

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from hkcrawl.items import Article
from hkcrawl.record import missing_fields, schema_errors

logger = logging.getLogger(__name__)


class ValidatePipeline:
    """Drops a record that lacks a required field (``hkcrawl/dropped/missing_<field>``)
    or that the export schema refuses (``hkcrawl/dropped/schema``): a dataset row
    without a date or body is worse than no row, and a run file must pass
    ``hkcrawl validate``. Both also count as ``hkcrawl/dropped/invalid``."""

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
        if errors := schema_errors(item):
            for where, message in errors:
                logger.warning("schema: %s: %s: %s (%s)", item.articleId, where, message, item.url)
            self.stats.inc_value("hkcrawl/dropped/schema")
            self.stats.inc_value("hkcrawl/dropped/invalid")
            where, message = errors[0]
            raise DropItem(f"{item.url}: {item.articleId}: {where}: {message} (not valid against the record schema)")
        return item

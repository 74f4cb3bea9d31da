"""The crawl's stats collector: Scrapy's, minus the per-call deprecation shim."""

from __future__ import annotations

from scrapy.utils.test import get_crawler

from hkcrawl.spiders.hankyung import HankyungSpider
from hkcrawl.stats import PlainStatsCollector


def test_the_crawl_uses_it_and_it_counts_like_scrapys() -> None:
    crawler = get_crawler(HankyungSpider, {"STATS_CLASS": "hkcrawl.stats.PlainStatsCollector"})
    stats = crawler.stats
    assert isinstance(stats, PlainStatsCollector)
    stats.inc_value("pages")
    stats.inc_value("pages", 2)
    stats.max_value("size", 5)
    stats.max_value("size", 3)
    stats.min_value("first", 9)
    stats.min_value("first", 4)
    stats.set_value("reason", "finished")
    assert stats.get_stats() == {"pages": 3, "size": 5, "first": 4, "reason": "finished"}
    assert stats.get_value("missing", 0) == 0


def test_the_project_settings_choose_it() -> None:
    from hkcrawl import settings

    assert settings.STATS_CLASS == "hkcrawl.stats.PlainStatsCollector"

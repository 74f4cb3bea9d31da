"""A stats collector without Scrapy 2.19's per-call deprecation shim.

Scrapy's ``StatsCollector.__getattribute__`` wraps ``inc_value`` and friends to warn
about a ``spider`` argument; it runs on *every* attribute access (an f-string and a
caught ``AttributeError`` each time), and a crawl touches its stats a dozen times
per page: 2-3% of the crawl's CPU in benchmarks/crawl.py. Same storage and dump;
only the warning about a deprecated argument (which nothing here passes) is gone.
"""

from __future__ import annotations

from scrapy.statscollectors import MemoryStatsCollector


class PlainStatsCollector(MemoryStatsCollector):
    __getattribute__ = object.__getattribute__

"""The ceiling: a bare Scrapy spider that downloads the given URLs and extracts nothing.

Run by benchmarks/crawl.py with Scrapy's default settings plus the same concurrency
as the hkcrawl crawl, outside the hkcrawl project.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import scrapy


class BareSpider(scrapy.Spider):
    name = "bare"

    def __init__(self, urls_file: str, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.urls = Path(urls_file).read_text(encoding="utf-8").split()

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.urls:
            yield scrapy.Request(url, callback=self.parse)

    def parse(self, response: scrapy.http.Response) -> None:
        return None

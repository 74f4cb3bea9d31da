from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from hkcrawl.items import Article
from hkcrawl.recent import DEFAULT_SIZE, RecentSet


class DuplicateArticlePipeline:
    """Drops a second record of an article id within one crawl.

    The site has served one article under four URL forms (hankyung-site.md §1.2); the
    parser reduces all of them to the same ``articleId``, so the id is the key.
    Counted as ``hkcrawl/dropped/duplicate``.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        # The latest ids (hkcrawl/recent.py): a second record comes soon after the first,
        # and the request filter keeps an article from being asked for twice anyway.
        self.seen: RecentSet[str] = RecentSet(crawler.settings.getint("HKCRAWL_RECENT_KEYS", DEFAULT_SIZE))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DuplicateArticlePipeline:
        return cls(crawler)

    def process_item(self, item: Article) -> Article:
        if item.articleId in self.seen:
            self.stats.inc_value("hkcrawl/dropped/duplicate")
            raise DropItem(f"duplicate of article {item.articleId}: {item.url}")
        self.seen.add(item.articleId)
        return item

from __future__ import annotations

import logging
from collections import OrderedDict
from pathlib import Path

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured

from hkcrawl import parsing
from hkcrawl.items import Article
from hkcrawl.near_duplicate_store import load_or_rebuild, save
from hkcrawl.similarity import NearDuplicateIndex, signature_values

logger = logging.getLogger(__name__)

POLICIES = ("annotate", "drop")


class NearDuplicatePipeline:
    """Finds the same story under another article id: an identical body (same
    ``articleBodyHash``) or a nearly identical one (MinHash, hkcrawl/similarity.py).

    ``HKCRAWL_DUPLICATES=annotate`` (default) keeps the record and sets
    ``duplicateOf``/``duplicateSimilarity``, so nothing disappears silently;
    ``drop`` drops it. With the state store on, the index is kept across runs in
    ``<state dir>/near_duplicates.npz`` (hkcrawl/near_duplicate_store.py), rebuilt from
    the finished run files when it is missing or bad. Counted as
    ``hkcrawl/duplicates/<kind>``; how the index came (``loaded``, ``new``,
    ``rebuilt:<reason>``) is ``hkcrawl/near_duplicates/index``.
    """

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.policy = settings.get("HKCRAWL_DUPLICATES")
        if self.policy == "off":
            raise NotConfigured
        if self.policy not in POLICIES:
            raise ValueError(f"HKCRAWL_DUPLICATES must be one of {', '.join(POLICIES)} or off, not {self.policy!r}")
        self.stats = crawler.stats
        self.path = (
            Path(settings.get("HKCRAWL_STATE_DIR")) / "near_duplicates.npz"
            if settings.getbool("HKCRAWL_STATE_ENABLED")
            else None
        )
        self.output_dir = Path(settings.get("HKCRAWL_OUTPUT_DIR"))
        self.window = settings.getint("HKCRAWL_NEAR_DUPLICATE_WINDOW")
        self.index, self.by_hash = self._load(settings.getfloat("HKCRAWL_NEAR_DUPLICATE_THRESHOLD"))
        self.worker = parsing.for_crawler(crawler)  # signs bodies (~0.25 ms each) off the crawl's thread
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NearDuplicatePipeline:
        return cls(crawler)

    def _load(self, threshold: float) -> tuple[NearDuplicateIndex, OrderedDict[str, str]]:
        if self.path is None:
            return NearDuplicateIndex(threshold, window=self.window), OrderedDict()
        index, by_hash, what = load_or_rebuild(self.path, threshold, self.window, self._finished_files, logger.warning)
        self.stats.set_value("hkcrawl/near_duplicates/index", what)
        return index, by_hash

    def _finished_files(self) -> list[Path]:
        """Earlier runs' files, oldest first (``*.part`` of a run in progress never match)."""
        return sorted([*self.output_dir.glob("*.jsonl"), *self.output_dir.glob("*.jsonl.gz")])

    async def process_item(self, item: Article) -> Article:
        body, own_id = item.articleBody or "", item.articleId or ""
        minhash = await self.worker.run(signature_values, body, wait_for_helper=True)
        # From here on nothing awaits: items finish in the order they were signed, each
        # seeing every earlier one in the index.
        earlier = self.by_hash.get(item.articleBodyHash or "")
        if earlier is not None and earlier != own_id:
            return self._found(item, earlier, 1.0, "exact_body")
        match = self.index.match(body, minhash)
        if match is not None and match.article_id == own_id:
            match = None  # an update of an article is not a copy of itself
        self.index.add(own_id, body, minhash)
        if item.articleBodyHash and item.articleBodyHash not in self.by_hash:
            self.by_hash[item.articleBodyHash] = own_id
            if len(self.by_hash) > self.window:  # the same window as the index: memory stays bounded
                self.by_hash.popitem(last=False)
        if match is None:
            return item
        return self._found(item, match.article_id, match.similarity, "near")

    def _found(self, item: Article, earlier: str, similarity: float, kind: str) -> Article:
        self.stats.inc_value(f"hkcrawl/duplicates/{kind}")
        if self.policy == "drop":
            self.stats.inc_value(f"hkcrawl/dropped/{kind}_duplicate")
            raise DropItem(f"{item.articleId} duplicates {earlier} ({kind}, similarity {similarity:.2f})")
        item.duplicateOf = earlier
        item.duplicateSimilarity = similarity
        return item

    def spider_closed(self) -> None:
        if self.path is not None:
            save(self.path, self.index, self.by_hash)  # OSError: the run fails rather than lose the index

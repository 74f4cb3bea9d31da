from __future__ import annotations

import logging
import os
import pickle
from collections import OrderedDict
from pathlib import Path

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured

from hkcrawl import parsing
from hkcrawl.items import Article
from hkcrawl.run import Run
from hkcrawl.similarity import NearDuplicateIndex, signature_values

logger = logging.getLogger(__name__)

POLICIES = ("annotate", "drop")


class NearDuplicatePipeline:
    """Finds the same story under another article id: an identical body (same
    ``articleBodyHash``) or a nearly identical one (MinHash, hkcrawl/similarity.py).

    ``HKCRAWL_DUPLICATES=annotate`` (default) keeps the record and sets
    ``duplicateOf``/``duplicateSimilarity``, so nothing disappears silently;
    ``drop`` drops it. With the state store on, the index is kept across runs in
    ``<state dir>/near_duplicates.pickle``. Counted as ``hkcrawl/duplicates/<kind>``.
    """

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.policy = settings.get("HKCRAWL_DUPLICATES")
        if self.policy == "off":
            raise NotConfigured
        if self.policy not in POLICIES:
            raise ValueError(f"HKCRAWL_DUPLICATES must be one of {', '.join(POLICIES)} or off, not {self.policy!r}")
        self.stats = crawler.stats
        self.run = Run.of(crawler)  # owns the index's file
        self.window = settings.getint("HKCRAWL_NEAR_DUPLICATE_WINDOW")
        self.threshold = settings.getfloat("HKCRAWL_NEAR_DUPLICATE_THRESHOLD")
        self.index, self.by_hash = NearDuplicateIndex(self.threshold, window=self.window), OrderedDict()
        self.worker = parsing.for_crawler(crawler)  # signs bodies (~0.25 ms each) off the crawl's thread

    def open_spider(self) -> None:
        # Read only once the run holds its lock (pipelines open before the spider_opened signal).
        self.run.ensure_open()
        self.path = self.run.paths.near_duplicates
        if not self.run.failed:
            self.index, self.by_hash = self._load(self.threshold)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NearDuplicatePipeline:
        return cls(crawler)

    def _load(self, threshold: float) -> tuple[NearDuplicateIndex, OrderedDict[str, str]]:
        if self.path is not None and self.path.exists():
            try:
                with self.path.open("rb") as file:
                    index, by_hash = pickle.load(file)  # our own file, in our own state directory
                if index.threshold == threshold and index.window == self.window:
                    return index, OrderedDict(by_hash)
                logger.warning("Near-duplicate threshold or window changed: starting a new index")
            except Exception as error:
                # Any unreadable index (cut short, another version, a bug in loading it) only
                # costs the matches against earlier runs; failing here would fail every later run.
                logger.warning("Cannot read %s (%r): starting a new near-duplicate index", self.path, error)
        return NearDuplicateIndex(threshold, window=self.window), OrderedDict()

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

    def close_spider(self) -> None:
        self.run.save_near_duplicates(self._save)

    def _save(self, path: Path) -> None:
        tmp = path.with_name(path.name + ".part")
        with tmp.open("wb") as file:
            pickle.dump((self.index, self.by_hash), file, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)

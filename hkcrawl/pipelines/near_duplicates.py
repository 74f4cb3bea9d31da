from __future__ import annotations

import logging
from collections import OrderedDict

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured

from hkcrawl import parsing
from hkcrawl.items import Article
from hkcrawl.near_duplicate_store import load_or_rebuild, save
from hkcrawl.run import Run
from hkcrawl.similarity import Match, NearDuplicateIndex, published_minutes, signature_values

logger = logging.getLogger(__name__)

POLICIES = ("annotate", "drop")
#: Stats key of the corrections (article id -> the original it should name), for the run report.
CORRECTIONS = "hkcrawl/near_duplicates/corrections"
#: An original known only by its body hash (its signature has left the index): it stays
#: the original, as it was when the copies were written.
_KNOWN_ONLY_BY_HASH = -(2**31)


class NearDuplicatePipeline:
    """Finds the same story under another article id: an identical body (same
    ``articleBodyHash``) or a nearly identical one (MinHash, hkcrawl/similarity.py).

    ``HKCRAWL_DUPLICATES=annotate`` (default) keeps the record and sets
    ``duplicateOf``/``duplicateSimilarity``, so nothing disappears silently;
    ``drop`` drops it.

    The original of a group is its earliest-published article (ties: the smaller id),
    whatever order the pages arrive in. A group is the new record plus its direct
    matches (same body hash, or MinHash similarity >= threshold): similarity is not
    transitive, so a copy of a copy names the article it resembles, not one it does
    not. When a record published earlier than the original its matches named comes
    in, those already written are wrong: they are counted
    (``hkcrawl/duplicates/corrected``) and listed in the run report
    (``duplicateCorrections``); ``hkcrawl merge`` rewrites them.

    With the state store on, the index is kept across runs in
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
        self.run = Run.of(crawler)  # owns the index's file and the finished run files
        self.window = settings.getint("HKCRAWL_NEAR_DUPLICATE_WINDOW")
        self.threshold = settings.getfloat("HKCRAWL_NEAR_DUPLICATE_THRESHOLD")
        self.index, self.by_hash = NearDuplicateIndex(self.threshold, window=self.window), OrderedDict()
        self.worker = parsing.for_crawler(crawler)  # signs bodies (~0.25 ms each) off the crawl's thread
        self.corrections: dict[str, str] = {}  # already written article id -> the original it should name
        self.stats.set_value(CORRECTIONS, self.corrections)

    def open_spider(self) -> None:
        # Read only once the run holds its lock (pipelines open before the spider_opened signal).
        self.run.ensure_open()
        path = self.run.paths.near_duplicates
        if path is None or self.run.failed:
            return
        self.index, self.by_hash, what = load_or_rebuild(
            path, self.threshold, self.window, self.run.finished_files, logger.warning
        )
        self.stats.set_value("hkcrawl/near_duplicates/index", what)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NearDuplicatePipeline:
        return cls(crawler)

    async def process_item(self, item: Article) -> Article:
        body, own_id = item.articleBody or "", item.articleId or ""
        minhash = await self.worker.run(signature_values, body, wait_for_helper=True)
        # From here on nothing awaits: items finish in the order they were signed, each
        # seeing every earlier one in the index.
        me = Match(own_id, 1.0, published_minutes(item.datePublished))
        group = [found for found in self.index.matches(body, minhash) if found.article_id != own_id]
        exact = self._exact_match(item.articleBodyHash, own_id, group)
        if exact is not None:
            group = [found for found in group if found.article_id != exact.article_id] + [exact]
        original = min([me, *group], key=lambda found: found.order)
        self._correct_later_ones(me, group)
        self.index.add(own_id, body, minhash, me.published)
        if item.articleBodyHash and (exact is None or original is me):
            self.by_hash[item.articleBodyHash] = own_id  # the earliest known with this body
            if len(self.by_hash) > self.window:  # the same window as the index: memory stays bounded
                self.by_hash.popitem(last=False)
        if original is me:
            return item
        kind = "exact_body" if exact is not None and original.article_id == exact.article_id else "near"
        return self._found(item, original.article_id, original.similarity, kind)

    def _exact_match(self, body_hash: str | None, own_id: str, group: list[Match]) -> Match | None:
        """The earliest known article with this very body, with its publication time when the index has it."""
        earlier = self.by_hash.get(body_hash or "")
        if earlier is None or earlier == own_id:
            return None
        known = next((found for found in group if found.article_id == earlier), None)
        published = _KNOWN_ONLY_BY_HASH if known is None else known.published
        return Match(earlier, 1.0, published, -1 if known is None else known.seq)

    def _correct_later_ones(self, me: Match, group: list[Match]) -> None:
        """Note the already written matches whose original is now ``me``: published before the one they named."""
        for later in group:
            if later.order <= me.order:
                continue
            named = min(self.index.matches_of(later), key=lambda found: found.order, default=None)
            if named is None or me.order < named.order:
                if later.article_id not in self.corrections:  # counted once, however often it moves
                    self.stats.inc_value("hkcrawl/duplicates/corrected")
                self.corrections[later.article_id] = me.article_id

    def _found(self, item: Article, earlier: str, similarity: float, kind: str) -> Article:
        self.stats.inc_value(f"hkcrawl/duplicates/{kind}")
        if self.policy == "drop":
            self.stats.inc_value(f"hkcrawl/dropped/{kind}_duplicate")
            raise DropItem(f"{item.articleId} duplicates {earlier} ({kind}, similarity {similarity:.2f})")
        item.duplicateOf = earlier
        item.duplicateSimilarity = similarity
        return item

    def close_spider(self) -> None:
        # A save that fails fails the run (and the next run rebuilds the index from the files).
        self.run.save_near_duplicates(lambda path: save(path, self.index, self.by_hash))

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured

from hkcrawl.items import Article
from hkcrawl.near_duplicate_store import load_or_rebuild, save
from hkcrawl.run import Run
from hkcrawl.similarity import Match, NearDuplicateIndex, published_minutes, signature_values

if TYPE_CHECKING:
    from hkcrawl.shared_near_duplicates import SharedNearDuplicateIndex

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

    With ``HKCRAWL_REDIS_URL`` set, every worker asks one index in Redis instead
    (hkcrawl/shared_near_duplicates.py; ``index`` is then ``shared``), so a copy is found
    whichever worker saw its original; a Redis error fails the run.
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
        self.corrections: dict[str, str] = {}  # already written article id -> the original it should name
        self.stats.set_value(CORRECTIONS, self.corrections)
        self.redis_url = settings.get("HKCRAWL_REDIS_URL") or ""
        self.spider_name = crawler.spidercls.name  # the prefix of the shared index's keys, as scrapy-redis's
        self.shared: SharedNearDuplicateIndex | None = None

    def open_spider(self) -> None:
        # Read only once the run holds its lock (pipelines open before the spider_opened signal).
        self.run.ensure_open()
        if self.redis_url:
            self._open_shared()
            return
        path = self.run.paths.near_duplicates
        if path is None or self.run.failed:
            return
        self.index, self.by_hash, what = load_or_rebuild(
            path, self.threshold, self.window, self.run.finished_files, logger.warning
        )
        self.stats.set_value("hkcrawl/near_duplicates/index", what)

    def _open_shared(self) -> None:
        from hkcrawl.shared_near_duplicates import SharedIndexError, SharedNearDuplicateIndex

        if self.run.failed:
            return
        try:
            self.shared = SharedNearDuplicateIndex.connect(
                self.redis_url, self.spider_name, self.threshold, self.window
            )
        except SharedIndexError as error:
            self.run.fail(str(error))
            return
        self.stats.set_value("hkcrawl/near_duplicates/index", "shared")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NearDuplicatePipeline:
        return cls(crawler)

    def process_item(self, item: Article) -> Article:
        body, own_id = item.articleBody or "", item.articleId or ""
        minhash = signature_values(body)
        me = Match(own_id, 1.0, published_minutes(item.datePublished))
        if self.redis_url:
            found = self._match_shared(me, item.articleBodyHash, minhash)
            if found is None:  # the run failed: nothing more is written
                return item
            group, exact, matches_of = found
        else:
            group = [found for found in self.index.matches(body, minhash) if found.article_id != own_id]
            exact = self._exact_match(self.by_hash.get(item.articleBodyHash or ""), own_id, group)
            matches_of = self.index.matches_of
        if exact is not None:
            group = [found for found in group if found.article_id != exact.article_id] + [exact]
        original = min([me, *group], key=lambda found: found.order)
        self._correct_later_ones(me, group, matches_of)
        if not self.redis_url:
            self.index.add(own_id, body, minhash, me.published)
            if item.articleBodyHash and (exact is None or original is me):
                self.by_hash[item.articleBodyHash] = own_id  # the earliest known with this body
                if len(self.by_hash) > self.window:  # the same window as the index: memory stays bounded
                    self.by_hash.popitem(last=False)
        if original is me:
            return item
        kind = "exact_body" if exact is not None and original.article_id == exact.article_id else "near"
        return self._found(item, original.article_id, original.similarity, kind)

    def _match_shared(
        self, me: Match, body_hash: str | None, minhash: object
    ) -> tuple[list[Match], Match | None, Callable[[Match], list[Match]]] | None:
        """Match and add in the shared index at once (another worker may add a copy meanwhile)."""
        from hkcrawl.shared_near_duplicates import SharedIndexError

        if self.shared is None:
            return None
        try:
            added = self.shared.match_and_add(me.article_id, minhash, me.published, body_hash)
        except SharedIndexError as error:
            self.run.fail(str(error))
            return None
        group = [found for found in added.matches if found.article_id != me.article_id]
        exact = self._exact_match(added.same_body[0] if added.same_body else None, me.article_id, group)
        shared = self.shared

        def matches_of(match: Match) -> list[Match]:
            # Stored before this article was, so without its own new entry (as the local index before add()).
            try:
                return shared.matches_of(match, exclude=added.seq)
            except SharedIndexError as error:
                self.run.fail(str(error))
                return []

        return group, exact, matches_of

    @staticmethod
    def _exact_match(earlier: str | None, own_id: str, group: list[Match]) -> Match | None:
        """The earliest known article with this very body, with its publication time when the index has it."""
        if earlier is None or earlier == own_id:
            return None
        known = next((found for found in group if found.article_id == earlier), None)
        published = _KNOWN_ONLY_BY_HASH if known is None else known.published
        return Match(earlier, 1.0, published, -1 if known is None else known.seq)

    def _correct_later_ones(self, me: Match, group: list[Match], matches_of: Callable[[Match], list[Match]]) -> None:
        """Note the already written matches whose original is now ``me``: published before the one they named."""
        for later in group:
            if later.order <= me.order:
                continue
            named = min(matches_of(later), key=lambda found: found.order, default=None)
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
        if self.redis_url:
            # Redis keeps the shared index. A local one left from earlier runs lacks this
            # run's records: removed, so a later run without Redis rebuilds it from the files.
            if self.shared is not None:
                self.shared.close()
            self.run.save_near_duplicates(lambda path: path.unlink(missing_ok=True))
            return
        # A save that fails fails the run (and the next run rebuilds the index from the files).
        self.run.save_near_duplicates(lambda path: save(path, self.index, self.by_hash))

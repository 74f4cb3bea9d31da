"""What the spider asks the run, and what it tells it about each URL and article:
a part of :class:`hkcrawl.run.Run`.

The run keeps, per article asked for, what became of it (saved, failed, settled, passed
over) and, per URL, whether it finally worked: the verdict and the next run's retries
are built from these. :class:`ArticleOutcomes` is mixed into ``Run``, whose ``__init__``
sets every attribute used here.
"""

from __future__ import annotations

import logging

from hkcrawl.state import Known, StateUnavailable

logger = logging.getLogger("hkcrawl.run")  # the Run's log lines keep the one origin


class ArticleOutcomes:
    """The spider's side of the run (see the module docstring)."""

    # -- what the spider asks ----------------------------------------------------------
    def known(self, article_id: str) -> Known | None:
        try:
            return self.state.known(article_id) if self.state is not None else None
        except StateUnavailable as error:  # distributed mode: Redis went away
            self.fail_keeping_files(str(error))
            return None

    def prefetch_known(self, article_ids: list[str]) -> None:
        """About to ask :meth:`known` for each of these (a list page's links): one round trip in distributed mode."""
        try:
            if self.state is not None:
                self.state.prefetch(article_ids)
        except StateUnavailable as error:
            self.fail_keeping_files(str(error))

    def retry_targets(self) -> list[tuple[str, str | None, str]]:
        """(article id, url, why) of every article an earlier run tried and did not save."""
        if self.state is None or not self.settings.getbool("HKCRAWL_RETRY_FAILED"):
            return []
        try:
            return [(f.article_id, f.url, f.reason) for f in self.state.failures()]
        except StateUnavailable as error:
            self.fail_keeping_files(str(error))
            return []

    def fail_keeping_files(self, reason: str) -> None:
        """Fail for a reason outside this worker's files (distributed mode: Redis went away):
        what the run file holds is marked in the local ledger first, so a rerun fetches none of it again."""
        if self.file is not None and not self.failed:
            self._checkpoint()
        self.fail(reason)

    @property
    def articles_waiting(self) -> int:
        """Articles asked for in this run and not yet saved, failed or settled: what is left (progress)."""
        return len(self._requested)

    # -- what the spider tells -----------------------------------------------------------
    def expect_articles(self) -> None:
        """Discovery runs: a run that finds no article link at all has failed."""
        self.facts.lists_expected = True

    def article_links(self, count: int = 1) -> None:
        self.facts.article_links += count

    def url_done(self, url: str, ok: bool) -> None:
        # A URL that worked once stays worked (its retry failed after a redirect loop, say).
        before = self._url_ok.get(url)
        if before is None:
            self._urls_tried += 1
            self._urls_failed += not ok
        elif ok and not before:
            self._urls_failed -= 1
        self._url_ok[url] = bool(before) or ok

    def article_requested(self, article_id: str, url: str) -> None:
        if article_id not in self._saved:
            self._requested.setdefault(article_id, url)

    def article_failed(self, article_id: str, url: str, reason: str) -> None:
        """The article could not be saved this time; it is fetched again by later runs."""
        if article_id in self._saved:
            return
        self._failed[article_id] = (url, reason)
        self._requested.pop(article_id, None)
        self.stats.inc_value(f"hkcrawl/articles/failed/{reason}")

    def article_settled(self, article_id: str) -> None:
        """Fetched and parsed, but nothing to save (not valid, a duplicate …): not a failure."""
        self._requested.pop(article_id, None)
        self._failed.pop(article_id, None)
        self._settled_unwritten.add(article_id)
        self._settle(article_id)

    def _settle(self, article_id: str) -> None:
        if article_id not in self._saved and self._settled_ids.add(article_id):
            self._settled_count += 1

    def article_passed_over(self, article_id: str) -> None:
        """Fetched fine, but not this run's to export (published outside ``-a since/until``):
        neither saved nor failed here. What an earlier run left unsaved stays in the state
        for a run that wants it; anything else is settled (a pending mark this run wrote goes)."""
        if article_id not in self._unsaved_before:
            self.article_settled(article_id)
            return
        self._requested.pop(article_id, None)
        self._failed.pop(article_id, None)
        self._settle(article_id)

    def _unsettled_failed(self) -> None:
        """A crawl that finished with articles asked for and never settled lost them on the
        way (Scrapy's scheduler drops a request it has seen, e.g. a redirect back to the
        page itself, without an errback): not saved, so failures, never a silent "ok"."""
        for article_id, url in list(self._requested.items()):
            if article_id not in self._saved:
                logger.error("Article %s (%s) was asked for but never fetched", article_id, url)
                self.article_failed(article_id, url, "not_fetched")

"""The run file, its checkpoints and take-back: a part of :class:`hkcrawl.run.Run`.

Each record goes into the run's file (hkcrawl/output.py); every ``HKCRAWL_CHECKPOINT_ITEMS``
records or ``HKCRAWL_CHECKPOINT_SECONDS`` the file is put on disk, then its articles are
marked known in the state, then the failed and still-pending ones are remembered: in
that order, a run killed at any moment has marked known only what a file holds.
With -o/-O (Scrapy's feeds) there is no run file: the feeds are read back once Scrapy
has stored them, and only then are their records marked known.

:class:`RunOutput` is mixed into ``Run``, whose ``__init__`` sets every attribute used here.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from typing import Any

from scrapy.exceptions import DropItem

from hkcrawl.items import Article
from hkcrawl.lock import LockLost, identity
from hkcrawl.output import dead_part_files, iso, recover_part_file
from hkcrawl.run_paths import count_lines
from hkcrawl.state import Exported

logger = logging.getLogger("hkcrawl.run")  # the Run's log lines keep the one origin

#: Signal sent after each checkpoint with ``articles``, the ids it put on disk (with the failures
#: so far): the shared frontier then lets go of those requests (hkcrawl/redis_scheduler.py).
CHECKPOINTED = object()


class KeepPending(DropItem):
    """A drop that is not the article's fate (``max_articles`` reached): it stays to be fetched."""


class RunOutput:
    """Writing, checkpointing and taking back the run's records (see the module docstring)."""

    def _recover_dead_runs(self) -> None:
        directory = self.paths.output_dir
        if not directory.is_dir():
            return
        dead, live = dead_part_files(directory)
        for part in live:
            # Another live process writes it (a run on another state directory, or one
            # whose lock was taken from it): never touch it.
            logger.warning("Leaving %s alone: a running process still writes it", part)
            self.stats.inc_value("hkcrawl/output/live_part_files")
        for part in dead:
            final, lines = recover_part_file(part)
            self.recovered[final.name] = lines
            self.stats.inc_value("hkcrawl/output/recovered_files")
            logger.warning("Recovered %d record(s) of an interrupted run into %s", lines, final)

    @property
    def output_name(self) -> str:
        return f"{self.run_id}.jsonl" + (".gz" if self.paths.gzip else "")

    @property
    def _output_record(self) -> str:
        """What the state's ``output`` column says for this run's articles."""
        if self.use_feeds:
            return str(self.feeds[0][0]) if len(self.feeds) == 1 else "(feeds)"
        return self.output_name

    # -- writing ---------------------------------------------------------------------------
    def item_scraped(self, item: Article) -> None:
        if self.failed or not self.opened:
            self.stats.inc_value("hkcrawl/output/not_written")
            return
        try:
            if self.file is not None:
                self.file.write(item)
        except (OSError, ValueError) as error:
            self._write_failed(error)
            return
        self.stats.inc_value("hkcrawl/exported/updated" if item.isUpdate else "hkcrawl/exported/new")
        self.stats.inc_value(f"hkcrawl/exported/section/{item.section or 'unknown'}")
        article_id = item.articleId or ""
        if self._saved.add(article_id):
            self._saved_count += 1
        if article_id in self._unsaved_before:
            self._recovered_ids.add(article_id)
        self._requested.pop(article_id, None)
        self._failed.pop(article_id, None)
        self._pending_marks.append(
            Exported(
                article_id, item.datePublished, item.dateModified, item.articleBodyHash,
                item.dateDownloaded or iso(time.time()), self._output_record,
            )
        )  # fmt: skip
        if self.file is not None and (
            len(self._pending_marks) >= self.checkpoint_items
            or time.monotonic() - self._last_checkpoint >= self.checkpoint_seconds
        ):
            self._checkpoint()

    def item_dropped(self, item: Any, exception: BaseException) -> None:
        article_id = getattr(item, "articleId", None)
        if article_id and not isinstance(exception, KeepPending):
            self.article_settled(article_id)

    def _write_failed(self, error: BaseException) -> None:
        if self.file is not None:
            self.file.abandon()  # its complete lines are recovered by the next run
            self.file = None
        self.fail(f"cannot write {self.paths.output_dir / self.output_name}: {describe(error)}")

    def _lock_ok(self) -> bool:
        if self.lock is None:
            return True
        try:
            self.lock.check()
            if self.paths.database is not None and identity(self.paths.database) != self._db_identity:
                raise LockLost(f"the state database {self.paths.database} was removed or replaced during the run")
            if self.file is not None and not self.file.finished and not self.file.still_ours():
                raise LockLost(f"{self.file.part} was removed or replaced during the run")
        except LockLost as lost:
            if self.file is not None:
                self.file.abandon()
                self.file = None
            self.fail(f"lock lost: {lost}; stopped writing")
            return False
        return True

    def take_back(self, article_ids: set[str]) -> int:
        """Distributed mode, Redis gone: the requests of these articles stay in this worker's
        in-flight hash and will be fetched again once Redis is back, so their records leave
        the file and are not marked known (a gzip file cannot be cut: they stay, and may
        come out twice). Returns how many records went."""
        if not article_ids or self.file is None or self.file.finished:
            return 0
        dropped = self.file.drop_records(article_ids)
        if dropped:
            self._pending_marks = [mark for mark in self._pending_marks if mark.article_id not in article_ids]
        return dropped

    def checkpoint(self) -> None:
        """Put what was written on disk now: an idle worker of a shared crawl lets go of its requests."""
        if self.file is not None and self.opened:
            self._checkpoint()

    def _checkpoint(self, final: bool = False) -> None:
        """Records on disk, then marked known, then failures and pending articles remembered.

        ``final``: the run is closing. Even a failed run marks what its still healthy file
        holds (the file is finished whatever the verdict): else the next run exports those
        records again. A failure of the file itself or of the lock has dropped the file."""
        if (self.failed and not final) or not self._lock_ok():
            return
        try:
            if self.file is not None:
                self.file.checkpoint()
        except OSError as error:
            self._write_failed(error)
            return
        try:
            if self.state is not None:
                self.state.mark_exported(self._pending_marks)
                self._remember_unsaved()
        except sqlite3.Error as error:
            self.fail(f"cannot write the state {self.paths.database}: {describe(error)}")
            return
        on_disk, self._pending_marks = [mark.article_id for mark in self._pending_marks], []
        self._last_checkpoint = time.monotonic()
        if self.state is not None and (problem := self.state.problem()):
            self.fail(problem)  # distributed mode: Redis failed; this worker's file and ledger agree
            return
        self.crawler.signals.send_catch_log(CHECKPOINTED, articles=on_disk)

    def _remember_unsaved(self) -> None:
        """Failed and still-pending articles go into the state, so no later run misses them."""
        assert self.state is not None
        when = iso(time.time())
        failed = [
            (aid, url, reason)
            for aid, (url, reason) in self._failed.items()
            if aid not in self._saved and self._failures_written.get(aid) != reason
        ]
        self.state.record_failures(failed, when, self.run_id)
        self._failures_written.update((aid, reason) for aid, _, reason in failed)
        pending = [(aid, url) for aid, url in self._requested.items() if aid not in self._pending_written]
        self.state.mark_pending(pending, when)
        for aid, _ in pending:
            self._pending_written.add(aid)
        if self._settled_unwritten:
            self.state.clear_failures(self._settled_unwritten)
            self._settled_unwritten = set()

    def feed_exporter_closed(self) -> None:
        # Scrapy stores -o/-O feeds after spider_closed; only now may their records be marked known.
        if not self.use_feeds or not self.opened:
            return
        problem = self._feeds_problem()
        if problem:
            # The verdict was given at spider_closed, before Scrapy stored the feeds: revise it.
            self._fail_after_verdict(problem)
        elif self.state is not None:
            self._checkpoint()
        self._close_state()

    def _feeds_problem(self) -> str | None:
        failed = sum(v for k, v in self.stats.get_stats().items() if k.startswith("feedexport/failed_count/"))
        if failed:
            return f"{failed} feed(s) could not be stored (see the log)"
        exported = len(self._pending_marks)
        for path, before in self.feeds:
            try:
                lines = count_lines(path) - before
            except OSError as error:
                return f"cannot read back the feed {path}: {describe(error)}"
            if lines != exported:
                return f"the feed {path} holds {lines} of the {exported} records exported (write errors: see the log)"
        return None


def describe(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}" + (f": {error.filename}" if error.filename else "")
    return str(error) or type(error).__name__

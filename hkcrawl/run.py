"""The run: one owner for everything a crawl leaves on disk, and for its verdict.

A scheduled crawler is trusted on one word, "ok". That word is only as good as the
weakest of the lock, the state, the output file, the near-duplicate index and the
report, so one component owns all of them: :class:`Run`, a Scrapy extension that
others reach with ``Run.of(crawler)`` (``crawler.get_extension``). The spider asks
it what is known and what to fetch again and tells it how each URL and article
ended; the pipelines ask it for the index's storage; the crawl command asks it for
the exit status. Nothing else opens these files or reads their settings.

Any error it meets (cannot open, cannot write, disk full, lock lost) ends the run
as failed: the crawl is closed, nothing more is written or marked known, and the
reason is in the log, the report (when the output directory can take it) and the
exit status.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.utils.defer import deferred_from_coro

from hkcrawl.lock import DirectoryLock, LockBusy, identity
from hkcrawl.output import RunFile, finished_files, iso, run_id_now
from hkcrawl.recent import DEFAULT_SIZE, RecentMap, RecentSet
from hkcrawl.reconcile import open_store, rebuild_state, reconcile
from hkcrawl.run_articles import ArticleOutcomes
from hkcrawl.run_output import CHECKPOINTED, KeepPending, RunOutput, describe
from hkcrawl.run_paths import RunPaths, local_feeds
from hkcrawl.run_report import RunReport
from hkcrawl.state import Exported, Failure, GiveUpRule, StateStore, StateUnavailable
from hkcrawl.verdict import RunFacts

# Importers reach these through hkcrawl.run, the run's one front door.
__all__ = ["BUSY_REASON", "CHECKPOINTED", "FAILED_REASON", "KeepPending", "Run", "RunFailed", "RunPaths"]

logger = logging.getLogger(__name__)

#: Close reason (and report status) of a run that failed on its own files or lock.
FAILED_REASON = "run_failed"
#: Close reason when another run holds the lock: nothing was touched.
BUSY_REASON = "busy"


class RunFailed(Exception):
    """Raised inside the run for an error that must fail it; the message is the reason."""


class Run(ArticleOutcomes, RunOutput, RunReport):
    """The Scrapy extension (see the module docstring). Its parts live beside it: what the
    spider asks and tells (hkcrawl/run_articles.py), the run file and its checkpoints
    (hkcrawl/run_output.py), the verdict and report (hkcrawl/run_report.py); this file
    opens and closes the run. Every attribute of all the parts is set here."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        self.settings = settings
        self.paths = RunPaths.from_settings(settings)
        self.feeds = local_feeds(settings)
        self.use_feeds = bool(settings.getdict("FEEDS"))
        self.checkpoint_items = settings.getint("HKCRAWL_CHECKPOINT_ITEMS")
        self.checkpoint_seconds = settings.getfloat("HKCRAWL_CHECKPOINT_SECONDS")
        self.give_up_rule = GiveUpRule(
            settings.getfloat("HKCRAWL_GIVE_UP_GONE_HOURS"),
            settings.getint("HKCRAWL_GIVE_UP_ATTEMPTS"),
            settings.getfloat("HKCRAWL_GIVE_UP_DAYS"),
        )
        self.run_id = run_id_now()
        self.started = time.time()
        self.lock: DirectoryLock | None = None
        self.state: StateStore | None = None
        self.file: RunFile | None = None
        self.opened = False
        self._open_tried = False
        self.busy = False
        self.facts = RunFacts(lists_expected=False)
        self.status = "running"
        self.own_failure: str | None = None  # see fail()
        self.failure: str | None = None  # the verdict: own_failure, or what failure_reason() found
        self.report: dict[str, Any] = {}
        self.report_path: Path | None = None
        self.newest_known: str | None = None
        #: How the run before this one ended (None: it never finished, or this is the first).
        self.last_run_status: str | None = None
        self._db_identity: tuple[int, int] | None = None
        self._pending_marks: list[Exported] = []
        self._last_checkpoint = time.monotonic()
        # Per URL the spider asked for: did it finally work? (Retries of a URL are one URL.)
        # Bounded (hkcrawl/recent.py): a retry comes soon after its first try.
        recent = settings.getint("HKCRAWL_RECENT_KEYS", DEFAULT_SIZE)
        self._url_ok: RecentMap[str, bool] = RecentMap(recent)
        self._urls_tried = self._urls_failed = 0
        # Per article: what became of it in this run.
        self._requested: dict[str, str] = {}  # id -> url, asked for and not yet settled
        self._failed: dict[str, tuple[str, str]] = {}  # id -> (url, reason), last outcome a failure
        self._saved: RecentSet[str] = RecentSet(recent)
        self._saved_count = 0
        # Fetched, but nothing to save (not a valid record …): an earlier failure is void.
        self._settled_unwritten: set[str] = set()
        self._settled_ids: RecentSet[str] = RecentSet(recent)
        self._settled_count = 0
        # Articles earlier runs left unsaved (failed or interrupted), as the run opened.
        self._unsaved_before: set[str] = set()
        self._failures_written: dict[str, str] = {}
        self._pending_written: RecentSet[str] = RecentSet(recent)
        # Earlier runs' unsaved articles this run saved (recoveredFromEarlierFailures).
        self._recovered_ids: set[str] = set()
        self.retried: list[str] = []
        self.given_up: list[Failure] = []
        self.forgotten: dict[str, int] = {}
        self.recovered: dict[str, int] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Run:
        run = cls(crawler)
        crawler.signals.connect(run.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(run.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(run.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(run.feed_exporter_closed, signal=signals.feed_exporter_closed)
        crawler.signals.connect(run.spider_closed, signal=signals.spider_closed)
        return run

    @classmethod
    def of(cls, crawler: Crawler) -> Run:
        run = crawler.get_extension(cls)
        if run is None:
            raise RuntimeError("hkcrawl.run.Run is not enabled in EXTENSIONS")
        return run

    # -- opening ---------------------------------------------------------------------------
    @property
    def failed(self) -> bool:
        """The run itself failed (its files, lock, the site unreachable): write nothing more."""
        return self.own_failure is not None

    def spider_opened(self) -> None:
        self.ensure_open()

    def ensure_open(self) -> None:
        """Lock, open and check the run's files, once; the first component that needs them calls this
        (pipelines open before the spider_opened signal). A failure is recorded, never raised."""
        if self.opened or self._open_tried:
            return
        self._open_tried = True
        try:
            self._open()
        except LockBusy as busy:
            self.busy = True
            self.fail(f"{busy}: not starting a second one", close_reason=BUSY_REASON)
        except (OSError, sqlite3.Error, RunFailed, StateUnavailable) as error:
            self.fail(f"cannot start the run: {describe(error)}")

    def _open(self) -> None:
        if self.paths.state_dir is not None:
            self.lock = DirectoryLock(self.paths.state_dir)
            self.lock.acquire()
            self.state = self._open_state(self.paths.database)
            self._db_identity = identity(self.paths.database)
        if not self.use_feeds:
            self._recover_dead_runs()
        if self.state is not None:
            self.forgotten = reconcile(self.state, self.paths.output_dir)
            for output, count in self.forgotten.items():
                logger.warning(
                    "State knew %d article(s) that %s does not hold: they will be fetched again", count, output
                )
                self.stats.inc_value("hkcrawl/state/forgotten", count)
            self.state.share()  # distributed mode: Redis gets what it lacks of this ledger
            self.given_up = self.state.give_up(self.give_up_rule, iso(time.time()))
            for failure in self.given_up:
                logger.warning("Giving up on article %s (%s): %s", failure.article_id, failure.url, failure.gave_up_why)
            self._unsaved_before = {failure.article_id for failure in self.state.failures(include_given_up=True)}
            self.newest_known = self.state.newest_published()
            self.last_run_status = self.state.last_run_status()
            self.facts.last_run_with_new = self.state.last_run_with_new_articles()
        if not self.use_feeds:
            self.paths.output_dir.mkdir(parents=True, exist_ok=True)
            while (self.paths.output_dir / self.output_name).exists() or (
                self.paths.output_dir / (self.output_name + ".part")
            ).exists():
                self.run_id += "-1"  # two runs in one second: never overwrite a finished file
            self.file = RunFile(self.paths.output_dir / self.output_name, self.paths.gzip)
            logger.info("Writing %s", self.file.final)
        if self.state is not None:
            self.state.start_run(self.run_id, iso(self.started), self._output_record)
        self.opened = True

    def _open_state(self, path: Path) -> StateStore:
        """The state store; a corrupt or foreign database is set aside and rebuilt from the finished files."""
        try:
            store = self._new_store(path)
        except sqlite3.DatabaseError as error:
            problem = error
        else:
            try:
                len(store)  # reads every row once (the known set): a damaged table shows here
                return store
            except sqlite3.DatabaseError as error:
                store.close()
                problem = error
        if isinstance(problem, sqlite3.OperationalError) and not str(problem).startswith("no such"):
            raise problem  # cannot open, locked, disk full: a failed run, not a reason to forget
        aside = path.with_name(f"{path.name}.corrupt-{self.run_id}")
        for suffix in ("", "-wal", "-shm"):
            damaged = path.with_name(path.name + suffix)
            if damaged.exists():
                os.replace(damaged, aside.with_name(aside.name + suffix))
        logger.warning(
            "The state %s cannot be used (%s): moved to %s and rebuilt from the finished files "
            "(articles that earlier runs failed to save are not remembered)",
            path, problem, aside.name,
        )  # fmt: skip
        store = self._new_store(path)
        rebuilt = rebuild_state(store, finished_files(self.paths.output_dir))
        self.stats.set_value("hkcrawl/state/rebuilt", rebuilt)
        return store

    def _new_store(self, path: Path) -> StateStore:
        return open_store(path, self.paths.output_dir, self.settings, self.crawler.spidercls.name)

    def fail(self, reason: str, close_reason: str = FAILED_REASON) -> None:
        """End the run as failed: nothing more is written or marked known."""
        if self.own_failure is not None:
            return
        self.own_failure = reason
        logger.error("Run FAILED: %s", reason)
        try:
            engine = self.crawler.engine
        except RuntimeError:  # not crawling yet: the spider's start() sees run.failed
            return
        if engine is not None and engine.running:
            deferred_from_coro(engine.close_spider_async(reason=close_reason))

    # -- near-duplicate index storage --------------------------------------------------------
    def finished_files(self) -> list[Path]:
        return finished_files(self.paths.output_dir)

    def save_near_duplicates(self, save: Callable[[Path], None]) -> None:
        """Let the pipeline write its index, unless this run may not write any more."""
        path = self.paths.near_duplicates
        if path is None or not self.opened:
            return
        if self.failed or not self._lock_ok():
            # The index may know bodies no finished file holds: the next run rebuilds it from the files.
            self._remove_quietly(path)
            return
        try:
            save(path)
        except OSError as error:
            self._remove_quietly(path)
            self.fail(f"cannot write the near-duplicate index {path}: {describe(error)}")

    @staticmethod
    def _remove_quietly(path: Path) -> None:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)

    # -- closing (feed_exporter_closed: hkcrawl/run_output.py) -----------------------------
    def spider_closed(self, reason: str) -> None:
        stats = self.stats.get_stats()
        stats.setdefault("finish_reason", reason)
        if reason == "finished":
            self._unsettled_failed()
        if self.file is not None:
            self._checkpoint(final=True)
        if self.file is not None:
            # Still healthy (a write error or a lost lock would have dropped it): what it
            # holds is complete and on disk, even when the run failed for another reason.
            try:
                self.file.finish()
            except OSError as error:
                self._write_failed(error)
        if self.opened and self.state is not None and not self.use_feeds and not self.failed:
            try:
                self._remember_unsaved()
            except sqlite3.Error as error:
                self.fail(f"cannot write the state {self.paths.database}: {describe(error)}")
            if problem := self.state.problem():
                self.fail(problem)
        self._decide(stats)
        if not self.use_feeds:
            self._close_state()

    def _close_state(self) -> None:
        if self.state is not None:
            try:
                if self._lock_ok() and self.status != "running":
                    self.state.finish_run(self.run_id, iso(time.time()), self.status, self.report.get("new", 0))
            except sqlite3.Error as error:
                # The next run reads this (the quiet-site check, cost-aware discovery).
                self._fail_after_verdict(f"cannot record the run's end in {self.paths.database}: {describe(error)}")
            self.state.close()
            self.state = None
        if self.lock is not None:
            self.lock.release()

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
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.settings import BaseSettings
from scrapy.utils.conf import closest_scrapy_cfg
from scrapy.utils.defer import deferred_from_coro

from hkcrawl.items import Article
from hkcrawl.lock import DirectoryLock, LockBusy, LockLost, identity
from hkcrawl.output import (
    RunFile,
    dead_part_files,
    finished_files,
    iso,
    recover_part_file,
    run_id_now,
    write_json_atomically,
)
from hkcrawl.recent import DEFAULT_SIZE, RecentMap, RecentSet
from hkcrawl.reconcile import open_store, rebuild_state, reconcile
from hkcrawl.state import Exported, Failure, GiveUpRule, Known, StateStore, StateUnavailable
from hkcrawl.verdict import RunFacts, failure_reason, summary_lines, with_prefix

logger = logging.getLogger(__name__)

#: Close reason (and report status) of a run that failed on its own files or lock.
FAILED_REASON = "run_failed"
#: Close reason when another run holds the lock: nothing was touched.
BUSY_REASON = "busy"
DATABASE_NAME = "hankyung.sqlite3"
NEAR_DUPLICATES_NAME = "near_duplicates.npz"
#: Signal sent after each checkpoint with ``articles``, the ids it put on disk (with the failures
#: so far): the shared frontier then lets go of those requests (hkcrawl/redis_scheduler.py).
CHECKPOINTED = object()


@dataclass(frozen=True)
class RunPaths:
    """Where a run's files go, from settings: the one place that reads those settings."""

    state_dir: Path | None  # None: HKCRAWL_STATE_ENABLED is off
    output_dir: Path
    gzip: bool

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> RunPaths:
        """Relative directories are taken from HKCRAWL_BASE_DIR (see :func:`base_dir`)."""
        base = base_dir(settings)
        state = base / settings.get("HKCRAWL_STATE_DIR") if settings.getbool("HKCRAWL_STATE_ENABLED") else None
        return cls(state, base / settings.get("HKCRAWL_OUTPUT_DIR"), settings.getbool("HKCRAWL_OUTPUT_GZIP"))

    @property
    def database(self) -> Path | None:
        return self.state_dir / DATABASE_NAME if self.state_dir else None

    @property
    def near_duplicates(self) -> Path | None:
        return self.state_dir / NEAR_DUPLICATES_NAME if self.state_dir else None


def base_dir(settings: BaseSettings) -> Path:
    """Where relative output and state directories are: HKCRAWL_BASE_DIR when set; else
    the project root (the scrapy.cfg Scrapy found), so ``scrapy crawl`` from a subfolder
    of the project does not start a second, empty history there; else (outside any
    project, e.g. ``hkcrawl cron --dir``) the working directory. Absolute paths are kept."""
    given = settings.get("HKCRAWL_BASE_DIR")
    if given:
        return Path(given).absolute()
    cfg = closest_scrapy_cfg()
    return Path(cfg).parent if cfg else Path.cwd()


class RunFailed(Exception):
    """Raised inside the run for an error that must fail it; the message is the reason."""


class Run:
    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        self.settings = settings
        self.paths = RunPaths.from_settings(settings)
        self.feeds = _local_feeds(settings)
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
            self.fail(f"cannot start the run: {_describe(error)}")

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
            self.fail(f"cannot write the near-duplicate index {path}: {_describe(error)}")

    @staticmethod
    def _remove_quietly(path: Path) -> None:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)

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
        self.fail(f"cannot write {self.paths.output_dir / self.output_name}: {_describe(error)}")

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
            self.fail(f"cannot write the state {self.paths.database}: {_describe(error)}")
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

    # -- closing ---------------------------------------------------------------------------
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
                lines = _count_lines(path) - before
            except OSError as error:
                return f"cannot read back the feed {path}: {_describe(error)}"
            if lines != exported:
                return f"the feed {path} holds {lines} of the {exported} records exported (write errors: see the log)"
        return None

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
                self.fail(f"cannot write the state {self.paths.database}: {_describe(error)}")
            if problem := self.state.problem():
                self.fail(problem)
        self._decide(stats)
        if not self.use_feeds:
            self._close_state()

    def _decide(self, stats: dict[str, Any]) -> None:
        self.facts.urls_tried = self._urls_tried
        self.facts.urls_failed = self._urls_failed
        self.facts.articles_tried = self._saved_count + self._settled_count + len(self._failed)
        self.facts.unsaved = Counter(reason for aid, (_, reason) in self._failed.items() if aid not in self._saved)
        self.facts.own_failure = self.own_failure
        for line in summary_lines(stats, self.facts):
            logger.info("Summary: %s", line)
        failure = failure_reason(stats, self.facts, self.settings)
        self.failure = failure
        if self.busy:
            self.status = "busy"
        elif failure is None:
            self.status = "ok"
        else:
            self.status = "blocked" if stats.get("finish_reason") == "blocked" else "failed"
            if failure != self.own_failure:  # that one was logged when it happened
                logger.error("Crawl FAILED: %s", failure)
        if self.busy:
            return  # another run owns the files: leave no report beside theirs
        self.report = self._build_report(stats)
        if self.use_feeds or self.paths.output_dir is None:
            return
        path = self.paths.output_dir / f"{self.run_id}.report.json"
        try:
            write_json_atomically(path, self.report)
            self.report_path = path
        except OSError as error:
            logger.error("Cannot write the run report %s: %s", path, _describe(error))
            return
        logger.info(
            "Run %s: %s, %d new, %d updated -> %s",
            self.run_id, self.status, self.report["new"], self.report["updated"], self.report["output"],
        )  # fmt: skip

    def _close_state(self) -> None:
        if self.state is not None:
            try:
                if self._lock_ok() and self.status != "running":
                    self.state.finish_run(self.run_id, iso(time.time()), self.status, self.report.get("new", 0))
            except sqlite3.Error as error:
                # The next run reads this (the quiet-site check, cost-aware discovery).
                self._fail_after_verdict(f"cannot record the run's end in {self.paths.database}: {_describe(error)}")
            self.state.close()
            self.state = None
        if self.lock is not None:
            self.lock.release()

    def _fail_after_verdict(self, reason: str) -> None:
        """A failure met once the verdict was given: revise it, and the report if one was written."""
        self.failure, self.status = reason, "failed"
        logger.error("Crawl FAILED: %s", reason)
        if self.report_path is not None:
            self.report = {**self.report, "status": self.status, "failure": reason}
            try:
                write_json_atomically(self.report_path, self.report)
            except OSError as error:
                logger.error("Cannot write the run report %s: %s", self.report_path, _describe(error))

    def _build_report(self, stats: dict[str, Any]) -> dict[str, Any]:
        dropped = with_prefix(stats, "hkcrawl/dropped/")
        now = time.time()
        return {
            "run": self.run_id,
            "status": self.status,
            "failure": self.failure,
            "output": self.file.final.name if self.file is not None and self.status != "running" else None,
            "started": iso(self.started),
            "finished": iso(now),
            "durationSeconds": round(now - self.started, 1),
            "new": stats.get("hkcrawl/exported/new", 0),
            "updated": stats.get("hkcrawl/exported/updated", 0),
            "knownSkipped": stats.get("hkcrawl/links/known", 0),
            "duplicates": dropped.get("duplicate", 0),
            "nearDuplicates": with_prefix(stats, "hkcrawl/duplicates/"),
            # Written records whose original turned out to be published earlier (hkcrawl merge fixes them).
            "duplicateCorrections": [
                {"articleId": aid, "duplicateOf": of}
                for aid, of in sorted(stats.get("hkcrawl/near_duplicates/corrections", {}).items())
            ],
            "dropped": {reason: count for reason, count in dropped.items() if reason != "duplicate"},
            "blocks": stats.get("hkcrawl/blocks/challenge", 0),
            "errors": with_prefix(stats, "hkcrawl/errors/"),
            "offsiteRefused": with_prefix(stats, "hkcrawl/offsite/"),
            "spiderExceptions": stats.get("spider_exceptions/count", 0),
            "pageProblems": {k: v for k, v in with_prefix(stats, "hkcrawl/pages/").items() if k != "article"},
            "requests": stats.get("downloader/request_count", 0),
            "urlsTried": self.facts.urls_tried,
            "urlsFailed": self.facts.urls_failed,
            "articlePages": stats.get("hkcrawl/pages/article", 0),
            "failedArticles": [
                {"articleId": aid, "url": url, "reason": reason}
                for aid, (url, reason) in sorted(self._failed.items())
                if aid not in self._saved
            ],
            "retried": len(self.retried),
            "recoveredFromEarlierFailures": len(set(self.retried) & self._recovered_ids),
            "gaveUp": [
                {"articleId": f.article_id, "url": f.url, "reason": f.gave_up_why, "attempts": f.attempts}
                for f in self.given_up
            ],
            "stateForgotten": self.forgotten,
            "recoveredFiles": self.recovered,
            # Requests a killed worker had taken, put back in the shared queue by this one (Redis).
            "frontierRecovered": stats.get("hkcrawl/frontier/recovered", 0),
            "rendering": with_prefix(stats, "hkcrawl/render/"),
            # field -> {cue: pages}: fallbacks taking over from guessed selectors (layout drift).
            "cues": _nested(with_prefix(stats, "hkcrawl/cue/")),
            "finishReason": stats.get("finish_reason"),
        }


class KeepPending(DropItem):
    """A drop that is not the article's fate (``max_articles`` reached): it stays to be fetched."""


def _describe(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}" + (f": {error.filename}" if error.filename else "")
    return str(error) or type(error).__name__


def _nested(flat: dict[str, int]) -> dict[str, dict[str, int]]:
    """``{"section/meta": 3}`` -> ``{"section": {"meta": 3}}``."""
    nested: dict[str, dict[str, int]] = {}
    for key, value in flat.items():
        field, _, cue = key.partition("/")
        nested.setdefault(field, {})[cue] = value
    return nested


def _local_feeds(settings: BaseSettings) -> list[tuple[Path, int]]:
    """Local JSON Lines feeds (-o/-O) with the lines each holds before the run (0 when overwritten)."""
    found = []
    for uri, options in settings.getdict("FEEDS").items():
        text = str(uri)
        parts = urlsplit(text)
        if parts.scheme not in ("", "file") or "%(" in text:
            continue
        path = Path(parts.path if parts.scheme == "file" else text)
        before = 0
        if not (options or {}).get("overwrite") and path.exists():
            try:
                before = _count_lines(path)
            except OSError:
                before = 0
        found.append((path.resolve(), before))
    return found


def _count_lines(path: Path) -> int:
    with path.open("rb") as file:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: file.read(1 << 20), b""))

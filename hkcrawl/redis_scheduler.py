"""The shared frontier's scheduler: scrapy-redis's, plus crawl generations, knowing when the
crawl is over, and handing back what a dead worker took.

Imported only in distributed mode (hkcrawl/distributed.py names it in settings). The Redis
side of each step is in hkcrawl/frontier.py.

A worker alone closes when its own queue is empty; with a shared queue that would be
too early: the queue may be empty only because another worker is parsing the page
that fills it (at start, every worker's start requests but one are already seen).
So each worker keeps a short-lived "busy" key in Redis while it has work, and an idle
worker stays open while the shared queue holds requests, any other worker is busy, or
any other worker holds requests it took. A worker that dies leaves its busy key to expire
after ``HKCRAWL_REDIS_BUSY_TTL`` seconds and its heartbeat after ``HKCRAWL_REDIS_WORKER_TTL``;
then the requests it held go back to the queue.

A request taken from the queue is finished (deleted from the worker's in-flight hash) when
Scrapy is done with it: its response or failure handled and everything its callback gave
handed on (requests to the scheduler, items through the pipelines). An article page's
request waits further, for the run's next checkpoint (hkcrawl/run.py), which puts its
record (or its failure) on disk.
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
import socket
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider, ScrapyDeprecationWarning
from scrapy_redis import connection
from scrapy_redis.scheduler import Scheduler
from twisted.internet import task

from hkcrawl import urls
from hkcrawl.frontier import BUSY_KEY, Crawl, Frontier
from hkcrawl.redis_url import redis_failure
from hkcrawl.run import CHECKPOINTED, Run

logger = logging.getLogger(__name__)

#: Request meta key: the request's field in this worker's in-flight hash.
TOKEN = "hkcrawl_inflight"
#: What ends the shared crawl for this worker: Redis gone (refused, timeout) or refusing.
REDIS_GONE = (redis.RedisError,)  # also out of memory, a read-only replica …

_Result = TypeVar("_Result")


def _redis_guarded(default: Any) -> Callable[[Callable[..., _Result]], Callable[..., _Result]]:
    """Redis gone: the worker ends as a failed run (once, in one line) and the method answers
    ``default`` from then on (no request, nothing queued), so the engine closes instead of
    calling again and again into a traceback each time."""

    def wrap(method: Callable[..., _Result]) -> Callable[..., _Result]:
        # Signal handlers get only the arguments they name: Scrapy passes all it has to this wrapper.
        named = set(inspect.signature(method).parameters)

        @functools.wraps(method)
        def guarded(self: SharedScheduler, *args: Any, **kwargs: Any) -> Any:
            if self.lost:
                return default
            try:
                return method(self, *args, **{k: v for k, v in kwargs.items() if k in named})
            except REDIS_GONE as error:
                self._redis_lost(error)
                return default

        return guarded

    return wrap


class SharedScheduler(Scheduler):
    """scrapy-redis's ``Scheduler`` that closes a worker only when every worker is done."""

    crawler: Any
    busy_ttl: int
    worker_ttl: int
    skip_start_requests: bool
    #: token -> article id (None: not an article page) of each request taken and not finished.
    holding: dict[str, str | None]
    handled: set[str]  # article tokens Scrapy is done with, waiting for a checkpoint
    saved: set[str]  # article tokens whose record is on disk, Scrapy not done with them yet
    busy_key: str
    busy_pattern: str
    frontier: Frontier
    crawl: Crawl | None = None
    _refresh: task.LoopingCall | None = None

    lost = False  # Redis went away: see _redis_lost()
    unreachable_at_start: BaseException | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> SharedScheduler:
        try:
            scheduler = super().from_crawler(crawler)
        except REDIS_GONE as error:  # its ping: told as a failed run once the spider opens
            scheduler = cls(server=connection.from_settings(crawler.settings), persist=True)
            scheduler.stats = crawler.stats
            scheduler.unreachable_at_start = error
        scheduler.crawler = crawler
        scheduler.busy_ttl = max(2, crawler.settings.getint("HKCRAWL_REDIS_BUSY_TTL"))
        scheduler.worker_ttl = max(2, crawler.settings.getint("HKCRAWL_REDIS_WORKER_TTL"))
        scheduler.skip_start_requests = False
        scheduler.holding, scheduler.handled, scheduler.saved = {}, set(), set()
        crawler.signals.connect(scheduler._on_idle, signal=signals.spider_idle)
        crawler.signals.connect(scheduler._on_checkpoint, signal=CHECKPOINTED)
        # Connected after the Run (an extension, built first): its verdict is known here.
        crawler.signals.connect(scheduler._on_closed, signal=signals.spider_closed)
        return scheduler

    def open(self, spider: Any) -> None:
        self.spider = spider
        if self.unreachable_at_start is not None:
            self._redis_lost(self.unreachable_at_start)
            return
        self._open(spider)

    @_redis_guarded(None)
    def _open(self, spider: Any) -> None:
        with warnings.catch_warnings():
            # scrapy-redis says "Resuming crawl" through Spider.log(), deprecated in Scrapy 2.19:
            # a warning in every resumed worker's log that asks the user for nothing.
            warnings.filterwarnings(
                "ignore", message=r"Spider\.log\(\) is deprecated", category=ScrapyDeprecationWarning
            )
            super().open(spider)
        worker = f"{socket.gethostname()}:{os.getpid()}"
        self.busy_key = BUSY_KEY % {"spider": spider.name, "worker": worker}
        self.busy_pattern = BUSY_KEY % {"spider": spider.name, "worker": "*"}
        self.frontier = Frontier(self.server, spider.name, worker, self.queue.key, self.df.key, self.worker_ttl)
        self.frontier.beat()
        self._mark_busy()  # before joining: nobody may finish the crawl while this one pushes its start
        self._recover()
        self.frontier.give_back()  # an earlier process with this pid, killed
        self.crawl = self.frontier.begin_or_join()
        if self.crawl.began:
            logger.info("Began crawl %s (queue and seen-set of the previous crawl cleared)", self.crawl.id)
        else:
            # A seeded crawl's queue was filled by `hkcrawl seed`: this worker only works it.
            self.skip_start_requests = self.crawl.seeded
            logger.info(
                "Joined crawl %s%s (%d requests queued)",
                self.crawl.id, ", seeded: not adding this worker's start requests" if self.crawl.seeded else "",
                len(self.queue),
            )  # fmt: skip
        _watch_removals(self.crawler.engine._slot, self._request_done)
        # Keeps the marks alive through long waits (a slow download, Retry-After) during
        # which the engine asks for no request; the heartbeat even when idle.
        self._refresh = task.LoopingCall(self._refresh_marks)
        self._refresh.start(max(1, min(self.busy_ttl, self.worker_ttl) // 3), now=False)

    @_redis_guarded(None)
    def close(self, reason: str) -> None:
        if self._refresh is not None and self._refresh.running:
            self._refresh.stop()
        if self.lost:
            return
        self.server.delete(self.busy_key)
        super().close(reason)

    @_redis_guarded(False)
    def enqueue_request(self, request: Request) -> bool:
        if self.skip_start_requests and request.meta.get("is_start_request"):
            self.stats.inc_value("hkcrawl/frontier/start_skipped")
            return False
        # scrapy-redis's own marks it seen, then queues it: two calls, with a gap to lose it in.
        fingerprint = None if request.dont_filter else self.df.request_fingerprint(request)
        if not self.frontier.push(fingerprint, -request.priority, self.queue._encode_request(request)):
            self.df.log(request, self.spider)
            return False
        self.stats.inc_value("scheduler/enqueued/redis")
        return True

    @_redis_guarded(None)
    def next_request(self) -> Request | None:
        # Marked before the pop, so no other worker sees the queue empty and nobody busy
        # between this pop and the requests its response adds.
        self._mark_busy()
        while (taken := self.frontier.take()) is not None:
            token, entry = taken
            try:
                request = self.queue._decode_request(entry)
            except Exception as error:  # not a request hkcrawl queued (another program, a bad write)
                self._drop_unreadable(token, entry, error)
                continue
            break
        else:
            return None
        request.meta[TOKEN] = token
        self.holding[token] = urls.article_id_from_url(request.url)
        self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def _drop_unreadable(self, token: str, entry: bytes, error: Exception) -> None:
        """Counted, and the run fails (hkcrawl/verdict.py): whatever it was is lost to this crawl."""
        logger.error(
            "Dropped an entry of the shared queue that is not a request hkcrawl wrote (%s: %s): %r",
            type(error).__name__,
            error,
            entry[:80],
        )
        self.stats.inc_value("hkcrawl/frontier/unreadable")
        self.frontier.done([token])

    @_redis_guarded(False)
    def has_pending_requests(self) -> bool:
        return len(self.queue) > 0

    def _redis_lost(self, error: BaseException) -> None:
        """Without Redis there is no shared crawl to go on with: a failed run. What this worker
        took and did not finish stays in its in-flight hash, to be fetched again once Redis is
        back, so the records of those requests are taken back out of the run's file."""
        if self.lost:
            return
        self.lost = True
        if self._refresh is not None and self._refresh.running:
            self._refresh.stop()
        run = Run.of(self.crawler)
        run.fail(redis_failure(self.crawler.settings.get("REDIS_URL") or "", error))
        dropped = run.take_back({article_id for article_id in self.holding.values() if article_id})
        if dropped:
            logger.warning("Took back %d record(s) whose requests will be fetched again", dropped)

    # -- finishing what was taken -------------------------------------------------------
    @_redis_guarded(None)
    def _request_done(self, request: Request) -> None:
        """Scrapy is done with the request: finished now, or (an article) at the next checkpoint."""
        token = request.meta.get(TOKEN)
        if token not in self.holding:
            return
        run = Run.of(self.crawler)
        # (No run file: -o feeds are stored only as the crawl closes, no checkpoint to wait for.)
        if self.holding[token] is None or token in self.saved or (run.file is None and not run.failed):
            self._finish([token])
        else:
            self.handled.add(token)

    @_redis_guarded(None)
    def _on_checkpoint(self, articles: list[str]) -> None:
        """Records (and failures) on disk: their requests are finished."""
        on_disk = set(articles)
        finished = list(self.handled)
        for token, article_id in self.holding.items():
            if article_id in on_disk and token not in self.handled:
                self.saved.add(token)  # its response is still being handled (related links …)
        self._finish(finished)

    def _finish(self, tokens: list[str]) -> None:
        # Let go of them here first: if Redis goes away during the call, it may have deleted
        # them before its answer was lost, and their records must then stay in the run's file
        # (exported twice at worst, never lost).
        for token in tokens:
            self.holding.pop(token, None)
            self.handled.discard(token)
            self.saved.discard(token)
        self.frontier.done(tokens)

    # -- the crawl's end ------------------------------------------------------------------
    def _mark_busy(self) -> None:
        self.server.set(self.busy_key, "1", ex=self.busy_ttl)

    @_redis_guarded(None)
    def _refresh_marks(self) -> None:
        self.frontier.beat()
        if not self.crawler.engine.spider_is_idle():
            self._mark_busy()

    def _recover(self) -> int:
        recovered = self.frontier.recover_dead()
        for worker, count in recovered.items():
            logger.warning(
                "Recovered %d request(s) that worker %s took and never finished (it stopped): back in the queue",
                count, worker,
            )  # fmt: skip
            self.stats.inc_value("hkcrawl/frontier/recovered", count)
        return sum(recovered.values())

    @_redis_guarded(None)
    def _on_idle(self) -> None:
        """Stay open while the shared crawl may still give this worker something to do."""
        self.server.delete(self.busy_key)
        if self.handled:
            Run.of(self.crawler).checkpoint()  # an idle worker holds nothing: the others may close
        self._recover()
        if len(self.queue):
            raise DontCloseSpider
        if any(key != self.busy_key for key in self.server.scan_iter(match=self.busy_pattern)):
            raise DontCloseSpider
        if self.frontier.others_hold_requests():
            raise DontCloseSpider  # alive, or dead until its heartbeat expires

    @_redis_guarded(None)
    def _on_closed(self, reason: str) -> None:
        """Hand back what is not finished; the last worker out ends the crawl (``failed`` if any of
        its workers failed). Stopped by Ctrl-C/SIGTERM (``shutdown``) or a limit, it stays active."""
        run = Run.of(self.crawler)
        # The run's last checkpoint finished what it put on disk; anything still held is not done.
        given_back = self.frontier.give_back()
        if given_back:
            logger.info("Put %d request(s) this worker had taken back in the queue", given_back)
        self.frontier.leave()
        if self.crawl is None or reason == "shutdown":
            return
        if run.status != "ok":
            self.frontier.note_failed_worker(self.crawl.id)
        if reason == "finished" and not len(self.queue) and not self._others_working():
            status = "ok" if run.status == "ok" else "failed"
            if self.frontier.finish(self.crawl.id, status):
                logger.info("Crawl %s finished (%s): the next worker to start begins a new one", self.crawl.id, status)

    def _others_working(self) -> bool:
        busy = any(key != self.busy_key for key in self.server.scan_iter(match=self.busy_pattern))
        return busy or self.frontier.others_hold_requests()


class _WatchedSet(set):
    """The engine's set of requests in progress, telling when one leaves it."""

    def __init__(self, items: set[Request], on_remove: Callable[[Request], None]) -> None:
        super().__init__(items)
        self.on_remove = on_remove

    def remove(self, request: Request) -> None:
        super().remove(request)
        self.on_remove(request)


def _watch_removals(slot: Any, on_remove: Callable[[Request], None]) -> None:
    """The engine removes a request from its slot only once the response (or failure) is fully
    handled: the download, the callback or errback, every request it yielded scheduled and
    every item through the pipelines. Scrapy has no signal for that moment, so the set says it."""
    slot.inprogress = _WatchedSet(slot.inprogress, on_remove)

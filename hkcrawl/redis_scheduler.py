"""The shared frontier's scheduler: scrapy-redis's, plus knowing when the crawl is over.

Imported only in distributed mode (hkcrawl/distributed.py names it in settings).

A worker alone closes when its own queue is empty; with a shared queue that would be
too early: the queue may be empty only because another worker is parsing the page
that fills it (at start, every worker's start requests but one are already seen).
So each worker keeps a short-lived "busy" key in Redis while it has work, and an idle
worker stays open while the shared queue holds requests or any other worker is busy.
A worker that dies leaves its key to expire after ``HKCRAWL_REDIS_BUSY_TTL`` seconds.
"""

from __future__ import annotations

import contextlib
import os
import socket
from typing import Any

import redis
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy_redis.scheduler import Scheduler
from twisted.internet import task

from hkcrawl.run import Run
from hkcrawl.shared_state import redis_failure

#: Redis key of one worker's busy mark; ``%(spider)s`` like scrapy-redis's own keys.
BUSY_KEY = "%(spider)s:busy:%(worker)s"


class SharedScheduler(Scheduler):
    """scrapy-redis's ``Scheduler`` that closes a worker only when every worker is done."""

    crawler: Any
    server_url: str
    busy_ttl: int
    busy_key: str
    busy_pattern: str
    _refresh: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> SharedScheduler:
        scheduler = super().from_crawler(crawler)
        scheduler.crawler = crawler
        scheduler.server_url = crawler.settings.get("REDIS_URL") or ""
        scheduler.busy_ttl = max(2, crawler.settings.getint("HKCRAWL_REDIS_BUSY_TTL"))
        crawler.signals.connect(scheduler._on_idle, signal=signals.spider_idle)
        return scheduler

    def open(self, spider: Any) -> None:
        super().open(spider)
        worker = f"{socket.gethostname()}:{os.getpid()}"
        self.busy_key = BUSY_KEY % {"spider": spider.name, "worker": worker}
        self.busy_pattern = BUSY_KEY % {"spider": spider.name, "worker": "*"}
        # Keeps the mark alive through long waits (a slow download, Retry-After) during
        # which the engine asks for no request.
        self._refresh = task.LoopingCall(self._refresh_busy)
        self._refresh.start(max(1, self.busy_ttl // 3), now=False)

    def close(self, reason: str) -> None:
        if self._refresh is not None and self._refresh.running:
            self._refresh.stop()
        with contextlib.suppress(redis.RedisError):  # Redis gone (the run failed on it): the mark expires
            self.server.delete(self.busy_key)
        super().close(reason)

    def next_request(self) -> Any:
        # Marked before the pop, so no other worker sees the queue empty and nobody busy
        # between this pop and the requests its response adds.
        try:
            self._mark_busy()
            return super().next_request()
        except redis.RedisError as error:
            self._redis_failed(error)
            return None

    def _redis_failed(self, error: redis.RedisError) -> None:
        """Redis went away: the run fails once (one line naming Redis), not an error every tick."""
        Run.of(self.crawler).fail_keeping_files(redis_failure(self.server_url, error))

    def _mark_busy(self) -> None:
        self.server.set(self.busy_key, "1", ex=self.busy_ttl)

    def _refresh_busy(self) -> None:
        try:
            if not self.crawler.engine.spider_is_idle():
                self._mark_busy()
        except redis.RedisError as error:
            self._redis_failed(error)

    def _on_idle(self) -> None:
        """Stay open while the shared crawl may still give this worker something to do."""
        self.server.delete(self.busy_key)
        if len(self.queue):
            raise DontCloseSpider
        if any(key != self.busy_key for key in self.server.scan_iter(match=self.busy_pattern)):
            raise DontCloseSpider

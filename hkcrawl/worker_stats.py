"""A distributed worker's counters in Redis, for ``hkcrawl watch`` (hkcrawl/watch.py).

Each worker's stats live in its own process; to watch a crawl spread over machines,
each worker writes a few counters to one hash, ``hankyung:stats:<host>:<pid>``, every
``HKCRAWL_REDIS_STATS_INTERVAL`` seconds, and adds its name to ``hankyung:workers``.
While it runs, the hash expires ``HKCRAWL_REDIS_STATS_TTL`` seconds after the last
write: a worker that died (``kill -9``, a lost machine) leaves a name without a hash,
which ``hkcrawl watch`` shows as gone. At close the hash is written once more, with
the run's verdict, and kept (no expiry) so the finished crawl can still be read.

Enabled by the distributed add-on (hkcrawl/distributed.py) only: without
``HKCRAWL_REDIS_URL`` this module is not even imported.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.utils.asyncio import AsyncioLoopingCall, create_looping_call
from twisted.internet.task import LoopingCall

from hkcrawl.progress import snapshot
from hkcrawl.run import Run
from hkcrawl.watch import STATS_KEY, WORKERS_KEY

logger = logging.getLogger(__name__)

#: Run statuses (hkcrawl/run.py) as a worker's final state.
FINAL_STATES = {"ok": "finished"}


def worker_name() -> str:
    """``host:pid``: unique among the workers of a crawl, and says where to look."""
    return f"{socket.gethostname()}:{os.getpid()}"


def counters(stats: dict[str, Any]) -> dict[str, int]:
    """The counters a watcher sums over workers, named as ``hkcrawl watch`` shows them."""
    seen = snapshot(stats, 0.0, None, None)
    return {
        "requests": seen.requests,
        "pages": int(stats.get("response_received_count", 0)),
        "articles": seen.exported,
        "failed": seen.failed,
    }


class WorkerStats:
    """The extension: publishes when the spider opens, every interval, and at close."""

    def __init__(self, crawler: Crawler) -> None:
        from scrapy_redis.connection import from_settings  # distributed mode only

        self.crawler = crawler
        self.server = from_settings(crawler.settings)
        self.interval = max(0.5, crawler.settings.getfloat("HKCRAWL_REDIS_STATS_INTERVAL"))
        self.ttl = max(1, crawler.settings.getint("HKCRAWL_REDIS_STATS_TTL"))
        self.name = worker_name()
        self.key = ""
        self.workers_key = ""
        self.started = time.time()
        self._last: tuple[float, int] = (time.monotonic(), 0)  # (when, pages) of the last write
        self._task: AsyncioLoopingCall | LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WorkerStats:
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        # Connected after hkcrawl.run.Run's (a later EXTENSIONS order): the verdict is given.
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Any) -> None:
        self.key = STATS_KEY % {"spider": spider.name, "worker": self.name}
        self.workers_key = WORKERS_KEY % {"spider": spider.name}
        self.started = time.time()
        self._last = (time.monotonic(), 0)
        self.publish()
        self._task = create_looping_call(self.publish)
        self._task.start(self.interval, now=False)

    def spider_closed(self, reason: str) -> None:
        if self._task is not None and self._task.running:
            self._task.stop()
        if not self.key:
            return
        run = self.crawler.get_extension(Run)
        status = run.status if run is not None else ("ok" if reason == "finished" else reason)
        fields = {"state": FINAL_STATES.get(status, "failed"), "reason": reason, "rate": 0.0}
        if run is not None and run.failure:
            fields["failure"] = run.failure
        try:
            self._write(fields, expire=False)
        except Exception as error:  # redis errors: the verdict is given, only say it
            logger.warning("Cannot publish this worker's final stats to Redis (%s): %s", self.key, error)

    def publish(self) -> None:
        """One write of the running worker's counters; a Redis error fails the run."""
        engine = self.crawler.engine
        state = "idle" if engine is not None and engine.spider_is_idle() else "running"
        try:
            self._write({"state": state}, expire=True)
        except Exception as error:  # redis.RedisError and socket errors alike
            if self._task is not None and self._task.running:
                self._task.stop()
            Run.of(self.crawler).fail(f"cannot write this worker's stats to Redis ({self.key}): {error}")

    def _write(self, fields: dict[str, Any], *, expire: bool) -> None:
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        values = counters(stats)
        now, pages = time.monotonic(), values["pages"]
        since, before = self._last
        self._last = (now, pages)
        record = {
            "worker": self.name,
            "started": round(self.started, 3),
            "updated": round(time.time(), 3),
            "rate": round((pages - before) / (now - since), 3) if now > since else 0.0,
            **values,
            **fields,
        }
        pipe = self.server.pipeline()
        pipe.sadd(self.workers_key, self.name)
        pipe.hset(self.key, mapping=record)
        if expire:
            pipe.expire(self.key, self.ttl)
        else:
            pipe.persist(self.key)
        pipe.execute()

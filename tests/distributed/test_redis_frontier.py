"""Distributed mode: several ``scrapy crawl hankyung`` workers share one frontier in a real Redis.

The Redis is the ``redis_url`` fixture (tests/distributed/conftest.py): Debian's
``redis-server`` on a free loopback port.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from hkcrawl.replica import ReplicaServer, SiteModel
from tests.distributed.workers import ALONE_PACE, start_worker
from tests.e2e.conftest import finished_ids, run_crawl

WORKERS = 3


@pytest.fixture
def replica() -> Iterator[ReplicaServer]:
    with ReplicaServer(SiteModel(articles=150)) as server:
        yield server


def test_workers_share_one_frontier(replica: ReplicaServer, redis_url: str, tmp_path: Path) -> None:
    homes = [tmp_path / f"worker{n}" for n in range(WORKERS)]
    workers = [start_worker(replica.base_url, home, redis_url) for home in homes]
    codes = [worker.wait(timeout=240) for worker in workers]
    logs = [(home / "crawl.log").read_text(errors="replace") for home in homes]
    for code, log in zip(codes, logs, strict=True):
        assert code == 0, log[-3000:]
        assert "SharedScheduler" in log or "scheduler/enqueued/redis" in log, log[-3000:]

    per_worker = [finished_ids(home) for home in homes]
    every = [aid for ids in per_worker for aid in ids]
    assert Counter(every) == Counter(replica.model.ids()), "each article exported exactly once, by one worker"
    assert sum(1 for ids in per_worker if ids) >= 2, [len(ids) for ids in per_worker]
    fetched = Counter(r.path.rsplit("/", 1)[-1] for r in replica.log.matching("/article/"))
    assert fetched == dict.fromkeys(replica.model.ids(), 1)
    # The crawl is over: marked finished; its seen-set stays until the next crawl begins.
    client = redis.Redis.from_url(redis_url)
    crawl = {k.decode(): v.decode() for k, v in client.hgetall("hankyung:crawl").items()}
    assert (crawl["status"], bool(crawl["finished"])) == ("ok", True), crawl
    assert client.exists("hankyung:dupefilter")
    assert not client.keys("hankyung:busy:*") and not client.keys("hankyung:inflight:*")
    assert not client.keys("hankyung:worker:*")

    # A worker started later (a cron run) begins a new crawl: the list pages are fetched
    # again, and no article page: the shared run state knows every one of them.
    replica.log.clear()
    late = start_worker(replica.base_url, tmp_path / "late", redis_url, settings=ALONE_PACE)  # alone
    code = late.wait(timeout=240)
    log = (tmp_path / "late" / "crawl.log").read_text(errors="replace")
    assert code == 0, log[-3000:]
    assert "Began crawl" in log, log[-3000:]
    assert replica.log.count("/all-news") >= 1
    assert finished_ids(tmp_path / "late") == []
    assert replica.log.matching("/article/") == []
    again = {k.decode(): v.decode() for k, v in client.hgetall("hankyung:crawl").items()}
    assert again["id"] != crawl["id"] and again["status"] == "ok", again


def test_without_the_switch_scrapy_redis_is_not_used(replica: ReplicaServer, tmp_path: Path) -> None:
    run = run_crawl(
        ["-a", "discover=all-news", "-a", "max_pages=1", "-a", "max_articles=3", "-a", "render=never"],
        replica.base_url,
        tmp_path,
        None,
        settings={"LOG_LEVEL": "DEBUG", "HKCRAWL_REDIS_URL": ""},
    )
    assert run.returncode == 0, run.log[-3000:]
    assert "scrapy_redis" not in run.log
    assert "SharedScheduler" not in run.log
    assert run.stat("scheduler/enqueued/memory") > 0


def test_a_queue_entry_hkcrawl_did_not_write_is_dropped_and_fails_the_run(redis_url: str, tmp_path: Path) -> None:
    client = redis.Redis.from_url(redis_url)
    # An active crawl (so the worker joins it rather than clearing the queue) holding junk.
    client.hset("hankyung:crawl", mapping={"id": "c1", "status": "active", "started": "2026-11-30T00:00:00Z"})
    client.zadd("hankyung:requests", {b"not a pickle at all": -5, b"\x80\x04cut": 0})
    with ReplicaServer(SiteModel(articles=20)) as small:
        worker = start_worker(small.base_url, tmp_path / "w", redis_url, settings={"DOWNLOAD_DELAY": "0"})
        code = worker.wait(timeout=240)
        log = (tmp_path / "w" / "crawl.log").read_text(errors="replace")
        assert code == 1, log[-3000:]
        assert "2 entr(ies) of the shared queue could not be read" in log, log[-3000:]
        assert "Traceback" not in log, log[-3000:]
        assert sorted(finished_ids(tmp_path / "w")) == sorted(small.model.ids())  # the rest of the crawl went on
    assert not client.keys("hankyung:inflight:*")

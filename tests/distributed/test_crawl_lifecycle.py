"""A shared crawl's lifecycle: stopped and resumed, and a worker killed outright (``kill -9``)."""

from __future__ import annotations

import json
import os
import signal
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from hkcrawl.output import dead_part_files, recover_part_file
from hkcrawl.replica import ReplicaServer, SiteModel
from tests.distributed.workers import ALONE_PACE, crawl_record, log_of, start_worker, wait_for
from tests.e2e.conftest import finished_ids

#: Short lives, so a dead worker is noticed within seconds, and every record checkpointed at
#: once, so what a worker wrote is exactly what it let go of (nothing between the two).
QUICK = {"HKCRAWL_REDIS_WORKER_TTL": "3", "HKCRAWL_REDIS_BUSY_TTL": "3", "HKCRAWL_CHECKPOINT_ITEMS": "1"}


@pytest.fixture
def replica() -> Iterator[ReplicaServer]:
    with ReplicaServer(SiteModel(articles=90)) as server:
        yield server


def test_stopped_worker_resumes_the_crawl(replica: ReplicaServer, redis_url: str, tmp_path: Path) -> None:
    home = tmp_path / "worker"
    client = redis.Redis.from_url(redis_url)
    first = start_worker(replica.base_url, home, redis_url)
    wait_for(lambda: replica.log.count("/article/") >= 10, "ten article pages fetched")
    first.send_signal(signal.SIGINT)  # Ctrl-C: finish what was taken, then stop
    first.wait(timeout=120)
    assert "shutdown" in log_of(home), log_of(home)[-3000:]
    crawl = crawl_record(client)
    assert crawl["status"] == "active", crawl  # stopped, not finished: to be resumed
    assert client.zcard("hankyung:requests") > 0
    assert not client.keys("hankyung:inflight:*"), "a stopped worker holds nothing"
    stopped_with = Counter(finished_ids(tmp_path / "worker"))
    assert stopped_with and max(stopped_with.values()) == 1

    again = start_worker(replica.base_url, home, redis_url, settings=ALONE_PACE)  # alone: no need to pace
    assert again.wait(timeout=240) == 0, log_of(home)[-3000:]
    assert f"Joined crawl {crawl['id']}" in log_of(home)
    assert crawl_record(client)["status"] == "ok"
    assert Counter(finished_ids(home)) == Counter(replica.model.ids()), "resumed: every article exactly once"
    fetched = Counter(r.path.rsplit("/", 1)[-1] for r in replica.log.matching("/article/"))
    assert fetched == dict.fromkeys(replica.model.ids(), 1), "nothing fetched twice"


def _inflight_of(client: redis.Redis, pid: int) -> dict[bytes, bytes]:
    for key in client.scan_iter(match=f"hankyung:inflight:*:{pid}"):
        return client.hgetall(key)
    return {}


def test_killed_worker_loses_nothing(replica: ReplicaServer, redis_url: str, tmp_path: Path) -> None:
    client = redis.Redis.from_url(redis_url)
    # The 15th article page asked for is held open: the worker that asked waits on it,
    # every request it took before finished, and is killed there.
    held_path: list[str] = []
    asked, release = threading.Event(), threading.Event()
    serve, seen = replica.site.get, [0]
    lock = threading.Lock()

    def held(path: str):
        if path.startswith("/article/"):
            with lock:
                seen[0] += 1
                hold = seen[0] == 15
            if hold:
                held_path.append(path)
                asked.set()
                release.wait(120)
        return serve(path)

    replica.site.get = held
    homes = [tmp_path / f"worker{n}" for n in range(3)]
    workers = [start_worker(replica.base_url, home, redis_url, settings=QUICK) for home in homes]
    try:
        assert asked.wait(180), "no worker asked for a 15th article page"
        holder = wait_for(
            lambda: next(
                (w for w in workers if list(_inflight_of(client, w.pid).values()) and
                 all(held_path[0].encode() in v for v in _inflight_of(client, w.pid).values())),
                None,
            ),
            "the held page to be the only request its worker holds",
        )  # fmt: skip
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=30)
    finally:
        release.set()
    others = [(w, h) for w, h in zip(workers, homes, strict=True) if w is not holder]
    for worker, home in others:
        assert worker.wait(timeout=240) == 0, log_of(home)[-3000:]
    logs = "".join(log_of(home) for _, home in others)
    assert "Recovered 1 request(s) that worker" in logs, logs[-3000:]
    reports = [r for _, home in others for r in _reports(home)]
    assert sum(report["frontierRecovered"] for report in reports) == 1
    assert crawl_record(client)["status"] == "ok"
    assert not client.keys("hankyung:inflight:*")

    # What the killed worker wrote, as its next run recovers it.
    dead_home = homes[workers.index(holder)]
    dead, _live = dead_part_files(dead_home / "data" / "hankyung")
    for part in dead:
        recover_part_file(part)
    every = [aid for home in homes for aid in finished_ids(home)]
    assert Counter(every) == Counter(replica.model.ids()), "every article exactly once"
    # (How many the killed worker wrote before the held page depends on how the queue fell
    # to the three: none at all is possible on a busy machine.)
    assert held_path[0].rsplit("/", 1)[-1] not in finished_ids(dead_home)


def _reports(home: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in (home / "data" / "hankyung").glob("*.report.json")]

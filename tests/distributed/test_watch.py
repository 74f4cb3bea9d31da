"""``hkcrawl watch`` on a real Redis: what real workers publish, a dead worker, no Redis."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from hkcrawl.replica import ReplicaServer, SiteModel
from hkcrawl.watch import Watcher, table
from tests.distributed.conftest import start_worker as _worker
from tests.e2e.conftest import finished_ids

ARTICLES = 120


@pytest.fixture
def replica() -> Iterator[ReplicaServer]:
    with ReplicaServer(SiteModel(articles=ARTICLES)) as server:
        yield server


def watch(url: str, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hkcrawl.cli", "watch", "--redis", url, "--once", *options],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def reading(url: str) -> dict:
    run = watch(url, "--json")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert len(lines) == 1, run.stdout
    return json.loads(lines[0])


def test_watch_follows_a_two_worker_crawl(replica: ReplicaServer, redis_url: str, tmp_path: Path) -> None:
    homes = [tmp_path / f"worker{n}" for n in range(2)]
    workers = [_worker(replica.base_url, home, redis_url) for home in homes]
    try:
        # During the crawl: both workers appear, running (or idle, waiting for the other).
        deadline = time.monotonic() + 120
        while True:
            view = reading(redis_url)
            states = {w["name"]: w["state"] for w in view["workers"]}
            if len(states) == 2 and set(states.values()) <= {"running", "idle"}:
                break
            assert time.monotonic() < deadline, view
            assert all(worker.poll() is None for worker in workers), "a worker ended before both were seen"
            time.sleep(0.2)  # polling a condition, with the deadline above
        pids = {int(name.rsplit(":", 1)[1]) for name in states}
        assert pids == {worker.pid for worker in workers}
        codes = [worker.wait(timeout=240) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    assert codes == [0, 0], [(home / "crawl.log").read_text(errors="replace")[-2000:] for home in homes]

    # Afterwards: each worker finished, with as many articles as its files hold lines.
    view = reading(redis_url)
    by_pid = {int(w["name"].rsplit(":", 1)[1]): w for w in view["workers"]}
    for worker, home in zip(workers, homes, strict=True):
        shown = by_pid[worker.pid]
        assert shown["state"] == "finished", shown
        assert shown["articles"] == len(finished_ids(home)), shown
        assert shown["pages"] > 0 and shown["requests"] >= shown["pages"], shown
    assert view["queue"] == 0
    assert view["seen"] > ARTICLES
    assert view["totals"]["articles"] == ARTICLES
    assert view["totals"]["overall_rate"] > 0
    assert "known" in view and "failures" in view  # None here: no shared run state in this crawl

    text = watch(redis_url)
    assert text.returncode == 0, text.stderr
    assert "queue 0 | seen" in text.stdout
    assert text.stdout.count("finished") == 2, text.stdout


def test_a_worker_whose_stats_expired_is_gone(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    client.sadd("hankyung:workers", "alive:1", "dead:2")
    for name in ("alive:1", "dead:2"):
        client.hset(f"hankyung:stats:{name}", mapping={"state": "running", "articles": 7, "pages": 20, "rate": 2.5})
    client.zadd("hankyung:requests", {"a": 0, "b": 0})
    client.hset("hankyung:known", mapping={"1": "x", "2": "y", "3": "z"})
    watcher = Watcher(client)
    first = watcher.read()
    shown = [(w.name, w.state, w.articles) for w in first.workers]
    assert shown == [("alive:1", "running", 7), ("dead:2", "running", 7)]
    assert (first.queue, first.known, first.failures) == (2, 3, None)

    # A worker killed outright stops renewing its hash: Redis expires it.
    client.expire("hankyung:stats:dead:2", 1)
    deadline = time.monotonic() + 30
    while client.exists("hankyung:stats:dead:2"):
        assert time.monotonic() < deadline
        time.sleep(0.05)  # polling a condition, with the deadline above
    second = watcher.read()
    gone = second.workers[1]
    assert (gone.state, gone.articles, gone.rate) == ("gone", 7, 0.0), "the last counters seen, no rate"
    assert any("dead:2" in line and "gone" in line for line in table(second))
    assert second.totals()["rate"] == 2.5  # the gone worker adds nothing
    # A watch started afterwards never saw its counters: gone, with nothing.
    shown = {w["name"]: w for w in reading(redis_url)["workers"]}
    assert (shown["dead:2"]["state"], shown["dead:2"]["articles"]) == ("gone", 0)
    assert shown["alive:1"]["state"] == "running"


def test_a_failed_worker_says_why(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    client.sadd("hankyung:workers", "host:3")
    client.hset("hankyung:stats:host:3", mapping={"state": "failed", "articles": 4, "failure": "lock busy"})
    run = watch(redis_url)
    assert run.returncode == 0, run.stderr
    assert "host:3 failed: lock busy" in run.stdout.splitlines(), run.stdout


def test_values_no_worker_wrote_are_shown_not_a_traceback(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    client.sadd("hankyung:workers", "box:1", "box:2", b"\xff\xfe")
    client.hset("hankyung:stats:box:1", mapping={"articles": "many", "started": "inf", "rate": "x", "state": "ok"})
    client.set("hankyung:stats:box:2", "a string, not a hash")
    view = reading(redis_url)
    states = {worker["name"]: (worker["state"], worker["articles"], worker["started"]) for worker in view["workers"]}
    assert states["box:1"] == ("ok", 0, None) and states["box:2"][0] == "unreadable", states
    assert len(states) == 3, states
    table = watch(redis_url)
    assert table.returncode == 0 and "Traceback" not in table.stderr, table.stderr


def test_unreachable_redis_is_one_line_and_exit_1(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    port = client.connection_pool.connection_kwargs["port"]
    client.shutdown(nosave=True)
    run = watch(f"redis://watcher:s3cret@127.0.0.1:{port}/0")
    assert run.returncode == 1
    assert run.stdout == ""
    assert len(run.stderr.splitlines()) == 1 and "hkcrawl watch: cannot read Redis" in run.stderr, run.stderr
    assert f"redis://watcher@127.0.0.1:{port}/0" in run.stderr and "s3cret" not in run.stderr


def test_without_once_a_reading_per_interval_until_ctrl_c(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    client.sadd("hankyung:workers", "host:4")
    client.hset("hankyung:stats:host:4", mapping={"state": "running", "pages": 10, "updated": 1000.0})
    watcher = subprocess.Popen(
        [sys.executable, "-m", "hkcrawl.cli", "watch", "--redis", redis_url, "--json", "--interval", "0.2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        readings = [json.loads(watcher.stdout.readline()) for _ in range(3)]  # each comes within 0.2 s
        client.hset("hankyung:stats:host:4", mapping={"pages": 30, "updated": 1002.0})
        rate = 0.0
        deadline = time.monotonic() + 60
        while rate == 0.0:  # the next reading sees 20 more pages over 2 s more
            assert time.monotonic() < deadline
            rate = json.loads(watcher.stdout.readline())["workers"][0]["rate"]
        watcher.send_signal(signal.SIGINT)
        assert watcher.wait(timeout=60) == 0, watcher.stderr.read()
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.wait()
    assert [r["workers"][0]["pages"] for r in readings] == [10, 10, 10]
    assert rate == 10.0

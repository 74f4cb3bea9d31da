"""``hkcrawl seed``: a back-fill's daily sitemaps queued in Redis, worked by workers that add nothing of their own."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import redis

from hkcrawl.demo import crawl_environment
from hkcrawl.replica import ReplicaServer, SiteModel
from tests.distributed.workers import crawl_record, log_of, start_worker
from tests.e2e.conftest import finished_ids


def _seed(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hkcrawl.cli", "seed", *args],
        capture_output=True, text=True, env=crawl_environment(), timeout=120, check=False,
    )  # fmt: skip


def _iso(day: str) -> str:
    return f"{day[:4]}-{day[4:6]}-{day[6:]}"


def test_seeded_range_is_all_the_workers_export(redis_url: str, tmp_path: Path) -> None:
    with ReplicaServer(SiteModel(articles=105, days=7)) as replica:  # ~15 a day: ~40 seeded
        days = sorted(replica.model.days_with_articles())[2:5]
        since, until = _iso(days[0]), _iso(days[-1])
        seed = _seed("--redis", redis_url, "--since", since, "--until", until, "--base-url", replica.base_url)
        assert seed.returncode == 0, seed.stderr
        assert seed.stdout.startswith("Queued 3 request(s) (0 already seen): began crawl"), seed.stdout
        client = redis.Redis.from_url(redis_url)
        assert crawl_record(client)["seeded"] == "1"
        assert client.zcard("hankyung:requests") == 3

        again = _seed("--redis", redis_url, "--since", since, "--until", until, "--base-url", replica.base_url)
        assert again.returncode == 1 and "is active" in again.stderr and "--add" in again.stderr, again.stderr
        added = _seed("--redis", redis_url, "--since", since, "--add", "--until", until, "--base-url", replica.base_url)
        assert added.returncode == 0 and added.stdout.startswith("Queued 0 request(s) (3 already seen)"), added

        homes = [tmp_path / "worker0", tmp_path / "worker1"]
        workers = [start_worker(replica.base_url, home, redis_url) for home in homes]  # -a discover=all-news …
        for worker, home in zip(workers, homes, strict=True):
            assert worker.wait(timeout=240) == 0, log_of(home)[-3000:]
            assert "seeded: not adding this worker's start requests" in log_of(home)
        want = [aid for aid in replica.model.ids() if aid[:8] in days]
        every = [aid for home in homes for aid in finished_ids(home)]
        assert Counter(every) == Counter(want), "only the seeded days' articles, each once"
        assert replica.log.count("/all-news") == 0, "the workers' own start requests were not added"
        assert crawl_record(client)["status"] == "ok"


def test_seed_refuses_a_bad_argument_in_one_line(redis_url: str) -> None:
    bad = _seed("--redis", redis_url, "--since", "2026-13-01")
    assert bad.returncode == 2
    assert bad.stderr == "hkcrawl seed: --since=2026-13-01: not a date; accepts a KST day as YYYY-MM-DD\n"
    assert not redis.Redis.from_url(redis_url).exists("hankyung:crawl")

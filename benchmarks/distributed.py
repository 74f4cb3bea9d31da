"""Distributed mode on this machine: workers sharing one redis-server, against the replica.

    .venv/bin/python benchmarks/distributed.py [--only throughput,memory,rss]
        [--articles 20000] [--repeat 3] [--memory-items 100000] [--rss-articles 100000] [--rss-window 20000]

- throughput: pages/s and CPU seconds per 1,000 articles with 1, 2 and 3 workers, and
  the bare Scrapy spider of benchmarks/crawl.py fetching the URLs the first 1-worker
  crawl fetched (the ceiling of one process on this machine);
- memory: Redis's used_memory per 100,000 queued requests, seen fingerprints and known
  articles, pushed through scrapy-redis's own queue and request filter;
- rss: one worker's RSS sampled every second over a long crawl.

As benchmarks/crawl.py: the replica serves from this process (a thread); each worker is
a child process, waited for with wait4.
Every crawl gets a fresh redis-server and fresh state and output directories. Rounds
alternate the configurations (in a rotating order) so drift in machine load hits all.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
from crawl import _status_kb, bare_command, bare_environment  # noqa: E402  (benchmarks/crawl.py, beside this script)
from redis_state_memory import CHECKPOINT, _records  # noqa: E402  (beside this script)

from hkcrawl.demo import crawl_environment, local_crawl_command  # noqa: E402
from hkcrawl.replica import ReplicaServer, SiteModel  # noqa: E402
from hkcrawl.shared_state import SharedState  # noqa: E402
from hkcrawl.watch import Watcher  # noqa: E402
from tests.distributed.redis_server import running_redis  # noqa: E402

PARTS = ("throughput", "memory", "rss")


@dataclass(frozen=True)
class Setup:
    workers: int  # 0: the bare spider

    def __str__(self) -> str:
        if not self.workers:
            return "bare Scrapy spider (download only)"
        return f"{self.workers} worker{'s' * (self.workers > 1)}"


BARE = Setup(0)


@dataclass
class Crawl:
    wall: float  # first worker started -> last worker exited
    fetching: float  # first worker started -> last page answered
    cpu: float  # all workers
    redis_cpu: float
    pages: int
    articles: int
    shares: list[int]  # articles exported by each worker, as it published them (hkcrawl watch)

    @property
    def rate(self) -> float:
        return self.pages / self.wall

    @property
    def fetch_rate(self) -> float:
        return self.pages / self.fetching


def worker_command(base_url: str, home: Path, url: str, extra: dict[str, str] | None = None) -> list[str]:
    """A worker as README "Several workers" starts one, with the local replica's pace."""
    settings = {
        "HKCRAWL_REDIS_URL": url,
        "HKCRAWL_STATE_DIR": str(home / "state"),
        "HKCRAWL_OUTPUT_DIR": str(home / "data"),
        "LOG_FILE": str(home / "crawl.log"),
        **(extra or {}),
    }
    # render=never: no browser, the same downloads in every configuration.
    return local_crawl_command(
        base_url, "-a", "discover=sections,all-news,sitemap", "-a", "max_pages=1000000", "-a", "render=never",
        settings=settings,
    )  # fmt: skip


@contextmanager
def started_workers(commands: list[list[str]], homes: list[Path]) -> Iterator[list[subprocess.Popen[bytes]]]:
    """The workers, running; killed on leaving if the caller did not wait for them."""
    workers = []
    try:
        for command, home in zip(commands, homes, strict=True):
            home.mkdir(parents=True)
            workers.append(
                subprocess.Popen(command, env=crawl_environment(), cwd=home, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=(home / "stderr.log").open("wb"))
            )  # fmt: skip
        yield workers
    finally:
        for worker in workers:
            if worker.returncode is None and worker.poll() is None:
                worker.kill()
                worker.wait()


def wait_all(workers: list[subprocess.Popen[bytes]], homes: list[Path]) -> float:
    """CPU seconds of the workers and their reaped children; exits the benchmark if one failed."""
    cpu = 0.0
    for worker, home in zip(workers, homes, strict=True):
        _, status, usage = os.wait4(worker.pid, 0)
        worker.returncode = os.waitstatus_to_exitcode(status)
        if worker.returncode != 0:
            sys.exit(f"worker failed (exit {worker.returncode}); see {home / 'crawl.log'}")
        cpu += usage.ru_utime + usage.ru_stime
    return cpu


def redis_readings(url: str) -> tuple[float, list[int]]:
    """Redis's CPU seconds, and the articles each worker says it exported (hkcrawl/worker_stats.py)."""
    client = redis.Redis.from_url(url, decode_responses=True)
    info = client.info("cpu")
    shares = sorted((w.articles for w in Watcher(client).read().workers), reverse=True)
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"]), shares


def crawl(replica: ReplicaServer, setup: Setup, work: Path, extra: dict[str, str] | None = None) -> Crawl:
    replica.log.clear()
    homes = [work / f"worker{n}" for n in range(setup.workers)]
    with running_redis(work / "redis") as url:
        commands = [worker_command(replica.base_url, home, url, extra) for home in homes]
        start, started_at = time.perf_counter(), time.time()
        with started_workers(commands, homes) as workers:
            cpu = wait_all(workers, homes)
        wall = time.perf_counter() - start
        served = replica.log.records
        cpu_redis, shares = redis_readings(url)
    fetching = max(r.time for r in served) - started_at if served else wall
    articles = sum(1 for r in served if r.path.startswith("/article/"))
    return Crawl(wall, fetching, cpu, cpu_redis, len(served), articles, shares)


def crawl_bare(replica: ReplicaServer, urls: Path, work: Path) -> Crawl:
    """The bare spider over ``urls``, measured as the workers are (no Redis)."""
    replica.log.clear()
    work.mkdir(parents=True)
    start, started_at = time.perf_counter(), time.time()
    with (work / "bare.log").open("wb") as log:
        proc = subprocess.Popen(bare_command(urls), env=bare_environment(), cwd=work, stdout=subprocess.DEVNULL,
                                stderr=log)  # fmt: skip
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        sys.exit(f"bare spider failed ({status}); see {work / 'bare.log'}")
    served = replica.log.records
    fetching = max(r.time for r in served) - started_at if served else wall
    articles = sum(1 for r in served if r.path.startswith("/article/"))
    return Crawl(wall, fetching, usage.ru_utime + usage.ru_stime, 0.0, len(served), articles, [])


def run_rounds(replica: ReplicaServer, setups: list[Setup], repeat: int) -> dict[Setup, list[Crawl]]:
    """Rounds in a rotating order; the bare spider fetches the URLs of the first 1-worker crawl,
    so that crawl runs first."""
    runs: dict[Setup, list[Crawl]] = {setup: [] for setup in setups}
    urls: Path | None = None
    for round_number in range(repeat):
        order = setups[round_number % len(setups) :] + setups[: round_number % len(setups)]
        if urls is None and BARE in order:
            order.remove(BARE)
            order.insert(order.index(Setup(1)) + 1, BARE)
        for setup in order:
            work = Path(tempfile.mkdtemp(prefix=f"hkcrawl-dist-{round_number}-"))
            if setup == BARE:
                assert urls is not None
                result = crawl_bare(replica, urls, work / "bare")
            else:
                result = crawl(replica, setup, work)
                if setup == Setup(1) and urls is None:
                    urls = work / "urls.txt"
                    urls.write_text(
                        "\n".join(replica.base_url + r.path for r in replica.log.records if r.path != "/robots.txt")
                    )
            runs[setup].append(result)
            print(f"round {round_number + 1}: {setup}: {result.rate:.0f} pages/s", file=sys.stderr)
    return runs


def print_throughput(runs: dict[Setup, list[Crawl]], setups: list[Setup]) -> None:
    print(
        "| workers | requests | article pages | wall s | pages/s | pages/s while fetching "
        "| CPU s per 1,000 articles (workers) | Redis CPU s per 1,000 articles | pages/s per round "
        "| articles per worker (first round) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for setup in setups:
        crawls = runs[setup]

        def median(value: str, crawls: list[Crawl] = crawls) -> float:
            return statistics.median(getattr(c, value) for c in crawls)

        cpu = statistics.median(c.cpu / max(c.articles, 1) * 1000 for c in crawls)
        cpu_redis = statistics.median(c.redis_cpu / max(c.articles, 1) * 1000 for c in crawls)
        per_round = ", ".join(f"{c.rate:.0f}" for c in crawls)
        print(
            f"| {setup} | {crawls[0].pages} | {crawls[0].articles} | {median('wall'):.1f} | {median('rate'):.0f} "
            f"| {median('fetch_rate'):.0f} | {cpu:.2f} | {cpu_redis:.2f} | {per_round} "
            f"| {' + '.join(map(str, crawls[0].shares))} |"
        )


def print_ratio(runs: dict[Setup, list[Crawl]], top: Setup, bottom: Setup) -> None:
    """Pages/s of ``top`` over ``bottom``, per round (each round's runs ran back to back)."""
    ratios = [t.rate / b.rate for t, b in zip(runs[top], runs[bottom], strict=True)]
    print(
        f"{top} / {bottom}: median {statistics.median(ratios):.2f} "
        f"(per round: {', '.join(f'{r:.2f}' for r in ratios)}; pages/s on wall time)"
    )


def measure_memory(items: int, work: Path) -> None:
    """Redis's used_memory after pushing ``items`` of each kind, as the workers would."""
    from scrapy import Request
    from scrapy_redis.dupefilter import RFPDupeFilter
    from scrapy_redis.queue import PriorityQueue

    from hkcrawl.settings import HANKYUNG_BASE_URL
    from hkcrawl.spiders.hankyung import HankyungSpider

    # The spider's own class, unconfigured: the serialised request names its callbacks.
    spider = object.__new__(HankyungSpider)
    ids = SiteModel(articles=items).all_ids
    with running_redis(work / "redis-memory") as url:
        server = redis.Redis.from_url(url)

        def used() -> int:
            return int(server.info("memory")["used_memory"])

        def requests() -> Iterator[Request]:
            for article_id in ids:
                yield Request(
                    f"{HANKYUNG_BASE_URL}/article/{article_id}", callback=spider.parse_article,
                    errback=spider.on_error, cb_kwargs={"depth": 0}, meta={"hkcrawl_article_id": article_id},
                )  # fmt: skip

        print(f"\nRedis memory ({items:,} of each, used_memory deltas; article URLs on {HANKYUNG_BASE_URL})")
        print("| what | key | MB per 100,000 | bytes each |")
        print("|---|---|---:|---:|")
        queue = PriorityQueue(server, spider, "hankyung:requests")
        seen = RFPDupeFilter(server, "hankyung:dupefilter")
        for what, key, fill in (
            ("queued requests (scrapy-redis PriorityQueue, pickled)", queue.key,
             lambda: [*map(queue.push, requests())]),
            ("seen fingerprints (scrapy-redis RFPDupeFilter)", seen.key, lambda: [*map(seen.request_seen, requests())]),
            ("known articles (marked through hkcrawl.shared_state, checkpoints of 50)", "hankyung:known",
             lambda: mark_known(SharedState(server, "hankyung", url), items)),
        ):  # fmt: skip
            before = used()
            fill()
            delta = used() - before
            print(f"| {what} | {key} | {delta / items * 100_000 / 2**20:.1f} | {delta / items:.0f} |")


def mark_known(shared: SharedState, items: int) -> None:
    """As workers mark them (benchmarks/redis_state_memory.py's records: a third edited,
    a new output file every 5,000)."""
    records = _records(items)
    for first in range(0, items, CHECKPOINT):
        shared.mark_exported(records[first : first + CHECKPOINT], lambda output: f"worker-1:/srv/hkcrawl/data/{output}")


def _rss_kb(pid: int) -> int:
    return _status_kb(pid, "VmRSS")


def measure_rss(articles: int, window: int, work: Path) -> None:
    """One worker over a long crawl, its RSS every second."""
    start = time.perf_counter()
    model = SiteModel(articles=articles)
    built = time.perf_counter() - start
    samples: list[tuple[int, int]] = []  # (articles served, worker KB)
    done = threading.Event()
    with ReplicaServer(model) as replica, running_redis(work / "redis") as url:
        home = work / "rss-worker"
        command = worker_command(replica.base_url, home, url, {"HKCRAWL_NEAR_DUPLICATE_WINDOW": str(window)})
        with started_workers([command], [home]) as workers:
            pid = workers[0].pid

            def sample() -> None:
                while not done.wait(1.0):
                    samples.append((replica.log.count("/article/"), _rss_kb(pid)))

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            wait_all(workers, [home])
            done.set()
            sampler.join()
        wall = time.perf_counter() - start - built
        own = _rss_kb(os.getpid()) / 1024
    samples = [s for s in samples if s[1]]
    print(f"\nRSS of one worker over a {articles:,}-article crawl ({wall:.0f} s; near-duplicate window {window:,})")
    print(f"replica: built in {built:.1f} s; this process (replica, its page cache, request log) {own:.0f} MB after")
    print("| articles done | worker RSS MB |")
    print("|---:|---:|")
    step = max(1, len(samples) // 10)
    for done_articles, worker_kb in [*samples[::step][:-1], samples[-1]]:
        print(f"| {done_articles:,} | {worker_kb / 1024:.0f} |")
    print(f"peak worker {max(s[1] for s in samples) / 1024:.0f} MB")
    # The first articles come while the worker still loads (imports): the slope up to
    # the window is taken from a twentieth of the window on.
    warm = window // 20
    for label, part in (("up to the window", [s for s in samples if warm <= s[0] <= window]),
                        ("beyond the window", [s for s in samples if s[0] > window])):  # fmt: skip
        slope = _slope(part)
        if slope is not None:
            print(f"slope {label}: {slope * 10_000 / 1024:+.1f} MB per 10k articles ({len(part)} samples)")


def _slope(points: list[tuple[int, int]]) -> float | None:
    """Least-squares KB per article; None with too few points or no spread."""
    if len(points) < 3 or len({x for x, _ in points}) < 2:
        return None
    xs, ys = zip(*points, strict=True)
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(PARTS), help="parts to run, comma-separated (%(default)s)")
    parser.add_argument("--articles", type=int, default=20000, help="replica size for throughput")
    parser.add_argument("--repeat", type=int, default=3, help="alternating rounds")
    parser.add_argument("--memory-items", type=int, default=100_000)
    parser.add_argument("--rss-articles", type=int, default=100_000)
    parser.add_argument("--rss-window", type=int, default=20_000, help="HKCRAWL_NEAR_DUPLICATE_WINDOW of the rss crawl")
    args = parser.parse_args()
    parts = {part.strip() for part in args.only.split(",") if part.strip()}
    if parts - set(PARTS):
        parser.error(f"unknown part(s) {', '.join(sorted(parts - set(PARTS)))}; choose from {', '.join(PARTS)}")

    began = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="hkcrawl-dist-"))
    if "throughput" in parts:
        setups = [Setup(1), BARE, Setup(2), Setup(3)]
        with ReplicaServer(SiteModel(articles=args.articles)) as replica:
            runs = run_rounds(replica, setups, args.repeat)
        print(f"{args.articles:,}-article replica, {args.repeat} alternating rounds, medians; "
              f"{os.cpu_count()} CPUs; one redis-server on loopback")  # fmt: skip
        print_throughput(runs, setups)
        print()
        for top, bottom in ((Setup(2), Setup(1)), (Setup(1), BARE), (Setup(2), BARE), (Setup(3), BARE)):
            print_ratio(runs, top, bottom)
    if "memory" in parts:
        measure_memory(args.memory_items, work)
    if "rss" in parts:
        measure_rss(args.rss_articles, args.rss_window, work)
    print(f"\nbenchmark: {time.perf_counter() - began:.0f} s in all", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

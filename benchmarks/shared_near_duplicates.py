"""The near-duplicate index in Redis (distributed mode): memory per article and time per article.

    .venv/bin/python benchmarks/shared_near_duplicates.py [--articles 100000] [--windows 1000000,100000]
                                                          [--redis-url redis://host:6379/15]

For each window: ``--articles`` distinct synthetic signatures (benchmarks/near_duplicates.py's
``synthetic``: replica sentences recombined, re-keyed beyond 50,000) go through
``SharedNearDuplicateIndex.match_and_add`` (one Lua script per article, what the pipeline
calls) and, for comparison, the local ``NearDuplicateIndex`` (``matches`` + ``add``, as
the pipeline does without Redis). Printed: Redis ``used_memory`` (INFO memory) before and
after, per indexed article and per 100,000; the time per article (median, mean, p99) of
each, and the difference of the medians: what sharing the index adds per article.

Without ``--redis-url`` it starts its own ``redis-server`` on a free loopback port
(Debian's, no persistence) and stops it after; with one, it uses that database and
deletes its ``bench:nd:*`` keys before and after (never ``FLUSHDB``).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402
import redis  # noqa: E402
from near_duplicates import synthetic  # noqa: E402

from hkcrawl.shared_near_duplicates import SharedNearDuplicateIndex  # noqa: E402
from hkcrawl.similarity import NearDuplicateIndex  # noqa: E402
from tests.distributed.redis_server import running_redis  # noqa: E402

THRESHOLD = 0.5  # HKCRAWL_NEAR_DUPLICATE_THRESHOLD's default
PREFIX = "bench"


@contextmanager
def own_redis() -> Iterator[str]:
    """A throwaway redis-server on a free loopback port (the tests' own); its URL."""
    with tempfile.TemporaryDirectory() as folder, running_redis(Path(folder)) as url:
        yield url


def _delete_keys(client: redis.Redis) -> None:
    for key in client.scan_iter(f"{PREFIX}:nd:*", count=10_000):
        client.unlink(key)


def _ping_ms(url: str, count: int = 10_000) -> float:
    """Median time of one PING: the round trip every match+add pays at least once."""
    client = redis.Redis.from_url(url)
    times = np.empty(count)
    for number in range(count):
        started = time.perf_counter()
        client.ping()
        times[number] = time.perf_counter() - started
    return float(np.median(times) * 1e3)


def _used_memory(client: redis.Redis) -> int:
    return int(client.info("memory")["used_memory"])


def measure(url: str, signatures: np.ndarray, window: int) -> dict[str, float]:
    """Index ``signatures`` in Redis at ``url`` and locally; memory and per-article times (ms)."""
    client = redis.Redis.from_url(url)
    _delete_keys(client)
    before = _used_memory(client)
    shared = SharedNearDuplicateIndex.connect(url, PREFIX, THRESHOLD, window)
    local = NearDuplicateIndex(THRESHOLD, window=window)
    count = len(signatures)
    shared_ms, local_ms = np.empty(count), np.empty(count)
    clock = time.perf_counter
    for number, values in enumerate(signatures):
        article_id, published = f"{20260000000000 + number}", 29_000_000 + number
        body_hash = "sha256:" + hashlib.sha256(article_id.encode()).hexdigest()  # random, as real ones
        started = clock()
        shared.match_and_add(article_id, values, published, body_hash)
        shared_ms[number] = clock() - started
        started = clock()
        local.matches("", values)
        local.add(article_id, "", values, published)
        local_ms[number] = clock() - started
    after = _used_memory(client)
    indexed = min(count, window)
    _delete_keys(client)
    shared.close()
    shared_ms *= 1e3
    local_ms *= 1e3
    return {
        "articles": count,
        "window": window,
        "indexed": indexed,
        "redis_bytes_per_article": (after - before) / indexed,
        "redis_mb_per_100k": (after - before) / indexed * 100_000 / 2**20,
        "local_bytes_per_article": local.memory_bytes / indexed,
        "shared_median_ms": float(np.median(shared_ms)),
        "shared_mean_ms": float(shared_ms.mean()),
        "shared_p99_ms": float(np.percentile(shared_ms, 99)),
        "local_median_ms": float(np.median(local_ms)),
        "local_mean_ms": float(local_ms.mean()),
        "added_median_ms": float(np.median(shared_ms) - np.median(local_ms)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--windows", default="1000000,100000", help="HKCRAWL_NEAR_DUPLICATE_WINDOW values")
    parser.add_argument("--redis-url", default="", help="default: start a redis-server of its own")
    args = parser.parse_args()
    windows = [int(value) for value in args.windows.split(",")]
    started = time.perf_counter()
    signatures = synthetic(args.articles)
    print(f"{args.articles:,} synthetic signatures in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    print(
        "| window | articles added | Redis MB per 100,000 indexed | B/article Redis (local arrays) "
        "| match+add ms/article Redis: median / mean / p99 | local: median / mean | added (median) |"
    )
    print("|---:|---:|---:|---:|---|---|---:|")
    with own_redis() if not args.redis_url else _given(args.redis_url) as url:
        version = redis.Redis.from_url(url).info("server")["redis_version"]
        for window in windows:
            result = measure(url, signatures, window)
            print(
                f"| {window:,} | {args.articles:,} | {result['redis_mb_per_100k']:.1f} "
                f"| {result['redis_bytes_per_article']:.0f} ({result['local_bytes_per_article']:.0f}) "
                f"| {result['shared_median_ms']:.3f} / {result['shared_mean_ms']:.3f} / {result['shared_p99_ms']:.3f} "
                f"| {result['local_median_ms']:.3f} / {result['local_mean_ms']:.3f} "
                f"| {result['added_median_ms']:.3f} ms |",
                flush=True,
            )
        ping_ms = _ping_ms(url)
    print(f"\nRedis {version} on loopback; threshold {THRESHOLD}; a PING round trip: {ping_ms:.3f} ms (median).")
    return 0


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url


if __name__ == "__main__":
    sys.exit(main())

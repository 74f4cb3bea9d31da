"""Redis memory of the shared run state: bytes per known article (issue 15's benchmark).

    .venv/bin/python benchmarks/redis_state_memory.py [--articles 100000]

Starts Debian's redis-server on a free loopback port in a temporary folder
(tests/distributed/redis_server.py), marks
``--articles`` articles exported through :class:`hkcrawl.shared_state.SharedState` as
workers do (checkpoints of 50, a new output file every 5,000 articles, a third of them
edited), then prints ``MEMORY USAGE`` of ``hankyung:known`` and ``used_memory`` from
INFO per article, and the same for as many failures per 1,000. Also times the writes and
``known()`` lookups (one round trip each, as the spider asks per link).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hkcrawl.shared_state import KST, SharedState  # noqa: E402
from hkcrawl.state import Exported  # noqa: E402
from tests.distributed.redis_server import running_redis  # noqa: E402

CHECKPOINT = 50
FILE_EVERY = 5000


def _records(count: int) -> list[Exported]:
    """Ids and times shaped like the site's: ``YYYYMMDDHHMM`` plus one character, KST seconds."""
    chooser = random.Random(15)
    start = datetime(2015, 1, 1, tzinfo=KST)
    records = []
    for n in range(count):
        published = start + timedelta(minutes=n * 3, seconds=chooser.randrange(60))
        modified = published + timedelta(hours=chooser.randrange(1, 48)) if n % 3 == 0 else None
        article_id = f"{published:%Y%m%d%H%M}{'0123456789abcdefghijk'[n % 21]}"
        output = f"2026-11-{1 + n // FILE_EVERY % 28:02d}T08-00-{n // FILE_EVERY % 60:02d}.jsonl"
        records.append(
            Exported(article_id, published.isoformat(), modified.isoformat() if modified else None, None, "", output)
        )
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, running_redis(Path(folder)) as url:
        _measure(redis.Redis.from_url(url), url, args.articles)


def _measure(client: redis.Redis, url: str, count: int) -> None:
    shared = SharedState(client, "hankyung", url)
    records = _records(count)
    before = int(client.info("memory")["used_memory"])
    started = time.perf_counter()
    for first in range(0, count, CHECKPOINT):
        shared.mark_exported(records[first : first + CHECKPOINT], lambda output: f"worker-1:/srv/hkcrawl/data/{output}")
    marking = time.perf_counter() - started
    after = int(client.info("memory")["used_memory"])
    known = int(client.memory_usage("hankyung:known", samples=0) or 0)
    print(f"{count:,} known articles in Redis (hash {client.object('encoding', 'hankyung:known').decode()})")
    print(f"  MEMORY USAGE hankyung:known: {known / count:.1f} bytes per article ({known / 2**20:.1f} MiB)")
    print(f"  INFO used_memory growth:     {(after - before) / count:.1f} bytes per article")
    print(f"  sample value: {client.hget('hankyung:known', records[0].article_id).decode()!r}")
    print(f"  marking: {count / marking:,.0f} articles/s in checkpoints of {CHECKPOINT}")
    lookups = [records[random.Random(n).randrange(count)].article_id for n in range(20_000)]
    started = time.perf_counter()
    for article_id in lookups:
        shared.known(article_id)
    print(f"  known(): {len(lookups) / (time.perf_counter() - started):,.0f} lookups/s (one round trip each)")

    failures = count // 100
    rows = [(r.article_id + "f", f"https://www.hankyung.com/article/{r.article_id}f", "http_500") for r in records]
    for first in range(0, failures, CHECKPOINT):
        shared.record_failures(rows[first : min(first + CHECKPOINT, failures)], "2026-11-30T08:00:00Z", "w1/run")
    usage = int(client.memory_usage("hankyung:failures", samples=0) or 0)
    print(f"{failures:,} failures: {usage / failures:.1f} bytes per failure")


if __name__ == "__main__":
    main()

"""Redis going away mid-crawl: every worker ends as a failed run, saying so; once Redis is back
(with its data: append-only file), the workers started again finish the crawl, nothing lost
and nothing exported twice."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from hkcrawl.replica import ReplicaServer, SiteModel
from tests.distributed.redis_server import RedisServer
from tests.distributed.workers import log_of, start_worker, wait_for
from tests.e2e.conftest import finished_ids

SETTINGS = {"HKCRAWL_REDIS_WORKER_TTL": "3", "HKCRAWL_REDIS_BUSY_TTL": "3", "HKCRAWL_CHECKPOINT_ITEMS": "5"}


def test_redis_going_away_fails_the_workers_and_a_rerun_completes(tmp_path: Path) -> None:
    folder = tmp_path / "redis"
    server = RedisServer(folder, appendonly=True)
    server.start()
    url, port = server.url, server.port
    homes = [tmp_path / f"worker{n}" for n in range(3)]
    try:
        with ReplicaServer(SiteModel(articles=150)) as replica:
            workers = [start_worker(replica.base_url, home, url, settings=SETTINGS) for home in homes]
            wait_for(lambda: _lines_on_disk(homes) >= 10, "ten records checkpointed")
            server.stop()
            codes = [worker.wait(timeout=120) for worker in workers]
            for code, home in zip(codes, homes, strict=True):
                log = log_of(home)
                assert code == 1, log[-3000:]
                reason = re.search(r"hkcrawl: crawl failed: (.*)", log)
                assert reason and f"Redis at redis://127.0.0.1:{port}/0 is unreachable" in reason.group(1), log[-3000:]
                assert "Traceback" not in log, log[-5000:]
                (report,) = [json.loads(p.read_text()) for p in (home / "data" / "hankyung").glob("*.report.json")]
                assert report["status"] == "failed" and "Redis" in report["failure"]
            written = sum(len(finished_ids(home)) for home in homes)
            assert 0 < written < len(replica.model.ids()), (written, [log_of(home)[-2000:] for home in homes])

            server.start()  # the same port, its data kept
            # The rerun at a quicker pace: what it checks is that nothing is lost or doubled, not
            # when Redis goes away (which needed the slow pace above to fall mid-crawl).
            rerun = {**SETTINGS, "DOWNLOAD_DELAY": "0.1"}
            workers = [start_worker(replica.base_url, home, url, settings=rerun) for home in homes]
            for worker, home in zip(workers, homes, strict=True):
                assert worker.wait(timeout=240) == 0, log_of(home)[-3000:]
            every = [aid for home in homes for aid in finished_ids(home)]
            assert Counter(every) == Counter(replica.model.ids()), "every article exported exactly once"
    finally:
        server.stop()


def _lines_on_disk(homes: list[Path]) -> int:
    """Records the workers' running files hold (written at checkpoints)."""
    parts = [part for home in homes for part in (home / "data" / "hankyung").glob("*.part")]
    return sum(part.read_bytes().count(b"\n") for part in parts)

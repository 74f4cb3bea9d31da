"""The run state shared through Redis, with real ``scrapy crawl`` workers on the replica:
what one worker exported or failed, the next one (another machine, other directories) knows."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from hkcrawl.replica import ReplicaServer, SiteModel
from tests.distributed.conftest import RedisServer, start_worker
from tests.distributed.workers import ALONE_PACE
from tests.e2e.conftest import finished_ids, finished_records, reports

FULL = ("-a", "max_pages=1000")
#: The worker Redis lost never left: with Redis keeping its data, the rerun waits for that worker's
#: heartbeat to expire before it may close (as in production, at 30 s): short lives, same path.
SHORT_LIVES = {"HKCRAWL_REDIS_WORKER_TTL": "3", "HKCRAWL_REDIS_BUSY_TTL": "3"}


@pytest.fixture
def replica() -> Iterator[ReplicaServer]:
    with ReplicaServer(SiteModel(articles=150)) as server:
        yield server


def _crawl(replica: ReplicaServer, home: Path, url: str, **settings: str) -> tuple[int, str]:
    # One worker at a time here: no need for the shared tests' slow pace.
    worker = start_worker(replica.base_url, home, url, *FULL, **{**ALONE_PACE, **settings})
    code = worker.wait(timeout=300)
    return code, (home / "crawl.log").read_text(errors="replace")


def _new_crawl(server: RedisServer) -> None:
    """The documented way to start a new crawl: the frontier and the seen-set go, the state stays."""
    server.client().delete("hankyung:requests", "hankyung:dupefilter")


def test_a_second_worker_exports_only_what_is_new_or_edited(
    replica: ReplicaServer, redis_server: RedisServer, tmp_path: Path
) -> None:
    model = replica.model
    end = model.now
    model.now = end - timedelta(hours=10)
    code, log = _crawl(replica, tmp_path / "a", redis_server.url)
    assert code == 0, log[-3000:]
    before = set(model.ids())
    assert set(finished_ids(tmp_path / "a")) == before
    modified_before = {aid: model.modified(aid) for aid in before}

    _new_crawl(redis_server)
    model.now = end
    new = set(model.ids()) - before
    edited = {aid for aid in before if model.modified(aid) != modified_before[aid]}
    assert new and edited
    replica.log.clear()
    code, log = _crawl(replica, tmp_path / "b", redis_server.url)
    assert code == 0, log[-3000:]

    fetched = Counter(r.path.rsplit("/", 1)[-1] for r in replica.log.matching("/article/"))
    assert set(fetched) == new | edited, "B fetched no article A had exported unchanged"
    b_records = finished_records(tmp_path / "b")
    assert Counter(r["articleId"] for r in b_records) == Counter(new | edited)
    assert {r["articleId"] for r in b_records if r["isUpdate"]} == edited
    every = Counter(finished_ids(tmp_path / "a") + finished_ids(tmp_path / "b"))
    assert every == Counter({aid: 2 if aid in edited else 1 for aid in before | new})
    report = reports(tmp_path / "b")[-1]
    assert (report["new"], report["updated"], report["status"]) == (len(new), len(edited), "ok")


def test_a_failure_one_worker_met_is_saved_by_another(
    replica: ReplicaServer, redis_server: RedisServer, tmp_path: Path
) -> None:
    lost = replica.model.ids()[5]
    replica.set_faults(f"500:/article/{lost}")
    code, log = _crawl(replica, tmp_path / "a", redis_server.url)
    assert lost not in finished_ids(tmp_path / "a"), log[-3000:]
    client = redis_server.client()
    assert json.loads(client.hget("hankyung:failures", lost))["r"] == "http_500"

    replica.set_faults(None)
    _new_crawl(redis_server)
    replica.log.clear()
    code, log = _crawl(replica, tmp_path / "b", redis_server.url)
    assert code == 0, log[-3000:]
    assert finished_ids(tmp_path / "b") == [lost]
    assert [r.path for r in replica.log.matching("/article/")] == [f"/article/{lost}"]
    assert reports(tmp_path / "b")[-1]["recoveredFromEarlierFailures"] == 1
    assert not client.hexists("hankyung:failures", lost), "cleared for all"

    # A's next run neither fetches it again nor keeps it in its own ledger.
    _new_crawl(redis_server)
    replica.log.clear()
    code, log = _crawl(replica, tmp_path / "a", redis_server.url)
    assert not replica.log.matching("/article/"), log[-3000:]
    ledger = sqlite3.connect(tmp_path / "a" / "state" / "hankyung.sqlite3")
    assert ledger.execute("SELECT count(*) FROM failures").fetchone() == (0,)


def test_workers_retrying_the_same_failure_fetch_it_once(
    replica: ReplicaServer, redis_server: RedisServer, tmp_path: Path
) -> None:
    lost = replica.model.ids()[7]
    replica.set_faults(f"500:/article/{lost}")
    _crawl(replica, tmp_path / "a", redis_server.url)
    assert redis_server.client().hexists("hankyung:failures", lost)

    replica.set_faults(None)
    _new_crawl(redis_server)
    replica.log.clear()
    # Both read the failure at start and ask for it: the shared seen-set keeps one request.
    homes = [tmp_path / "b", tmp_path / "c"]
    workers = [start_worker(replica.base_url, home, redis_server.url, *FULL) for home in homes]
    for home, worker in zip(homes, workers, strict=True):
        code = worker.wait(timeout=300)
        assert code in (0, 1), (home / "crawl.log").read_text(errors="replace")[-3000:]
    assert [r.path for r in replica.log.matching("/article/")] == [f"/article/{lost}"]
    assert finished_ids(tmp_path / "b") + finished_ids(tmp_path / "c") == [lost]
    assert not redis_server.client().hexists("hankyung:failures", lost)


def _wait_for_lines(directory: Path, lines: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        parts = list(directory.glob("*.part"))
        if parts and sum(part.read_bytes().count(b"\n") for part in parts) >= lines:
            return
        time.sleep(0.05)  # polling a condition, with the deadline
    pytest.fail(f"no {lines} records in {directory} in time")


@pytest.mark.parametrize("keeps_data", [True, False], ids=["redis-keeps-data", "redis-restarts-empty"])
def test_redis_going_away_fails_the_worker_and_a_rerun_loses_nothing(
    replica: ReplicaServer, tmp_path: Path, keeps_data: bool
) -> None:
    server = RedisServer(tmp_path / "redis", appendonly=keeps_data)
    server.start()
    try:
        home = tmp_path / "a"
        worker = start_worker(
            replica.base_url, home, server.url, *FULL,
            HKCRAWL_CHECKPOINT_ITEMS="5", DOWNLOAD_DELAY="0.05", **SHORT_LIVES,
        )  # fmt: skip
        _wait_for_lines(home / "data" / "hankyung", 12, time.monotonic() + 120)
        server.stop()
        code = worker.wait(timeout=120)
        log = (home / "crawl.log").read_text(errors="replace")
        assert code == 1, log[-3000:]
        failed = [line for line in log.splitlines() if line.startswith("hkcrawl: crawl failed:")]
        # Whichever shared component (frontier, run state, near-duplicate index) meets it first.
        assert len(failed) == 1 and re.search(r"Redis (near-duplicate index )?at redis://127\.0\.0\.1:", failed[0])
        # One error logged, no error loop, no traceback.
        assert sum(" ERROR: " in line for line in log.splitlines()) == 1, log[-5000:]
        assert "Traceback" not in log, log[-5000:]
        assert reports(home)[-1]["status"] == "failed"

        if not keeps_data:
            for leftover in server.folder.iterdir():
                leftover.unlink() if leftover.is_file() else None
        server.start()
        _new_crawl(server)
        code, log = _crawl(replica, home, server.url, **SHORT_LIVES)
        assert code == 0, log[-3000:]
        assert Counter(finished_ids(home)) == Counter(replica.model.ids())
    finally:
        server.stop()


def test_check_forgets_the_shared_entries_of_a_lost_file(
    replica: ReplicaServer, redis_server: RedisServer, tmp_path: Path
) -> None:
    code, log = _crawl(replica, tmp_path / "a", redis_server.url)
    assert code == 0, log[-3000:]
    lost = set(finished_ids(tmp_path / "a"))
    [file] = (tmp_path / "a" / "data" / "hankyung").glob("*.jsonl")
    file.unlink()  # a bad copy, a cleanup: neither A's ledger nor Redis may still call them known
    hkcrawl = Path(sys.executable).with_name("hkcrawl")
    check = subprocess.run(
        [str(hkcrawl), "check", "--dir", str(tmp_path / "a"), "-s", f"HKCRAWL_REDIS_URL={redis_server.url}"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert check.returncode == 0, check.stderr
    assert f"forgot {len(lost)} article(s)" in check.stdout
    assert redis_server.client().hlen("hankyung:known") == 0

    _new_crawl(redis_server)
    replica.log.clear()
    code, log = _crawl(replica, tmp_path / "b", redis_server.url)
    assert code == 0, log[-3000:]
    assert set(finished_ids(tmp_path / "b")) == lost

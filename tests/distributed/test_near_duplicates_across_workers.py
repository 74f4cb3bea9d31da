"""Near-duplicates across workers: three real workers on one Redis annotate as one process does.

The replica republishes some stories (``SiteModel(copies=...)``), word for word or with
a paragraph added, under later ids. One process crawls it alone; three workers crawl it
again sharing a real redis-server. ``hkcrawl merge`` of the workers' directories must
give the one-process ``duplicateOf``, and each worker's own lines must already name the
right original wherever it entered the shared index before the copy (by any worker).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hkcrawl.replica import ReplicaServer, SiteModel
from hkcrawl.shared_near_duplicates import SharedNearDuplicateIndex
from hkcrawl.similarity import published_minutes
from tests.distributed.conftest import start_worker
from tests.e2e.conftest import finished_records, reports

WORKERS = 3
ARTICLES = 150


@pytest.fixture
def replica() -> Iterator[ReplicaServer]:
    with ReplicaServer(SiteModel(articles=ARTICLES, copies=0.2)) as server:
        yield server


def _finish(crawls: list[subprocess.Popen[str]], homes: list[Path]) -> None:
    for crawl, home in zip(crawls, homes, strict=True):
        code = crawl.wait(timeout=300)
        assert code == 0, (home / "crawl.log").read_text(errors="replace")[-3000:]


def _merged(out: Path, inputs: list[Path]) -> dict[str, str | None]:
    hkcrawl = Path(sys.executable).with_name("hkcrawl")
    subprocess.run([hkcrawl, "merge", out, *inputs], check=True, capture_output=True, timeout=120)
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return {record["articleId"]: record["duplicateOf"] for record in records}


def test_workers_annotate_near_duplicates_as_one_process(
    replica: ReplicaServer, redis_url: str, tmp_path: Path
) -> None:
    alone = tmp_path / "alone"
    fast = {"DOWNLOAD_DELAY": "0", "CONCURRENT_REQUESTS": "16", "CONCURRENT_REQUESTS_PER_DOMAIN": "16"}
    _finish([start_worker(replica.base_url, alone, "", **fast)], [alone])
    expected = _merged(tmp_path / "alone.jsonl", [alone / "data" / "hankyung"])
    assert len(expected) == ARTICLES
    copies = {aid for aid in expected if replica.model.copy_of(aid)}
    assert sum(of is not None for of in expected.values()) >= len(copies) * 0.8 > 10  # the copies are found

    homes = [tmp_path / f"worker{n}" for n in range(WORKERS)]
    _finish([start_worker(replica.base_url, home, redis_url) for home in homes], homes)
    written = {r["articleId"]: r["duplicateOf"] for home in homes for r in finished_records(home)}
    assert sum(1 for home in homes if finished_records(home)) >= 2, "the work was shared"

    merged = _merged(tmp_path / "workers.jsonl", [home / "data" / "hankyung" for home in homes])
    assert merged == expected

    # Where the original entered the shared index before its copy, the copy's own line names it.
    order = SharedNearDuplicateIndex.connect(redis_url, "hankyung", 0.5, 1_000_000).insertion_order()
    assert set(order) == set(expected)
    for article_id, original in expected.items():
        if original is None or order[original] < order[article_id]:
            assert written[article_id] == original, article_id
    # The rest were listed as corrections, by the worker that wrote the earlier original.
    published = {r["articleId"]: published_minutes(r["datePublished"]) for h in homes for r in finished_records(h)}
    corrections: dict[str, str] = {}
    for home in homes:
        own = {r["articleId"] for r in finished_records(home)}
        for report in reports(home):
            for correction in report["duplicateCorrections"]:
                article_id, original = correction["articleId"], correction["duplicateOf"]
                assert original in own, (home.name, correction)
                known = corrections.get(article_id, original)
                corrections[article_id] = min(known, original, key=lambda aid: (published[aid], aid))
    assert {**written, **corrections} == expected

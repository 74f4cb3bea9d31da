"""The near-duplicate index in Redis finds what the local one finds, whichever worker added what.

A real redis-server (tests/distributed/conftest.py). The labelled stories of
tests/pipelines/test_duplicate_order.py go in oldest first, newest first, shuffled,
and split between two workers (two index clients, two pipelines with their own runs).
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import redis

from hkcrawl.cleaning import body_hash
from hkcrawl.shared_near_duplicates import SharedIndexError, SharedNearDuplicateIndex
from hkcrawl.similarity import NearDuplicateIndex, published_minutes, signature_values
from tests.datasets.conftest import make_record, write_jsonl
from tests.pipelines.test_duplicate_order import EXPECTED, ORDERS, STORIES, _item, _merged
from tests.pipelines.test_near_duplicates import PAIRS, _article, _end_run, _pipeline, _process

SIGNATURES = {article_id: signature_values(body) for article_id, body, _, _ in STORIES}
SINGLE_RUN_ORDERS = {name: orders[0] for name, orders in ORDERS.items() if len(orders) == 1}


def _shared(url: str, window: int = 1000, threshold: float = 0.5) -> SharedNearDuplicateIndex:
    return SharedNearDuplicateIndex.connect(url, "hankyung", threshold, window)


@pytest.mark.parametrize("order", SINGLE_RUN_ORDERS.values(), ids=SINGLE_RUN_ORDERS.keys())
def test_the_same_matches_as_the_local_index(order: list[int], redis_url: str) -> None:
    """Fed in one order, both indexes give each story the same matches (ids, similarities, times)."""
    local, shared = NearDuplicateIndex(0.5), _shared(redis_url)
    for position in order:
        article_id, body, published, _ = STORIES[position]
        minutes = published_minutes(published)
        expected = local.matches(body, SIGNATURES[article_id])
        local.add(article_id, body, SIGNATURES[article_id], minutes)
        assert shared.match_and_add(article_id, SIGNATURES[article_id], minutes, body_hash(body)).matches == expected


def test_two_clients_see_each_others_articles(redis_url: str) -> None:
    """Whichever client added the earlier story, the other one's copy finds it."""
    first, second = _shared(redis_url), _shared(redis_url)
    local = NearDuplicateIndex(0.5)
    for number, position in enumerate(ORDERS["newest first"][0]):
        article_id, body, published, _ = STORIES[position]
        minutes = published_minutes(published)
        expected = local.matches(body, SIGNATURES[article_id])
        local.add(article_id, body, SIGNATURES[article_id], minutes)
        client = (first, second)[number % 2]
        assert client.match_and_add(article_id, SIGNATURES[article_id], minutes).matches == expected


def _order(article_id: str) -> tuple[int, str]:
    return published_minutes(next(when for aid, _, when, _ in STORIES if aid == article_id)), article_id


def _two_workers(tmp_path: Path, url: str, order: list[int]) -> tuple[list[Path], dict, dict, list[dict]]:
    """Alternate ``order`` between two pipelines (two workers' runs) sharing Redis; as _crawl does."""
    workers = [_pipeline(tmp_path / f"worker{n}", HKCRAWL_REDIS_URL=url)[0] for n in range(2)]
    records: list[list[dict]] = [[], []]
    written: dict[str, str | None] = {}
    for number, position in enumerate(order):
        article_id, body, published, _ = STORIES[position]
        item = _process(workers[number % 2], _item(article_id, body, published))
        written[article_id] = item.duplicateOf
        fields = {"articleBody": body, "datePublished": published, "dateModified": None}
        annotation = {"duplicateOf": item.duplicateOf, "duplicateSimilarity": item.duplicateSimilarity}
        records[number % 2].append(make_record(article_id, **fields, **annotation))
    files, corrections, per_worker = [], {}, []
    for number, pipeline in enumerate(workers):
        assert not pipeline.run.failed, pipeline.run.own_failure
        _end_run(pipeline)
        listed = {c["articleId"]: c["duplicateOf"] for c in pipeline.run.report["duplicateCorrections"]}
        for article_id, original in listed.items():  # two workers may correct one record: the earliest wins
            corrections[article_id] = min(corrections.get(article_id, original), original, key=_order)
        per_worker.append(listed)
        files.append(write_jsonl(tmp_path / f"worker{number}" / "20241101T000000Z.jsonl", records[number]))
    return files, corrections, written, per_worker


@pytest.mark.parametrize("order", SINGLE_RUN_ORDERS.values(), ids=SINGLE_RUN_ORDERS.keys())
def test_two_workers_merge_to_the_one_process_result(order: list[int], redis_url: str, tmp_path: Path) -> None:
    files, corrections, written, per_worker = _two_workers(tmp_path, redis_url, order)
    assert {aid: of for aid, (of, _) in _merged(tmp_path, files).items()} == EXPECTED
    assert {**written, **corrections} == EXPECTED
    # A correction is listed by the worker that wrote the earlier original.
    wrote = {STORIES[position][0]: number % 2 for number, position in enumerate(order)}
    for number, listed in enumerate(per_worker):
        assert all(wrote[original] == number for original in listed.values()), listed
    if order == ORDERS["oldest first"][0]:
        assert corrections == {} and written == EXPECTED


@pytest.mark.parametrize("attempt", range(5))
def test_copies_added_at_the_same_moment_are_not_both_left_unannotated(
    attempt: int, redis_url: str, tmp_path: Path
) -> None:
    """Two workers add the two sides of each pair at once: each copy is annotated, or corrected by the other."""
    workers = [_pipeline(tmp_path / f"worker{n}", HKCRAWL_REDIS_URL=redis_url)[0] for n in range(2)]
    pairs = [pair for pair in PAIRS if pair["same"]]
    written: dict[str, str | None] = {}
    barrier = threading.Barrier(2, timeout=60)

    def work(side: int) -> None:
        for number, pair in enumerate(pairs):
            article_id = f"2024110{number + 1}0000{side + 1}"
            item = _item(article_id, pair["ab"[side]], f"2024-11-0{number + 1}T09:0{side}:00+09:00")
            barrier.wait()
            written[article_id] = _process(workers[side], item).duplicateOf

    threads = [threading.Thread(target=work, args=(side,)) for side in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    corrected = workers[0].corrections
    for number in range(len(pairs)):
        original, copy = f"2024110{number + 1}00001", f"2024110{number + 1}00002"
        assert written[original] is None
        assert written[copy] == original or corrected.get(copy) == original, (number, written, corrected)


def _fields(client: redis.Redis, kind: str) -> int:
    return sum(client.hlen(key) for key in client.scan_iter(f"hankyung:nd:{kind}:*"))


def test_only_a_shared_band_makes_a_candidate(redis_url: str) -> None:
    """Buckets key on all of a band: 80% equal values but no band equal is no candidate (LSH as designed)."""
    shared = _shared(redis_url)
    original = np.random.default_rng(5).integers(0, 2**32 - 1, size=128, dtype=np.uint64)
    last_rows = np.arange(shared.bands) * shared.rows + shared.rows - 1  # one value per band
    no_band = original.copy()
    no_band[last_rows] ^= np.uint64(1)
    one_band = no_band.copy()
    one_band[last_rows[0]] = original[last_rows[0]]
    shared.match_and_add("2024110100011", original, 0)
    assert shared.match_and_add("2024110100022", no_band, 1).matches == []
    found = {m.article_id: m.similarity for m in shared.match_and_add("2024110100033", one_band, 2).matches}
    assert found == {"2024110100011": round(1 - (shared.bands - 1) / 128, 3), "2024110100022": round(127 / 128, 3)}


def test_the_window_bounds_every_key(redis_url: str) -> None:
    """Adding past the window evicts the oldest article with its buckets and body hash."""
    shared = _shared(redis_url, window=3)
    client = redis.Redis.from_url(redis_url)
    bodies = [pair["a"] for pair in PAIRS]
    for number, body in enumerate(bodies):
        shared.match_and_add(f"2024110{number}00011", signature_values(body), number, body_hash(body))
    assert client.hlen("hankyung:nd:entries") == 3
    assert _fields(client, "h") == 3
    assert _fields(client, "b") == 3 * shared.bands
    # The first story left the window: its copy no longer finds it.
    copy = shared.match_and_add("2024110900099", signature_values(PAIRS[0]["b"]), 99, body_hash(PAIRS[0]["b"]))
    assert copy.matches == [] and copy.same_body is None
    # Evicting every article leaves no bucket behind (the script finds them again from the stored signature).
    shared.window = 1
    shared.match_and_add("2024110900098", signature_values(""), 98)
    assert list(client.scan_iter("hankyung:nd:b:*")) == list(client.scan_iter("hankyung:nd:h:*")) == []


def test_other_settings_are_refused(redis_url: str) -> None:
    _shared(redis_url, window=1000)
    with pytest.raises(SharedIndexError, match=r"Redis near-duplicate index hankyung:nd:config was built with"):
        _shared(redis_url, window=2000)


@pytest.mark.parametrize("damage", ["entries", "buckets", "oldest"])
def test_values_no_worker_wrote_fail_in_one_line_that_says_what_to_do(damage: str, redis_url: str) -> None:
    index = _shared(redis_url, window=3)
    for article_id, body, published, _ in STORIES[:3]:
        index.match_and_add(article_id, SIGNATURES[article_id], published_minutes(published), body_hash(body))
    client = redis.Redis.from_url(redis_url)
    if damage == "oldest":
        client.set("hankyung:nd:oldest", "zz")
    for key in client.keys(f"hankyung:nd:{damage[0]}*") if damage != "oldest" else []:
        for field in client.hkeys(key):
            client.hset(key, field, b"\xff\x01")
    article_id, body, published, _ = STORIES[0]  # its buckets are the damaged ones
    with pytest.raises(SharedIndexError, match=r"holds values no worker wrote .*delete its keys"):
        index.match_and_add("2099010100011", SIGNATURES[article_id], published_minutes(published), body_hash(body))


def test_redis_unreachable_fails_the_run_in_one_line(tmp_path: Path, unused_redis_url: str) -> None:
    pipeline, _ = _pipeline(tmp_path, HKCRAWL_REDIS_URL=unused_redis_url)
    assert pipeline.run.failed
    # Whichever shared component (run state or this index) meets it first, the same words.
    assert re.search(r"Redis at redis://127\.0\.0\.1:\d+/0 is unreachable \(", pipeline.run.own_failure)
    assert "\n" not in pipeline.run.own_failure


@pytest.mark.parametrize("url", ["redis://127.0.0.1:port/0", "http://127.0.0.1/0"])
def test_a_bad_url_fails_the_run_in_one_line(url: str, tmp_path: Path) -> None:
    pipeline, _ = _pipeline(tmp_path, HKCRAWL_REDIS_URL=url)
    assert pipeline.run.failed and "Redis URL" in pipeline.run.own_failure, pipeline.run.own_failure


def test_redis_going_away_fails_the_run(redis_url: str, tmp_path: Path) -> None:
    pipeline, _ = _pipeline(tmp_path, HKCRAWL_REDIS_URL=redis_url)
    _process(pipeline, _article("2024110100011", PAIRS[1]["a"]))
    redis.Redis.from_url(redis_url).shutdown(nosave=True)
    started = time.monotonic()
    item = _process(pipeline, _article("2024110100022", PAIRS[1]["b"]))
    assert time.monotonic() - started < 30  # a few quick retries, then the run fails: no hang
    assert item.duplicateOf is None
    assert pipeline.run.failed, "the run fails"
    assert f"Redis at {redis_url} is unreachable (near-duplicate index, adding an article: " in pipeline.run.own_failure


def test_the_local_pipeline_does_not_import_redis() -> None:
    code = (
        "import sys, hkcrawl.pipelines.near_duplicates;"
        "print('redis' in sys.modules, 'hkcrawl.shared_near_duplicates' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_a_local_index_left_from_earlier_runs_is_removed(redis_url: str, tmp_path: Path) -> None:
    """It would lack what this run exported: a later run without Redis rebuilds it from the files."""
    local, _ = _pipeline(tmp_path)
    _process(local, _article("2024110100011", PAIRS[1]["a"]))
    _end_run(local)
    assert (tmp_path / "state" / "near_duplicates.npz").exists()
    shared, crawler = _pipeline(tmp_path, HKCRAWL_REDIS_URL=redis_url)
    assert crawler.stats.get_value("hkcrawl/near_duplicates/index") == "shared"
    _end_run(shared)
    assert not (tmp_path / "state" / "near_duplicates.npz").exists()

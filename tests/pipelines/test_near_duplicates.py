"""The same story under another id: found, annotated or dropped, across runs too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from hkcrawl import settings as project_settings
from hkcrawl.cleaning import body_hash
from hkcrawl.items import Article
from hkcrawl.pipelines.near_duplicates import NearDuplicatePipeline
from hkcrawl.similarity import jaccard, shingles
from tests.conftest import ROOT

PAIRS = json.loads((ROOT / "tests/fixtures/duplicates/pairs.json").read_text(encoding="utf-8"))["pairs"]


def _article(article_id: str, body: str) -> Article:
    return Article(articleId=article_id, url="u", canonicalUrl="c", articleBody=body, articleBodyHash=body_hash(body))


def _pipeline(tmp_path: Path, **settings: object):
    ours = {name: getattr(project_settings, name) for name in dir(project_settings) if name.startswith("HKCRAWL_")}
    dirs = {"HKCRAWL_STATE_DIR": str(tmp_path / "state"), "HKCRAWL_OUTPUT_DIR": str(tmp_path / "out")}
    crawler = get_crawler(settings_dict={**ours, **dirs, "EXTENSIONS": project_settings.EXTENSIONS, **settings})
    crawler._apply_settings()  # what Crawler.crawl() does first: the Run extension exists
    crawler.stats.open_spider()
    pipeline = NearDuplicatePipeline.from_crawler(crawler)
    pipeline.open_spider()  # the run takes its lock, the index is read
    return pipeline, crawler


def _end_run(pipeline: NearDuplicatePipeline) -> None:
    """As at the end of a crawl: the pipeline saves through the run, the run closes (and unlocks)."""
    pipeline.close_spider()
    pipeline.run.spider_closed("finished")


def _process(pipeline: NearDuplicatePipeline, item: Article) -> Article:
    return pipeline.process_item(item)


@pytest.mark.parametrize("pair", PAIRS, ids=[p["name"] for p in PAIRS])
def test_labelled_pairs(pair: dict, tmp_path: Path) -> None:
    pipeline, _ = _pipeline(tmp_path)
    first = _process(pipeline, _article("2024110100011", pair["a"]))
    second = _process(pipeline, _article("2024110100022", pair["b"]))
    assert first.duplicateOf is None
    if pair["same"]:
        assert second.duplicateOf == "2024110100011"
        assert second.duplicateSimilarity >= 0.5
    else:
        assert second.duplicateOf is None and second.duplicateSimilarity is None


def test_identical_bodies_are_exact_duplicates(tmp_path: Path) -> None:
    pipeline, crawler = _pipeline(tmp_path)
    _process(pipeline, _article("2024110100011", PAIRS[0]["a"]))
    copy = _process(pipeline, _article("2024110100022", PAIRS[0]["b"]))
    assert copy.duplicateSimilarity == 1.0
    assert crawler.stats.get_value("hkcrawl/duplicates/exact_body") == 1


def test_drop_policy_drops_and_counts(tmp_path: Path) -> None:
    pipeline, crawler = _pipeline(tmp_path, HKCRAWL_DUPLICATES="drop")
    _process(pipeline, _article("2024110100011", PAIRS[1]["a"]))
    with pytest.raises(DropItem, match="duplicates 2024110100011"):
        _process(pipeline, _article("2024110100022", PAIRS[1]["b"]))
    assert crawler.stats.get_value("hkcrawl/dropped/near_duplicate") == 1


def test_an_update_of_the_same_article_is_not_its_own_duplicate(tmp_path: Path) -> None:
    pipeline, _ = _pipeline(tmp_path)
    _process(pipeline, _article("2024110100011", PAIRS[1]["a"]))
    update = _process(pipeline, _article("2024110100011", PAIRS[1]["b"]))
    assert update.duplicateOf is None


def test_the_index_carries_over_to_the_next_run(tmp_path: Path) -> None:
    first_run, _ = _pipeline(tmp_path)
    _process(first_run, _article("2024110100011", PAIRS[2]["a"]))
    _end_run(first_run)
    second_run, crawler = _pipeline(tmp_path)
    assert crawler.stats.get_value("hkcrawl/near_duplicates/index") == "loaded"
    later = _process(second_run, _article("2024110200033", PAIRS[2]["b"]))
    assert later.duplicateOf == "2024110100011"


def test_a_bad_index_file_is_rebuilt_from_the_finished_runs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "out").mkdir()
    record = {"articleId": "2024110100011", "articleBody": PAIRS[2]["a"], "articleBodyHash": body_hash(PAIRS[2]["a"])}
    (tmp_path / "out" / "20241101T000000Z.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "near_duplicates.npz").write_bytes(b"PK\x03\x04 cut short")
    pipeline, crawler = _pipeline(tmp_path)
    assert [r.getMessage() for r in caplog.records if "near_duplicates.npz" in r.getMessage()] != []
    assert crawler.stats.get_value("hkcrawl/near_duplicates/index") == "rebuilt:corrupt"
    later = _process(pipeline, _article("2024110200033", PAIRS[2]["b"]))
    assert later.duplicateOf == "2024110100011"
    _end_run(pipeline)
    assert _pipeline(tmp_path)[1].stats.get_value("hkcrawl/near_duplicates/index") == "loaded"


def test_shingles_ignore_spacing_and_punctuation() -> None:
    assert shingles("회사는 3분기, 실적을") == shingles("회사는3분기 실적을!")
    assert jaccard("가나다라마바사", "가나다라마바사") == 1.0

"""Each pipeline on its own, with a real Crawler's stats."""

from __future__ import annotations

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from hkcrawl.cleaning import body_hash
from hkcrawl.items import Article, Author, Image
from hkcrawl.pipelines.clean import CleanPipeline
from hkcrawl.pipelines.dedupe import DuplicateArticlePipeline
from hkcrawl.pipelines.validate import ValidatePipeline
from hkcrawl.urls import canonicalize

URL = "https://www.hankyung.com/article/2022061771721"


def _article(url: str = URL, **fields: object) -> Article:
    values: dict = {
        "articleId": "2022061771721",
        "url": url,
        "canonicalUrl": canonicalize(url),
        "headline": "제목",
        "articleBody": "본문.",
        "datePublished": "2022-06-17T17:48:00+09:00",
        "dateDownloaded": "2026-11-25T06:00:00Z",
        "layout": "current",
    }
    values.update(fields)
    values.setdefault("articleBodyHash", body_hash(values["articleBody"]))
    return Article(**values)


@pytest.fixture
def crawler():
    crawler = get_crawler()
    crawler.stats.open_spider()
    return crawler


def _validate(pipeline: ValidatePipeline, item: Article) -> Article:
    return pipeline.process_item(item)


def test_clean_counts_each_rule(crawler) -> None:
    pipeline = CleanPipeline.from_crawler(crawler)
    body = "본문.\n\n정지은 기자 jeong@hankyung.com\n\nⓒ 한경닷컴, 무단전재 및 재배포 금지"
    item = pipeline.process_item(_article(articleBody=body, authors=[Author("정지은")]))
    assert item.articleBody == "본문."
    assert crawler.stats.get_value("hkcrawl/cleaned/email_line") == 1
    assert crawler.stats.get_value("hkcrawl/cleaned/copyright") == 1


@pytest.mark.parametrize("missing", ["articleId", "canonicalUrl", "headline", "articleBody", "datePublished"])
def test_validate_drops_a_record_missing_a_required_field(crawler, missing: str) -> None:
    pipeline = ValidatePipeline.from_crawler(crawler)
    with pytest.raises(DropItem, match=missing):
        _validate(pipeline, _article(**{missing: None}))
    assert crawler.stats.get_value(f"hkcrawl/dropped/missing_{missing}") == 1


def test_validate_passes_a_complete_record(crawler) -> None:
    item = _article()
    assert _validate(ValidatePipeline.from_crawler(crawler), item) is item


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"images": [Image(url="javascript:alert(1)")]}, "$.images[0].url"),
        ({"dateModified": "0001-01-01T00:00:00+14:00"}, "$.dateModified"),
        ({"keywords": [""]}, "$.keywords[0]"),
        ({"url": "file:///etc/passwd", "canonicalUrl": canonicalize(URL)}, "$.url"),
    ],
    ids=["javascript_image", "date_not_kst", "empty_keyword", "file_url"],
)
def test_validate_drops_a_record_the_schema_refuses(crawler, caplog, fields: dict, where: str) -> None:
    """Whatever slipped past the parser, the crawl never writes a line ``hkcrawl validate`` rejects."""
    pipeline = ValidatePipeline.from_crawler(crawler)
    with pytest.raises(DropItem, match="not valid against the record schema"):
        _validate(pipeline, _article(**fields))
    assert crawler.stats.get_value("hkcrawl/dropped/schema") == 1
    assert crawler.stats.get_value("hkcrawl/dropped/invalid") == 1
    assert f"schema: 2022061771721: {where}: " in caplog.text


def test_dedupe_drops_the_same_article_from_any_url_form(crawler) -> None:
    pipeline = DuplicateArticlePipeline.from_crawler(crawler)
    pipeline.process_item(_article("https://www.hankyung.com/article/2022061771721"))
    for url in (
        "http://www.hankyung.com/news/app/newsview.php?aid=2022061771721",
        "http://news.hankyung.com/article/2022061771721",
        "https://www.hankyung.com/industry/article/2022061771721",
    ):
        with pytest.raises(DropItem, match="duplicate"):
            pipeline.process_item(_article(url))
    other = _article(articleId="2022061771722")
    assert pipeline.process_item(other) is other
    assert crawler.stats.get_value("hkcrawl/dropped/duplicate") == 3

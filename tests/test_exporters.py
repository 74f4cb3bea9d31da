"""The fast JSON Lines exporter writes exactly what Scrapy's own would."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from scrapy.exporters import JsonLinesItemExporter

from hkcrawl.exporters import DataclassJsonLinesExporter
from hkcrawl.items import Article, Author, Image
from hkcrawl.pages.article import parse_article

FIXTURES = Path(__file__).parent / "fixtures" / "articles"


def _articles() -> list[Article]:
    articles = []
    for page in sorted(FIXTURES.glob("*.html")):
        result = parse_article(page.read_bytes(), f"https://www.hankyung.com/article/{page.stem}", None)
        if result.article is not None:
            articles.append(result.article)
    articles.append(Article(articleId=None, url="https://x/", canonicalUrl=None, duplicateSimilarity=0.25))
    articles[0].authors.append(Author(name='따옴표 "와" \\ 역슬래시', email=None))
    articles[0].images.append(Image(url="https://img.hankyung.com/a.jpg", caption="줄\n바꿈\u2028"))
    return articles


def _export(exporter_class: type, items: list, **kwargs: object) -> bytes:
    stream = io.BytesIO()
    exporter = exporter_class(stream, **kwargs)
    exporter.start_exporting()
    for item in items:
        exporter.export_item(item)
    exporter.finish_exporting()
    return stream.getvalue()


@pytest.mark.parametrize("encoding", ["utf-8", None])
def test_same_bytes_as_scrapy(encoding: str | None) -> None:
    articles = _articles()
    assert len(articles) >= 8
    expected = _export(JsonLinesItemExporter, articles, encoding=encoding)
    assert _export(DataclassJsonLinesExporter, articles, encoding=encoding) == expected
    assert [json.loads(line)["articleId"] for line in expected.splitlines()] == [a.articleId for a in articles]


def test_other_items_and_field_choices_take_scrapys_path() -> None:
    @dataclass
    class WithSerializer:
        text: str = field(default="a", metadata={"serializer": str.upper})

    items = [{"k": "값"}, WithSerializer()]
    assert _export(DataclassJsonLinesExporter, items, encoding="utf-8") == b'{"k": "\xea\xb0\x92"}\n{"text": "A"}\n'
    only = _export(DataclassJsonLinesExporter, _articles()[:1], encoding="utf-8", fields_to_export=["articleId"])
    assert only == _export(JsonLinesItemExporter, _articles()[:1], encoding="utf-8", fields_to_export=["articleId"])
    assert list(json.loads(only)) == ["articleId"]

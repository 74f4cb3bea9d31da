"""Hostile pages, built by injecting into a real fixture: never an exception, never a
record the export schema refuses, and each oddity counted as a named problem."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hkcrawl.datasets import record_errors
from hkcrawl.pages.article import parse_article
from hkcrawl.record import RecordResult, build_record
from tests.conftest import ARTICLE_FIXTURES, fixture_url

SEED = ARTICLE_FIXTURES / "current_seed_2022-06-17.html"
URL = fixture_url(SEED)
SEED_PUBLISHED = "2022-06-17T17:48:00+09:00"
BODY_START = "LG전자가 인공지능(AI) 분야"


def _seed() -> str:
    return SEED.read_text(encoding="utf-8")


def _in_body(markup: str) -> str:
    anchor = 'itemprop="articleBody">'
    return _seed().replace(anchor, anchor + markup, 1)


def _in_summary(markup: str) -> str:
    anchor = '<div class="summary">'
    return _seed().replace(anchor, anchor + markup, 1)


def _with_jsonld(block: str | object) -> str:
    text = block if isinstance(block, str) else json.dumps(block, ensure_ascii=False)
    return _seed().replace("</head>", f'<script type="application/ld+json">{text}</script></head>', 1)


def _news_article(**fields: object) -> dict:
    return {"@context": "https://schema.org", "@type": "NewsArticle", **fields}


def _build(html: str, url: str = URL) -> RecordResult:
    """The record for ``html``, asserting what every hostile page must give: no
    exception, and a record that is either dropped for a missing field or schema-valid."""
    result = build_record(html.encode("utf-8"), url)
    if result.article is not None and not result.missing:
        assert result.schema == [], result.schema
        assert record_errors(asdict(result.article)) == []
        json.dumps(asdict(result.article), ensure_ascii=False).encode("utf-8")  # writable as UTF-8
    return result


def _nested(tag: str, depth: int, closed: bool) -> str:
    return f"<{tag}>" * depth + "깊은 곳의 글" + (f"</{tag}>" * depth if closed else "")


# -- nesting -------------------------------------------------------------------


@pytest.mark.parametrize("tag", ["div", "span"])
@pytest.mark.parametrize("inject", [_in_body, _in_summary], ids=["body", "summary"])
def test_a_thousand_levels_of_nesting_parse_in_full(inject, tag: str) -> None:
    """Past Python's recursion limit (1,000) but within libxml2's (2,048): all text kept."""
    result = _build(inject(_nested(tag, 1000, closed=True)))
    assert result.valid, (result.problems, result.missing)
    assert "too_deep" not in result.problems
    assert BODY_START in result.article.articleBody
    where = result.article.articleBody if inject is _in_body else "\n".join(result.article.summary)
    assert "깊은 곳의 글" in where


@pytest.mark.parametrize("closed", [True, False], ids=["closed", "unclosed"])
@pytest.mark.parametrize("tag", ["div", "span"])
@pytest.mark.parametrize("inject", [_in_body, _in_summary], ids=["body", "summary"])
def test_a_hundred_thousand_levels_of_nesting_are_too_deep_not_a_crash(inject, tag: str, closed: bool) -> None:
    result = _build(inject(_nested(tag, 100_000, closed)))
    assert "too_deep" in result.problems
    # libxml2 stops at its depth limit: the article text after the nest is gone.
    assert result.article is not None and result.missing == ["articleBody"]


# -- JSON-LD ---------------------------------------------------------------------


def test_a_hundred_thousand_deep_jsonld_array_is_bad_jsonld() -> None:
    result = _build(_with_jsonld("[" * 100_000 + "]" * 100_000))
    assert "bad_jsonld" in result.problems
    assert result.valid and result.article.datePublished == SEED_PUBLISHED


def test_a_thousand_deep_jsonld_array_is_walked_to_its_article() -> None:
    """json.loads takes ~900 levels; the walk over them must not recurse either."""
    article = json.dumps(_news_article(headline="깊은 JSON-LD 제목"), ensure_ascii=False)
    result = _build(_with_jsonld("[" * 900 + article + "]" * 900))
    assert result.valid and result.article.headline == "깊은 JSON-LD 제목"
    assert "bad_jsonld" not in result.problems


@pytest.mark.parametrize("type_", [{"@id": "NewsArticle"}, ["Thing", {"x": 1}], 7, None, [["NewsArticle"]]], ids=repr)
def test_jsonld_type_of_any_shape_is_ignored(type_: object) -> None:
    result = _build(_with_jsonld({"@type": type_, "headline": "무시될 제목"}))
    assert result.valid and result.article.headline != "무시될 제목"
    assert result.article.layout == "current"


def test_jsonld_graph_as_an_object_is_read() -> None:
    result = _build(_with_jsonld({"@graph": _news_article(headline="그래프 속 제목")}))
    assert result.valid and result.article.headline == "그래프 속 제목"
    assert result.article.layout == "current+jsonld"


@pytest.mark.parametrize("graph", ["NewsArticle", 3, None, [[[]]], {"@graph": {"@graph": []}}], ids=repr)
def test_jsonld_graph_of_other_shapes_is_ignored(graph: object) -> None:
    result = _build(_with_jsonld({"@graph": graph}))
    assert result.valid and result.article.layout == "current"


def test_jsonld_values_of_unexpected_types_fall_back_to_the_page() -> None:
    block = _news_article(
        headline=12,
        author=5,
        image={"url": {"url": "https://img.hankyung.com/a.jpg"}, "contentUrl": [1]},
        articleSection=[["경제"]],
        keywords={"a": 1},
        datePublished=20220617,
        dateModified=["2022-06-18T00:31:00+09:00"],
        isAccessibleForFree={"no": True},
        mainEntityOfPage=7,
        url=["https://www.hankyung.com/article/2022061771721"],
        articleBody={"text": "본문"},
    )
    result = _build(_with_jsonld(block))
    assert result.valid, (result.problems, result.missing)
    article = result.article
    assert article.headline and article.headline != "12"
    assert [author.name for author in article.authors] == ["정지은"]
    assert article.images == [] and article.keywords == []
    assert article.datePublished == SEED_PUBLISHED and article.dateModified == "2022-06-18T00:31:00+09:00"
    assert "bad_date" in result.problems


def test_lone_surrogates_in_jsonld_text_become_replacement_characters() -> None:
    block = '{"@type": "NewsArticle", "headline": "깨진 \\ud800 제목", "author": "\\udc00김"}'
    result = _build(_with_jsonld(block))
    assert result.valid and result.article.headline == "깨진 \ufffd 제목"
    assert result.article.authors[0].name == "\ufffd김"


# -- dates ------------------------------------------------------------------------

_FUTURE = (datetime.now(UTC) + timedelta(days=30)).isoformat(timespec="seconds")
BAD_ISO_DATES = [
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-12:00",
    "0001-01-01T00:00:00",
    "9999-12-31T23:59:59",
    "1989-12-31T23:59:59+09:00",
    _FUTURE,
    "2022-02-30T10:00:00+09:00",
    "어제 오후",
    "9" * 5000,
]


@pytest.mark.parametrize("value", BAD_ISO_DATES, ids=lambda v: v[:30])
def test_an_unusable_jsonld_date_is_bad_date_and_the_page_date_is_used(value: str) -> None:
    result = _build(_with_jsonld(_news_article(datePublished=value, dateModified=value)))
    assert "bad_date" in result.problems and result.problems.count("bad_date") == 1
    assert result.valid and result.article.datePublished == SEED_PUBLISHED


@pytest.mark.parametrize("value", [*BAD_ISO_DATES, 1655455680, 1.5e308, True, {"@value": "2022-06-17"}], ids=repr)
def test_an_unusable_date_everywhere_leaves_no_date_and_the_record_is_dropped(value: object) -> None:
    html = _with_jsonld(_news_article(datePublished=value))
    html = html.replace("2022.06.17 17:48", "1989.12.31 17:48").replace("2022.06.18 00:31", "2022.13.45 00:31")
    result = _build(html)
    assert "bad_date" in result.problems and "no_date_published" in result.problems
    assert result.article.datePublished is None and result.article.dateModified is None
    assert result.missing == ["datePublished"]


def test_a_date_two_days_ahead_at_most_is_accepted() -> None:
    soon = datetime.now(UTC) + timedelta(days=1)
    result = _build(_with_jsonld(_news_article(datePublished=soon.isoformat())))
    assert "bad_date" not in result.problems
    assert result.valid and result.article.datePublished.startswith(soon.astimezone().strftime("%Y-"))


# -- URLs ---------------------------------------------------------------------------

HOSTILE_URLS = [
    "javascript:alert(document.cookie)",
    "data:image/png;base64,iVBORw0KGgo=",
    "file:///etc/passwd",
    "http://[::1",
    "mailto:reporter@hankyung.com",
    "http://",
]


@pytest.mark.parametrize("href", HOSTILE_URLS)
def test_a_hostile_jsonld_image_is_dropped_and_counted(href: str) -> None:
    result = _build(_with_jsonld(_news_article(image=[href, {"url": href}])))
    assert "bad_url" in result.problems
    assert result.valid and result.article.images == []


def test_a_hostile_jsonld_image_gives_way_to_the_next_usable_one() -> None:
    images = ["javascript:void(0)", "/photo/202206/ok.jpg"]
    result = _build(_with_jsonld(_news_article(image=images)))
    assert [image.url for image in result.article.images] == ["https://www.hankyung.com/photo/202206/ok.jpg"]
    assert "bad_url" in result.problems


@pytest.mark.parametrize("href", HOSTILE_URLS)
def test_hostile_body_image_and_og_image_are_dropped_and_counted(href: str) -> None:
    figure = f'<figure class="article-figure"><img src="{href}"><figcaption>사진</figcaption></figure>'
    html = _in_body(figure).replace("</head>", f'<meta property="og:image" content="{href}"></head>', 1)
    result = _build(html)
    assert "bad_url" in result.problems
    assert result.valid and result.article.images == []


@pytest.mark.parametrize("href", HOSTILE_URLS)
def test_hostile_related_links_are_dropped_and_counted(href: str) -> None:
    link = f'<li><a href="{href}">관련 기사</a></li>'
    html = _seed().replace('<ul class="related-list">', f'<ul class="related-list">{link}', 1)
    result = _build(html)
    assert "bad_url" in result.problems
    assert result.valid and len(result.article.relatedArticles) == 3


@pytest.mark.parametrize("url", ["javascript:alert(1)", "file:///tmp/page.html", "relative/page.html"])
def test_a_page_url_that_is_not_http_is_bad_url_and_the_canonical_url_stands_in(url: str) -> None:
    result = _build(_seed(), url=url)
    assert "bad_url" in result.problems
    assert result.valid and result.article.url == "https://www.hankyung.com/article/2022061771721"


def test_huge_attribute_values_are_harmless() -> None:
    huge = "가" * 2_000_000
    html = _seed().replace('<div class="summary">', f'<div class="summary" data-junk="{huge}" title="{huge}">', 1)
    html = html.replace('class="article-body"', f'class="article-body {"x " * 200_000}"', 1)
    figure = f'<figure class="article-figure"><img src="https://img.hankyung.com/{"a" * 1_000_000}.jpg"></figure>'
    html = html.replace('itemprop="articleBody">', 'itemprop="articleBody">' + figure, 1)
    link = f'<li><a href="https://www.hankyung.com/article/{"9" * 1_000_000}">긴 주소</a></li>'
    html = html.replace('<ul class="related-list">', f'<ul class="related-list">{link}', 1)
    result = _build(html)
    assert result.valid, (result.problems, result.missing)
    assert len(result.article.images) == 1 and len(result.article.relatedArticles) == 3
    assert result.article.articleBody.startswith(BODY_START)


def test_parse_article_never_raises_on_random_bytes() -> None:
    """Not a fuzzer: a fixed sample of byte soups around the seed page's markup."""
    seed = SEED.read_bytes()
    for cut in range(0, len(seed), len(seed) // 40):
        soup = seed[cut:] + bytes(range(256)) + seed[:cut]
        result = parse_article(soup, URL)
        assert result.article is None or result.article.url.startswith("https://")


def test_the_seed_page_itself_counts_no_problem(seed_page: Path) -> None:
    """The problems above come from the injections, not from the page they are injected in."""
    assert _build(seed_page.read_text(encoding="utf-8")).problems == []

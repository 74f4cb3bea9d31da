from __future__ import annotations

import pytest

from hkcrawl.urls import absolute_http_url, article_id_from_url, canonicalize, is_article_id, section_slug_from_url

SAME_ARTICLE = [
    "http://www.hankyung.com/news/app/newsview.php?aid=201803204751e",
    "http://hei.hankyung.com/news/app/newsview.php?aid=201803204751e&sid=0101",
    "http://news.hankyung.com/article/201803204751e",
    "https://www.hankyung.com/economy/article/201803204751e",
    "https://www.hankyung.com/article/201803204751e",
    "https://www.hankyung.com/article/201803204751e?utm_source=naver#comments",
    "  https://www.hankyung.com/article/201803204751e/  ",
]


@pytest.mark.parametrize("url", SAME_ARTICLE)
def test_every_era_maps_to_one_id_and_canonical_url(url: str) -> None:
    assert article_id_from_url(url) == "201803204751e"
    assert canonicalize(url) == "https://www.hankyung.com/article/201803204751e"


@pytest.mark.parametrize(
    "url",
    [
        "https://www.hankyung.com/article/202206177172",  # 12 characters
        "https://www.hankyung.com/article/2022061771721x",  # 14
        "https://www.hankyung.com/article/2022061771-21",
        "https://www.hankyung.com/economy",
        "https://www.hankyung.com/tag/반도체",
        "javascript:alert('https://www.hankyung.com/article/2022061771721')",
        "mailto:x@hankyung.com?aid=2022061771721",
        "http://www.hankyung.com/news/app/newsview.php?aid=",
        "http://[::1",
        "",
    ],
)
def test_non_article_urls_have_no_id(url: str) -> None:
    assert article_id_from_url(url) is None


def test_id_format() -> None:
    assert is_article_id("2022061771721")
    assert is_article_id("202607155966v")
    assert not is_article_id("202206177172")


def test_section_slug_only_for_2019_urls() -> None:
    assert section_slug_from_url("https://www.hankyung.com/it/article/2021032482141") == "it"
    assert section_slug_from_url("https://www.hankyung.com/article/2021032482141") is None


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("/photo/a.jpg", "https://www.hankyung.com/photo/a.jpg"),
        ("//img.hankyung.com/a.jpg", "https://img.hankyung.com/a.jpg"),
        ("HTTP://IMG.hankyung.com/a.jpg", "http://IMG.hankyung.com/a.jpg"),
        ("javascript:alert(1)", None),
        ("data:image/png;base64,AAAA", None),
        ("file:///etc/passwd", None),
        ("http://[::1", None),
        ("http://", None),
        ("http://bad host/", None),
    ],
)
def test_absolute_http_url_keeps_only_fetchable_urls(href: str, expected: str | None) -> None:
    assert absolute_http_url(href, "https://www.hankyung.com/article/2022061771721") == expected

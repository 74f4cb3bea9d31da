"""Broken, hostile or odd input: never an exception, always a named problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from hkcrawl.pages.article import OVERSIZED_BYTES, parse_article
from hkcrawl.record import build_record
from tests.conftest import fixture_url

URL = "https://www.hankyung.com/article/2022061771721"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"", "empty_page"),
        (b"   \n\t ", "empty_page"),
        (b"%PDF-1.7\n\x00\x01\xff\xfe binary stream \x89PNG\r\n", "not_article"),
        (b'{"headline": "not html"}', "not_article"),
        (b"<html><body><h1>Nothing here</h1><p>just a page</p></body></html>", "not_article"),
        (b'<html><head><script type="application/ld+json">{broken</script></head><body></body></html>', "not_article"),
    ],
    ids=["empty", "whitespace", "binary", "json", "no_container", "broken_jsonld"],
)
def test_non_articles_are_named_not_raised(body: bytes, problem: str) -> None:
    result = parse_article(body, URL)
    assert result.article is None
    assert problem in result.problems


def test_truncated_page_is_parsed_but_never_valid(seed_page: Path) -> None:
    """What was sent is parsed (extract shows it), but a cut body is never a complete
    record: the crawl treats the page as a failed fetch (tests/e2e/test_run_faults.py)."""
    html = seed_page.read_bytes()
    cut = html.index("시애틀까지 가서".encode())  # in the 4th paragraph
    result = build_record(html[:cut], fixture_url(seed_page))
    assert "truncated" in result.problems and not result.valid
    assert not build_record(html, fixture_url(seed_page)).truncated
    body = result.article.articleBody
    assert body.startswith("LG전자가 인공지능(AI) 분야") and "몬트리올대" not in body
    assert result.article.datePublished == "2022-06-17T17:48:00+09:00"


def test_article_without_body_is_reported_and_not_valid(seed_page: Path) -> None:
    # The container is there but empty (a renamed id alone is no longer enough: the
    # itemprop cue finds the body, see tests/pages/test_field_cues.py).
    html = seed_page.read_text(encoding="utf-8")
    start = html.index('itemprop="articleBody">') + len('itemprop="articleBody">')
    html = html[:start] + html[html.index('</div>\n  <div class="reaction"', start) :]
    result = build_record(html.encode(), fixture_url(seed_page))
    assert result.article is not None and result.article.headline
    assert "no_body" in result.problems
    assert result.missing == ["articleBody"]


def test_five_megabyte_page_is_parsed_and_counted(seed_page: Path) -> None:
    html = seed_page.read_text(encoding="utf-8")
    filler = "<div class='footer-junk'>" + ("광고 문구 " * 200 + "<br>") * 2600 + "</div>"
    huge = html.replace("</body>", filler + "</body>").encode()
    assert len(huge) > 5_000_000 > OVERSIZED_BYTES
    result = build_record(huge, fixture_url(seed_page))
    assert "oversized" in result.problems
    assert result.valid and result.article.articleBody.startswith("LG전자가")


def test_utf8_bytes_declared_as_euc_kr_come_out_right(seed_page: Path) -> None:
    html = seed_page.read_text(encoding="utf-8")
    lying = html.replace("<head>", '<head><meta charset="euc-kr">', 1).encode("utf-8")
    result = build_record(lying, fixture_url(seed_page), content_type="text/html; charset=euc-kr")
    assert "encoding_mismatch" in result.problems
    assert result.article.authors[0].name == "정지은"


def test_cp949_bytes_declared_as_utf8_come_out_right() -> None:
    html = (
        '<html><head><meta charset="utf-8"></head><body><h1 class="headline">똠양꿍 수입 급증</h1>'
        '<div class="datetime"><span class="txt-date">2021.03.24 10:00</span></div>'
        '<div id="articletxt">태국 음식 수입이 늘었다.<br><br>김철수 기자 kim@hankyung.com</div></body></html>'
    ).encode("cp949")
    result = build_record(html, URL, content_type="text/html; charset=utf-8")
    assert "encoding_mismatch" in result.problems
    assert result.article.headline == "똠양꿍 수입 급증"
    assert result.article.articleBody == "태국 음식 수입이 늘었다."

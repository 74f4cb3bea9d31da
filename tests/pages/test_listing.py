"""List pages, sitemaps and feeds -> article links with KST dates."""

from __future__ import annotations

from hkcrawl.pages.listing import parse_all_news, parse_rss, parse_section_list, parse_sitemap, rfc822_to_kst
from tests.conftest import ARTICLE_FIXTURES, ROOT

LISTS = ROOT / "tests" / "fixtures" / "lists"


def test_section_list_items_dates_and_page_count() -> None:
    html = (ARTICLE_FIXTURES / "not_article_economy_list.html").read_text(encoding="utf-8")
    listing = parse_section_list(html, "https://www.hankyung.com/economy")
    assert [link.article_id for link in listing.links] == [
        "2026071556827", "202607155966v", "202607156285g", "2026071552203", "2026071548871",
    ]  # fmt: skip
    assert listing.links[0].published == "2026-07-15T17:41:00+09:00"
    assert listing.total_pages == 500


def test_section_list_skips_the_headline_block_and_rejects_foreign_links() -> None:
    html = """<div class="main-news-wrap"><div class="news-item type-headline">
      <h2 class="news-tit"><a href="https://www.hankyung.com/article/2026071500001">top</a></h2></div></div>
      <div class="news-list-wrap"><ul class="news-list">
      <li><div class="news-item"><div class="text-cont"><h2 class="news-tit"><a href="/article/2026071500002">a</a></h2>
          <p class="txt-date">2026.07.15 10:00</p></div></div></li>
      <li><div class="news-item"><div class="text-cont"><h2 class="news-tit"><a href="javascript:void(0)">x</a></h2>
          </div></div></li>
      </ul></div>"""
    listing = parse_section_list(html, "http://127.0.0.1:8000/economy")
    assert [link.url for link in listing.links] == ["http://127.0.0.1:8000/article/2026071500002"]
    assert listing.rejected == ["javascript:void(0)"]
    assert listing.total_pages is None


def test_empty_list_page_has_no_links() -> None:
    html = '<div class="news-list-wrap"><ul class="news-list"></ul></div>'
    assert parse_section_list(html, "https://www.hankyung.com/economy?page=99").links == []


def test_all_news_uses_li_data_aid_items() -> None:
    html = """<div class="allnews-wrap"><ul class="allnews-list">
      <li data-aid="202607155966v"><div class="news-item"><div class="txt-cont">
        <h2 class="news-tit"><a href="https://www.hankyung.com/article/202607155966v">t</a></h2>
        <p class="txt-date">2026.07.15 16:58</p></div></div></li></ul></div>"""
    [link] = parse_all_news(html, "https://www.hankyung.com/all-news").links
    assert (link.article_id, link.published) == ("202607155966v", "2026-07-15T16:58:00+09:00")


def test_rss_link_in_cdata_with_whitespace() -> None:
    listing = parse_rss((LISTS / "feed_all-news.xml").read_bytes(), "https://www.hankyung.com/feed/all-news")
    assert [link.url for link in listing.links] == [
        "https://www.hankyung.com/article/202504227694H",
        "https://www.hankyung.com/article/2025042276011",
    ]
    assert listing.links[0].published == "2025-04-22T14:15:03+09:00"
    assert listing.links[0].title == "코스피, 외국인 매수에 2500선 회복"
    assert listing.rejected == ["javascript:openEvent()"]


def test_google_news_sitemap_dates_in_kst() -> None:
    listing = parse_sitemap((LISTS / "sitemap_latest-article.xml").read_bytes(), "https://www.hankyung.com/sitemap/x")
    assert [(link.article_id, link.published) for link in listing.links] == [
        ("202607156285g", "2026-07-15T15:47:00+09:00"),
        ("2026071548871", "2026-07-15T11:05:00+09:00"),
    ]


def test_sitemap_index_lists_the_daily_sitemaps() -> None:
    listing = parse_sitemap((LISTS / "sitemap_daily-article.xml").read_bytes(), "https://www.hankyung.com/sitemap/")
    assert listing.links == []
    assert listing.sitemaps[0] == "https://www.hankyung.com/sitemap/daily-article/20260715.xml"


def test_broken_xml_gives_no_links_not_an_exception() -> None:
    assert parse_sitemap(b"<urlset><url><loc>https://www.hankyung.com/art", "u").links == []
    assert parse_rss(b"\x00\xff not xml", "u").links == []
    assert rfc822_to_kst("yesterday") is None

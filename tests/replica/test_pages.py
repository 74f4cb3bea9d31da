"""List pages, redirects, robots.txt, sitemaps and feeds in the markup of hankyung-site.md §1–§3."""

from __future__ import annotations

import math
from datetime import timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import quote

import pytest
from lxml import etree
from parsel import Selector

from hkcrawl.pages.article import parse_article
from hkcrawl.replica import ReplicaServer, SiteModel
from hkcrawl.replica.feeds import DISALLOWED, FEEDS
from hkcrawl.sections import SECTIONS, SUBSECTIONS
from tests.replica.conftest import fetch

NS = {
    "sm": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "news": "http://www.google.com/schemas/sitemap-news/0.9",
    "image": "http://www.google.com/schemas/sitemap-image/1.1",
}

#: The full paths of §3.4, so the markup is checked, not only found.
SECTION_ITEM_LINKS = (
    "div.news-list-wrap > ul.news-list > li > div.news-item > div.text-cont > h2.news-tit > a::attr(href)"
)
ALL_NEWS_ITEM_LINKS = (
    "div.allnews-wrap ul.allnews-list > li[data-aid] > div.news-item > div.txt-cont > h2.news-tit > a::attr(href)"
)


def _ids_from_links(replica: ReplicaServer, hrefs: list[str]) -> list[str]:
    prefix = replica.base_url + "/article/"
    assert all(h.startswith(prefix) for h in hrefs), hrefs[:3]
    return [h[len(prefix) :] for h in hrefs]


def _walk(replica: ReplicaServer, path: str, item_links: str) -> tuple[list[str], int, int]:
    """All ids over every page of a list, the pages' ``span.total``, and pages read."""
    ids: list[str] = []
    page, total = 1, None
    while True:
        sel = Selector(fetch(replica.url(f"{path}?page={page}")).text)
        total = int(sel.css("div.select-paging div.page-select span.total::text").get())
        found = _ids_from_links(replica, sel.css(item_links).getall())
        if not found:
            return ids, total, page
        ids += found
        page += 1


@pytest.mark.parametrize(
    ("section", "sub"), [("economy", None), ("industry", "semicon-electronics"), ("opinion", None), ("it", None)]
)
def test_section_lists_page_through_every_article_newest_first(
    replica: ReplicaServer, model: SiteModel, section: str, sub: str | None
) -> None:
    path = f"/{section}/{sub}" if sub else f"/{section}"
    ids, total, pages_read = _walk(replica, path, SECTION_ITEM_LINKS)
    assert ids == model.ids(section, sub) and ids
    assert total == math.ceil(len(ids) / 20) and pages_read == total + 1
    times = [model.article(aid).published for aid in ids]
    assert times == sorted(times, reverse=True)


def test_section_page_items_and_headline_block(replica: ReplicaServer, model: SiteModel) -> None:
    sel = Selector(fetch(replica.url("/economy")).text)
    headline = _ids_from_links(
        replica, sel.css("div.main-news-wrap div.news-item.type-headline h2.news-tit a::attr(href)").getall()
    )
    assert headline == model.ids("economy")[:3]  # the newest, repeated in the list below
    items = sel.css("ul.news-list > li")
    assert len(items) == 20
    for item in items:
        aid = _ids_from_links(replica, item.css("h2.news-tit > a::attr(href)").getall())[0]
        article = model.article(aid)
        assert item.css("h2.news-tit > a::text").get() == article.headline
        assert item.css("p.txt-date::text").get() == article.published.strftime("%Y.%m.%d %H:%M")
        depth = item.css("span.depth3 > a")
        if article.subsection:
            assert depth.css("::text").get() == article.subsection_name
            assert depth.attrib["href"] == f"/economy/{article.subsection}"
        else:
            assert not depth
        assert (item.css("figure.thumb img::attr(src)").get() or None) == article.thumbnail
    assert "select" in sel.css("div.select-paging .paging .page-select").get()


def test_past_the_end_is_an_empty_list_with_no_news_titles(replica: ReplicaServer, model: SiteModel) -> None:
    last = model.total_pages("economy")
    sel = Selector(fetch(replica.url(f"/economy?page={last + 1}")).text)
    assert sel.css("div.news-list-wrap ul.news-list") and not sel.css("ul.news-list > li")
    assert not sel.css("h2.news-tit")  # no headline block either: the §1.3 stop signal holds
    assert sel.css("span.total::text").get() == str(last)


def test_all_news_lists_every_visible_article(replica: ReplicaServer, model: SiteModel) -> None:
    ids, total, _ = _walk(replica, "/all-news", ALL_NEWS_ITEM_LINKS)
    assert ids == model.ids() and len(ids) == 400 and total == 20
    sel = Selector(fetch(replica.url("/all-news")).text)
    first = sel.css("ul.allnews-list > li")[0]
    assert first.attrib["data-aid"] == ids[0]
    assert first.css("p.txt-date::text").get() == model.article(ids[0]).published.strftime("%Y.%m.%d %H:%M")
    assert not sel.css("div.text-cont") and not sel.css("span.depth3")  # all-news has neither (§3.4)


def test_every_listed_id_exists_and_list_pages_are_not_articles(replica: ReplicaServer, model: SiteModel) -> None:
    paths = ["/", "/ranking", "/premium9", "/all-news?page=3", "/society/education", "/tag/" + quote("수출")]
    for path in paths:
        body = fetch(replica.url(path)).body
        hrefs = Selector(body.decode()).css("a::attr(href)").getall()
        for aid in [h.rsplit("/", 1)[1] for h in hrefs if "/article/" in h]:
            assert model.visible(aid), (path, aid)
        assert parse_article(body, replica.url(path)).article is None, path


def test_ranking_premium_and_tag_pages(replica: ReplicaServer, model: SiteModel) -> None:
    sel = Selector(fetch(replica.url("/ranking")).text)
    items = sel.css("div.ranking-wrap > div.ranking-panel > ul.ranking-news-list > li")
    assert [li.css("em.rank.txt-num::text").get() for li in items] == [str(n) for n in range(1, 31)]
    assert _ids_from_links(replica, sel.css("div.news-item h2.news-tit > a::attr(href)").getall()) == model.ranking()
    assert sel.css("div.ranking-range strong.txt-num::text").get() == model.now.strftime("%Y.%m.%d %H:%M")

    sel = Selector(fetch(replica.url("/premium9")).text)
    premium = _ids_from_links(replica, sel.css("ul.news-list h2.news-tit a::attr(href)").getall())
    assert premium and all(model.article(aid).premium for aid in premium)

    keyword = model.article(model.all_ids[0]).keywords[0]
    response = fetch(replica.url("/tag/" + quote(keyword)))
    tagged = _ids_from_links(replica, Selector(response.text).css("ul.news-list h2.news-tit a::attr(href)").getall())
    assert response.status == 200 and tagged == model.ids(tag=keyword)[:20]


def test_old_url_forms_redirect_to_the_current_one(replica: ReplicaServer, model: SiteModel) -> None:
    aid = model.all_ids[10]
    for old in (f"/news/app/newsview.php?aid={aid}", f"/economy/article/{aid}", f"/economy/macro/article/{aid}"):
        response = fetch(replica.url(old))
        assert response.status == 301, old
        assert response.headers["location"] == replica.url(f"/article/{aid}")
    assert fetch(replica.url(f"/article/{aid}?from=rss")).status == 200


@pytest.mark.parametrize(
    "path",
    ["/article/2026112099999", "/article/12345", "/news/app/newsview.php?aid=bad", "/nosuchsection",
     "/economy/nosuch", "/feed/nosuch", "/sitemap/daily-article/19990101.xml", "/economy/macro/macro"],
)  # fmt: skip
def test_unknown_pages_are_404(replica: ReplicaServer, path: str) -> None:
    response = fetch(replica.url(path))
    assert response.status == 404 and "페이지를 찾을 수 없습니다" in response.text


def test_every_known_section_and_subsection_page_exists(replica: ReplicaServer) -> None:
    paths = [f"/{s}" for s in SECTIONS] + [f"/{s}/{sub}" for s, subs in SUBSECTIONS.items() for sub in subs]
    assert all(fetch(replica.url(path)).status == 200 for path in paths)


def test_robots_txt(replica: ReplicaServer) -> None:
    response = fetch(replica.url("/robots.txt"))
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    for path in DISALLOWED:
        assert f"Disallow: {path}\n" in text
    for bot in ("dotbot", "AhrefsBot", "SemrushBot", "SemrushBot-SA", "SemrushBot-BA"):
        assert f"User-agent: {bot}\nDisallow: /\n" in text
    assert f"Sitemap: {replica.base_url}/sitemap/latest-article.xml" in text
    assert f"Sitemap: {replica.base_url}/sitemap/daily-article.xml" in text


def _xml(replica: ReplicaServer, path: str) -> etree._Element:
    response = fetch(replica.url(path))
    assert response.status == 200 and "xml" in response.headers["content-type"]
    return etree.fromstring(response.body)


def test_latest_sitemap_is_a_google_news_sitemap_of_the_last_two_days(replica: ReplicaServer, model: SiteModel) -> None:
    root = _xml(replica, "/sitemap/latest-article.xml")
    urls = root.findall("sm:url", NS)
    ids = [u.findtext("sm:loc", namespaces=NS).rsplit("/", 1)[1] for u in urls]
    since = model.now - timedelta(hours=48)
    assert ids == [aid for aid in model.ids() if model.article(aid).published >= since][:1000]
    for url, aid in zip(urls, ids, strict=True):
        article = model.article(aid)
        assert url.findtext("news:news/news:publication/news:name", namespaces=NS) == "한국경제"
        assert url.findtext("news:news/news:publication/news:language", namespaces=NS) == "ko"
        assert url.findtext("news:news/news:publication_date", namespaces=NS) == article.published.isoformat()
        assert url.findtext("news:news/news:title", namespaces=NS) == article.headline
        assert url.findtext("image:image/image:loc", namespaces=NS) == article.thumbnail


def test_daily_sitemaps_cover_every_visible_article(replica: ReplicaServer, model: SiteModel) -> None:
    index = _xml(replica, "/sitemap/daily-article.xml")
    locs = [s.findtext("sm:loc", namespaces=NS) for s in index.findall("sm:sitemap", NS)]
    assert locs == [replica.url(f"/sitemap/daily-article/{day}.xml") for day in model.days_with_articles()]
    seen = []
    for loc in locs:
        day = _xml(replica, loc[len(replica.base_url) :])
        for url in day.findall("sm:url", NS):
            aid = url.findtext("sm:loc", namespaces=NS).rsplit("/", 1)[1]
            modified = model.modified(aid) or model.article(aid).published
            assert url.findtext("sm:lastmod", namespaces=NS) == modified.isoformat()
            assert loc.endswith(f"/{aid[:8]}.xml")
            seen.append(aid)
    assert sorted(seen) == sorted(model.ids())


@pytest.mark.parametrize("slug", ["all-news", "finance", "economy"])
def test_rss_feeds_follow_the_live_format(replica: ReplicaServer, model: SiteModel, slug: str) -> None:
    response = fetch(replica.url(f"/feed/{slug}"))
    assert b"<link><![CDATA[\n" in response.body  # CDATA link with whitespace around the URL
    channel = etree.fromstring(response.body).find("channel")
    name, section = FEEDS[slug]
    assert channel.findtext("title") == (f"한국경제 | {name}" if section is None else f"한국경제 | 뉴스 | {name}")
    assert channel.findtext("language") == "ko" and channel.findtext("description") == "한경닷컴 RSS 서비스"
    items = channel.findall("item")
    assert [i.findtext("link").strip() for i in items] == [
        replica.url(f"/article/{a}") for a in model.ids(section)[:50]
    ]
    for item in items:
        assert item.find("guid") is None and item.find("description") is None
        aid = item.findtext("link").strip().rsplit("/", 1)[1]
        assert item.findtext("title") == model.article(aid).headline
        assert item.findtext("author") == model.article(aid).reporters[0].name
        assert parsedate_to_datetime(item.findtext("pubDate")) == model.article(aid).published
        assert item.findtext("pubDate").endswith("+0900")


def test_feed_index_lists_the_category_feeds(replica: ReplicaServer) -> None:
    hrefs = Selector(fetch(replica.url("/feed")).text).css("ul.rss-list a::attr(href)").getall()
    assert hrefs == [replica.url(f"/feed/{slug}") for slug in FEEDS]

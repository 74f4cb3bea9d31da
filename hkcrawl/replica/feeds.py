"""robots.txt, Google News sitemaps and RSS 2.0 feeds, per hankyung-site.md §2.

URLs inside them are on the replica's base URL, so a crawl that follows them stays
on the replica. Two details are the replica's own choice where the notes are
silent: per-day sitemaps carry a standard ``<lastmod>`` (the 수정 time, else the
publish time), and ``/feed`` is an HTML page listing the category feeds.
"""

from __future__ import annotations

from email.utils import format_datetime

from hkcrawl.replica import chrome
from hkcrawl.replica.chrome import esc
from hkcrawl.replica.model import SiteModel, iso_time
from hkcrawl.sections import FEEDS as FEED_NAMES
from hkcrawl.sections import SECTION_ALIASES, SECTIONS

#: §2.3, fetched 2026-07-15.
DISALLOWED = (
    "/ad/", "/cp/", "/html/", "/test/", "/include/", "/pdsdata/", "/print/", "/email/", "/article/download/",
    "/api/", "/app-data/", "/ext-api/", "/action/", "/pageviews/", "/tag/",
)  # fmt: skip
BANNED_BOTS = ("dotbot", "AhrefsBot", "SemrushBot", "SemrushBot-SA", "SemrushBot-BA")


def _feed(name: str) -> tuple[str, str | None]:
    """A feed's title name and section (None: every article); names and aliases from hkcrawl.sections."""
    if name == "all-news":
        return "전체뉴스", None
    section = SECTION_ALIASES.get(name, name)
    return SECTIONS[section], section


#: §2.1: feed name -> (the name its title shows, its section slug or None).
FEEDS: dict[str, tuple[str, str | None]] = {name: _feed(name) for name in FEED_NAMES}
FEED_ITEMS = 50
LATEST_HOURS, LATEST_LIMIT = 48, 1000

_NEWS_NS = (
    'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
    'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9" '
    'xmlns:image="http://www.google.com/schemas/sitemap-image/1.1"'
)


def cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def robots(base: str) -> str:
    banned = "".join(f"User-agent: {bot}\nDisallow: /\n\n" for bot in BANNED_BOTS)
    rules = "".join(f"Disallow: {path}\n" for path in DISALLOWED)
    sitemaps = f"Sitemap: {base}/sitemap/latest-article.xml\nSitemap: {base}/sitemap/daily-article.xml\n"
    return f"{banned}User-agent: *\n{rules}\n{sitemaps}"


def _news_urls(model: SiteModel, base: str, ids: list[str], lastmod: bool) -> str:
    entries = []
    for aid in ids:
        article = model.article(aid)
        image = (
            f"\n  <image:image><image:loc>{article.thumbnail}</image:loc></image:image>" if article.thumbnail else ""
        )
        modified = model.modified(aid)
        stamp = f"\n  <lastmod>{iso_time(modified or article.published)}</lastmod>" if lastmod else ""
        entries.append(
            f"<url>\n  <loc>{base}/article/{aid}</loc>{stamp}\n  <news:news>\n"
            "    <news:publication><news:name>한국경제</news:name><news:language>ko</news:language>"
            "</news:publication>\n"
            f"    <news:publication_date>{iso_time(article.published)}</news:publication_date>\n"
            f"    <news:title>{cdata(article.headline)}</news:title>\n  </news:news>{image}\n</url>\n"
        )
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset {_NEWS_NS}>\n{"".join(entries)}</urlset>\n'


def latest_sitemap(model: SiteModel, base: str) -> str:
    """The last 2 days, newest first, at most 1000 (§2.2)."""
    return _news_urls(model, base, model.latest(LATEST_HOURS, LATEST_LIMIT), lastmod=False)


def daily_index(model: SiteModel, base: str) -> str:
    entries = []
    for day in model.days_with_articles():
        stamps = [model.modified(aid) or model.article(aid).published for aid in model.ids(day=day)]
        entries.append(
            f"<sitemap>\n  <loc>{base}/sitemap/daily-article/{day}.xml</loc>\n"
            f"  <lastmod>{iso_time(max(stamps))}</lastmod>\n</sitemap>\n"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{"".join(entries)}</sitemapindex>\n'
    )


def daily_sitemap(model: SiteModel, base: str, day: str) -> str | None:
    """One day's articles, or None (a 404) for a day with none visible."""
    ids = model.ids(day=day)
    return _news_urls(model, base, ids, lastmod=True) if ids else None


def rss(model: SiteModel, base: str, slug: str) -> str | None:
    """A category feed exactly as §2.1 shows it: CDATA link with whitespace, no guid/description."""
    if slug not in FEEDS:
        return None
    name, section = FEEDS[slug]
    title = f"한국경제 | {name}" if section is None else f"한국경제 | 뉴스 | {name}"
    link = f"{base}/all-news" if section is None else f"{base}/{section}"
    items = []
    for aid in model.ids(section)[:FEED_ITEMS]:
        article = model.article(aid)
        items.append(
            f"    <item>\n      <title>{cdata(article.headline)}</title>\n"
            f"      <link>{cdata(f'{chr(10)}        {base}/article/{aid}{chr(10)}      ')}</link>\n"
            f"      <author>{cdata(article.reporters[0].name)}</author>\n"
            f"      <pubDate>{format_datetime(article.published)}</pubDate>\n    </item>\n"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>\n'
        f"    <title>{cdata(title)}</title>\n    <link>{link}</link>\n    <language>ko</language>\n"
        "    <copyright>Copyright (c) 2005 hankyung.com All rights reserved</copyright>\n"
        f"    <lastBuildDate>{format_datetime(model.now)}</lastBuildDate>\n"
        f"    <description>한경닷컴 RSS 서비스</description>\n{''.join(items)}</channel></rss>\n"
    )


def feed_index(base: str) -> str:
    """``/feed``: the page that lists the category feeds (the footer's RSS link)."""
    rows = "".join(
        f'<li><span class="name">{esc(name)}</span> <a href="{base}/feed/{slug}">{base}/feed/{slug}</a></li>\n'
        for slug, (name, _) in FEEDS.items()
    )
    inner = (
        f'<div class="rss-wrap">\n<h2 class="rss-tit">한경닷컴 RSS 서비스</h2>\n<ul class="rss-list">\n{rows}</ul>\n'
        "</div>\n"
    )
    return (
        chrome.head("RSS | 한국경제", "rss")
        + '<body class="page-rss">\n'
        + chrome.header(base)
        + inner
        + chrome.footer(base)
    )

"""List pages, sitemaps and RSS -> article links with their dates.

Section lists (``/economy``, ``/economy/macro``), ``/all-news`` (hankyung-site.md §3.4),
Google-News sitemaps (§2.2) and RSS 2.0 feeds (§2.1). Like the article parsers these
are pure functions of (text, URL); the spider decides what to do with the links.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

from lxml import etree
from parsel import Selector
from parsel.csstranslator import HTMLTranslator

from hkcrawl import urls
from hkcrawl.pages.text import kst_or_none, normalize_space


@dataclass(frozen=True)
class Link:
    """A link to an article as a list shows it; ``published`` is ISO 8601 KST or None."""

    url: str
    article_id: str
    published: str | None = None
    title: str | None = None
    #: The 수정 time, where the source gives one (daily sitemaps' ``lastmod``).
    modified: str | None = None


@dataclass
class Listing:
    links: list[Link] = field(default_factory=list)
    #: Links that were not article links on an allowed host (off-site, javascript: …).
    rejected: list[str] = field(default_factory=list)
    #: Total pages the pager announces (``span.total``), when it shows one.
    total_pages: int | None = None
    #: Nested sitemaps (a sitemap index lists these instead of articles).
    sitemaps: list[str] = field(default_factory=list)


def _xpath(query: str) -> etree.XPath:
    return etree.XPath(query, smart_strings=False)


def _css(query: str) -> etree.XPath:
    # The XPath parsel runs for ``.css(query)`` (the same for html and xml pages).
    return _xpath(HTMLTranslator().css_to_xpath(query))


# Per-item queries, compiled once and run on each item's lxml element: one parsel
# .css()/.xpath() per field of every item was most of a list page's parse time.
_NEWS_TITLE_LINKS = _css("h2.news-tit a")
_TEXTS = _css("::text")
_ITEM_DATE = _css("p.txt-date::text")


def _local(path: str) -> etree.XPath:
    """``path`` with every element step matched by local name, whatever its namespace:
    what ``Selector.remove_namespaces()`` gave, without a Python pass over the tree
    (it was a third of a sitemap's parse time)."""
    steps = [step if step in ("", "text()") else f'*[local-name()="{step}"]' for step in path.split("/")]
    return _xpath("/".join(steps))


_SITEMAP_LOCS = _local("/sitemapindex/sitemap/loc/text()")
_URLSET_URLS = _local("/urlset/url")
_LOC = _local("loc/text()")
_NEWS_PUBLISHED = _local("news/publication_date/text()")
_LASTMOD = _local("lastmod/text()")
_NEWS_TITLE = _local("news/title/text()")
_LINK = _xpath("link/text()")
_PUB_DATE = _xpath("pubDate/text()")
_TITLE = _xpath("title/text()")


def _first(query: etree.XPath, element: etree._Element) -> str | None:
    """``selector.xpath(query).get()`` on the element."""
    found = query(element)
    return found[0] if found else None


def _news_item(item: etree._Element, base_url: str, listing: Listing) -> None:
    """One ``h2.news-tit a`` + ``p.txt-date`` item of a section list or /all-news."""
    anchors = _NEWS_TITLE_LINKS(item)
    _link(
        anchors[0].get("href") if anchors else None,
        base_url,
        kst_or_none(_first(_ITEM_DATE, item)),
        " ".join(text for anchor in anchors for text in _TEXTS(anchor)),
        listing,
    )


def _link(
    href: str | None,
    base_url: str,
    published: str | None,
    title: str | None,
    listing: Listing,
    modified: str | None = None,
) -> None:
    href = (href or "").strip()
    if not href:
        return
    absolute = urljoin(base_url, href)
    article_id = urls.article_id_from_url(absolute)
    if article_id is None:
        listing.rejected.append(href)
        return
    listing.links.append(Link(absolute, article_id, published, normalize_space(title) if title else None, modified))


def parse_section_list(html: str, url: str) -> Listing:
    """``/<section>[/<sub>]?page=N``: the ``ul.news-list`` items; the headline block
    above them (``div.main-news-wrap``) repeats the newest articles and is skipped."""
    sel = Selector(text=html)
    listing = Listing()
    for item in sel.css("div.news-list-wrap ul.news-list > li div.news-item"):
        _news_item(item.root, url, listing)
    listing.total_pages = _total_pages(sel)
    return listing


def parse_all_news(html: str, url: str) -> Listing:
    """``/all-news?page=N``: ``li[data-aid]`` items (the id is on the ``li``)."""
    sel = Selector(text=html)
    listing = Listing()
    for item in sel.css("ul.allnews-list > li[data-aid]"):
        _news_item(item.root, url, listing)
    listing.total_pages = _total_pages(sel)
    return listing


def _total_pages(sel: Selector) -> int | None:
    total = sel.css("div.select-paging div.page-select span.total::text").re_first(r"\d+")
    return int(total) if total else None


def parse_sitemap(xml: str | bytes, url: str) -> Listing:
    """A Google-News ``urlset`` (loc, news:publication_date, news:title) or a
    ``sitemapindex`` (its ``loc``s go to ``sitemaps``)."""
    root = Selector(text=xml.decode("utf-8", "replace") if isinstance(xml, bytes) else xml, type="xml").root
    listing = Listing()
    listing.sitemaps = [urljoin(url, loc.strip()) for loc in _SITEMAP_LOCS(root)]
    for entry in _URLSET_URLS(root):
        lastmod = _first(_LASTMOD, entry)
        _link(
            _first(_LOC, entry),
            url,
            kst_or_none(_first(_NEWS_PUBLISHED, entry) or lastmod),
            _first(_NEWS_TITLE, entry),
            listing,
            modified=kst_or_none(lastmod),
        )
    return listing


def parse_rss(xml: str | bytes, url: str) -> Listing:
    """RSS 2.0 ``item``s: ``link`` is CDATA with whitespace around it and there is no
    ``guid`` (§2.1), so the link is the only key."""
    sel = Selector(text=xml.decode("utf-8", "replace") if isinstance(xml, bytes) else xml, type="xml")
    listing = Listing()
    for item in sel.xpath("//channel/item"):
        _link(
            _first(_LINK, item.root),
            url,
            rfc822_to_kst(_first(_PUB_DATE, item.root)),
            _first(_TITLE, item.root),
            listing,
        )
    return listing


def rfc822_to_kst(text: str | None) -> str | None:
    """RSS ``pubDate`` ("Tue, 22 Apr 2025 14:15:03 +0900") -> ISO 8601 KST."""
    try:
        moment = parsedate_to_datetime((text or "").strip())
    except (TypeError, ValueError):
        return None
    return kst_or_none(moment.isoformat())

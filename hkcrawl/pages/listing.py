"""List pages, sitemaps and RSS -> article links with their dates.

Section lists (``/economy``, ``/economy/macro``), ``/all-news`` (hankyung-site.md §3.4),
Google-News sitemaps (§2.2) and RSS 2.0 feeds (§2.1). Like the article parsers these
are pure functions of (text, URL); the spider decides what to do with the links.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

from parsel import Selector

from hkcrawl import urls
from hkcrawl.pages.text import kst_from_iso, kst_from_text, normalize_space


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
        anchor = item.css("h2.news-tit a")
        _link(
            anchor.attrib.get("href"),
            url,
            kst_from_text(item.css("p.txt-date::text").get()),
            " ".join(anchor.css("::text").getall()),
            listing,
        )
    listing.total_pages = _total_pages(sel)
    return listing


def parse_all_news(html: str, url: str) -> Listing:
    """``/all-news?page=N``: ``li[data-aid]`` items (the id is on the ``li``)."""
    sel = Selector(text=html)
    listing = Listing()
    for item in sel.css("ul.allnews-list > li[data-aid]"):
        anchor = item.css("h2.news-tit a")
        _link(
            anchor.attrib.get("href"),
            url,
            kst_from_text(item.css("p.txt-date::text").get()),
            " ".join(anchor.css("::text").getall()),
            listing,
        )
    listing.total_pages = _total_pages(sel)
    return listing


def _total_pages(sel: Selector) -> int | None:
    total = sel.css("div.select-paging div.page-select span.total::text").re_first(r"\d+")
    return int(total) if total else None


def parse_sitemap(xml: str | bytes, url: str) -> Listing:
    """A Google-News ``urlset`` (loc, news:publication_date, news:title) or a
    ``sitemapindex`` (its ``loc``s go to ``sitemaps``)."""
    sel = Selector(text=xml.decode("utf-8", "replace") if isinstance(xml, bytes) else xml, type="xml")
    sel.remove_namespaces()
    listing = Listing()
    listing.sitemaps = [urljoin(url, loc.strip()) for loc in sel.xpath("/sitemapindex/sitemap/loc/text()").getall()]
    for entry in sel.xpath("/urlset/url"):
        _link(
            entry.xpath("loc/text()").get(),
            url,
            kst_from_iso(entry.xpath("news/publication_date/text()").get() or entry.xpath("lastmod/text()").get()),
            entry.xpath("news/title/text()").get(),
            listing,
            modified=kst_from_iso(entry.xpath("lastmod/text()").get()),
        )
    return listing


def parse_rss(xml: str | bytes, url: str) -> Listing:
    """RSS 2.0 ``item``s: ``link`` is CDATA with whitespace around it and there is no
    ``guid`` (§2.1), so the link is the only key."""
    sel = Selector(text=xml.decode("utf-8", "replace") if isinstance(xml, bytes) else xml, type="xml")
    listing = Listing()
    for item in sel.xpath("//channel/item"):
        _link(
            item.xpath("link/text()").get(),
            url,
            rfc822_to_kst(item.xpath("pubDate/text()").get()),
            item.xpath("title/text()").get(),
            listing,
        )
    return listing


def rfc822_to_kst(text: str | None) -> str | None:
    """RSS ``pubDate`` ("Tue, 22 Apr 2025 14:15:03 +0900") -> ISO 8601 KST."""
    try:
        moment = parsedate_to_datetime((text or "").strip())
    except (TypeError, ValueError):
        return None
    return kst_from_iso(moment.isoformat())

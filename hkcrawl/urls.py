"""Article ids and the URL forms hankyung.com has used for them.

hankyung-site.md §1: an id is ``YYYYMMDD`` + 4 digits + one ``[0-9A-Za-z]``; the same
article has appeared as ``newsview.php?aid=<id>`` (≤2018, also on hei./land.),
``news.hankyung.com/article/<id>`` (2018), ``/<section>/article/<id>`` (2019–2022) and
``/article/<id>`` (mid-2022 on). Everything else in the project keys articles by id.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import parse_qs, urljoin, urlsplit

CANONICAL_ARTICLE_URL = "https://www.hankyung.com/article/{id}"

ARTICLE_ID = r"(?P<id>(?P<date>(?:19|20)\d{6})\d{4}[0-9A-Za-z])"
_ID_RE = re.compile(rf"^{ARTICLE_ID}$")
# /article/<id> and /<section>/article/<id>; the id must be the whole last segment.
_PATH_RE = re.compile(rf"^(?:/(?P<section>[a-z0-9-]+(?:/[a-z0-9-]+)*))?/article/{ARTICLE_ID}/?$")
_NEWSVIEW_PATH = "/news/app/newsview.php"

#: Hosts that serve hankyung.com articles in one of the forms above.
ARTICLE_HOSTS = frozenset(
    {"www.hankyung.com", "hankyung.com", "news.hankyung.com", "hei.hankyung.com", "land.hankyung.com"}
)


def site_hosts(base_url: str | None) -> frozenset[str]:
    """The hosts a crawl may fetch from: the article hosts and the base URL's host.

    The base URL is where the crawl starts (the live site, or the local replica on
    127.0.0.1); its port is not part of the check, as for the article hosts.
    """
    base_host = urlsplit(base_url or "").hostname
    return ARTICLE_HOSTS | ({base_host} if base_host else set())


def is_article_id(value: str) -> bool:
    return bool(_ID_RE.match(value))


# One article's URL turns up in several lists, sitemaps and related blocks per crawl.
@lru_cache(maxsize=1 << 16)
def article_id_from_url(url: str) -> str | None:
    """The article id a URL points to, whatever its era, or None.

    The host is not checked here (the local replica serves the same paths under
    another host); callers decide which hosts they trust.
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https"):
        return None
    if parts.path == _NEWSVIEW_PATH:
        aid = parse_qs(parts.query).get("aid", [""])[0]
        return aid if is_article_id(aid) else None
    match = _PATH_RE.match(parts.path)
    return match.group("id") if match else None


def section_slug_from_url(url: str) -> str | None:
    """The section of a 2019-era ``/<section>/article/<id>`` URL, else None."""
    match = _PATH_RE.match(urlsplit(url).path)
    return match.group("section") if match else None


def canonical_article_url(article_id: str) -> str:
    return CANONICAL_ARTICLE_URL.format(id=article_id)


def canonicalize(url: str) -> str | None:
    """``https://www.hankyung.com/article/<id>`` for any article URL form, else None."""
    article_id = article_id_from_url(url)
    return canonical_article_url(article_id) if article_id else None


def absolute_http_url(href: str, base: str) -> str | None:
    """``href`` resolved against ``base`` if that gives an http(s) URL with a host, else None.

    Pages link anything (``javascript:``, ``data:``, ``file:``, ``http://[`` which
    urljoin rejects with ValueError); a record exports only URLs a client can fetch.
    """
    try:
        absolute = urljoin(base, href.strip())
        parts = urlsplit(absolute)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not host or any(c.isspace() for c in host):
        return None
    # urlsplit lowercases the scheme, urljoin keeps it as written ("HTTP://…").
    return parts.scheme + absolute[len(parts.scheme) :]

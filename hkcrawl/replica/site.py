"""URL -> response for the replica, without any HTTP: the server calls this, tests may too.

Routes (hankyung-site.md §1–§3): ``/article/<id>``; the old forms
``/news/app/newsview.php?aid=<id>`` and ``/<section>/article/<id>`` (301 to the
current one); ``/<section>`` and ``/<section>/<sub>``; ``/all-news``; ``/ranking``;
``/premium9``; ``/tag/<x>``; ``/robots.txt``; ``/sitemap/...``; ``/feed`` and
``/feed/<category>``; ``/``. Anything else, and any article not yet published by
the model's clock, is a 404.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from hkcrawl.replica import article_page, feeds, list_pages
from hkcrawl.replica.model import SiteModel
from hkcrawl.sections import SECTIONS, SUBSECTIONS
from hkcrawl.urls import ARTICLE_ID, is_article_id

HTML = "text/html; charset=UTF-8"
XML = "application/xml; charset=UTF-8"
RSS = "application/rss+xml; charset=UTF-8"
TEXT = "text/plain; charset=UTF-8"

_ARTICLE = re.compile(rf"^/article/{ARTICLE_ID}/?$")
_OLD_ARTICLE = re.compile(rf"^/[a-z0-9-]+(?:/[a-z0-9-]+)*/article/{ARTICLE_ID}/?$")
_DAILY = re.compile(r"^/sitemap/daily-article/(\d{8})\.xml$")
#: How many rendered pages to keep (~40 kB each); a page is re-rendered when the model changes.
CACHE_SIZE = 1024


@dataclass(frozen=True)
class Response:
    status: int
    content_type: str
    body: bytes
    kind: str  # what was asked for: "article", "redirect", "section", "sitemap", "not_found" …
    headers: tuple[tuple[str, str], ...] = field(default=())


class Site:
    """The replica's pages for one model, links written on ``base`` (``http://127.0.0.1:8000``)."""

    def __init__(self, model: SiteModel, base: str) -> None:
        self.model = model
        self.base = base.rstrip("/")
        self._cache: dict[tuple[str, int], Response] = {}
        self._lock = threading.Lock()

    def get(self, target: str) -> Response:
        """The response to ``GET target`` (a path with an optional query)."""
        key = (target, self.model.version)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        response = self._route(target)
        with self._lock:
            if len(self._cache) >= CACHE_SIZE:
                self._cache.clear()
            self._cache[key] = response
        return response

    def _route(self, target: str) -> Response:
        parts = urlsplit(target)
        path = unquote(parts.path)
        if len(path) > 1:
            path = path.rstrip("/") or "/"
        query = parse_qs(parts.query)
        model, base = self.model, self.base

        if match := _ARTICLE.match(path):
            article_id = match.group("id")
            if not model.visible(article_id):
                return self.not_found()
            return _html(article_page.render(model, article_id, base), "article")
        if path == "/news/app/newsview.php":
            aid = query.get("aid", [""])[0]
            return self._redirect(f"/article/{aid}") if is_article_id(aid) else self.not_found()
        if match := _OLD_ARTICLE.match(path):
            return self._redirect(f"/article/{match.group('id')}")

        page = _page_number(query)
        if path == "/":
            return _html(list_pages.home(model, base), "home")
        if path == "/robots.txt":
            return Response(200, TEXT, feeds.robots(base).encode(), "robots")
        if path == "/all-news":
            return _html(list_pages.all_news(model, base, page), "all-news")
        if path == "/ranking":
            return _html(list_pages.ranking(model, base), "ranking")
        if path == "/premium9":
            return _html(list_pages.premium(model, base, page), "premium")
        if path.startswith("/tag/") and len(path) > 5:
            return _html(list_pages.tag(model, base, path[5:], page), "tag")
        if path.startswith("/sitemap/"):
            return self._sitemap(path)
        if path == "/feed":
            return _html(feeds.feed_index(base), "feed")
        if path.startswith("/feed/"):
            body = feeds.rss(model, base, path[6:])
            return Response(200, RSS, body.encode(), "feed") if body else self.not_found()
        segments = path.strip("/").split("/")
        if segments[0] in SECTIONS and len(segments) <= 2:
            sub = segments[1] if len(segments) == 2 else None
            if sub is None or sub in SUBSECTIONS.get(segments[0], {}):
                return _html(list_pages.section(model, base, segments[0], sub, page), "section")
        return self.not_found()

    def _sitemap(self, path: str) -> Response:
        if path == "/sitemap/latest-article.xml":
            return Response(200, XML, feeds.latest_sitemap(self.model, self.base).encode(), "sitemap")
        if path == "/sitemap/daily-article.xml":
            return Response(200, XML, feeds.daily_index(self.model, self.base).encode(), "sitemap")
        if match := _DAILY.match(path):
            body = feeds.daily_sitemap(self.model, self.base, match.group(1))
            if body:
                return Response(200, XML, body.encode(), "sitemap")
        return self.not_found()

    def _redirect(self, path: str) -> Response:
        location = self.base + path
        body = f'<html><body>Moved: <a href="{location}">{location}</a></body></html>'.encode()
        return Response(301, HTML, body, "redirect", (("Location", location),))

    def not_found(self) -> Response:
        """The site's 404 page (also what a fault answers for an article gone between list and fetch)."""
        return Response(404, HTML, list_pages.not_found(self.base).encode(), "not_found")


def _html(text: str, kind: str) -> Response:
    return Response(200, HTML, text.encode(), kind)


def _page_number(query: dict[str, list[str]]) -> int:
    """``?page=N``; anything unreadable is page 1, as the site treats it."""
    value = query.get("page", ["1"])[0]
    return int(value) if value.isdigit() and int(value) > 0 else 1

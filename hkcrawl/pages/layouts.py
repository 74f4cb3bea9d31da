"""One parser class per layout era: each supplies its era's selectors, the shared field
methods (:class:`~hkcrawl.pages.fields.ArticleFields`) do the rest.

Tried in the order of :data:`LAYOUTS`; a page none matches is parsed by
:class:`JsonLdOnlyLayout` when it has a NewsArticle block, else by
:class:`FallbackLayout` when it reads like an article (see :func:`choose`). When the
site changes again, add a class beside these and keep the old ones so archived pages
still parse. Selectors and their evidence: ``docs/site-markup.md``.
"""

from __future__ import annotations

import re

from hkcrawl.bylines import strip_role
from hkcrawl.pages import fallback
from hkcrawl.pages.fields import ArticleFields
from hkcrawl.pages.precomputed import Precomputed, css, joined_text
from hkcrawl.pages.text import normalize_space

_TXT_DATE = css("span.txt-date")
_TXT_DATE_TEXT = css("span.txt-date::text")
_AUTHOR_LINK_TEXT = css("a.item::text")
_PRINT_PAGE = re.compile(r"지면\s*([A-Z]{0,2}\d{1,3})")


class CurrentLayout(ArticleFields):
    """June 2022 onward: ``h1.headline``, ``span.txt-date`` ×2, ``div.author[data-name]`` (§3.1)."""

    name = "current"

    @classmethod
    def matches(cls, page: Precomputed) -> bool:
        index = page.index
        return index.first("headline", "h1") is not None or any(_TXT_DATE(box) for box in index.all("datetime", "div"))

    def selector_headline(self) -> str | None:
        found = self.page.index.first("headline", "h1")
        return joined_text(found) or None if found is not None else None

    def selector_authors(self) -> list[str] | None:
        boxes = self.page.index.all("author", "div")
        names = [strip_role(n) for box in boxes if (n := box.get("data-name", "")).strip()]
        if not names:
            names = [strip_role(normalize_space(n)) for box in boxes for n in _AUTHOR_LINK_TEXT(box)]
        return names

    def selector_dates(self) -> list[str]:
        # The first txt-date is 입력 (published), the second 수정 (modified) (§3.1).
        box = self.page.index.first("datetime", "div")
        return _TXT_DATE_TEXT(box) if box is not None else []

    def selector_print_page(self) -> str | None:
        box = self.page.index.first("datetime", "div")
        match = _PRINT_PAGE.search(joined_text(box)) if box is not None else None
        return match.group(1) if match else None


class Legacy2019Layout(ArticleFields):
    """2019 – mid-2022, ``/<section>/article/<id>``: ``h1.title``, ``span.date-published`` (§3.5)."""

    name = "legacy2019"

    @classmethod
    def matches(cls, page: Precomputed) -> bool:
        index = page.index
        return index.first("date-published", "span") is not None or (
            index.first("title", "h1") is not None and "articletxt" in index.by_id
        )

    def selector_headline(self) -> str | None:
        found = self.page.index.first("title", "h1")
        return joined_text(found) or None if found is not None else None

    def selector_authors(self) -> list[str] | None:
        raw = self.page.meta.get("dable:author", "")
        return [strip_role(part) for part in re.split(r"[,/·]", raw) if part.strip()]

    def selector_dates(self) -> list[str]:
        index = self.page.index
        spans = [index.first("date-published", "span"), index.first("date-modify", "span")]
        return [joined_text(span) if span is not None else "" for span in spans]


class JsonLdOnlyLayout(ArticleFields):
    """No known DOM layout, but a NewsArticle block: metadata from JSON-LD and the
    class-free cues."""

    name = "jsonld"

    @classmethod
    def matches(cls, page: Precomputed) -> bool:
        return bool(page.ld)


class FallbackLayout(ArticleFields):
    """No known layout, no JSON-LD, but an article-like page: a headline, an article id
    or ``og:type=article``, and a block of prose (:mod:`hkcrawl.pages.fallback`)."""

    name = "fallback"

    @classmethod
    def matches(cls, page: Precomputed) -> bool:
        has_headline = page.headline_element is not None or bool(page.meta.get("og:title"))
        is_article = page.meta.get("og:type") == "article" or any(
            ("/article/" in link or "aid=" in link) for link in (page.url, page.canonical_link)
        )
        return has_headline and is_article and fallback.fallback_lines(page) is not None


#: The eras with their own markup, tried in order; the first that matches parses the page.
LAYOUTS: tuple[type[ArticleFields], ...] = (CurrentLayout, Legacy2019Layout)


def choose(page: Precomputed) -> type[ArticleFields] | None:
    """The layout class for ``page``, or None when it is not an article."""
    for layout in (*LAYOUTS, JsonLdOnlyLayout, FallbackLayout):
        if layout.matches(page):
            return layout
    return None

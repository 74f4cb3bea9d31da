"""The replica's hankyung.com as data: which articles exist, when they appear, what they say.

Everything derives from ``seed``: the article ids and publish times from one RNG, and
each article's content from an RNG seeded with its own id, so an article reads the
same whichever pages were asked for first. A movable clock (:attr:`SiteModel.now`)
decides what the site shows: an article exists for the server only once published,
so moving the clock forward makes new articles appear between two crawls.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from hkcrawl.replica.entities import (
    KST,
    Content,
    Photo,
    Reporter,
    SiteArticle,
    Variant,
    as_kst,
    display_time,
    iso_time,
)
from hkcrawl.replica.generate import RELATED_WINDOW, Generator
from hkcrawl.urls import canonical_article_url

__all__ = [
    "KST", "Content", "Photo", "Reporter", "SiteArticle", "SiteModel", "Variant", "as_kst", "display_time", "iso_time",
]  # fmt: skip

DEFAULT_END = datetime(2026, 11, 20, 18, 0, tzinfo=KST)
PAGE_SIZE = 20
ARTICLES_PER_DAY = 200


@dataclass
class _Listing:
    """Article ids of one list (a section, a day …) in publish order, oldest first."""

    times: list[datetime] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)

    def visible(self, now: datetime) -> list[str]:
        return self.ids[: bisect.bisect_right(self.times, now)]


class SiteModel:
    """A deterministic hankyung.com of ``articles`` articles published over ``days`` days up to ``end``.

    ``source_wrap`` is the share of articles whose paragraph source text holds a raw
    newline (as hand-edited CMS HTML does): whitespace to a browser, not a paragraph break.
    ``copies`` is the share of articles that republish the story of one of the
    ``RELATED_WINDOW`` articles before them (:meth:`copy_of`): half word for word, half
    with a paragraph added, so a crawl meets exact and near-duplicates (0: none, as before).
    """

    def __init__(
        self,
        articles: int = 5000,
        seed: int = 1,
        end: datetime = DEFAULT_END,
        days: int | None = None,
        page_size: int = PAGE_SIZE,
        source_wrap: float = 0.15,
        copies: float = 0.0,
    ) -> None:
        if articles < 1:
            raise ValueError("a site needs at least one article")
        self.seed = seed
        self._generator = Generator(seed)
        self.end = as_kst(end).replace(second=0, microsecond=0)
        self.days = days or max(1, math.ceil(articles / ARTICLES_PER_DAY))
        self.page_size = page_size
        self.source_wrap = source_wrap
        self._now = self.end
        #: Bumped whenever what a page shows may change (clock moved, article modified).
        self.version = 0
        self.reporters = self._generator.reporters()
        self._articles: dict[str, SiteArticle] = {}
        self._content: dict[str, Content] = {}
        self._listings: dict[tuple[str, ...], _Listing] = {}
        for published, article_id in self._generator.ids(articles, self.end, self.days):
            article = self._generator.article(article_id, published, self.reporters)
            self._articles[article_id] = article
            for key in self._listing_keys(article):
                listing = self._listings.setdefault(key, _Listing())
                listing.times.append(published)
                listing.ids.append(article_id)
        # Where each article sits in the global and in its section's list, for picking related ones.
        self._position = {aid: i for i, aid in enumerate(self._listings[("all",)].ids)}
        self._section_position = {
            aid: i
            for key, listing in self._listings.items()
            if key[0] == "section"
            for i, aid in enumerate(listing.ids)
        }
        self._ranking_cache: tuple[tuple[int, int, int], list[str]] | None = None
        self._copies = self._pick_copies(copies)

    # -- clock -------------------------------------------------------------------------
    @property
    def now(self) -> datetime:
        return self._now

    @now.setter
    def now(self, moment: datetime) -> None:
        self._now = as_kst(moment)
        self.version += 1

    def advance(self, delta: timedelta) -> datetime:
        self.now = self._now + delta
        return self._now

    def modify(self, article_id: str, at: datetime | None = None) -> datetime:
        """Give an article a new 수정 time (default: now), as an editor's update would."""
        article = self.article(article_id)
        moment = as_kst(at or self._now).replace(second=0, microsecond=0)
        if moment < article.published:
            raise ValueError(f"{article_id}: modified {moment} before published {article.published}")
        article.modified = moment
        self.version += 1
        return moment

    # -- lookup ------------------------------------------------------------------------
    def article(self, article_id: str) -> SiteArticle:
        """Any article, visible or not; KeyError for an id the site never had."""
        return self._articles[article_id]

    def visible(self, article_id: str) -> bool:
        article = self._articles.get(article_id)
        return article is not None and article.published <= self._now

    def modified(self, article_id: str) -> datetime | None:
        """The 수정 time a page shows now: none while it lies in the future."""
        moment = self._articles[article_id].modified
        return moment if moment is not None and moment <= self._now else None

    @property
    def all_ids(self) -> list[str]:
        """Every article id, visible or not, newest first."""
        return self._listings[("all",)].ids[::-1]

    def content(self, article_id: str) -> Content:
        found = self._content.get(article_id)
        if found is None:
            found = self._content[article_id] = self._make_content(self._articles[article_id])
        return found

    # -- lists (visible articles only, newest first) -------------------------------------
    def _key(
        self, section: str | None, subsection: str | None, day: str | None, tag: str | None, premium: bool
    ) -> tuple[str, ...]:
        if premium:
            return ("premium",)
        if tag is not None:
            return ("tag", tag)
        if day is not None:
            return ("day", day)
        if subsection is not None:
            return ("sub", section or "", subsection)
        return ("section", section) if section else ("all",)

    def ids(
        self,
        section: str | None = None,
        subsection: str | None = None,
        *,
        day: str | None = None,
        tag: str | None = None,
        premium: bool = False,
    ) -> list[str]:
        listing = self._listings.get(self._key(section, subsection, day, tag, premium))
        return listing.visible(self._now)[::-1] if listing else []

    def page(self, number: int, section: str | None = None, subsection: str | None = None, **filters: Any) -> list[str]:
        """Page ``number`` (from 1) of a list; [] past the end."""
        if number < 1:
            return []
        newest_first = self.ids(section, subsection, **filters)
        return newest_first[(number - 1) * self.page_size : number * self.page_size]

    def total_pages(self, section: str | None = None, subsection: str | None = None, **filters: Any) -> int:
        return max(1, math.ceil(len(self.ids(section, subsection, **filters)) / self.page_size))

    def days_with_articles(self) -> list[str]:
        """``YYYYMMDD`` of every day with a visible article, newest first."""
        days = [key[1] for key, listing in self._listings.items() if key[0] == "day" and listing.visible(self._now)]
        return sorted(days, reverse=True)

    def latest(self, hours: int = 48, limit: int = 1000) -> list[str]:
        since = self._now - timedelta(hours=hours)
        return [aid for aid in self.ids() if self._articles[aid].published >= since][:limit]

    def ranking(self, limit: int = 30, hours: int = 24) -> list[str]:
        """Most-read of the last ``hours``, topped up with the newest if there are too few."""
        key = (self.version, limit, hours)
        if self._ranking_cache and self._ranking_cache[0] == key:
            return self._ranking_cache[1]
        newest = self.ids()
        since = self._now - timedelta(hours=hours)
        recent = [aid for aid in newest if self._articles[aid].published >= since]
        ranked = sorted(recent, key=lambda aid: (-self._articles[aid].popularity, aid))[:limit]
        taken = set(ranked)
        ranked += [aid for aid in newest if aid not in taken][: limit - len(ranked)]
        self._ranking_cache = (key, ranked)
        return ranked

    def popular(self, article_id: str, count: int = 5) -> list[str]:
        """The most-read widget on an article page: never the article itself."""
        return [aid for aid in self.ranking(count + 1) if aid != article_id][:count]

    # -- what a crawl must extract -------------------------------------------------------
    def visible_paragraphs(self, article_id: str) -> tuple[str, ...]:
        """The paragraphs the page shows: a premium page stops at the paywall."""
        paragraphs = self.content(article_id).paragraphs
        return paragraphs[:2] if self._articles[article_id].premium else paragraphs

    def expected_record(self, article_id: str, rendered: bool = True) -> dict:
        """The fields a correct extraction of this article's page gives (hkcrawl.items.Article).

        ``rendered=False`` is what a plain HTTP fetch can see: the related articles a
        script fills in are then missing. Premium pages end at the paywall, before the
        reporters' email line, so their authors have no email.
        """
        article = self._articles[article_id]
        content = self.content(article_id)
        modified = self.modified(article_id)
        if article.photos:
            images = [{"url": photo.url, "caption": photo.caption} for photo in article.photos]
        else:
            images = [{"url": article.thumbnail, "caption": None}] if article.thumbnail else []
        related = [] if article.js_related and not rendered else [canonical_article_url(r) for r in content.related]
        return {
            "articleId": article.id,
            "canonicalUrl": article.canonical_url,
            "headline": article.headline,
            "summary": list(content.summary) or None,
            "section": article.section_name,
            "subsection": article.subsection_name,
            "authors": [{"name": r.name, "email": None if article.premium else r.email} for r in article.reporters],
            "datePublished": iso_time(article.published),
            "dateModified": iso_time(modified) if modified else None,
            "printPage": article.print_page,
            "articleBody": "\n\n".join(self.visible_paragraphs(article_id)),
            "images": images,
            "keywords": list(article.keywords),
            "relatedArticles": related,
            "isPremium": article.premium,
        }

    # -- generation ----------------------------------------------------------------------
    def _make_content(self, article: SiteArticle) -> Content:
        same = self._listings[("section", article.section)].ids
        here = self._section_position[article.id]
        everything = self._listings[("all",)].ids
        position = self._position[article.id]
        related = self._generator.related(
            article,
            same[max(0, here - RELATED_WINDOW) : here],
            everything[max(0, position - RELATED_WINDOW) : position],
        )
        content = self._generator.content(article, related, self.source_wrap)
        copied = self._copies.get(article.id)
        if copied is None:
            return content
        source, word_for_word = copied
        paragraphs = self.content(source).paragraphs
        if not word_for_word:  # the desk's own closing paragraph: a near-duplicate
            paragraphs = (*paragraphs, content.paragraphs[-1])
        return dataclasses.replace(content, paragraphs=paragraphs)

    def _pick_copies(self, share: float) -> dict[str, tuple[str, bool]]:
        """Copy id -> (the article whose story it repeats, word for word?); drawn from their own RNG."""
        if share <= 0:
            return {}
        rng = self._generator.rng("copies")
        oldest_first = self._listings[("all",)].ids
        copies = {}
        for position, article_id in enumerate(oldest_first[1:], start=1):
            if rng.random() < share:
                source = rng.choice(oldest_first[max(0, position - RELATED_WINDOW) : position])
                copies[article_id] = (source, rng.random() < 0.5)
        return copies

    def copy_of(self, article_id: str) -> tuple[str, bool] | None:
        """The earlier article whose story this one republishes, and whether word for word; None for most."""
        return self._copies.get(article_id)

    def _listing_keys(self, article: SiteArticle) -> list[tuple[str, ...]]:
        keys = [("all",), ("section", article.section), ("day", article.day)]
        if article.subsection:
            keys.append(("sub", article.section, article.subsection))
        if article.premium:
            keys.append(("premium",))
        keys += [("tag", keyword) for keyword in article.keywords]
        return keys

    @cached_property
    def kind_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for article in self._articles.values():
            for kind in article.kinds:
                counts[kind] = counts.get(kind, 0) + 1
        return counts

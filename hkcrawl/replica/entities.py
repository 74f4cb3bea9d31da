"""The things the replica's site is made of: reporters, photos, articles and their content.

Plain data, created by :mod:`hkcrawl.replica.generate` and held by
:class:`~hkcrawl.replica.model.SiteModel`; times are KST, as everything the site shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from hkcrawl.sections import SECTIONS, SUBSECTIONS
from hkcrawl.urls import canonical_article_url

KST = timezone(timedelta(hours=9), "KST")


def display_time(moment: datetime) -> str:
    """The site's own rendering of a time: ``2026.11.20 17:52`` (KST)."""
    return moment.astimezone(KST).strftime("%Y.%m.%d %H:%M")


def iso_time(moment: datetime) -> str:
    return moment.astimezone(KST).isoformat(timespec="seconds")


def as_kst(moment: datetime) -> datetime:
    """Naive times are KST, like everything the site shows."""
    return moment.replace(tzinfo=KST) if moment.tzinfo is None else moment.astimezone(KST)


@dataclass(frozen=True)
class Reporter:
    name: str
    email: str
    role: str = "기자"
    dateline: str | None = None  # "뉴욕" for a correspondent: "뉴욕=김현석 특파원"
    reporter_id: int = 0

    @property
    def byline(self) -> str:
        return f"{self.name} {self.role}"

    @property
    def email_line(self) -> str:
        """The body's closing line for this reporter (§3.2)."""
        return f"{self.dateline + '=' if self.dateline else ''}{self.name} {self.role} {self.email}"


@dataclass(frozen=True)
class Photo:
    url: str
    caption: str


@dataclass(frozen=True)
class Variant:
    """Markup choices for one article, so that a crawl meets every documented form."""

    body_markup: str  # "br": text separated by <br><br> (most pages, §3.1); "p": <p> children
    summary_markup: str  # "br" or "p"
    emails_on_one_line: bool  # all reporters' email lines in one line, or one line each
    meta_section: bool  # <meta property="article:section">
    script_in_body: bool  # an inline <script> inside #articletxt (§3.1)
    ad_in_body: bool  # an ADVERTISEMENT slot inside #articletxt
    source_wrap: bool  # a raw newline inside a paragraph's source text (CMS-edited HTML)
    jsonld_shape: str  # "object", "graph" (inside @graph) or "list"
    jsonld_keywords_as_string: bool


@dataclass(frozen=True)
class Content:
    """The part of an article that only its own page needs: generated on first use."""

    summary: tuple[str, ...]
    paragraphs: tuple[str, ...]  # the whole article; premium pages show only the first ones
    related: tuple[str, ...]  # ids of other, older articles
    variant: Variant

    @property
    def lead(self) -> str:
        return self.paragraphs[0].split(". ")[0].rstrip(".") + "."


@dataclass
class SiteArticle:
    id: str
    published: datetime
    section: str
    subsection: str | None
    headline: str
    reporters: tuple[Reporter, ...]
    keywords: tuple[str, ...]
    photos: tuple[Photo, ...]
    thumbnail: str | None  # og:image; the first photo, or a picture shown only as a thumbnail
    premium: bool
    jsonld: bool
    js_related: bool
    print_page: str | None
    modified: datetime | None  # the latest 수정 time; shown only once the clock passes it
    popularity: int

    @property
    def section_name(self) -> str:
        return SECTIONS[self.section]

    @property
    def subsection_name(self) -> str | None:
        return SUBSECTIONS[self.section][self.subsection] if self.subsection else None

    @property
    def day(self) -> str:
        return self.id[:8]

    @property
    def kinds(self) -> frozenset[str]:
        """``plain``, or any of ``jsonld``, ``premium``, ``js_related``."""
        found = {name for name in ("jsonld", "premium", "js_related") if getattr(self, name)}
        return frozenset(found or {"plain"})

    @property
    def canonical_url(self) -> str:
        return canonical_article_url(self.id)

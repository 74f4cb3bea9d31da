"""The article record hkcrawl exports, one per article.

Field names follow zyte-common-items' ``Article`` (itself close to schema.org's
``NewsArticle``) where one fits, so the JSONL loads next to other news datasets
without renaming; fields the schema lacks (``articleId``, ``printPage`` …) use the
same camelCase style. Every field is documented in the README.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Author:
    name: str
    email: str | None = None


@dataclass
class Image:
    url: str
    caption: str | None = None


@dataclass
class Article:
    # Optional only so that a broken page can still become a record that the
    # validation pipeline drops *with a reason*; every exported record has them.
    articleId: str | None
    url: str
    canonicalUrl: str | None
    headline: str | None = None
    summary: list[str] | None = None
    section: str | None = None
    subsection: str | None = None
    authors: list[Author] = field(default_factory=list)
    datePublished: str | None = None
    dateModified: str | None = None
    printPage: str | None = None
    articleBody: str | None = None
    images: list[Image] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    relatedArticles: list[str] = field(default_factory=list)
    isPremium: bool = False
    inLanguage: str = "ko"
    dateDownloaded: str | None = None
    isUpdate: bool = False
    duplicateOf: str | None = None
    duplicateSimilarity: float | None = None
    layout: str | None = None
    articleBodyHash: str | None = None

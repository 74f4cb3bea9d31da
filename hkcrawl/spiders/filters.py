"""What the spider does not fetch: URLs off the site or not articles, dates outside
``since``/``until``, articles already exported, anything past ``max_articles``.

Mixed into :class:`hkcrawl.spiders.hankyung.HankyungSpider`, which gives the arguments,
the run and the allowed hosts.
"""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlsplit

from hkcrawl import urls
from hkcrawl.items import Article
from hkcrawl.pages.text import KST
from hkcrawl.sections import PREMIUM_PATHS


class LinkFilters:
    """The spider's refusals, each a reason it counts (see the module docstring)."""

    def _rejection(self, url: str) -> str | None:
        try:
            parts = urlsplit(url)
        except ValueError:
            return "malformed: not a URL"
        if parts.scheme not in ("http", "https"):
            return f"bad_scheme: only http(s) is fetched, not {parts.scheme or 'none'!r}"
        if parts.hostname not in self.allowed_hosts:
            return f"off_site: {parts.hostname} is not a hankyung.com article host"
        if parts.path.startswith(PREMIUM_PATHS):
            return "premium: member-only area"
        if urls.article_id_from_url(url) is None:
            return "not_article_url: no article id in the URL"
        return None

    def _outside_range(self, day: date) -> bool:
        return bool((self.since and day < self.since) or (self.until and day > self.until))

    def _id_outside_range(self, article_id: str) -> bool:
        """By the id's date (its first 8 digits are the publication day, hankyung-site.md §1.1)."""
        if not (self.since or self.until):
            return False
        try:
            day = date(int(article_id[:4]), int(article_id[4:6]), int(article_id[6:8]))
        except ValueError:
            return False  # not a date after all: the record's own date decides
        return self._outside_range(day)

    def _published_outside_range(self, article: Article) -> bool:
        """By the record's 입력 time, in KST (a record without one is the validator's to drop)."""
        if not (self.since or self.until) or not article.datePublished:
            return False
        try:
            published = datetime.fromisoformat(article.datePublished)
        except ValueError:
            return False
        day = (published.astimezone(KST) if published.tzinfo else published).date()
        return self._outside_range(day)

    def _already_exported(self, article_id: str, modified: str | None) -> bool:
        """Known from an earlier run, and not modified since (as far as the link tells)."""
        known = self.run.known(article_id)
        if known is None:
            return False
        if modified and modified > (known.modified or known.published or ""):
            self.crawler.stats.inc_value("hkcrawl/links/modified")
            return False
        self.crawler.stats.inc_value("hkcrawl/links/known")
        return True

    def _limit_reached(self) -> bool:
        return self.max_articles is not None and self.exported >= self.max_articles

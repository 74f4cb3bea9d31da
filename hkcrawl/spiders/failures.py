"""How a request ends badly: counted by reason, logged with its URL, and an article's
failure told to the run, which fetches it again in a later run.

Mixed into :class:`hkcrawl.spiders.hankyung.HankyungSpider`; its errback ``on_error``
sorts policy refusals from failures and hands these to :meth:`_request_failed`.
"""

from __future__ import annotations

from collections.abc import Iterable

import scrapy
from twisted.python.failure import Failure

from hkcrawl import urls
from hkcrawl.spiders.requests import asked_url


class FailureHandling:
    """A failed request, article or rendering (see the module docstring)."""

    def _on_request_dropped(self, request: scrapy.Request) -> None:
        """A redirect chain that came back to a URL it had fetched (A -> A, A -> B -> A) is
        dropped by Scrapy's duplicate filter with neither callback nor errback: without this,
        the page would vanish with only a dupefilter count. (Another URL form redirecting to
        an article already fetched is no loop: its chain does not hold the URL.)"""
        chain = request.meta.get("redirect_urls") or []
        if request.url not in chain:
            return
        self._request_failed(request, "redirect_loop", f"redirected back to {request.url}")

    def _article_failed(self, article_id: str | None, url: str, reason: str, detail: str) -> None:
        self.crawler.stats.inc_value(f"hkcrawl/errors/{reason}")
        self.logger.error("Failed %s: %s: %s", url, reason, detail)
        self.run.url_done(url, ok=False)
        if article_id:
            self.run.article_failed(article_id, url, reason)

    def on_render_error(self, failure: Failure) -> Iterable:
        """The browser failed: export what the plain page gave rather than nothing."""
        self.crawler.stats.inc_value("hkcrawl/render/failed")
        self.logger.warning(
            "Rendering failed for %s (%s): exporting the plain page", failure.request.url, failure.getErrorMessage()
        )
        plain = failure.request.meta.get("hkcrawl_plain_article")
        if plain is not None:
            self.run.url_done(asked_url(failure.request), ok=True)
            yield from self._export(plain, failure.request.cb_kwargs.get("depth", 0))

    def _request_failed(self, request: scrapy.Request, reason: str, detail: str) -> None:
        """Count a finally failed request; an article's is also remembered to fetch again."""
        asked = asked_url(request)
        article_id = request.meta.get("hkcrawl_article_id")
        if article_id or request.callback == self.parse_article:
            self._article_failed(article_id or urls.article_id_from_url(asked), asked, reason, detail)
            return
        self.crawler.stats.inc_value(f"hkcrawl/errors/{reason}")
        self.logger.error("Failed %s: %s: %s", asked, reason, detail)
        self.run.url_done(asked, ok=False)

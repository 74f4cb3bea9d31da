"""The download handler for rendered pages (imported by Scrapy only when rendering is on)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from playwright.async_api import WebSocketRoute
from scrapy import Request
from scrapy.http import Response
from scrapy_playwright.handler import BrowserContextWrapper, ScrapyPlaywrightDownloadHandler

from hkcrawl import urls
from hkcrawl.browser import on_site

logger = logging.getLogger(__name__)


class LeftTheSite(RuntimeError):
    """A rendered page ended up somewhere other than the site (its script navigated
    away, and the navigation was aborted): the render failed, the plain page stands."""


class OnDemandPlaywrightHandler(ScrapyPlaywrightDownloadHandler):
    """scrapy-playwright's handler, but Playwright starts at the first page that needs
    it, and a rendered page reaches nothing off the site.

    The stock handler starts Playwright's Node.js driver when the engine starts: about
    1.2 CPU seconds and 1 s of wall time in every render=auto crawl, even one where no
    page needs a browser (the usual cron run). Plain requests go through Scrapy's HTTP
    handler either way. Relies on the handler's ``_launch`` and
    ``_create_browser_context`` (scrapy-playwright 0.0.4x).

    Off-site requests of a page are aborted by PLAYWRIGHT_ABORT_REQUEST (browser.py),
    but WebSockets do not pass through that route: they are refused here, for every
    page of the context. An aborted main-frame navigation leaves Chromium on its error
    page, so a response that is not from the site fails the render (:class:`LeftTheSite`)
    and the spider exports the plain page instead.
    """

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self._start_lock = asyncio.Lock()
        self._started = False
        self.site_hosts = urls.site_hosts(crawler.settings.get("HANKYUNG_BASE_URL"))

    async def _maybe_launch_in_thread(self) -> None:
        """Connected to engine_started by the parent: start nothing yet."""

    async def _create_browser_context(self, *args: Any, **kwargs: Any) -> BrowserContextWrapper:
        wrapper = await super()._create_browser_context(*args, **kwargs)
        await wrapper.context.route_web_socket(lambda url: not on_site(url, self.site_hosts), self._refuse)
        return wrapper

    async def _refuse(self, websocket: WebSocketRoute) -> None:
        """Close an off-site WebSocket in the page without connecting to its server."""
        self.stats.inc_value("hkcrawl/offsite/browser_websocket")
        logger.info("Refused a rendered page's WebSocket to %s", websocket.url)
        await websocket.close(code=1008, reason="off-site")

    async def download_request(self, request: Request) -> Response:
        if request.meta.get("playwright") and not self._started:
            async with self._start_lock:
                if not self._started:
                    await self._maybe_future_from_coro(self._launch())
                    self._started = True
        response = await super().download_request(request)
        if "playwright" in response.flags and not on_site(response.url, self.site_hosts):
            self.stats.inc_value("hkcrawl/offsite/browser_navigation")
            raise LeftTheSite(
                f"the rendered page of {request.url} ended at {response.url}: "
                "its script navigated off the site, which was refused"
            )
        return response

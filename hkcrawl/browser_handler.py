"""The download handler for rendered pages (imported by Scrapy only when rendering is on)."""

from __future__ import annotations

import asyncio
from typing import Any

from scrapy import Request
from scrapy.http import Response
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler


class OnDemandPlaywrightHandler(ScrapyPlaywrightDownloadHandler):
    """scrapy-playwright's handler, but Playwright starts at the first page that needs it.

    The stock handler starts Playwright's Node.js driver when the engine starts: about
    1.2 CPU seconds and 1 s of wall time in every render=auto crawl, even one where no
    page needs a browser (the usual cron run). Plain requests go through Scrapy's HTTP
    handler either way. Relies on the handler's ``_launch`` (scrapy-playwright 0.0.4x).
    """

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self._start_lock = asyncio.Lock()
        self._started = False

    async def _maybe_launch_in_thread(self) -> None:
        """Connected to engine_started by the parent: start nothing yet."""

    async def download_request(self, request: Request) -> Response:
        if request.meta.get("playwright") and not self._started:
            async with self._start_lock:
                if not self._started:
                    await self._maybe_future_from_coro(self._launch())
                    self._started = True
        return await super().download_request(request)

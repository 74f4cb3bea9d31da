"""What the browser is allowed to fetch for a rendered page."""

from __future__ import annotations

import pytest

from hkcrawl.browser import SiteScriptsOnly
from hkcrawl.spiders.hankyung import HankyungSpider


class _BrowserRequest:
    def __init__(self, url: str, resource_type: str) -> None:
        self.url, self.resource_type = url, resource_type


@pytest.mark.parametrize(
    ("url", "resource_type", "aborted"),
    [
        ("http://127.0.0.1:8000/article/2026112000011", "document", False),  # the replica's own host
        ("https://www.hankyung.com/article/2026112000011", "document", False),
        ("https://api.hankyung.com/related?aid=2026112000011", "xhr", False),
        ("https://static.hankyung.com/js/widget.js", "script", False),
        ("https://img.hankyung.com/photo/202611/a.jpg", "image", True),
        ("https://static.hankyung.com/css/site.css", "stylesheet", True),
        ("https://securepubads.g.doubleclick.net/tag/js/gpt.js", "script", True),
        ("https://www.googletagmanager.com/gtag/js", "script", True),
        ("https://hankyung.com.evil.example/x.js", "script", True),
    ],
)
def test_the_browser_fetches_only_the_sites_own_scripts(url: str, resource_type: str, aborted: bool) -> None:
    abort = SiteScriptsOnly(HankyungSpider.allowed_hosts_for({"HANKYUNG_BASE_URL": "http://127.0.0.1:8000"}))
    assert abort(_BrowserRequest(url, resource_type)) is aborted

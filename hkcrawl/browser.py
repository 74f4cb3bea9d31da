"""Debian's Chromium for scrapy-playwright, found without Playwright's own download.

``playwright install`` cannot fetch browsers on many machines (no access to its CDN),
and no Playwright channel finds /usr/bin/chromium: the executable must be given.
Found here in order: ``CHROMIUM_PATH``, then Debian's headless shell (the same
Chromium without the desktop browser around it: about a third less CPU per rendered
page, and what Playwright itself runs headless), then chromium on PATH, then the
usual absolute paths (cron's PATH lacks /usr/bin on some systems).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

INSTALL_HINT = (
    "install Debian's Chromium (sudo apt-get install -y chromium-headless-shell chromium, "
    "or run scripts/setup), or point CHROMIUM_PATH at a Chromium/Chrome executable"
)
# The binary itself before Debian's /usr/bin wrappers: the headless-shell wrapper does
# not exec, so Playwright would stop the shell and leave the browser behind it running.
_HEADLESS_SHELLS = ("/usr/lib/chromium/chromium-headless-shell",)
_NAMES = ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_PATHS = ("/usr/bin/chromium", "/usr/lib/chromium/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


class BrowserNotFound(RuntimeError):
    pass


def find_chromium(configured: str | None = None) -> str:
    """The browser executable; raises BrowserNotFound saying how to get one."""
    explicit = configured or os.environ.get("CHROMIUM_PATH")
    if explicit:
        if os.access(explicit, os.X_OK) and Path(explicit).is_file():
            return explicit
        raise BrowserNotFound(f"CHROMIUM_PATH={explicit!r} is not an executable file: {INSTALL_HINT}")
    for candidate in [*_HEADLESS_SHELLS, *(shutil.which(name) for name in _NAMES), *_PATHS]:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise BrowserNotFound(f"no Chromium found: {INSTALL_HINT}")


def on_site(url: str, site_hosts: frozenset[str]) -> bool:
    """May the browser load ``url``: a hankyung.com host (www., api., static. …) or
    one of ``site_hosts`` (the article hosts and the base URL's host)."""
    host = (urlsplit(url).hostname or "").lower()
    return host in site_hosts or host == "hankyung.com" or host.endswith(".hankyung.com")


class SiteScriptsOnly:
    """PLAYWRIGHT_ABORT_REQUEST: the browser is here for the site's own scripts.

    Pictures, media, fonts and stylesheets are never fetched, nor anything from
    another host: on hankyung.com that is ad networks, trackers and social widgets,
    most of a page's requests and script time. The script-filled parts hkcrawl wants
    come from hankyung.com hosts (www., api., static. …) or the page's own host.
    This covers navigations too (``location.href = …`` to another host is aborted);
    WebSockets do not pass through it (hkcrawl/browser_handler.py refuses those).
    """

    HEAVY_TYPES = frozenset({"image", "media", "font", "stylesheet"})

    def __init__(self, site_hosts: Iterable[str] = ()) -> None:
        self.site_hosts = frozenset(site_hosts)

    def __call__(self, request: Any) -> bool:
        if request.resource_type in self.HEAVY_TYPES:
            return True
        return not on_site(request.url, self.site_hosts)


#: Nothing listens here: a connection the browser makes through it fails at once.
DEAD_END_PROXY = "http://127.0.0.1:1"


def dead_end_proxy(site_hosts: Iterable[str]) -> dict[str, str]:
    """Every connection the browser opens goes through a proxy that does not exist,
    except to the site's own hosts.

    The backstop for what Playwright's routing cannot see: the hops of a redirect
    (a script request, or a rendered page itself, sent to another host by a 302),
    WebSockets and anything else Chromium connects to. Chromium connects to loopback
    hosts directly whatever the proxy, unless ``<-loopback>`` says otherwise: with it,
    another local host is refused like any other.
    """
    bypass = sorted({*site_hosts, "hankyung.com", ".hankyung.com"})
    return {"server": DEAD_END_PROXY, "bypass": ",".join(["<-loopback>", *bypass])}


def playwright_settings(
    executable: str,
    concurrency: int,
    site_hosts: Iterable[str] = (),
    download_handlers: Mapping[str, str | None] | None = None,
) -> dict[str, Any]:
    """Settings that route ``meta={"playwright": True}`` requests through Chromium.

    Without the download handlers scrapy-playwright ignores the meta without a word.
    Other requests still go through Scrapy's own HTTP handler. The handler lives in
    its own module: importing Playwright costs 0.35 s, which render=never never pays.
    ``download_handlers`` is the DOWNLOAD_HANDLERS in force: setting a dict setting
    replaces it whole (Scrapy merges only with DOWNLOAD_HANDLERS_BASE), so the
    schemes it turns off (file, ftp, s3, data) must be carried over or they come back.
    """
    return {
        "DOWNLOAD_HANDLERS": {
            **(download_handlers or {}),
            "http": "hkcrawl.browser_handler.OnDemandPlaywrightHandler",
            "https": "hkcrawl.browser_handler.OnDemandPlaywrightHandler",
        },
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": {
            "executable_path": executable,
            "headless": True,
            "timeout": 30_000,
            "args": [
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
                # Fewer renderer processes: ~30% faster and half the memory on 2 cores.
                "--renderer-process-limit=2",
            ],
            "proxy": dead_end_proxy(site_hosts),
        },
        # Browser pages at once, apart from CONCURRENT_REQUESTS for plain requests.
        "PLAYWRIGHT_MAX_CONTEXTS": 1,
        # A service worker's requests would not pass PLAYWRIGHT_ABORT_REQUEST's route.
        "PLAYWRIGHT_CONTEXTS": {"default": {"service_workers": "block"}},
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": concurrency,
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": 20_000,
        "PLAYWRIGHT_ABORT_REQUEST": SiteScriptsOnly(site_hosts),
    }

"""Nothing leaves the site: sitemap entries, redirects and rendered pages, through the
real ``scrapy crawl hankyung`` against local servers (127.0.0.2 is "another host")."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hkcrawl.replica import SiteModel
from hkcrawl.replica.article_page import render
from tests.conftest import ARTICLE_FIXTURES
from tests.e2e.conftest import run_crawl
from tests.e2e.local_hosts import RecordingServer, recording_server

SEED_ID = "2022061771721"
SEED_PAGE = (
    200,
    {"Content-Type": "text/html; charset=utf-8"},
    (ARTICLE_FIXTURES / "current_seed_2022-06-17.html").read_bytes(),
)
XML = {"Content-Type": "application/xml"}
ONE_ARTICLE = ["-a", "related_depth=0"]


@pytest.fixture
def other_host() -> Iterator[RecordingServer]:
    """Another host, serving the seed article everywhere: it must receive nothing."""
    with recording_server("127.0.0.2", {f"/article/{SEED_ID}": SEED_PAGE, "/sitemap.xml": SEED_PAGE}) as server:
        yield server


def _sitemap_index(*locs: str) -> tuple[int, dict[str, str], bytes]:
    entries = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
    body = f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</sitemapindex>'
    return 200, XML, body.encode()


def _urlset(base_url: str) -> tuple[int, dict[str, str], bytes]:
    body = (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{base_url}/article/{SEED_ID}</loc></url></urlset>"
    )
    return 200, XML, body.encode()


def _crawl_sitemap_index(tmp_path: Path, name: str, bad_locs: list[str]) -> tuple[object, float]:
    with recording_server("127.0.0.1") as site:
        site.routes.update(
            {
                "/sitemap/latest-article.xml": _sitemap_index(*bad_locs, f"{site.base_url}/sitemap/ok.xml"),
                "/sitemap/ok.xml": _urlset(site.base_url),
                f"/article/{SEED_ID}": SEED_PAGE,
            }
        )
        (tmp_path / name).mkdir()
        started = time.monotonic()
        run = run_crawl(
            ["-a", "discover=sitemap", *ONE_ARTICLE], site.base_url, tmp_path / name, tmp_path / f"{name}.jsonl"
        )
        return run, time.monotonic() - started


def test_sitemap_index_entries_off_the_site_are_refused(other_host: RecordingServer, tmp_path: Path) -> None:
    bad = [f"{other_host.base_url}/sitemap.xml", "file:///etc/hostname", "ftp://127.0.0.1:1/x.xml", "file:///dev/zero"]
    run, seconds = _crawl_sitemap_index(tmp_path, "bad", bad)
    control, _ = _crawl_sitemap_index(tmp_path, "control", [])

    assert other_host.hits == []  # not even its robots.txt
    assert seconds < 60, "file:///dev/zero or ftp:// was read"
    assert run.stat("hkcrawl/offsite/host") == 1
    assert run.stat("hkcrawl/offsite/scheme") == 3
    assert [item["articleId"] for item in run.items] == [SEED_ID]
    # The refused entries change nothing else: same verdict, no download errors.
    assert run.returncode == control.returncode, run.log[-3000:]
    assert "hkcrawl/errors/" not in run.log.split("Dumping Scrapy stats")[-1]
    assert run.log.count("Refused off-site request to file:") == 1
    assert "MemoryError" not in run.log and "Traceback" not in run.log


def test_a_redirect_to_another_host_is_not_followed(other_host: RecordingServer, tmp_path: Path) -> None:
    moved = (302, {"Location": f"{other_host.base_url}/article/{SEED_ID}"}, b"")
    with recording_server("127.0.0.1", {f"/article/{SEED_ID}": moved}) as site:
        run = run_crawl(
            ["-a", f"urls={site.base_url}/article/{SEED_ID}", *ONE_ARTICLE],
            site.base_url,
            tmp_path,
            tmp_path / "o.jsonl",
        )

    assert [path for _, path in site.hits] == ["/robots.txt", f"/article/{SEED_ID}"]
    assert other_host.hits == []
    assert run.items == []
    assert run.stat("hkcrawl/offsite/redirect_host") == 1
    # The article was not saved: an error, and remembered to be fetched again.
    assert run.stat("hkcrawl/errors/offsite_redirect") == 1
    assert run.returncode == 1
    assert run.state_failures(tmp_path) == {SEED_ID: "offsite_redirect"}


# -- rendered pages -------------------------------------------------------------


def _script_page(script: str, site: str) -> tuple[int, dict[str, str], bytes, str]:
    """A replica article whose related block is filled by script (so render=auto
    renders it), with ``script`` added at the end of its body."""
    model = SiteModel(articles=300)
    article_id = next(aid for aid in model.ids() if "js_related" in model.article(aid).kinds)
    html = render(model, article_id, site).replace("</body>", f"<script>{script}</script></body>")
    return 200, {"Content-Type": "text/html; charset=utf-8"}, html.encode(), article_id


def _render_crawl(
    tmp_path: Path, other: RecordingServer, script: str, routes: dict[str, tuple] | None = None
) -> tuple[object, str]:
    # The page waits for /wait.js until the other host got something (or 3 s), so a
    # leak reaches the other host before the page is read and closed.
    wait = '<script src="/wait.js"></script>'
    with recording_server("127.0.0.1") as site:
        site.routes.update(routes or {})
        status, headers, body, article_id = _script_page(script, site.base_url)
        body = body.replace(b"</body>", wait.encode() + b"</body>")
        site.routes[f"/article/{article_id}"] = (status, headers, body)
        site.routes["/wait.js"] = lambda _: (other.arrived.wait(3), (200, {"Content-Type": "text/javascript"}, b""))[1]
        run = run_crawl(
            ["-a", "render=auto", "-a", f"urls={site.base_url}/article/{article_id}", *ONE_ARTICLE],
            site.base_url,
            tmp_path,
            tmp_path / "o.jsonl",
        )
    return run, article_id


def test_a_rendered_page_opens_no_websocket_to_another_host(other_host: RecordingServer, tmp_path: Path) -> None:
    run, article_id = _render_crawl(
        tmp_path, other_host, f"new WebSocket('ws://127.0.0.2:{other_host.base_url.rsplit(':', 1)[1]}/sock');"
    )
    assert other_host.hits == []
    assert run.stat("hkcrawl/offsite/browser_websocket") == 1
    assert run.stat("playwright/page_count") == 1 and run.stat("hkcrawl/render/failed") == 0
    assert [item["articleId"] for item in run.items] == [article_id]
    assert run.items[0]["relatedArticles"]  # the rendered page's script-filled block


def test_a_rendered_page_navigating_away_keeps_its_record(other_host: RecordingServer, tmp_path: Path) -> None:
    run, article_id = _render_crawl(tmp_path, other_host, f"location.href = '{other_host.base_url}/article/{SEED_ID}';")
    assert other_host.hits == []
    assert run.stat("hkcrawl/offsite/browser_navigation") == 1
    assert run.stat("hkcrawl/render/failed") == 1  # so the plain page's record is exported
    assert [item["articleId"] for item in run.items] == [article_id]
    assert run.items[0]["url"].startswith("http://127.0.0.1:")


def test_a_rendered_pages_redirect_to_another_host_goes_nowhere(other_host: RecordingServer, tmp_path: Path) -> None:
    """Playwright's routing sees only the first URL of a redirect: the hop to another
    host is stopped by the browser's dead-end proxy (browser.dead_end_proxy)."""
    away = {"/hop": (302, {"Location": f"{other_host.base_url}/stolen"}, b"")}
    run, article_id = _render_crawl(tmp_path, other_host, "fetch('/hop').catch(() => 0);", routes=away)
    assert other_host.hits == []
    assert [item["articleId"] for item in run.items] == [article_id]

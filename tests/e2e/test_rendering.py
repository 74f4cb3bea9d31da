"""Pages that need JavaScript: rendered in Debian's Chromium only where needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from hkcrawl.browser import BrowserNotFound, find_chromium
from hkcrawl.replica import ReplicaServer
from tests.e2e.conftest import run_crawl

ALL_NEWS = ["-a", "discover=all-news", "-a", "max_pages=1000", "-a", "related_depth=0"]


def _js_articles(replica: ReplicaServer) -> set[str]:
    return {aid for aid in replica.model.ids() if "js_related" in replica.model.article(aid).kinds}


def test_a_browser_is_installed_here() -> None:
    """CI installs chromium (scripts/setup): the browser tests below must run, not skip."""
    assert find_chromium()


def test_auto_renders_only_the_pages_that_need_it(replica: ReplicaServer, tmp_path: Path) -> None:
    js = _js_articles(replica)
    run = run_crawl(["-a", "render=auto", *ALL_NEWS], replica.base_url, tmp_path, tmp_path / "o.jsonl")
    assert run.returncode == 0, run.log[-2000:]
    assert len(run.items) == len(replica.model.ids())
    assert run.stat("hkcrawl/render/requested") == len(js) > 0
    assert run.stat("playwright/page_count") == len(js)  # plain pages never reach the browser
    for item in run.items:
        expected = replica.model.expected_record(item["articleId"], rendered=True)["relatedArticles"]
        assert item["relatedArticles"] == expected, item["articleId"]


def test_auto_follows_related_links_that_exist_only_after_script(replica: ReplicaServer, tmp_path: Path) -> None:
    start = sorted(a for a in _js_articles(replica) if replica.model.expected_record(a)["relatedArticles"])[0]
    related = {u.rsplit("/", 1)[-1] for u in replica.model.expected_record(start)["relatedArticles"]}
    url = f"{replica.base_url}/article/{start}"
    rendered = run_crawl(
        ["-a", f"urls={url}", "-a", "related_depth=1"], replica.base_url, tmp_path, tmp_path / "a.jsonl"
    )
    assert {item["articleId"] for item in rendered.items} == {start} | related
    plain_dir = tmp_path / "never"
    plain_dir.mkdir()
    never = run_crawl(
        ["-a", f"urls={url}", "-a", "related_depth=1", "-a", "render=never"], replica.base_url, plain_dir, None
    )
    assert never.stat("playwright/page_count") == 0
    assert never.stat("item_scraped_count") == 1


def test_auto_starts_no_browser_when_no_page_needs_one(replica: ReplicaServer, tmp_path: Path) -> None:
    """The usual cron run: render=auto, nothing script-filled, so Playwright never starts."""
    plain = [aid for aid in replica.model.ids() if aid not in _js_articles(replica)][:5]
    urls = ",".join(f"{replica.base_url}/article/{aid}" for aid in plain)
    run = run_crawl(["-a", f"urls={urls}", "-a", "related_depth=0"], replica.base_url, tmp_path, None)
    assert run.returncode == 0, run.log[-2000:]
    assert run.stat("item_scraped_count") == 5
    assert "Starting download handler" not in run.log  # scrapy-playwright's driver start
    assert run.stat("playwright/browser_count") == 0


def test_never_exports_the_plain_page(replica: ReplicaServer, tmp_path: Path) -> None:
    run = run_crawl(["-a", "render=never", *ALL_NEWS], replica.base_url, tmp_path, tmp_path / "o.jsonl")
    by_id = {item["articleId"]: item for item in run.items}
    assert all(by_id[aid]["relatedArticles"] == [] for aid in _js_articles(replica))
    assert "playwright" not in run.log.split("Dumping Scrapy stats")[-1]


def test_always_renders_every_article_page(replica: ReplicaServer, tmp_path: Path) -> None:
    ids = replica.model.ids()[:4]
    urls = ",".join(f"{replica.base_url}/article/{aid}" for aid in ids)
    run = run_crawl(
        ["-a", "render=always", "-a", f"urls={urls}", "-a", "related_depth=0"], replica.base_url, tmp_path, None
    )
    assert run.returncode == 0, run.log[-2000:]
    assert run.stat("playwright/page_count") == 4
    assert run.stat("item_scraped_count") == 4


@pytest.fixture
def no_browser(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHROMIUM_PATH", "/nonexistent/chromium")
    with pytest.raises(BrowserNotFound):
        find_chromium()


@pytest.mark.usefixtures("no_browser")
def test_always_without_a_browser_refuses_to_start(replica: ReplicaServer, tmp_path: Path) -> None:
    run = run_crawl(["-a", "render=always", *ALL_NEWS], replica.base_url, tmp_path, None)
    assert run.returncode == 1
    assert "render=always needs a browser" in run.log and "apt-get install -y chromium" in run.log
    assert len(replica.log.matching("/article/")) == 0


@pytest.mark.usefixtures("no_browser")
def test_auto_without_a_browser_warns_once_counts_and_fails(replica: ReplicaServer, tmp_path: Path) -> None:
    run = run_crawl(ALL_NEWS, replica.base_url, tmp_path, tmp_path / "o.jsonl")
    assert run.log.count("No browser, so pages that need JavaScript") == 1
    assert len(run.items) == len(replica.model.ids())  # nothing lost: the plain pages are exported
    assert run.stat("hkcrawl/render/unavailable") == len(_js_articles(replica))
    assert run.returncode == 1
    assert "needed JavaScript but no browser was found" in run.log

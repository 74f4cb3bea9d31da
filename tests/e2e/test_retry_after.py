"""429 with Retry-After through the real crawl: the retry waits as long as asked."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import article_fixture_pages, expected_record
from tests.e2e.conftest import run_crawl
from tests.e2e.local_hosts import Answer, recording_server

PAGES = {expected_record(p)["articleId"]: p for p in article_fixture_pages() if expected_record(p)}


def _limited_once(page: Path, retry_after: str) -> object:
    """429 with this Retry-After at the first request of a path, the page after."""
    body = page.read_bytes()

    def answer(count: int) -> Answer:
        if count == 0:
            return 429, {"Retry-After": retry_after, "Content-Type": "text/html"}, b"<html>slow down</html>"
        return 200, {"Content-Type": "text/html; charset=utf-8"}, body

    return answer


def test_429_is_retried_no_sooner_than_retry_after(tmp_path: Path) -> None:
    waited, too_long = sorted(PAGES)[:2], sorted(PAGES)[2]
    routes = {f"/article/{aid}": _limited_once(PAGES[aid], "2") for aid in waited}
    routes[f"/article/{too_long}"] = _limited_once(PAGES[too_long], "3600")
    with recording_server("127.0.0.1", routes) as site:
        urls = ",".join(f"{site.base_url}/article/{aid}" for aid in [*waited, too_long])
        run = run_crawl(["-a", f"urls={urls}", "-a", "related_depth=0"], site.base_url, tmp_path, tmp_path / "o.jsonl")

    for aid in waited:
        first, retry = site.times(f"/article/{aid}")
        assert retry - first >= 2.0, aid
    assert site.times(f"/article/{too_long}")[1:] == []  # over HKCRAWL_MAX_RETRY_AFTER: given up
    assert sorted(item["articleId"] for item in run.items) == waited
    assert run.stat("hkcrawl/retry_after/429") == 3
    assert run.stat("hkcrawl/retry_after/gave_up") == 1
    assert run.log.count("more than HKCRAWL_MAX_RETRY_AFTER") == 1

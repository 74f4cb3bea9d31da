"""What a scheduled rerun fetches to find what is new (issue 14, README "Scheduled runs").

A steady-state rerun reads the latest sitemap, the daily sitemaps that tell 수정 times,
one /all-news page as a canary, and the new and edited articles: no section list. After
a gap longer than the sitemap's window, or when the canary shows an article the sitemap
misses, the section lists are walked as on a first run, and nothing is missed.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from hkcrawl import settings as project_settings
from hkcrawl.replica import ReplicaServer, SiteModel
from hkcrawl.replica.server import Response
from tests.e2e.conftest import FULL, FirstRuns, finished_ids, reports, run_crawl


def _lists(replica: ReplicaServer) -> list[str]:
    """Paths of every request but article pages, in order."""
    return [r.path for r in replica.log.records if not r.path.startswith("/article/")]


def test_steady_state_run_fetches_the_sitemaps_one_list_page_and_what_is_new(
    replica: ReplicaServer, tmp_path: Path, first_run: FirstRuns
) -> None:
    model = replica.model
    before = first_run(replica, tmp_path, timedelta(hours=6))
    second = run_crawl(FULL, replica.base_url, tmp_path, None)
    assert second.returncode == 0, second.log[-2000:]
    new = set(model.ids()) - before
    report = reports(tmp_path)[-1]
    assert new and report["new"] == len(new)
    lists = _lists(replica)
    daily = [path for path in lists if path.startswith("/sitemap/daily-article/")]
    assert sorted(lists) == sorted(["/robots.txt", "/sitemap/latest-article.xml", "/all-news", *daily])
    assert 1 <= len(daily) <= project_settings.HKCRAWL_UPDATE_DAYS
    exported = report["new"] + report["updated"]
    assert len(replica.log.records) == replica.log.count("/article/") + len(lists)
    assert len(replica.log.records) <= 1.1 * exported + 3 + len(daily)  # issue 14's budget, sitemaps aside
    assert second.stat("hkcrawl/discovery/sitemap_covers") == 1
    assert second.stat("hkcrawl/discovery/canary_ok") == 1
    assert second.stat("hkcrawl/discovery/lists_skipped") > 30
    assert set(finished_ids(tmp_path)) == set(model.ids())


def test_thorough_discovery_walks_the_lists_every_run(
    replica: ReplicaServer, tmp_path: Path, first_run: FirstRuns
) -> None:
    first_run(replica, tmp_path, timedelta(hours=6))
    second = run_crawl(FULL, replica.base_url, tmp_path, None, {"HKCRAWL_DISCOVERY": "thorough"})
    assert second.returncode == 0, second.log[-2000:]
    assert second.stat("hkcrawl/discovery/thorough") == 1
    assert len(replica.log.matching(kind="section")) >= 30
    assert "/all-news" not in _lists(replica)  # no canary: nothing to check
    assert set(finished_ids(tmp_path)) == set(replica.model.ids())


@pytest.fixture
def sparse_replica() -> Iterator[ReplicaServer]:
    """300 articles over 6 days: the latest sitemap (48 h) holds a third of them."""
    with ReplicaServer(SiteModel(articles=300, days=6)) as server:
        yield server


def test_run_after_a_gap_longer_than_the_sitemap_walks_the_sections(
    sparse_replica: ReplicaServer, tmp_path: Path, first_run: FirstRuns
) -> None:
    replica, model = sparse_replica, sparse_replica.model
    before = first_run(replica, tmp_path, timedelta(hours=80))
    oldest_listed = min(model.article(aid).published for aid in model.latest())
    new = set(model.ids()) - before
    assert [aid for aid in new if model.article(aid).published < oldest_listed], "some new articles are not listed"
    second = run_crawl(FULL, replica.base_url, tmp_path, None)
    assert second.returncode == 0, second.log[-2000:]
    assert second.stat("hkcrawl/discovery/gap_too_long") == 1
    assert second.stat("hkcrawl/discovery/canary_ok") == 0
    assert replica.log.matching(kind="section")
    assert set(finished_ids(tmp_path)) == set(model.ids())


def _without(response: Response, article_ids: set[str]) -> Response:
    """A sitemap response without the ``<url>`` entries of these articles."""
    text = response.body.decode()
    for article_id in article_ids:
        text = re.sub(rf"<url>\s*<loc>[^<]*/article/{article_id}</loc>.*?</url>\s*", "", text, flags=re.S)
    return dataclasses.replace(response, body=text.encode())


def test_an_article_the_sitemap_misses_is_caught_by_the_canary(
    replica: ReplicaServer, tmp_path: Path, first_run: FirstRuns
) -> None:
    model = replica.model
    before = first_run(replica, tmp_path, timedelta(hours=10))
    newest_first = [aid for aid in model.ids() if aid not in before]
    # The newest is on /all-news's first page (the canary); the 30th only in its section's list.
    missing = {newest_first[0], newest_first[model.page_size + 10]}
    original = replica.site.get

    def gapped(path: str) -> Response:
        response = original(path)
        return _without(response, missing) if path.startswith("/sitemap/") else response

    replica.site.get = gapped
    second = run_crawl(FULL, replica.base_url, tmp_path, None)
    assert second.returncode == 0, second.log[-2000:]
    assert second.stat("hkcrawl/discovery/sitemap_covers") == 1
    assert second.stat("hkcrawl/discovery/sitemap_gap") == 1
    assert second.stat("hkcrawl/discovery/canary_ok") == 0
    assert "The latest sitemap misses articles" in second.log
    assert replica.log.matching(kind="section")
    assert missing <= set(finished_ids(tmp_path))
    assert set(finished_ids(tmp_path)) == set(model.ids())


def test_a_failed_sitemap_means_the_lists_are_walked(
    replica: ReplicaServer, tmp_path: Path, first_run: FirstRuns
) -> None:
    first_run(replica, tmp_path, timedelta(hours=6))
    replica.set_faults("500:/sitemap/latest-article.xml")
    second = run_crawl(FULL, replica.base_url, tmp_path, None)
    assert second.stat("hkcrawl/discovery/sitemap_failed") == 1
    assert replica.log.matching(kind="section")
    assert set(finished_ids(tmp_path)) == set(replica.model.ids())

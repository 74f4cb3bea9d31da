"""The real ``scrapy crawl hankyung`` discovering articles on the local replica."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from hkcrawl import settings as project_settings
from hkcrawl.datasets import record_errors
from hkcrawl.demo import crawl_environment, local_crawl_command
from hkcrawl.replica import ReplicaServer
from tests.e2e.conftest import finished_ids, reports, run_crawl

IGNORED = {"url", "dateDownloaded"}
# The live site's concurrency (hkcrawl/settings.py), with a short delay for the tests.
_LIVE_PACE = {
    "CONCURRENT_REQUESTS": str(project_settings.CONCURRENT_REQUESTS),
    "CONCURRENT_REQUESTS_PER_DOMAIN": str(project_settings.CONCURRENT_REQUESTS_PER_DOMAIN),
}


def _article_requests(replica: ReplicaServer) -> Counter[str]:
    return Counter(r.path.rsplit("/", 1)[-1] for r in replica.log.matching("/article/"))


def test_full_crawl_collects_every_article_once_and_right(replica: ReplicaServer, tmp_path: Path) -> None:
    model = replica.model
    run = run_crawl(
        ["-a", "discover=sections,all-news,sitemap", "-a", "max_pages=1000"],
        replica.base_url,
        tmp_path,
        tmp_path / "out.jsonl",
    )
    assert run.returncode == 0, run.log[-3000:]
    ids = [item["articleId"] for item in run.items]
    assert len(ids) == len(set(ids))
    assert set(ids) == set(model.ids())
    # Each article page fetched once, although lists, sitemaps and related links repeat
    # it; those whose related block is filled by script twice (plain, then rendered).
    js = {aid for aid in model.ids() if "js_related" in model.article(aid).kinds}
    assert _article_requests(replica) == {aid: 2 if aid in js else 1 for aid in model.ids()}
    for item in run.items:
        expected = model.expected_record(item["articleId"], rendered=True)
        wrong = {
            key: (item[key], value) for key, value in expected.items() if key not in IGNORED and item[key] != value
        }
        assert not wrong, (item["articleId"], wrong)
    assert "Summary: exported 300 article(s)" in run.log
    # Every exported line holds to the published JSON Schema.
    assert [(item["articleId"], record_errors(item)) for item in run.items if record_errors(item)] == []
    assert run.stat("hkcrawl/dropped/duplicate") == 0
    assert " WARNING: " not in run.log, [line for line in run.log.splitlines() if " WARNING: " in line][:5]


def test_related_links_followed_to_the_configured_depth(replica: ReplicaServer, tmp_path: Path) -> None:
    model = replica.model
    start = next(
        aid
        for aid in model.ids()
        if "js_related" not in model.article(aid).kinds and len(model.expected_record(aid)["relatedArticles"]) >= 2
    )

    def related(aid: str) -> set[str]:
        # The crawl renders pages whose related block is filled by script (render=auto).
        return {url.rsplit("/", 1)[-1] for url in model.expected_record(aid, rendered=True)["relatedArticles"]}

    depth1 = related(start) - {start}
    depth2 = set().union(*(related(aid) for aid in depth1)) - depth1 - {start}
    url = f"{replica.base_url}/article/{start}"
    for depth, want in ((0, {start}), (1, {start} | depth1), (2, {start} | depth1 | depth2)):
        replica.log.clear()
        work = tmp_path / f"depth{depth}"  # its own state: nothing is "known" from the run before
        work.mkdir()
        run = run_crawl(["-a", f"urls={url}", "-a", f"related_depth={depth}"], replica.base_url, work, work / "o.jsonl")
        fetched = set(_article_requests(replica))
        assert fetched == want, (depth, fetched ^ want)
        assert {item["articleId"] for item in run.items} == want
    # Most-read widgets are not related articles: never followed.
    popular = set(model.popular(start)) - depth1 - depth2 - {start}
    assert popular and not popular & fetched


def test_pagination_stops_at_the_empty_page(replica: ReplicaServer, tmp_path: Path) -> None:
    model = replica.model
    run = run_crawl(
        ["-a", "discover=sections", "-a", "sections=economy/macro", "-a", "max_pages=1000", "-a", "related_depth=0"],
        replica.base_url,
        tmp_path,
        tmp_path / "out.jsonl",
    )
    pages = sorted(
        int(parse_qs(urlsplit(r.path).query).get("page", ["1"])[0]) for r in replica.log.matching("/economy/macro")
    )
    total = model.total_pages("economy", "macro")
    assert pages == list(range(1, total + 2))  # every page, then the first empty one
    assert run.stat("hkcrawl/lists/stopped/empty_page") == 1
    assert {item["articleId"] for item in run.items} == set(model.ids("economy", "macro"))


def test_pagination_stops_at_max_pages(replica: ReplicaServer, tmp_path: Path) -> None:
    run = run_crawl(
        ["-a", "discover=sections,all-news", "-a", "max_pages=2", "-a", "related_depth=0"],
        replica.base_url,
        tmp_path,
        tmp_path / "out.jsonl",
    )
    pages = [parse_qs(urlsplit(r.path).query).get("page", ["1"])[0] for r in replica.log.matching(kind="section")]
    assert set(pages) <= {"1", "2"}
    assert not [r for r in replica.log.matching("/all-news") if "page=3" in r.path]
    assert run.stat("hkcrawl/lists/stopped/max_pages") >= 1


def test_pagination_stops_at_since(replica: ReplicaServer, tmp_path: Path) -> None:
    model = replica.model
    newest = model.article(model.ids()[0]).published.date()
    since = newest.isoformat()  # only the newest day
    run = run_crawl(
        ["-a", "discover=all-news", "-a", f"since={since}", "-a", "related_depth=0"],
        replica.base_url,
        tmp_path,
        tmp_path / "out.jsonl",
    )
    want = {aid for aid in model.ids() if model.article(aid).published.date() >= newest}
    assert {item["articleId"] for item in run.items} == want
    assert run.stat("hkcrawl/lists/stopped/since") == 1
    # It stopped on the first page that reached back past `since`, not at the end.
    pages_read = len(replica.log.matching("/all-news"))
    assert pages_read <= len(want) // model.page_size + 2 < model.total_pages()


def test_daily_sitemaps_back_fill_a_date_range(replica: ReplicaServer, tmp_path: Path) -> None:
    model = replica.model
    days = sorted(model.days_with_articles())[1:3]
    since, until = (f"{d[:4]}-{d[4:6]}-{d[6:]}" for d in (days[0], days[-1]))
    run = run_crawl(
        ["-a", "discover=sitemap", "-a", f"since={since}", "-a", f"until={until}", "-a", "related_depth=0"],
        replica.base_url,
        tmp_path,
        tmp_path / "out.jsonl",
    )
    want = {aid for aid in model.ids() if aid[:8] in days}
    assert {item["articleId"] for item in run.items} == want
    assert {r.path for r in replica.log.matching("/sitemap/")} == {f"/sitemap/daily-article/{d}.xml" for d in days}


def _day(compact: str) -> str:
    return f"{compact[:4]}-{compact[4:6]}-{compact[6:]}"


def test_a_back_fill_range_holds_with_related_articles_followed(replica: ReplicaServer, tmp_path: Path) -> None:
    model = replica.model
    days = sorted(model.days_with_articles())[1:3]
    since, until = _day(days[0]), _day(days[-1])
    run = run_crawl(
        ["-a", "discover=sitemap", "-a", f"since={since}", "-a", f"until={until}", "-a", "related_depth=1"],
        replica.base_url,
        tmp_path,
        tmp_path / "out.jsonl",
    )
    assert run.returncode == 0, run.log[-3000:]
    want = {aid for aid in model.ids() if aid[:8] in days}
    assert {item["articleId"] for item in run.items} == want
    assert [item["datePublished"] for item in run.items if not since <= item["datePublished"][:10] <= until] == []
    # Related blocks did link across the range's edges: those links were not followed.
    assert run.stat("hkcrawl/links/related_outside_range") > 0
    assert set(_article_requests(replica)) == want


def test_an_article_outside_the_range_is_dropped_not_failed(replica: ReplicaServer, tmp_path: Path) -> None:
    """Whatever found it (here the user): dropped and counted, the run still ok; and a
    failure an earlier run left for it stays, for a run whose range holds it."""
    model = replica.model
    days = sorted(model.days_with_articles())
    inside = next(aid for aid in model.ids() if aid[:8] == days[-1])
    outside = next(aid for aid in model.ids() if aid[:8] == days[0])
    replica.set_faults("404:articles")
    failed = run_crawl(["-a", f"urls={replica.base_url}/article/{outside}"], replica.base_url, tmp_path, None)
    assert failed.state_failures(tmp_path) == {outside: "http_404"}
    replica.set_faults(None)

    urls = f"{replica.base_url}/article/{inside},{replica.base_url}/article/{outside}"
    run = run_crawl(["-a", f"urls={urls}", "-a", f"since={_day(days[-1])}"], replica.base_url, tmp_path, None)
    assert run.returncode == 0, run.log[-3000:]
    report = reports(tmp_path)[-1]
    assert (report["status"], report["new"], report["dropped"], report["failedArticles"]) == (
        "ok", 1, {"outside_range": 1}, []
    )  # fmt: skip
    assert finished_ids(tmp_path) == [inside]
    assert run.stat("hkcrawl/retries/outside_range") == 1  # the earlier failure was not retried by the range
    assert run.state_failures(tmp_path) == {outside: "http_404"}


def test_robots_and_site_rules_hold(replica: ReplicaServer, tmp_path: Path) -> None:
    run_crawl(
        ["-a", "discover=sections,all-news,sitemap,feeds", "-a", "max_pages=2"],
        replica.base_url,
        tmp_path,
        tmp_path / "out.jsonl",
    )
    paths = [r.path for r in replica.log.records]
    assert paths[0] == "/robots.txt"
    disallowed = ("/tag/", "/api/", "/ext-api/", "/print/", "/ad/", "/premium9")
    assert not [p for p in paths if p.startswith(disallowed)]


def test_old_url_forms_give_one_record(replica: ReplicaServer, tmp_path: Path) -> None:
    aid = replica.model.ids()[5]
    section = replica.model.article(aid).section
    urls = [
        f"{replica.base_url}/news/app/newsview.php?aid={aid}",
        f"{replica.base_url}/{section}/article/{aid}",
        f"{replica.base_url}/article/{aid}",
    ]
    run = run_crawl(
        ["-a", "urls=" + ",".join(urls), "-a", "related_depth=0"], replica.base_url, tmp_path, tmp_path / "o.jsonl"
    )
    assert [item["articleId"] for item in run.items] == [aid]
    assert run.items[0]["canonicalUrl"] == f"https://www.hankyung.com/article/{aid}"


def test_max_articles_stops_cleanly(replica: ReplicaServer, tmp_path: Path) -> None:
    run = run_crawl(
        ["-a", "discover=all-news", "-a", "max_articles=7"], replica.base_url, tmp_path, tmp_path / "out.jsonl"
    )
    assert len(run.items) == 7
    assert run.returncode == 0
    assert "'finish_reason': 'max_articles'" in run.log


def test_a_stop_at_the_live_sites_pace_fetches_nothing_more(replica: ReplicaServer, tmp_path: Path) -> None:
    """With the live-site settings, a stop is quick: no queue of requests still to be
    fetched, one per delay, after the crawl decided to end."""
    replica.log.clear()
    run = run_crawl(
        ["-a", "discover=all-news", "-a", "max_articles=2", "-a", "render=never"],
        replica.base_url, tmp_path, tmp_path / "out.jsonl", settings={**_LIVE_PACE, "DOWNLOAD_DELAY": "0.3"},
    )  # fmt: skip
    assert len(run.items) == 2 and run.returncode == 0
    assert sum(_article_requests(replica).values()) <= 3  # the two, and at most one already on its way


def test_ctrl_c_at_the_live_sites_pace_ends_the_crawl_promptly(replica: ReplicaServer, tmp_path: Path) -> None:
    replica.log.clear()
    command = local_crawl_command(
        replica.base_url, "-a", "discover=all-news", "-a", "max_pages=50", "-a", "render=never",
        "-O", str(tmp_path / "out.jsonl"), settings={**_LIVE_PACE, "DOWNLOAD_DELAY": "0.5"},
    )  # fmt: skip
    proc = subprocess.Popen(command, cwd=tmp_path, env=crawl_environment(), stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while replica.log.count("/article/") < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    asked_at_stop = replica.log.count("/article/")
    stopped = time.monotonic()
    _, log = proc.communicate(timeout=60)
    assert replica.log.count("/article/") <= asked_at_stop + 1  # only the one already on its way
    assert time.monotonic() - stopped < 10, log[-2000:]  # ~1 s; generous for slow machines
    assert "'finish_reason': 'shutdown'" in log


def test_persistent_challenges_stop_the_crawl_with_exit_3(replica: ReplicaServer, tmp_path: Path) -> None:
    replica.set_challenge("all")
    run = run_crawl(
        ["-a", "discover=sections"],
        replica.base_url,
        tmp_path,
        tmp_path / "out.jsonl",
        settings={"HKCRAWL_BLOCK_BACKOFF": "0.05", "HKCRAWL_BLOCK_MAX_DELAY": "0.1", "ROBOTSTXT_OBEY": "False"},
    )
    assert run.items == []
    assert run.returncode == 3
    assert run.stat("hkcrawl/blocks/challenge") >= 8
    assert "Blocked: 8 challenge pages in a row" in run.log
    assert "Crawl FAILED: blocked by the site" in run.log


def test_occasional_challenges_are_retried_never_emitted(replica: ReplicaServer, tmp_path: Path) -> None:
    replica.set_challenge("rate:0.15")
    run = run_crawl(
        ["-a", "discover=all-news", "-a", "max_pages=3", "-a", "related_depth=0"],
        replica.base_url,
        tmp_path,
        tmp_path / "out.jsonl",
        settings={"HKCRAWL_BLOCK_BACKOFF": "0.01", "HKCRAWL_BLOCK_MAX_DELAY": "0.05", "HKCRAWL_BLOCK_RETRIES": "6"},
    )
    assert run.stat("hkcrawl/blocks/challenge") > 0
    assert run.returncode == 0, run.log[-2000:]
    assert {item["articleId"] for item in run.items} == set(replica.model.ids()[: 3 * replica.model.page_size])
    assert all(item["headline"] and "Just a moment" not in item["headline"] for item in run.items)

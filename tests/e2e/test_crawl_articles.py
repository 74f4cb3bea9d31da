"""``scrapy crawl hankyung -a urls=…`` over HTTP against the stored fixtures."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

from hkcrawl.datasets import record_errors
from hkcrawl.replica import ReplicaServer
from hkcrawl.similarity import published_minutes
from tests.conftest import article_fixture_pages, expected_record
from tests.e2e.conftest import BROKEN_PAGES, REPUBLISHED_SEED, run_crawl

ARTICLES = [p for p in article_fixture_pages() if expected_record(p)]
SEED_ID = "2022061771721"


def _path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _url_forms(base: str, article_id: str) -> list[str]:
    return [
        f"{base}/news/app/newsview.php?aid={article_id}",
        f"{base}/economy/article/{article_id}",
        f"{base}/article/{article_id}",
        f"{base}/article/{article_id}?from=rss",
    ]


def test_crawl_exports_every_fixture_once_with_every_field(fixture_site: str, tmp_path: Path) -> None:
    expected = {expected_record(p)["articleId"]: expected_record(p) for p in ARTICLES}
    # Each page at its own URL's path and query (the 2019 pages under /<section>/article/).
    urls = [fixture_site + _path_and_query(record["url"]) for record in expected.values()]
    urls += _url_forms(fixture_site, SEED_ID)  # the seed article again, in every URL form
    run = run_crawl(
        ["-a", "related_depth=0", "-a", "urls=" + ",".join(urls)], fixture_site, tmp_path, tmp_path / "out.jsonl"
    )

    assert "Traceback" not in run.log, run.log[-3000:]
    assert sorted(item["articleId"] for item in run.items) == sorted(expected)
    for item in run.items:
        want = expected[item["articleId"]]
        for key, value in want.items():
            if key != "url":
                assert item[key] == value, (item["articleId"], key)
        assert item["url"].startswith(fixture_site)
    # Every form of the seed (its own URL and four more) is one article, fetched once as
    # /article/<id>: nothing reaches the scheduler's duplicate filter or the dedupe pipeline.
    assert run.stat("hkcrawl/given_urls/same_article") == len(_url_forms(fixture_site, SEED_ID))
    assert run.stat("hkcrawl/pages/article") == len(expected)
    assert run.stat("dupefilter/filtered") == 0
    assert run.stat("hkcrawl/dropped/duplicate") == 0
    # Korean stays readable in the file (no \uXXXX escapes), one record per line.
    assert "정지은".encode() in run.raw and b"\\u" not in run.raw
    assert run.raw.count(b"\n") == len(expected)
    assert [record_errors(item) for item in run.items] == [[]] * len(expected)
    assert not (tmp_path / "data").exists(), "-O replaces the default dated file, it does not add to it"


def test_bad_urls_and_pages_are_counted_never_emitted(fixture_site: str, tmp_path: Path) -> None:
    urls = [
        "javascript:alert(1)",
        "mailto:jeong@hankyung.com",
        "https://evil.example.com/article/2022061771721",
        f"{fixture_site}/economy",  # no article id
        f"{fixture_site}/article/2022061700001",  # 404
        f"{fixture_site}/article/{SEED_ID}",
        *(fixture_site + path for path in BROKEN_PAGES),
    ]
    run = run_crawl(
        ["-a", "related_depth=0", "-a", "urls=" + ",".join(urls)], fixture_site, tmp_path, tmp_path / "out.jsonl"
    )
    assert [item["articleId"] for item in run.items] == [SEED_ID]
    assert run.stat("hkcrawl/rejected_urls/bad_scheme") == 2
    assert run.stat("hkcrawl/rejected_urls/off_site") == 1
    assert run.stat("hkcrawl/rejected_urls/not_article_url") == 1
    assert run.stat("hkcrawl/errors/http_404") == 1
    assert run.stat("hkcrawl/pages/empty_page") == 1
    assert run.stat("hkcrawl/pages/not_article") == 2
    assert "not_article: " + fixture_site + "/article/2022061700004" in run.log
    assert "Traceback" not in run.log
    # Article URLs that gave no article were not saved: the run says so, and remembers them.
    assert run.returncode == 1
    assert "Crawl FAILED: 4 of 5 URLs failed" in run.log
    failed = run.state_failures(tmp_path)
    assert failed == {
        "2022061700001": "http_404",
        "2022061700002": "empty_page",
        "2022061700003": "not_article",
        "2022061700004": "not_article",
    }


def test_default_output_is_a_dated_jsonl_file_under_data(fixture_site: str, tmp_path: Path) -> None:
    urls_file = tmp_path / "urls.txt"
    urls_file.write_text(f"# the seed article\n{fixture_site}/article/{SEED_ID}\n", encoding="utf-8")
    run = run_crawl(["-a", "related_depth=0", "-a", f"urls_file={urls_file}"], fixture_site, tmp_path, None)
    files = list((tmp_path / "data" / "hankyung").glob("*.jsonl"))
    assert len(files) == 1, run.log[-2000:]
    assert files[0].name[:4].isdigit()
    assert files[0].read_text(encoding="utf-8").count('"articleId": "2022061771721"') == 1


def test_error_rate_over_the_threshold_fails_the_crawl(fixture_site: str, tmp_path: Path) -> None:
    missing = [f"{fixture_site}/article/20220617{n:04d}1" for n in range(25)]  # all 404
    urls = ",".join([f"{fixture_site}/article/{SEED_ID}", *missing])
    run = run_crawl(["-a", "related_depth=0", "-a", f"urls={urls}"], fixture_site, tmp_path, None)
    assert run.returncode == 1
    # Distinct URLs, not requests: robots.txt and retries do not dilute the rate.
    assert "Crawl FAILED: 25 of 26 URLs failed" in run.log
    [report] = (tmp_path / "data" / "hankyung").glob("*.report.json")
    assert '"status": "failed"' in report.read_text()


def test_the_same_story_under_another_id_is_annotated_and_reported(fixture_site: str, tmp_path: Path) -> None:
    urls = f"{fixture_site}/article/{SEED_ID},{fixture_site}{REPUBLISHED_SEED}"
    run = run_crawl(["-a", "related_depth=0", "-a", f"urls={urls}"], fixture_site, tmp_path, None)
    [output] = (tmp_path / "data" / "hankyung").glob("*.jsonl")
    records = {r["articleId"]: r for r in map(json.loads, output.read_text(encoding="utf-8").splitlines())}
    # The earlier published is the original, whichever page was processed first (the two
    # download concurrently): when the copy came first, the run reports its correction.
    original = min(records, key=lambda aid: (published_minutes(records[aid]["datePublished"]), aid))
    [copy] = set(records) - {original}
    [report_file] = (tmp_path / "data" / "hankyung").glob("*.report.json")
    report = json.loads(report_file.read_text())
    assert records[original]["duplicateOf"] is None
    if records[copy]["duplicateOf"] is None:
        assert report["duplicateCorrections"] == [{"articleId": copy, "duplicateOf": original}]
        assert report["nearDuplicates"] == {"corrected": 1}
    else:
        assert (records[copy]["duplicateOf"], records[copy]["duplicateSimilarity"]) == (original, 1.0)
        assert (report["duplicateCorrections"], report["nearDuplicates"]) == ([], {"exact_body": 1})
    assert run.returncode == 0


def test_the_cue_that_gave_each_field_is_counted_and_reported(replica: ReplicaServer, tmp_path: Path) -> None:
    """Every replica page keeps the guessed markup: the guessed selectors win, and the
    run report shows per field which cue gave it on how many pages."""
    ids = replica.model.ids()[:6]
    urls = ",".join(f"{replica.base_url}/article/{aid}" for aid in ids)
    run = run_crawl(["-a", "related_depth=0", "-a", f"urls={urls}"], replica.base_url, tmp_path, None)
    assert run.returncode == 0, run.log[-3000:]
    assert run.stat("hkcrawl/cue/articleBody/articletxt") == len(ids)
    [report_file] = (tmp_path / "data" / "hankyung").glob("*.report.json")
    cues = json.loads(report_file.read_text())["cues"]
    assert cues["articleBody"] == {"articletxt": len(ids)}
    assert sum(cues["section"].values()) == sum(cues["isPremium"].values()) == len(ids)
    assert "fallback" not in cues["articleBody"]

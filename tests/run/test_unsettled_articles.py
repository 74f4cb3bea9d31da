"""The Run component's verdict on its own, without a crawl: what it must never call "ok"."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from scrapy.utils.test import get_crawler

import hkcrawl.settings as project_settings
from hkcrawl.run import Run
from hkcrawl.spiders.hankyung import HankyungSpider

ARTICLE = "2026112056423"
URL = f"http://127.0.0.1:1/article/{ARTICLE}"


def _open_run(tmp_path: Path, **extra: object) -> Run:
    """A Run on the project's settings with its own state and output, opened, no crawl."""
    settings = {name: getattr(project_settings, name) for name in dir(project_settings) if name.isupper()}
    settings.update(HKCRAWL_STATE_DIR=str(tmp_path / "state"), HKCRAWL_OUTPUT_DIR=str(tmp_path / "data"), **extra)
    crawler = get_crawler(HankyungSpider, settings)
    crawler._apply_settings()
    run = Run(crawler)
    run.ensure_open()
    return run


def _closed(tmp_path: Path, reason: str) -> Run:
    """A run that asked for one article and closed for ``reason`` without ever settling it."""
    run = _open_run(tmp_path)
    run.article_requested(ARTICLE, URL)
    run.url_done(URL, ok=True)
    run.stats.set_value("response_received_count", 1)
    run.spider_closed(reason)
    return run


def _failures(tmp_path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(tmp_path / "state" / "hankyung.sqlite3") as db:
        return list(db.execute("SELECT article_id, reason FROM failures"))


def test_an_article_asked_for_and_never_settled_fails_a_finished_run(tmp_path: Path) -> None:
    # Scrapy can drop a request with no callback or errback at all (its duplicate filter
    # does, for a redirect back to a page already fetched): the run must not call that ok.
    run = _closed(tmp_path, "finished")
    assert run.status == "failed" and "not_fetched 1" in run.failure
    assert run.report["failedArticles"] == [{"articleId": ARTICLE, "url": URL, "reason": "not_fetched"}]
    assert _failures(tmp_path) == [(ARTICLE, "not_fetched")]


def test_articles_left_by_max_articles_stay_pending_and_the_run_is_ok(tmp_path: Path) -> None:
    run = _closed(tmp_path, "max_articles")
    assert run.status == "ok" and run.report["failedArticles"] == []
    assert _failures(tmp_path) == [(ARTICLE, "interrupted")]


def test_a_run_whose_end_cannot_be_recorded_fails_and_its_report_says_so(tmp_path: Path) -> None:
    """The next run reads the recorded end (the quiet-site check, cost-aware discovery):
    a run that cannot record it must not stay "ok"."""
    run = _open_run(tmp_path)
    run.stats.set_value("response_received_count", 1)
    run.url_done(URL, ok=True)

    def disk_full(*args: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    run.state.finish_run = disk_full  # type: ignore[method-assign]
    run.spider_closed("finished")
    assert run.status == "failed" and "cannot record the run's end" in run.failure
    report = json.loads(run.report_path.read_text(encoding="utf-8"))
    assert (report["status"], report["failure"]) == ("failed", run.failure)


def _counted(tmp_path: Path, recent_keys: int) -> Run:
    """A run that saw 50 URLs (every fifth failing first, then working on retry, one of
    them failing for good) and 40 articles saved, with only ``recent_keys`` kept."""
    run = _open_run(tmp_path, HKCRAWL_RECENT_KEYS=recent_keys)
    for n in range(50):
        url = f"http://127.0.0.1:1/list?page={n}"
        if n % 5 == 0:
            run.url_done(url, ok=False)  # its retry comes right after
        run.url_done(url, ok=n != 10)
    run.stats.set_value("response_received_count", 50)
    run.spider_closed("finished")
    return run


def test_a_runs_counts_do_not_depend_on_how_many_keys_it_keeps(tmp_path: Path) -> None:
    small, default = _counted(tmp_path / "small", 3), _counted(tmp_path / "default", 100_000)
    assert (small.facts.urls_tried, small.facts.urls_failed) == (default.facts.urls_tried, default.facts.urls_failed)
    assert (small.facts.urls_tried, small.facts.urls_failed) == (50, 1)

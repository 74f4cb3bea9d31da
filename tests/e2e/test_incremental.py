"""Scheduled runs against the replica: incremental, killable, locked, honest exit codes."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import sqlite3
import subprocess
import threading
import time
from datetime import timedelta
from pathlib import Path

from hkcrawl.demo import crawl_environment, local_crawl_command
from hkcrawl.lock import DirectoryLock
from hkcrawl.replica import ReplicaServer
from tests.e2e.conftest import FULL, FirstRuns, cron, finished_ids, reports, run_crawl


def test_rerun_fetches_only_what_is_new(replica: ReplicaServer, tmp_path: Path, first_run: FirstRuns) -> None:
    model = replica.model
    before = first_run(replica, tmp_path, timedelta(hours=10))
    end = model.now
    model.now = end - timedelta(hours=10)  # the 수정 times run 1 saw
    modified_before = {aid: model.modified(aid) for aid in before}
    model.now = end

    new = set(model.ids()) - before
    # 수정 times that fell in those 10 hours: the articles were edited since run 1.
    edited = {aid for aid in before if model.modified(aid) != modified_before[aid]}
    assert 10 <= len(new) < 100 and edited
    second = run_crawl(FULL, replica.base_url, tmp_path, None)
    assert second.returncode == 0, second.log[-2000:]
    fetched = {r.path.rsplit("/", 1)[-1] for r in replica.log.matching("/article/")}
    assert fetched == new | edited  # no unchanged known article downloaded again
    report = reports(tmp_path)[-1]
    assert (report["new"], report["updated"], report["status"]) == (len(new), len(edited), "ok")
    assert report["knownSkipped"] > 0
    assert set(finished_ids(tmp_path)) == before | new
    # The latest sitemap reaches back past run 1 (README "Scheduled runs"): no section
    # list is read, only the sitemaps and one /all-news page to check them.
    assert second.stat("hkcrawl/discovery/sitemap_covers") == second.stat("hkcrawl/discovery/canary_ok") == 1
    assert not replica.log.matching(kind="section")


def test_edited_article_is_exported_again_as_an_update(replica: ReplicaServer, tmp_path: Path) -> None:
    model = replica.model
    run_crawl(FULL, replica.base_url, tmp_path, None)
    edited = model.ids()[3]
    model.modify(edited, at=model.now)
    model.now = model.now + timedelta(minutes=1)
    run = run_crawl(FULL, replica.base_url, tmp_path, tmp_path / "second.jsonl")
    assert [(item["articleId"], item["isUpdate"]) for item in run.items] == [(edited, True)]
    assert run.items[0]["dateModified"] == model.expected_record(edited)["dateModified"]


def _kill_after(command: list[str], cwd: Path, replica: ReplicaServer, articles: int) -> None:
    """SIGKILL a crawl once the replica has served it ``articles`` article pages."""
    replica.log.clear()
    proc = subprocess.Popen(
        command, cwd=cwd, env=crawl_environment(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while replica.log.count("/article/") < articles and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)


def test_sigkill_at_any_moment_loses_no_article(replica: ReplicaServer, tmp_path: Path) -> None:
    settings = {"HKCRAWL_CHECKPOINT_ITEMS": "15", "DOWNLOAD_DELAY": "0.004", "LOG_LEVEL": "INFO"}
    command = local_crawl_command(replica.base_url, *FULL, settings=settings)
    # From before the first article to deep into the crawl; each run skips what the
    # runs before it marked known, so the later points fall further into the site.
    for articles in (0, 7, 40, 90, 160):
        _kill_after(command, tmp_path, replica, articles)
    leftovers = list((tmp_path / "data" / "hankyung").glob("*.part"))
    killed_ids = set(finished_ids(tmp_path))
    # The state never runs ahead of the files: whatever it calls known is in some file, finished or .part.
    known = {
        row[0]
        for row in sqlite3.connect(tmp_path / "state" / "hankyung.sqlite3").execute("SELECT article_id FROM articles")
    }
    part_ids = {
        json.loads(line)["articleId"]
        for part in leftovers
        for line in part.read_bytes().decode("utf-8", "replace").splitlines()
        if line.endswith("}")
    }
    assert known <= killed_ids | part_ids
    assert known, "some run got past a checkpoint before it was killed"

    final = run_crawl(FULL, replica.base_url, tmp_path, None)
    assert final.returncode == 0, final.log[-2000:]
    assert not list((tmp_path / "data" / "hankyung").glob("*.part"))
    assert set(finished_ids(tmp_path)) == set(replica.model.ids())
    assert final.stat("hkcrawl/output/recovered_files") == len(leftovers)


def test_jobdir_pause_and_resume(replica: ReplicaServer, tmp_path: Path) -> None:
    command = local_crawl_command(
        replica.base_url, *FULL, "-s", "JOBDIR=job", settings={"DOWNLOAD_DELAY": "0.01", "CONCURRENT_REQUESTS": "4"}
    )
    proc = subprocess.Popen(command, cwd=tmp_path, env=crawl_environment(), stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while replica.log.count("/article/") < 40 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)  # Scrapy's graceful stop: the queue stays in JOBDIR
    _, log = proc.communicate(timeout=60)
    assert "'finish_reason': 'shutdown'" in log
    paused = set(finished_ids(tmp_path))
    assert 0 < len(paused) < len(replica.model.ids())
    resumed = subprocess.run(
        command, cwd=tmp_path, env=crawl_environment(), capture_output=True, text=True, timeout=120
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert set(finished_ids(tmp_path)) == set(replica.model.ids())


def test_gzip_output(replica: ReplicaServer, tmp_path: Path) -> None:
    run_crawl(
        ["-a", "discover=all-news", "-a", "max_pages=1", "-a", "related_depth=0"],
        replica.base_url,
        tmp_path,
        None,
        {"HKCRAWL_OUTPUT_GZIP": "True"},
    )
    assert len(list((tmp_path / "data" / "hankyung").glob("*.jsonl.gz"))) == 1
    assert len(finished_ids(tmp_path)) == replica.model.page_size


def test_cron_twice_at_once_then_blocked(replica: ReplicaServer, tmp_path: Path) -> None:
    home, elsewhere = tmp_path / "hkcrawl-home", tmp_path / "elsewhere"
    elsewhere.mkdir()
    # The first run is held at its first article page, so it holds the lock (taken before
    # any request) while the second starts, however busy the machine: no race to lose.
    first_article, second_done = threading.Event(), threading.Event()
    serve = replica.site.get

    def held(path: str):
        if path.startswith("/article/"):
            first_article.set()
            second_done.wait(120)
        return serve(path)

    replica.site.get = held
    first = cron(home, elsewhere, replica.base_url, "-a", "max_pages=1000")
    try:
        assert first_article.wait(120), "the first run never asked for an article"
        second = cron(home, elsewhere, replica.base_url)
        _, second_err = second.communicate(timeout=60)
    finally:
        second_done.set()
    first_out, first_err = first.communicate(timeout=120)
    assert first.returncode == 0, first_err
    assert first_out == first_err == ""  # silent when all is well: cron mails only failures
    assert second.returncode == 75
    assert "another hkcrawl run is in progress" in second_err and "not starting" in second_err
    assert set(finished_ids(home)) == set(replica.model.ids())
    assert list((home / "logs").glob("hankyung-*.log"))
    assert not list(elsewhere.iterdir())

    replica.set_challenge("all")
    blocked = cron(
        home, elsewhere, replica.base_url, "-s", "HKCRAWL_BLOCK_BACKOFF=0.01", "-s", "HKCRAWL_BLOCK_MAX_DELAY=0.05"
    )
    _, err = blocked.communicate(timeout=120)
    assert blocked.returncode == 3
    assert "blocked by the site" in err
    assert reports(home)[-1]["status"] == "blocked"


def test_cron_locks_the_state_directory_it_is_given(replica: ReplicaServer, tmp_path: Path) -> None:
    home = tmp_path / "hkcrawl-home"
    other_run = DirectoryLock(home / "shared-state")  # another run using that state
    other_run.acquire()
    try:
        busy = cron(home, tmp_path, replica.base_url, "-s", "HKCRAWL_STATE_DIR=shared-state")
        _, err = busy.communicate(timeout=60)
    finally:
        other_run.release()
    assert busy.returncode == 75, err
    assert f"lock {home / 'shared-state'}" in err and "not starting" in err
    assert not (home / "state").exists()
    assert not list((home / "data" / "hankyung").glob("*")), "a busy run leaves no file or report"


def test_zero_new_articles_for_too_long_fails(replica: ReplicaServer, tmp_path: Path) -> None:
    run_crawl(["-a", "discover=all-news", "-a", "max_pages=1"], replica.base_url, tmp_path, None)
    quiet = run_crawl(
        ["-a", "discover=all-news", "-a", "max_pages=1"],
        replica.base_url,
        tmp_path,
        None,
        {"HKCRAWL_EXPECT_NEW_WITHIN_HOURS": "0.0001"},
    )
    assert quiet.returncode == 1
    assert "no new article since" in quiet.log
    assert reports(tmp_path)[-1]["status"] == "failed"


def test_layout_drift_fails_the_run(replica: ReplicaServer, tmp_path: Path) -> None:
    # A page the parser still recognises but that no longer shows its times in any form
    # a cue reads (a renamed class alone is survived: the 입력 label still gives the
    # date): every record invalid.
    original = replica.site.get
    timestamp = re.compile(rb"\d{4}[.-]\d{2}[.-]\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:\+09:00)?)?")

    def drifted(path: str):
        response = original(path)
        if path.startswith("/article/"):
            response = dataclasses.replace(response, body=timestamp.sub(b"", response.body))
        return response

    replica.site.get = drifted
    run = run_crawl(["-a", "discover=all-news", "-a", "max_pages=2"], replica.base_url, tmp_path, None)
    assert run.returncode == 1
    assert "layout drift" in run.log
    assert os.path.exists(tmp_path / "data" / "hankyung")


def test_runs_from_a_project_subfolder_share_the_project_roots_files(replica: ReplicaServer, tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "notebooks").mkdir(parents=True)
    (project / "scrapy.cfg").write_text("[settings]\ndefault = hkcrawl.settings\n", encoding="utf-8")
    url = f"{replica.base_url}/article/{replica.model.ids()[0]}"
    run = run_crawl(["-a", f"urls={url}"], replica.base_url, project / "notebooks", None)
    assert run.returncode == 0, run.log[-2000:]
    assert list((project / "notebooks").iterdir()) == []
    assert len(finished_ids(project)) == 1 and (project / "state" / "hankyung.sqlite3").exists()

    # hkcrawl cron --dir keeps every path under its folder, even one inside the project.
    home = project / "notebooks" / "cron-home"
    proc = cron(home, tmp_path, replica.base_url, "-a", f"urls={url}")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert len(finished_ids(home)) == 1 and (home / "state" / "hankyung.sqlite3").exists()
    assert len(finished_ids(project)) == 1, "the project root's files are not touched"


def test_a_busy_run_leaves_the_feed_file_it_was_given_untouched(replica: ReplicaServer, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text('{"earlier": "dataset"}\n', encoding="utf-8")
    other_run = DirectoryLock(tmp_path / "state")
    other_run.acquire()
    try:
        busy = run_crawl(["-a", "discover=all-news", "-a", "max_pages=1"], replica.base_url, tmp_path, out)
    finally:
        other_run.release()
    assert busy.returncode == 75, busy.stderr[-2000:]
    assert out.read_text(encoding="utf-8") == '{"earlier": "dataset"}\n'
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []

    done = run_crawl(["-a", "discover=all-news", "-a", "max_pages=1"], replica.base_url, tmp_path, out)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.items and all("articleId" in record for record in done.items), "-O replaced the earlier content"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def test_a_run_failing_at_its_end_still_marks_what_its_file_holds(replica: ReplicaServer, tmp_path: Path) -> None:
    # The near-duplicate index cannot be saved (a folder in its place): the run fails at
    # its very end, after its records are in its finished file. Those records must be
    # known, or the next run exports them a second time.
    (tmp_path / "state" / "near_duplicates.npz").mkdir(parents=True)
    args = ["-a", "discover=all-news", "-a", "max_pages=1", "-a", "related_depth=0"]
    first = run_crawl(args, replica.base_url, tmp_path, None, {"HKCRAWL_CHECKPOINT_ITEMS": "1000"})
    assert first.returncode == 1, first.log[-2000:]
    assert "near-duplicate index" in first.log
    assert len(finished_ids(tmp_path)) == replica.model.page_size

    replica.log.clear()
    second = run_crawl(args, replica.base_url, tmp_path, None, {"HKCRAWL_CHECKPOINT_ITEMS": "1000"})
    assert second.returncode == 1, second.log[-2000:]  # the index still cannot be saved
    ids = finished_ids(tmp_path)
    assert sorted(ids) == sorted(set(ids)), "no article exported twice"
    assert replica.log.matching("/article/") == [], "every article the failed run saved is known"

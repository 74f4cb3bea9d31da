"""The run's own files under faults: stolen locks, read-only and full disks, corrupt state.

Each test runs the real ``scrapy crawl hankyung`` against the replica and checks the
three promises of hkcrawl/run.py: a run that could not save what it should says
"failed" (exit status, one line on stderr, the report where it can be written);
the state is never ahead of the finished files; the next run recovers the rest.
Full and read-only disks are real tmpfs mounts (the tests run as root, as CI does);
where mounting is refused, a disk quota stands in (``RLIMIT_FSIZE``) or the test
says why it cannot run.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from hkcrawl.demo import crawl_environment, local_crawl_command
from hkcrawl.replica import ReplicaServer, SiteModel
from tests.e2e.conftest import run_crawl

FULL = ["-a", "max_pages=1000", "-a", "render=never"]
#: Slow enough that a test can act while the crawl runs, fast enough for the suite.
SLOW = {"DOWNLOAD_DELAY": "0.02", "CONCURRENT_REQUESTS": "1", "HKCRAWL_CHECKPOINT_ITEMS": "5"}


@pytest.fixture
def small_replica() -> Iterator[ReplicaServer]:
    with ReplicaServer(SiteModel(articles=120)) as server:
        yield server


def _finished_ids(output_dir: Path) -> list[str]:
    ids = []
    for path in sorted(output_dir.glob("*.jsonl")):
        ids += [json.loads(line)["articleId"] for line in path.read_text(encoding="utf-8").splitlines() if line]
    return ids


def _known(state_dir: Path) -> set[str]:
    with sqlite3.connect(state_dir / "hankyung.sqlite3") as db:
        return {row[0] for row in db.execute("SELECT article_id FROM articles")}


def _reports(output_dir: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(output_dir.glob("*.report.json"))]


def _start(replica: ReplicaServer, cwd: Path, *args: str, settings: dict[str, str] | None = None) -> subprocess.Popen:
    command = local_crawl_command(replica.base_url, *FULL, *args, settings={"LOG_LEVEL": "INFO", **(settings or {})})
    return subprocess.Popen(
        command, cwd=cwd, env=crawl_environment(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


def _wait_for_articles(replica: ReplicaServer, count: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while replica.log.count("/article/") < count:
        assert proc.poll() is None, "the crawl ended before the test could act"
        assert time.monotonic() < deadline, "the crawl made no progress"
        time.sleep(0.01)


# -- the lock -------------------------------------------------------------------------


def test_deleting_the_lock_file_lets_no_second_run_in(small_replica: ReplicaServer, tmp_path: Path) -> None:
    first = _start(small_replica, tmp_path, settings=SLOW)
    _wait_for_articles(small_replica, 10, first)
    (tmp_path / "state" / "hankyung.lock").unlink()  # only says who holds it: the directory is locked
    second = run_crawl(FULL, small_replica.base_url, tmp_path, None)
    _, first_log = first.communicate(timeout=120)
    assert second.returncode == 75, second.log[-2000:]
    assert "another hkcrawl run is in progress" in second.log
    assert first.returncode == 0, first_log[-2000:]
    assert sorted(_finished_ids(tmp_path / "data" / "hankyung")) == sorted(small_replica.model.ids())


def test_a_removed_state_directory_stops_the_run_and_nothing_is_lost(
    small_replica: ReplicaServer, tmp_path: Path
) -> None:
    output = tmp_path / "data" / "hankyung"
    first = _start(small_replica, tmp_path, settings=SLOW)
    _wait_for_articles(small_replica, 15, first)
    shutil.rmtree(tmp_path / "state")  # the lock goes with it: a second run can start
    second = run_crawl(FULL, small_replica.base_url, tmp_path, None)
    _, first_log = first.communicate(timeout=120)

    assert first.returncode == 1, first_log[-2000:]
    assert "lock lost" in first_log and "stopped writing" in first_log
    assert second.returncode == 0, second.log[-2000:]
    # The second run left the first one's live .part file alone.
    assert "Leaving" in second.log or not list(output.glob("*.part"))
    third = run_crawl(FULL, small_replica.base_url, tmp_path, None)
    assert third.returncode == 0, third.log[-2000:]
    assert not list(output.glob("*.part"))
    finished = set(_finished_ids(output))
    assert finished == set(small_replica.model.ids())
    assert _known(tmp_path / "state") <= finished  # never ahead of the files


# -- disks ----------------------------------------------------------------------------


@contextmanager
def _tmpfs(path: Path, size: str, read_only: bool = False) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (",ro" if read_only else "")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.decode().strip()}); CI runs these as root")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_read_only_output_directory_fails_the_run_in_one_line(small_replica: ReplicaServer, tmp_path: Path) -> None:
    with _tmpfs(tmp_path / "data" / "hankyung", "1m", read_only=True):
        run = run_crawl(FULL, small_replica.base_url, tmp_path, None)
    assert run.returncode == 1
    assert "hkcrawl: crawl failed: cannot start the run: Read-only file system" in run.log
    assert "Traceback" not in run.log
    assert not _known(tmp_path / "state"), "nothing may be marked known without a file"


def test_full_output_disk_fails_the_run_and_the_next_run_saves_the_rest(
    small_replica: ReplicaServer, tmp_path: Path
) -> None:
    output = tmp_path / "data" / "hankyung"
    with _tmpfs(output, "96k"):
        run = run_crawl(FULL, small_replica.base_url, tmp_path, None, {"HKCRAWL_CHECKPOINT_ITEMS": "5"})
        assert run.returncode == 1, run.log[-2000:]
        assert "No space left on device" in run.log
        assert "Traceback" not in run.log
        saved = set(_finished_ids(output)) | {
            json.loads(line)["articleId"]
            for part in output.glob("*.part")
            for line in part.read_bytes().decode("utf-8", "replace").splitlines()
            if line.endswith("}")
        }
        assert _known(tmp_path / "state") <= saved
        subprocess.run(["mount", "-o", "remount,size=64m", str(output)], check=True)
        rerun = run_crawl(FULL, small_replica.base_url, tmp_path, None)
        assert rerun.returncode == 0, rerun.log[-2000:]
        assert set(_finished_ids(output)) == set(small_replica.model.ids())
        assert not list(output.glob("*.part"))


def test_full_state_disk_fails_the_run(small_replica: ReplicaServer, tmp_path: Path) -> None:
    state = tmp_path / "state"
    with _tmpfs(state, "4m"):  # SQLite's write-ahead log alone takes a few hundred kB
        first = _start(small_replica, tmp_path, settings=SLOW)
        _wait_for_articles(small_replica, 10, first)
        filler = state / "filler"
        with open(filler, "wb", buffering=0) as file, pytest.raises(OSError):
            while True:  # fill what is left of the disk
                file.write(b"\0" * 4096)
        _, log = first.communicate(timeout=120)
        assert first.returncode == 1, log[-2000:]
        assert "cannot write the state" in log and "Traceback" not in log
        filler.unlink()
        assert _known(state) <= set(_finished_ids(tmp_path / "data" / "hankyung"))
        rerun = run_crawl(FULL, small_replica.base_url, tmp_path, None)
        assert rerun.returncode == 0, rerun.log[-2000:]
    assert set(_finished_ids(tmp_path / "data" / "hankyung")) == set(small_replica.model.ids())


def test_a_leftover_part_path_that_cannot_be_opened_fails_the_run(small_replica: ReplicaServer, tmp_path: Path) -> None:
    output = tmp_path / "data" / "hankyung"
    (output / "2020-01-01T00-00-00.jsonl.part").mkdir(parents=True)  # not a file
    run = run_crawl(FULL, small_replica.base_url, tmp_path, None)
    assert run.returncode == 1
    assert "hkcrawl: crawl failed: cannot start the run: Is a directory" in run.log
    assert "Traceback" not in run.log


# -- state ---------------------------------------------------------------------------


@pytest.mark.parametrize("damage", [b"not a database at all\n" * 100, b"SQLite format 3\0" + b"\xff" * 4000])
def test_a_corrupt_state_database_is_set_aside_and_rebuilt(
    small_replica: ReplicaServer, tmp_path: Path, damage: bytes
) -> None:
    first = run_crawl(FULL, small_replica.base_url, tmp_path, None)
    assert first.returncode == 0, first.log[-2000:]
    database = tmp_path / "state" / "hankyung.sqlite3"
    for leftover in (tmp_path / "state").glob("hankyung.sqlite3-*"):
        leftover.unlink()
    database.write_bytes(damage)
    small_replica.log.clear()
    second = run_crawl(FULL, small_replica.base_url, tmp_path, None)
    assert second.returncode == 0, second.log[-2000:]
    assert "cannot be used" in second.log and "rebuilt from the finished files" in second.log
    assert small_replica.log.count("/article/") == 0, "everything was known again from the files"
    assert list((tmp_path / "state").glob("hankyung.sqlite3.corrupt-*"))


def test_check_forgets_what_no_finished_file_holds(small_replica: ReplicaServer, tmp_path: Path) -> None:
    small_replica.model.now -= (small_replica.model.now - small_replica.model.now.replace(hour=0)) / 2
    first = run_crawl(FULL, small_replica.base_url, tmp_path, None)
    assert first.returncode == 0, first.log[-2000:]
    [first_file] = (tmp_path / "data" / "hankyung").glob("*.jsonl")
    lost = set(_finished_ids(tmp_path / "data" / "hankyung"))
    first_file.unlink()  # a user cleaning up, a bad copy: the state now knows more than the files
    hkcrawl = Path(os.environ.get("VIRTUAL_ENV", "")) / "bin" / "hkcrawl"
    hkcrawl = hkcrawl if hkcrawl.exists() else Path(__import__("sys").executable).with_name("hkcrawl")
    check = subprocess.run([str(hkcrawl), "check", "--dir", str(tmp_path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    assert f"forgot {len(lost)} article(s) that {first_file.name} does not hold" in check.stdout
    assert not _known(tmp_path / "state")
    small_replica.log.clear()
    second = run_crawl(FULL, small_replica.base_url, tmp_path, None)
    assert second.returncode == 0, second.log[-2000:]
    assert lost <= set(_finished_ids(tmp_path / "data" / "hankyung"))


# -- failed articles ---------------------------------------------------------------------


def test_failed_articles_are_fetched_again_past_the_known_page_stop(tmp_path: Path) -> None:
    """Older articles that failed in one run: the next run stops paging at known pages,
    yet fetches them, because the state remembers them."""
    with ReplicaServer(SiteModel(articles=120), faults="500:articles:share=0.1:count=3") as replica:
        first = run_crawl(FULL, replica.base_url, tmp_path, None)
        failed = set(first.state_failures(tmp_path))
        assert failed and first.returncode == 1
        assert f"{len(failed)} article(s) could not be saved (http_500 {len(failed)})" in first.log
        report = _reports(tmp_path / "data" / "hankyung")[-1]
        assert report["status"] == "failed"
        assert {entry["articleId"] for entry in report["failedArticles"]} == failed
        replica.log.clear()
        second = run_crawl(FULL, replica.base_url, tmp_path, None)
        assert second.returncode == 0, second.log[-2000:]
        assert second.stat("hkcrawl/lists/stopped/known") > 0
        fetched = {record.path.rsplit("/", 1)[-1] for record in replica.log.matching("/article/")}
        assert fetched == failed, "only the failed ones, once each"
        assert second.state_failures(tmp_path) == {}
        assert _reports(tmp_path / "data" / "hankyung")[-1]["recoveredFromEarlierFailures"] == len(failed)
        assert sorted(_finished_ids(tmp_path / "data" / "hankyung")) == sorted(replica.model.ids())


def test_a_body_cut_short_without_content_length_is_never_exported(tmp_path: Path) -> None:
    with ReplicaServer(SiteModel(articles=60), faults="truncate-nolength:articles:share=0.2:count=5") as replica:
        first = run_crawl(FULL, replica.base_url, tmp_path, None)
        cut = set(first.state_failures(tmp_path))
        assert cut and first.returncode == 1
        assert first.stat("hkcrawl/errors/truncated") == len(cut)
        assert first.stat("hkcrawl/retries/truncated") >= 2 * len(cut)
        replica.set_faults("none")
        second = run_crawl(FULL, replica.base_url, tmp_path, None)
        assert second.returncode == 0, second.log[-2000:]
        records = [
            json.loads(line)
            for path in sorted((tmp_path / "data" / "hankyung").glob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines()
        ]
        assert sorted(r["articleId"] for r in records) == sorted(replica.model.ids())
        for record in records:
            assert record["articleBody"] == replica.model.expected_record(record["articleId"])["articleBody"]


# -- the verdict ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args", [[], ["-a", "discover=sitemap"], ["-a", "urls=http://127.0.0.1:9/article/2022061771721"]]
)
def test_an_unreachable_site_fails_at_once_in_one_line(tmp_path: Path, args: list[str]) -> None:
    started = time.monotonic()
    run = run_crawl(args, "http://127.0.0.1:9", tmp_path, None, {"RETRY_TIMES": "5"})
    assert run.returncode == 1
    assert time.monotonic() - started < 60
    [line] = [line for line in run.log.splitlines() if line.startswith("hkcrawl: crawl failed")]
    assert "the site cannot be reached: 127.0.0.1:9" in line
    assert _reports(tmp_path / "data" / "hankyung")[-1]["status"] == "failed"


def test_a_sitemap_that_answers_500_is_a_failed_run(tmp_path: Path) -> None:
    with ReplicaServer(SiteModel(articles=60), faults="500:sitemaps") as replica:
        run = run_crawl(["-a", "discover=sitemap"], replica.base_url, tmp_path, None)
    assert run.returncode == 1
    assert "every one of the 1 URL(s) tried failed" in run.log
    assert run.stat("hkcrawl/errors/http_500") == 1


def test_a_redirect_loop_is_an_error_not_a_silent_drop(tmp_path: Path) -> None:
    with ReplicaServer(SiteModel(articles=60), faults="redirect:articles:share=0.1:to=loop") as replica:
        run = run_crawl(FULL, replica.base_url, tmp_path, None)
    looped = run.state_failures(tmp_path)
    assert looped and set(looped.values()) == {"redirect_loop"}
    assert run.stat("hkcrawl/errors/redirect_loop") == len(looped)
    assert run.returncode == 1

"""The directory lock and the run file's own lock: nothing a delete can steal."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from hkcrawl.items import Article
from hkcrawl.lock import DirectoryLock, LockBusy, LockLost
from hkcrawl.outcomes import failure_reason, looks_truncated
from hkcrawl.output import RunFile, dead_part_files, recover_part_file


def test_a_second_lock_on_the_same_directory_is_busy_even_after_the_holder_file_is_deleted(tmp_path: Path) -> None:
    first = DirectoryLock(tmp_path / "state")
    first.acquire()
    (tmp_path / "state" / "hankyung.lock").unlink()
    with pytest.raises(LockBusy, match="another hkcrawl run is in progress"):
        DirectoryLock(tmp_path / "state").acquire()
    first.check()
    first.release()
    DirectoryLock(tmp_path / "state").acquire()  # free again


def test_a_removed_directory_is_a_lost_lock(tmp_path: Path) -> None:
    lock = DirectoryLock(tmp_path / "state")
    lock.acquire()
    shutil.rmtree(tmp_path / "state")
    other = DirectoryLock(tmp_path / "state")
    other.acquire()  # a fresh directory: a second run can start...
    with pytest.raises(LockLost):  # ...and the first one finds out before it writes again
        lock.check()
    lock.release()
    other.release()


def _article(article_id: str) -> Article:
    return Article(articleId=article_id, url="u", canonicalUrl="c", headline="제목", articleBody="본문")


def test_a_live_part_file_is_never_taken_a_dead_one_is_recovered(tmp_path: Path) -> None:
    live = RunFile(tmp_path / "2024-11-01T00-00-00.jsonl", gzipped=False)
    live.write(_article("2024110100011"))
    live.checkpoint()
    dead_part = tmp_path / "2024-10-01T00-00-00.jsonl.part"
    dead_part.write_bytes(b'{"articleId": "2024100100011"}\n{"articleId": "20241')  # cut mid-line
    dead, busy = dead_part_files(tmp_path)
    assert (dead, busy) == ([dead_part], [live.part])
    final, lines = recover_part_file(dead_part)
    assert lines == 1 and json.loads(final.read_text())["articleId"] == "2024100100011"
    live.finish()
    assert live.final.exists() and not live.part.exists()
    assert dead_part_files(tmp_path) == ([], [])


def test_taking_records_back_never_touches_what_a_checkpoint_wrote(tmp_path: Path) -> None:
    run_file = RunFile(tmp_path / "x.jsonl", gzipped=False)
    run_file.write(_article("2024110100011"))
    run_file.checkpoint()
    on_disk = run_file.part.read_bytes()
    for article_id in ("2024110100021", "2024110100031", "2024110100041"):
        run_file.write(_article(article_id))
    assert run_file.drop_records({"2024110100011", "2024110100031"}) == 1  # the first was checkpointed
    run_file.write(_article("2024110100051"))
    run_file.finish()
    ids = [json.loads(line)["articleId"] for line in run_file.final.read_text().splitlines()]
    assert ids == ["2024110100011", "2024110100021", "2024110100041", "2024110100051"]
    assert run_file.final.read_bytes().startswith(on_disk)
    assert run_file.records == 4


def test_recovery_leaves_out_broken_lines_and_keeps_the_rest(tmp_path: Path, caplog) -> None:
    """What a crash in the middle of taking records back can leave: a line that is half one record."""
    dead_part = tmp_path / "2024-10-01T00-00-00.jsonl.part"
    dead_part.write_bytes(
        b'{"articleId": "2024100100011"}\n{"articleId": "2024100100021"}\nId": "2024100100031"}\n'
        b'{"articleId": "2024100100041"}\n[1]\n{"articleId": "20241'
    )
    final, lines = recover_part_file(dead_part)
    assert lines == 3
    assert [json.loads(line)["articleId"] for line in final.read_text().splitlines()] == [
        "2024100100011", "2024100100021", "2024100100041",
    ]  # fmt: skip
    assert "2 broken line(s) left out" in caplog.text


def test_a_run_file_never_overwrites_an_existing_part(tmp_path: Path) -> None:
    (tmp_path / "x.jsonl.part").write_text("someone else's\n")
    with pytest.raises(FileExistsError):
        RunFile(tmp_path / "x.jsonl", gzipped=False)
    assert (tmp_path / "x.jsonl.part").read_text() == "someone else's\n"


def test_a_replaced_part_file_is_noticed(tmp_path: Path) -> None:
    run_file = RunFile(tmp_path / "x.jsonl", gzipped=False)
    assert run_file.still_ours()
    os.unlink(run_file.part)
    assert not run_file.still_ours()
    run_file.abandon()


@pytest.mark.parametrize(
    ("body", "cut"),
    [
        (b"<!DOCTYPE html><html><body><p>all</p></body></html>\n", False),
        (b"<html><body><p>all</p></body></html><!-- trailing -->", False),
        (b"<!DOCTYPE html><html><head></head><body><div id='articletxt'>half", True),
        (b"<html><body><p>x</p></body>", False),  # </body> is enough evidence of the end
        (b"", False),  # empty and non-HTML bodies are the parser's to name
        (b"%PDF-1.7 binary", False),
        (b'{"json": true}', False),
    ],
)
def test_looks_truncated(body: bytes, cut: bool) -> None:
    assert looks_truncated(body) is cut


@pytest.mark.parametrize(
    ("status", "reason"), [(302, "bad_redirect"), (301, "bad_redirect"), (404, "http_404"), (500, "http_500")]
)
def test_an_http_error_is_named_by_its_status_and_an_unfollowed_redirect_as_such(status: int, reason: str) -> None:
    response = HtmlResponse("https://www.hankyung.com/article/2022061771721", status=status, body=b"")
    failure = Failure(HttpError(response, "Ignoring non-200 response"))
    assert failure_reason(failure) == reason

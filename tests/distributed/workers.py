"""Workers as an operator starts them, for the distributed tests: real ``scrapy crawl`` processes."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

from hkcrawl.demo import crawl_environment, local_crawl_command

#: Every worker started, so a test that fails half-way leaves none running (conftest ends them).
STARTED: list[subprocess.Popen[str]] = []

#: The pace for a worker with nobody to share its work with (one at a time, or a rerun whose
#: sharing is not what the test checks): the shared pace below would only add time.
ALONE_PACE = {"DOWNLOAD_DELAY": "0.01", "CONCURRENT_REQUESTS": "4", "CONCURRENT_REQUESTS_PER_DOMAIN": "4"}

ARGUMENTS = ("-a", "discover=all-news", "-a", "max_pages=1000", "-a", "related_depth=0", "-a", "render=never")


def start_worker(
    base_url: str, home: Path, url: str, *args: str, settings: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """One worker: its own state and output, the shared Redis; its log in ``home/crawl.log``."""
    command = local_crawl_command(
        base_url, *(args or ARGUMENTS),
        settings={
            "LOG_LEVEL": "INFO",
            "HKCRAWL_REDIS_URL": url,
            "HKCRAWL_STATE_DIR": str(home / "state"),
            "HKCRAWL_OUTPUT_DIR": str(home / "data" / "hankyung"),
            # The live site's pace, faster: one worker alone would take seconds, so the
            # others, still starting, get their share as they would at 2 s a request.
            "DOWNLOAD_DELAY": "0.2",
            "CONCURRENT_REQUESTS": "1",
            "CONCURRENT_REQUESTS_PER_DOMAIN": "1",
            **(settings or {}),
        },
    )  # fmt: skip
    home.mkdir(exist_ok=True)
    log = (home / "crawl.log").open("a", encoding="utf-8")
    worker = subprocess.Popen(
        command, cwd=home, env=crawl_environment(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    STARTED.append(worker)
    return worker


def end_leftover_workers() -> None:
    """Kill the workers a failed test left running (each by its own pid)."""
    while STARTED:
        worker = STARTED.pop()
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=30)


def log_of(home: Path) -> str:
    return (home / "crawl.log").read_text(errors="replace")


def crawl_record(client: redis.Redis) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in client.hgetall("hankyung:crawl").items()}


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 180) -> Any:
    """Poll ``condition`` until it returns something true; fail with ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)  # polling a condition, with the deadline above

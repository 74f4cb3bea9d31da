"""A real redis-server for the distributed tests: Debian's, on a free loopback port, started and stopped here."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from hkcrawl.demo import crawl_environment, local_crawl_command


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisNotStarted(Exception):
    """redis-server is missing or did not answer."""


@contextmanager
def running_redis(folder: Path) -> Iterator[str]:
    """A throwaway redis-server on a free loopback port, no persistence, files in ``folder``: its URL.

    Stopped on leaving. Also used by benchmarks/shared_near_duplicates.py.
    """
    executable = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(executable).exists():
        raise RedisNotStarted("redis-server is missing: run scripts/setup (it installs Debian's redis-server)")
    port = _free_port()
    server = subprocess.Popen(
        [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        deadline = time.monotonic() + 30
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RedisNotStarted(
                        f"redis-server on port {port} did not answer (exit {server.poll()})"
                    ) from None
                time.sleep(0.05)  # polling a condition, with the deadline above
        client.close()
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A throwaway redis-server on loopback: no persistence, gone after the test."""
    folder = tmp_path / "redis"
    folder.mkdir()
    try:
        with running_redis(folder) as url:
            yield url
    except RedisNotStarted as error:
        pytest.fail(str(error))


@pytest.fixture
def unused_redis_url() -> str:
    """A loopback URL where no Redis listens (connections are refused at once)."""
    return f"redis://127.0.0.1:{_free_port()}/0"


def start_worker(base_url: str, home: Path, url: str, **settings: str) -> subprocess.Popen[str]:
    """One worker as an operator starts it: its own state and output, the shared Redis (none if ``url`` is empty).

    ``settings`` override the ones below (e.g. a lone crawl at full speed).
    """
    command = local_crawl_command(
        base_url, "-a", "discover=all-news", "-a", "max_pages=1000", "-a", "related_depth=0", "-a", "render=never",
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
            **settings,
        },
    )  # fmt: skip
    home.mkdir()
    log = (home / "crawl.log").open("w", encoding="utf-8")
    return subprocess.Popen(
        command, cwd=home, env=crawl_environment(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip

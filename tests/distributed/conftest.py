"""A real redis-server for the distributed tests: Debian's (scripts/setup installs it), on a
free loopback port, started and stopped here; and workers started as an operator would."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from hkcrawl.demo import crawl_environment, local_crawl_command


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """One redis-server process; ``stop()`` and ``start()`` again keep the port (and, with
    ``appendonly``, the data)."""

    def __init__(self, folder: Path, appendonly: bool = False) -> None:
        self.executable = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(self.executable).exists():
            pytest.fail("redis-server is missing: run scripts/setup (it installs Debian's redis-server)")
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.appendonly = appendonly
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes" if self.appendonly else "no", "--appendfsync", "always", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        deadline = time.monotonic() + 30
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"redis-server on port {self.port} did not answer (exit {self.process.poll()})")
                    time.sleep(0.05)  # polling a condition, with the deadline above
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, decode_responses=True)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A throwaway redis-server on loopback: no persistence, gone after the test."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url


def start_worker(base_url: str, home: Path, url: str, *arguments: str, **settings: str) -> subprocess.Popen[str]:
    """One worker as an operator starts it: its own state and output, the shared Redis."""
    command = local_crawl_command(
        base_url, *(arguments or ("-a", "discover=all-news", "-a", "max_pages=1000")),
        "-a", "related_depth=0", "-a", "render=never",
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
    home.mkdir(exist_ok=True)
    log = (home / "crawl.log").open("a", encoding="utf-8")
    return subprocess.Popen(
        command, cwd=home, env=crawl_environment(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip

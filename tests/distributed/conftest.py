"""A real redis-server for the distributed tests (tests/distributed/redis_server.py), and
workers started as an operator would."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.distributed import workers
from tests.distributed.redis_server import RedisMissing, RedisServer, free_port, running_redis

__all__ = ["RedisServer", "running_redis", "start_worker"]


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A throwaway redis-server on loopback: no persistence, gone after the test."""
    try:
        server = RedisServer(tmp_path / "redis")
        server.start()
    except RedisMissing as error:
        pytest.fail(str(error))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url


@pytest.fixture
def unused_redis_url() -> str:
    """A loopback URL where no Redis listens (connections are refused at once)."""
    return f"redis://127.0.0.1:{free_port()}/0"


def start_worker(base_url: str, home: Path, url: str, *arguments: str, **settings: str) -> subprocess.Popen[str]:
    """One worker as an operator starts it: its own state and output, the shared Redis (none
    if ``url`` is empty); ``settings`` override the test pace (tests/distributed/workers.py)."""
    return workers.start_worker(
        base_url, home, url, *(arguments or ("-a", "discover=all-news", "-a", "max_pages=1000")),
        "-a", "related_depth=0", "-a", "render=never", settings=settings,
    )  # fmt: skip


@pytest.fixture(autouse=True)
def _no_worker_left_running() -> Iterator[None]:
    yield
    workers.end_leftover_workers()

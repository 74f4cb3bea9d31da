"""A real Redis for the distributed tests: Debian's ``redis-server`` (scripts/setup installs it)
on a free loopback port, started and stopped here."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_redis(folder: Path, port: int | None = None, appendonly: bool = False) -> tuple[subprocess.Popen[bytes], str]:
    """A redis-server answering on loopback, and its URL; with ``appendonly`` its data survive a restart."""
    executable = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(executable).exists():
        pytest.fail("redis-server is missing: run scripts/setup (it installs Debian's redis-server)")
    port = port or _free_port()
    folder.mkdir(parents=True, exist_ok=True)
    server = subprocess.Popen(
        [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "yes" if appendonly else "no", "--appendfsync", "always", "--dir", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    deadline = time.monotonic() + 30
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"redis-server on port {port} did not answer (exit {server.poll()})")
            time.sleep(0.05)  # polling a condition, with the deadline above
    client.close()
    return server, url


def stop_redis(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.terminate()
    server.wait(timeout=30)


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A throwaway redis-server on loopback: no persistence, gone after the test."""
    server, url = start_redis(tmp_path / "redis")
    try:
        yield url
    finally:
        stop_redis(server)


@pytest.fixture(autouse=True)
def _no_worker_left_running() -> Iterator[None]:
    yield
    from tests.distributed.workers import end_leftover_workers

    end_leftover_workers()

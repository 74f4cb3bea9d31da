"""A throwaway ``redis-server`` (Debian's; scripts/setup installs it) on a free loopback port.

For the distributed tests (fixtures in tests/distributed/conftest.py) and the
benchmarks (benchmarks/distributed.py, benchmarks/shared_near_duplicates.py). No RDB
snapshots; with ``appendonly`` the data survives a stop and a start on the same port,
as a production Redis with AOF would.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis


class RedisMissing(RuntimeError):
    """No redis-server to start, or it never answered; the message says which."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """One redis-server process; ``stop()`` then ``start()`` keep the port (and, with
    ``appendonly``, the data)."""

    def __init__(self, folder: Path, appendonly: bool = False) -> None:
        self.executable = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(self.executable).exists():
            raise RedisMissing("redis-server is missing: run scripts/setup (it installs Debian's redis-server)")
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.appendonly = appendonly
        self.port = free_port()
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
                except (redis.ConnectionError, redis.BusyLoadingError):
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        raise RedisMissing(
                            f"redis-server on port {self.port} did not answer (exit {self.process.poll()})"
                        ) from None
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


@contextmanager
def running_redis(folder: Path, appendonly: bool = False) -> Iterator[str]:
    """The URL of a fresh redis-server whose working directory is ``folder``; stopped on leaving."""
    server = RedisServer(folder, appendonly=appendonly)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()

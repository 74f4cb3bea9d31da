"""A throwaway ``redis-server`` (Debian's; scripts/setup installs it) on a free loopback port.

For the distributed tests (the ``redis_url`` fixture, tests/distributed/conftest.py)
and benchmarks/distributed.py: no persistence, stopped and gone on leaving.
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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_redis(folder: Path) -> Iterator[str]:
    """Yields the URL of a fresh redis-server whose working directory is ``folder``."""
    executable = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(executable).exists():
        raise RedisMissing("redis-server is missing: run scripts/setup (it installs Debian's redis-server)")
    port = _free_port()
    folder.mkdir(parents=True, exist_ok=True)
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
                    raise RedisMissing(f"redis-server on port {port} did not answer (exit {server.poll()})") from None
                time.sleep(0.05)  # polling a condition, with the deadline above
        client.close()
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)

"""A real Redis for the distributed tests: Debian's ``redis-server`` on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.distributed.redis_server import RedisMissing, running_redis


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A throwaway redis-server on loopback: no persistence, gone after the test."""
    try:
        with running_redis(tmp_path / "redis") as url:
            yield url
    except RedisMissing as error:
        pytest.fail(str(error))

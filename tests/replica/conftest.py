"""Fixtures for the replica's tests: small models and a server on a free port."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from hkcrawl.replica import ReplicaServer, SiteModel

#: Small enough to build in ~30 ms, big enough to hold every kind of article.
ARTICLES = 400


@dataclass
class Fetched:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def fetch(url: str, method: str = "GET") -> Fetched:
    """One request, redirects not followed (tests look at them)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request(method, parts.path + (f"?{parts.query}" if parts.query else ""))
        response = connection.getresponse()
        return Fetched(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()


@pytest.fixture(scope="session")
def model() -> SiteModel:
    """Shared and never modified: tests that move the clock build their own."""
    return SiteModel(articles=ARTICLES, seed=7)


@pytest.fixture(scope="session")
def replica(model: SiteModel) -> Iterator[ReplicaServer]:
    with ReplicaServer(model) as server:
        yield server


@pytest.fixture
def fresh_replica() -> Iterator[ReplicaServer]:
    """A server of its own, for tests that change the clock, the challenge or count requests."""
    with ReplicaServer(SiteModel(articles=120, seed=3)) as server:
        yield server

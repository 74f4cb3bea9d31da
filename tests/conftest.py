from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTICLE_FIXTURES = ROOT / "tests" / "fixtures" / "articles"


def article_fixture_pages() -> list[Path]:
    return sorted(ARTICLE_FIXTURES.glob("*.html"))


def expected_record(page: Path) -> dict | None:
    return json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))


def fixture_url(page: Path) -> str:
    """The URL a fixture was 'fetched' from: its expected record says, or a made-up one."""
    expected = expected_record(page)
    return expected["url"] if expected else f"https://www.hankyung.com/{page.stem}"


@pytest.fixture(scope="session")
def seed_page() -> Path:
    return ARTICLE_FIXTURES / "current_seed_2022-06-17.html"


@contextmanager
def serving(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """``handler`` on a local port in a background thread; yields its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True  # a handler still blocked at the end does not hold up close
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)

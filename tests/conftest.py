from __future__ import annotations

import json
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

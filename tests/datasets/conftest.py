"""Records for the dataset tests, built from the article fixtures' expected JSON."""

from __future__ import annotations

import copy
import gzip
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from hkcrawl.cleaning import body_hash
from tests.conftest import article_fixture_pages, expected_record

#: The fixtures omit dateDownloaded (it is the time of the test run); exported records have it.
DOWNLOADED = "2026-11-25T06:00:00Z"


def fixture_records() -> list[dict[str, Any]]:
    """Every article fixture's expected record, completed as the crawl would export it."""
    records = []
    for page in article_fixture_pages():
        record = expected_record(page)
        if record is not None:
            records.append({**record, "dateDownloaded": DOWNLOADED})
    return records


def make_record(article_id: str = "2022061771721", **changes: Any) -> dict[str, Any]:
    """A valid record (the seed article) under another id, with ``changes`` applied."""
    base = copy.deepcopy(next(r for r in fixture_records() if r["articleId"] == "2022061771721"))
    base |= {
        "articleId": article_id,
        "url": f"https://www.hankyung.com/article/{article_id}",
        "canonicalUrl": f"https://www.hankyung.com/article/{article_id}",
    }
    if isinstance(changes.get("articleBody"), str) and changes["articleBody"]:
        base["articleBodyHash"] = body_hash(changes["articleBody"])
    return base | changes


def write_jsonl(path: Path, lines: Iterable[dict[str, Any] | str]) -> Path:
    """A run file: records as JSON lines, strings written as they are (for broken lines)."""
    text = "".join((line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)) + "\n" for line in lines)
    data = text.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


@pytest.fixture
def record() -> Callable[..., dict[str, Any]]:
    return make_record

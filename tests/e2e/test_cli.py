"""``hkcrawl extract`` prints the record the crawl would export."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, fixture_url


def _extract(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hkcrawl.cli", "extract", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_extract_saved_page_with_url(seed_page: Path) -> None:
    proc = _extract(str(seed_page), "--url", fixture_url(seed_page))
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    assert record["articleId"] == "2022061771721"
    assert record["authors"] == [{"name": "정지은", "email": "jeong@hankyung.com"}]
    assert "cleaned 1 line(s) by rule email_line" in proc.stderr


def test_extract_without_url_uses_the_canonical_link(seed_page: Path) -> None:
    proc = _extract(str(seed_page))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["canonicalUrl"] == "https://www.hankyung.com/article/2022061771721"


def test_extract_non_article_says_so() -> None:
    proc = _extract(str(ROOT / "pyproject.toml"))
    assert proc.returncode == 1
    assert proc.stdout.strip() == "null"
    assert "not an article page" in proc.stderr


def test_extract_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    proc = _extract(str(tmp_path / "nope.html"))
    assert proc.returncode == 2
    assert "cannot read" in proc.stderr and "Traceback" not in proc.stderr


def test_extract_fetches_a_url(fixture_site: str) -> None:
    proc = _extract(f"{fixture_site}/article/2022061771721", "--base-url", fixture_site)
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    assert record["url"] == f"{fixture_site}/article/2022061771721"
    assert record["printPage"] == "A11"


def test_extract_fetches_only_article_hosts_and_the_base_url(fixture_site: str) -> None:
    proc = _extract(f"{fixture_site}/article/2022061771721")
    assert proc.returncode == 2
    assert "127.0.0.1 is not a hankyung.com article host" in proc.stderr and "Traceback" not in proc.stderr

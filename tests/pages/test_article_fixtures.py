"""Every stored page, parsed and cleaned, equals its expected JSON, field for field."""

from __future__ import annotations

import re
from dataclasses import asdict
from pathlib import Path

import pytest

from hkcrawl.record import build_record
from tests.conftest import ARTICLE_FIXTURES, article_fixture_pages, expected_record, fixture_url

PAGES = article_fixture_pages()


def test_there_are_fixtures_for_every_layout_variant() -> None:
    layouts = {expected_record(p)["layout"] for p in PAGES if expected_record(p)}
    assert {"current", "current+jsonld", "legacy2019"} <= layouts
    assert any(expected_record(p) is None for p in PAGES), "a not-an-article page is needed too"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_fixture_matches_expected_record(page: Path) -> None:
    expected = expected_record(page)
    result = build_record(page.read_bytes(), fixture_url(page))
    if expected is None:
        assert result.article is None
        assert "not_article" in result.problems
        return
    assert result.article is not None, result.problems
    actual = asdict(result.article)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", actual.pop("dateDownloaded"))
    assert set(actual) == set(expected), "the record's fields changed: update the fixtures and the README"
    mismatched = {key: (actual[key], expected[key]) for key in expected if actual[key] != expected[key]}
    assert not mismatched, mismatched
    assert result.missing == []


def _seed_lines() -> list[str]:
    seed = ARTICLE_FIXTURES / "current_seed_2022-06-17.seed.txt"
    return [line.strip() for line in seed.read_text(encoding="utf-8").splitlines()]


def test_seed_article_body_is_exactly_its_five_paragraphs(seed_page: Path) -> None:
    """The oracle here is the real page's text, not the expected JSON."""
    lines = _seed_lines()
    email_line = lines.index("정지은 기자 jeong@hankyung.com")
    paragraphs = lines[email_line - 5 : email_line]
    assert paragraphs[0].startswith("LG전자가 인공지능(AI) 분야 글로벌 인재를")
    article = build_record(seed_page.read_bytes(), fixture_url(seed_page)).article
    assert article.articleBody == "\n\n".join(paragraphs)
    assert [(a.name, a.email) for a in article.authors] == [("정지은", "jeong@hankyung.com")]
    # Everything else on the page stays out of the body.
    for line in lines:
        if line and line not in paragraphs:
            assert f"\n{line}\n" not in f"\n{article.articleBody}\n", line

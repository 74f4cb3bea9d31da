"""Proof by mutation: the stored articles, with the markup we guessed changed, never
give a wrong value or boilerplate; a field either keeps its expected value or is lost
(null, its cues failed). The mutator is checked first, so a mutant that changed the
article itself cannot pass for a parser bug.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from functools import cache
from pathlib import Path

import pytest
from lxml import etree

from hkcrawl.pages.text import text_lines
from hkcrawl.record import build_record
from tests.conftest import article_fixture_pages, expected_record, fixture_url
from tests.pages.mutations import EVIDENCE, KINDS, kinds_for, mutate
from tests.pages.survival import cue_failure_reported, leaks, page_furniture, verdicts

ARTICLES = [page for page in article_fixture_pages() if expected_record(page)]
MUTANTS_PER_PAGE = 40

#: (fixture, mutation kind) -> the wrong value today's parser gives on every mutant of
#: that fixture with that kind. Strict xfail: when the parser rewrite fixes one, the
#: XPASS fails the run and the entry must go.
KNOWN_WRONG: dict[tuple[str, str], str] = {
    # (fixture stem, mutation kind): why today's parser gives a wrong value there. Empty
    # since the per-field cues: the premium paywall box and section (renamed class,
    # no JSON-LD) were the last entries.
}


@cache
def _page(page: Path) -> tuple[bytes, dict, frozenset[str]]:
    html = page.read_bytes()
    return html, expected_record(page), page_furniture(html)


def _lines(html: str, element_id: str | None = None) -> list[str]:
    """Visible lines of the page's ``<body>``, or of the element with ``element_id``."""
    root = etree.fromstring(html, etree.HTMLParser())
    box = root.find("body") if element_id is None else next(e for e in root.iter() if e.get("id") == element_id)
    return text_lines(box, skip=("script", "style", "noscript"))


# -- the mutator ----------------------------------------------------------------------
@pytest.mark.parametrize("page", ARTICLES, ids=lambda p: p.stem)
def test_an_unmutated_round_trip_keeps_the_expected_record(page: Path) -> None:
    """Parsing and serialising alone must change nothing the parser sees."""
    html, expected, _ = _page(page)
    record = asdict(build_record(mutate(html, 0, kinds=set()).html.encode(), fixture_url(page)).article)
    assert {f for f, v in verdicts(record, expected).items() if v != "right"} == set()


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_changes_the_page_but_not_what_a_reader_sees(kind: str) -> None:
    """Same body lines; same page lines, in the same order except for the blocks ``move`` moves."""
    changed = False
    for page in ARTICLES:
        html, *_ = _page(page)
        original = mutate(html, 0, kinds=set()).html
        mutant = mutate(html, 7, kinds={kind})
        changed |= mutant.html != original
        assert _lines(mutant.html, "articletxt") == _lines(original, "articletxt"), (page.stem, mutant.applied)
        seen, before = _lines(mutant.html), _lines(original)
        assert (Counter(seen) == Counter(before)) if kind == "move" else (seen == before), (page.stem, mutant.applied)
    assert changed, f"{kind} changed no fixture"


def test_mutants_are_determined_by_their_seed() -> None:
    html, *_ = _page(ARTICLES[0])
    assert mutate(html, 11) == mutate(html, 11)
    assert len({mutate(html, seed).html for seed in range(6)}) == 6


def test_rename_keeps_exactly_the_evidence_backed_names() -> None:
    html, *_ = _page(ARTICLES[0])
    root = etree.fromstring(mutate(html, 3, kinds={"rename"}).html, etree.HTMLParser())
    names = {n for e in root.iter(etree.Element) for n in [*(e.get("class") or "").split(), e.get("id") or ""]}
    assert {"headline", "articletxt", "txt-date", "author"} <= names
    original = etree.fromstring(html, etree.HTMLParser())
    guessed = {n for e in original.iter(etree.Element) for n in (e.get("class") or "").split()} - set(EVIDENCE)
    assert {"section-header", "related-news", "ad-wrap"} <= guessed
    assert names.isdisjoint(guessed)


# -- the parser on the mutants ----------------------------------------------------------
def _cases() -> list:
    cases = []
    for page in ARTICLES:
        for seed in range(MUTANTS_PER_PAGE):
            reasons = [
                KNOWN_WRONG[page.stem, kind] for kind in sorted(kinds_for(seed)) if (page.stem, kind) in KNOWN_WRONG
            ]
            marks = [pytest.mark.xfail(strict=True, reason="; ".join(reasons))] if reasons else []
            cases.append(pytest.param(page, seed, marks=marks, id=f"{page.stem}-{seed}"))
    return cases


@pytest.mark.parametrize(("page", "seed"), _cases())
def test_a_mutant_gives_no_wrong_value_and_no_boilerplate(page: Path, seed: int) -> None:
    html, expected, furniture = _page(page)
    mutant = mutate(html, seed)
    assert {a.split(":")[0] for a in mutant.applied} == kinds_for(seed)
    original_body = _lines(mutate(html, 0, kinds=set()).html, "articletxt")
    assert _lines(mutant.html, "articletxt") == original_body, "the mutator changed the article (its bug)"
    result = build_record(mutant.html.encode(), fixture_url(page))
    assert result.article is not None, (mutant.applied, result.problems)
    record = asdict(result.article)
    judged = verdicts(record, expected)
    wrong = {f: (record[f], expected[f]) for f, v in judged.items() if v == "wrong"}
    assert not wrong, (mutant.applied, wrong)
    assert not leaks(record["articleBody"], expected, furniture), mutant.applied
    unreported = [f for f, v in judged.items() if v == "null" and not cue_failure_reported(result, f)]
    assert not unreported, (mutant.applied, unreported)

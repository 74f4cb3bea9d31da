"""What "a field survived a mutation" means, for the mutation test and its benchmark.

Each field of a mutant's record gets a verdict against the fixture's expected JSON:
``right`` (equal), ``null`` (empty: its cues failed, which costs coverage but is not a
lie), ``partial`` (a list that lost items but holds no foreign one: one of several cues
failed) or ``wrong`` (any other value: the hard failure). Works on plain dicts, so the
benchmark can judge records made by any git revision of the parser.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from lxml import etree

from hkcrawl.pages.text import text_lines

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

from benchmarks.extraction import LEAK_MARKERS  # noqa: E402  (one list of boilerplate markers)

#: Not about the page: when it was read, and which cues parsed it (JSON-LD or not).
VOLATILE = ("dateDownloaded", "layout")
#: Lists of independent items, where losing some items to a failed cue is not lying.
LIST_FIELDS = ("authors", "images", "keywords", "relatedArticles")
#: The value a field takes when none of its cues is found but the schema has no null.
NO_CUE = {"isPremium": False}

VERDICTS = ("right", "null", "partial", "wrong")


def _empty(field: str, value: object) -> bool:
    return value is None or value == "" or value == [] or (field in NO_CUE and value == NO_CUE[field])


def _fits(item: object, wanted: object) -> bool:
    """``item`` says nothing ``wanted`` contradicts: equal, or a dict with some keys unknown (None)."""
    if isinstance(item, dict) and isinstance(wanted, dict):
        return item.keys() == wanted.keys() and all(v is None or v == wanted[k] for k, v in item.items())
    return item == wanted


def _is_partial(actual: list, expected: list) -> bool:
    """Every item of ``actual`` fits a distinct item of ``expected``, in order."""
    remaining = iter(expected)
    return all(any(_fits(item, wanted) for wanted in remaining) for item in actual)


def verdict(field: str, actual: object, expected: object) -> str:
    if actual == expected:
        return "right"
    if _empty(field, actual):
        return "null"
    if field in LIST_FIELDS and isinstance(actual, list) and isinstance(expected, list):
        return "partial" if _is_partial(actual, expected) else "wrong"
    return "wrong"


def verdicts(record: dict | None, expected: dict) -> dict[str, str]:
    """A verdict per checked field; a mutant that stopped being an article loses them all."""
    record = record or {}
    return {f: verdict(f, record.get(f), value) for f, value in expected.items() if f not in VOLATILE}


def page_furniture(html: bytes) -> frozenset[str]:
    """The visible lines of the unmutated page that are not article text: what a
    body must never contain, whatever the markup (menus, related titles, paywall …)."""
    root = etree.fromstring(html, etree.HTMLParser(encoding=_encoding(html)))
    return frozenset(text_lines(root.find("body"), skip=("script", "style", "noscript")))


def _encoding(html: bytes) -> str:
    try:
        html.decode("utf-8")
    except UnicodeDecodeError:
        return "cp949"  # the one EUC-KR fixture
    return "utf-8"


def leaks(body: str | None, expected: dict, furniture: Iterable[str]) -> list[str]:
    """Boilerplate in ``body``: the benchmarks' markers and captions (benchmarks/extraction.py),
    and whole lines of page furniture, unless the expected body has them too."""
    if not body:
        return []
    want = expected["articleBody"] or ""
    markers = [*LEAK_MARKERS, *(image["caption"] for image in expected["images"] if image["caption"])]
    found = [marker for marker in markers if marker in body and marker not in want]
    want_lines = set(want.split("\n\n"))
    return found + [line for line in body.split("\n\n") if line in furniture and line not in want_lines]


def cue_failure_reported(result: object, field: str) -> bool:
    """Whether the parse owned up to losing ``field``: its winning cue is ``"none"``
    (``RecordResult.cues``, what the crawl counts as ``hkcrawl/cue/<field>/none``).

    Fields no cue gives (derived ones such as ``canonicalUrl``), and a result from a
    revision without cue reporting (the benchmark's baseline), have only the empty
    value to report with.
    """
    cues = getattr(result, "cues", None)
    if not isinstance(cues, dict) or field not in cues:
        return True
    return cues[field] == "none"

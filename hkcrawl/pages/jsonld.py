"""schema.org ``NewsArticle`` blocks in ``<script type="application/ld+json">`` (§4).

Not confirmed on a real current page, so it is read when present and never relied on:
every field it gives has a DOM fallback in the layout parsers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

# Plain strings, as parsel's ``.getall()`` gave.
_TEXTS = etree.XPath("text()", smart_strings=False)
_LD_JSON = "application/ld+json"
# json.loads pairs surrogates that form a character; only lone ones are left in its strings.
_SURROGATE = re.compile("[\ud800-\udfff]")
_ARTICLE_TYPES = frozenset({"NewsArticle", "Article", "ReportageNewsArticle", "AnalysisNewsArticle"})


class BadJsonLd(ValueError):
    """A ld+json block that is not JSON; the page is still parsed from the DOM."""


def _candidates(data: Any) -> Iterator[dict]:
    """Every object in ``data`` that could be the article: top-level objects, list
    members and ``@graph`` members, in document order.

    A stack, not recursion: the page decides how deep lists nest (json.loads stops
    near Python's recursion limit, but that still leaves ~1,000 levels). Only lists
    and ``@graph`` are walked, as before; other nested objects are values, not nodes.
    """
    stack: list[Any] = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node))
        elif isinstance(node, dict):
            yield node
            if "@graph" in node:
                stack.append(node["@graph"])


def _is_article(node: dict) -> bool:
    """``@type`` may be a string, a list, or (on a broken page) anything else."""
    types = node.get("@type")
    return any(isinstance(t, str) and t in _ARTICLE_TYPES for t in as_list(types))


@dataclass
class Blocks:
    """What a page's ld+json blocks say: the first NewsArticle object (or None) and
    the first BreadcrumbList's names, home first (a section cue)."""

    article: dict | None = None
    breadcrumbs: list[str] = field(default_factory=list)


def find_blocks(root: etree._Element) -> Blocks:
    """The page's article and breadcrumbs; raises BadJsonLd if a block is broken and
    no article was found (a broken block after the article does not matter)."""
    found = Blocks()
    broken = False
    # ``//script[@type="application/ld+json"]/text()``, but lxml's C tag filter
    # finds the few scripts in half the time of the XPath's whole-tree predicate.
    scripts = (script for script in root.iter("script") if script.get("type") == _LD_JSON)
    for raw in (text for script in scripts for text in _TEXTS(script)):
        try:
            data = json.loads(raw, strict=False)
        except (ValueError, RecursionError):
            # RecursionError: json's decoder recurses once per nesting level, so a
            # block of 100,000 "[" exhausts the stack; it is as broken as bad syntax.
            broken = True
            continue
        for node in _candidates(data):
            if found.article is None and _is_article(node):
                found.article = node
            elif not found.breadcrumbs and "BreadcrumbList" in as_list(node.get("@type")):
                found.breadcrumbs = _crumb_names(node.get("itemListElement"))
        if found.article is not None:
            break
    if broken and found.article is None:
        raise BadJsonLd("a ld+json block is not valid JSON")
    return found


def find_news_article(root: etree._Element) -> dict | None:
    """The first NewsArticle object in the page ``root``; raises BadJsonLd if a block is broken."""
    return find_blocks(root).article


def _crumb_names(items: Any) -> list[str]:
    """ListItem names in ``position`` order (a ListItem names itself or its ``item``)."""
    crumbs = []
    for number, entry in enumerate(as_list(items)):
        if not isinstance(entry, dict):
            continue
        item = entry.get("item")
        name = text(entry.get("name")) or (text(item.get("name")) if isinstance(item, dict) else None)
        position = entry.get("position")
        if name:
            crumbs.append((position if isinstance(position, int) else number, name))
    return [name for _, name in sorted(crumbs, key=lambda pair: pair[0])]


def text(value: Any) -> str | None:
    """``value`` stripped if it is a non-blank string, else None (numbers, objects, lists).

    JSON may spell lone UTF-16 surrogates (``"\\ud800"``); they cannot be written as
    UTF-8, so they become U+FFFD here rather than failing the export.
    """
    if not isinstance(value, str) or not (value := value.strip()):
        return None
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = _SURROGATE.sub("\ufffd", value)
    return value


def as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def names(value: Any) -> list[str]:
    """Author names from a Person, a list of Persons, or bare strings."""
    result = []
    for entry in as_list(value):
        if name := text(entry.get("name") if isinstance(entry, dict) else entry):
            result.append(name)
    return result


def image_urls(value: Any) -> list[str]:
    result = []
    for entry in as_list(value):
        # An ImageObject's url, or a bare string; deeper nesting is not an image URL.
        url = (text(entry.get("url")) or text(entry.get("contentUrl"))) if isinstance(entry, dict) else text(entry)
        if url:
            result.append(url)
    return result


def keywords(value: Any) -> list[str]:
    words = []
    for entry in as_list(value):
        if entry := text(entry):
            words += [word.strip() for word in entry.split(",")]
    return [word for word in words if word]


def is_free(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None

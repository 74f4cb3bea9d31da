"""schema.org ``NewsArticle`` blocks in ``<script type="application/ld+json">`` (§4).

Not confirmed on a real current page, so it is read when present and never relied on:
every field it gives has a DOM fallback in the layout parsers.
"""

from __future__ import annotations

import json
from typing import Any

from lxml import etree

# Plain strings, as parsel's ``.getall()`` gave.
_TEXTS = etree.XPath("text()", smart_strings=False)
_LD_JSON = "application/ld+json"
_ARTICLE_TYPES = frozenset({"NewsArticle", "Article", "ReportageNewsArticle", "AnalysisNewsArticle"})


class BadJsonLd(ValueError):
    """A ld+json block that is not JSON; the page is still parsed from the DOM."""


def _candidates(node: Any) -> list[dict]:
    if isinstance(node, list):
        return [found for child in node for found in _candidates(child)]
    if not isinstance(node, dict):
        return []
    found = [node]
    if "@graph" in node:
        found += _candidates(node["@graph"])
    return found


def _is_article(node: dict) -> bool:
    types = node.get("@type")
    types = types if isinstance(types, list) else [types]
    return any(t in _ARTICLE_TYPES for t in types)


def find_news_article(root: etree._Element) -> dict | None:
    """The first NewsArticle object in the page ``root``; raises BadJsonLd if a block is broken."""
    broken = False
    # ``//script[@type="application/ld+json"]/text()``, but lxml's C tag filter
    # finds the few scripts in half the time of the XPath's whole-tree predicate.
    scripts = (script for script in root.iter("script") if script.get("type") == _LD_JSON)
    for raw in (text for script in scripts for text in _TEXTS(script)):
        try:
            data = json.loads(raw, strict=False)
        except ValueError:
            broken = True
            continue
        for node in _candidates(data):
            if _is_article(node):
                return node
    if broken:
        raise BadJsonLd("a ld+json block is not valid JSON")
    return None


def as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def names(value: Any) -> list[str]:
    """Author names from a Person, a list of Persons, or bare strings."""
    result = []
    for entry in as_list(value):
        name = entry.get("name") if isinstance(entry, dict) else entry
        if isinstance(name, str) and name.strip():
            result.append(name.strip())
    return result


def image_urls(value: Any) -> list[str]:
    result = []
    for entry in as_list(value):
        url = entry.get("url") or entry.get("contentUrl") if isinstance(entry, dict) else entry
        if isinstance(url, str) and url.strip():
            result.append(url.strip())
    return result


def keywords(value: Any) -> list[str]:
    words = []
    for entry in as_list(value):
        if isinstance(entry, str):
            words += [word.strip() for word in entry.split(",")]
    return [word for word in words if word]


def is_free(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None

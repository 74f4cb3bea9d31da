"""A page parsed once, with what every field's cues look at: the tree, the head's meta
tags, the JSON-LD article and breadcrumbs, the known containers and the header area.

Field methods (:mod:`hkcrawl.pages.fields`) read from here and never parse again;
anything several fields need is computed once, on first use (``cached_property``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cached_property, partial
from typing import Any

from lxml import etree
from parsel.csstranslator import HTMLTranslator

from hkcrawl import urls
from hkcrawl.pages import jsonld
from hkcrawl.pages.text import normalize_space

_CSS_TRANSLATOR = HTMLTranslator()


def css(query: str) -> etree.XPath:
    """A CSS query (with parsel's ``::text`` / ``::attr()``) compiled once.

    It is the very XPath parsel would run for ``.css(query)``, so results are the
    same; evaluating it on plain lxml elements skips parsel's per-call evaluator
    setup and the ``Selector`` wrapper around every result (most of the query time).
    """
    return etree.XPath(_CSS_TRANSLATOR.css_to_xpath(query), smart_strings=False)


def first(query: etree.XPath, elements: Iterable[etree._Element]) -> str | None:
    """``SelectorList.css(query).get()``: the first result over ``elements``."""
    for element in elements:
        if found := query(element):
            return found[0]
    return None


def joined_text(element: etree._Element) -> str:
    """All text under ``element``, whitespace-normalised."""
    return normalize_space(" ".join(element.itertext()))


def own_text(element: etree._Element) -> str:
    """The element's own text nodes (not its children's), normalised."""
    parts = [element.text or ""] + [child.tail or "" for child in element]
    return normalize_space(" ".join(parts))


def _parser_input(text: str, utf8_body: bytes | None) -> bytes:
    """parsel's clean-up of the text (strip, drop NULs), encoded as UTF-8.

    ``utf8_body`` (``text`` encoded as UTF-8, see ``DecodedPage``) saves encoding
    the ~40 kB text again when the clean-up leaves it as is.
    """
    stripped = text.strip()
    if utf8_body is not None and "\x00" not in stripped:
        body = utf8_body.strip()
        # bytes.strip() removes ASCII whitespace only, str.strip() any: when both
        # removed as many characters, the same bytes remain.
        if len(utf8_body) - len(body) == len(text) - len(stripped):
            return body
    return stripped.replace("\x00", "").encode("utf-8")


def parse_html(text: str, utf8_body: bytes | None = None) -> tuple[etree._Element, bool]:
    """The page's lxml tree, built as ``parsel.Selector(text=text, type="html")`` builds it,
    and whether libxml2 stopped early because elements nest deeper than it allows
    (2,048 levels): the tree then lacks everything after that point.

    A plain ``etree.HTMLParser`` rather than ``lxml.html``'s: the tree is the same,
    but lxml.html looks up a Python element class for every element proxy, which
    was a fifth of the index and query time. ``collect_ids=False``: nothing here
    looks elements up by the XPath ``id()`` function, so libxml2 need not index them.
    """
    body = _parser_input(text, utf8_body) or b"<html/>"
    parser = etree.HTMLParser(recover=True, encoding="utf-8", huge_tree=True, collect_ids=False)
    root = etree.fromstring(body, parser=parser)
    too_deep = any(error.type == etree.ErrorTypes.ERR_RESOURCE_LIMIT for error in parser.error_log)
    return (root if root is not None else etree.fromstring(b"<html/>", parser=parser)), too_deep


#: Class or id words of blocks whose links are never related articles: most-read,
#: rankings, recommendations (§3.7), matched as whole names.
_NOT_RELATED = re.compile(
    r"^[^\n]*(?:popular|ranking|rank|recommend|most|best|pick|interest|추천)[^\n]*$", re.MULTILINE
)


class PageIndex:
    """The page's elements by class and id, from one pass over the tree.

    Each field then searches only inside its own small element. One whole-document
    CSS query per field was most of the parse time on ~90 kB pages.
    """

    # Only the tags the layouts and the class cues look up (docs/site-markup.md; blocks
    # and list items for "relat"/"paywall"/marked items): <p> and <a> alone are most of a page's elements.
    _TAGS = (
        "div",
        "h1",
        "h2",
        "h3",
        "h4",
        "span",
        "section",
        "aside",
        "ul",
        "ol",
        "li",
        "nav",
        "article",
        "strong",
        "dl",
    )

    def __init__(self, root: etree._Element) -> None:
        self.by_class: dict[str, list[etree._Element]] = {}
        self.by_id: dict[str, etree._Element] = {}
        for element in root.iter(*self._TAGS):
            if classes := element.get("class"):
                for name in classes.split():
                    self.by_class.setdefault(name, []).append(element)
            if element_id := element.get("id"):
                self.by_id.setdefault(element_id, element)

    def all(self, class_name: str, tag: str | None = None) -> list[etree._Element]:
        return [e for e in self.by_class.get(class_name, ()) if tag is None or e.tag == tag]

    @cached_property
    def _class_names(self) -> str:
        return "\n".join(self.by_class)

    @cached_property
    def excluded_blocks(self) -> frozenset[etree._Element]:
        """Most-read / ranking / recommendation blocks by class or id (never related articles)."""
        found = {e for name in _NOT_RELATED.findall(self._class_names) for e in self.by_class[name]}
        found.update(self.by_id[name] for name in _NOT_RELATED.findall("\n".join(self.by_id)))
        return frozenset(found)

    def with_class_word(self, word: str) -> list[etree._Element]:
        """Elements one of whose classes contains ``word`` (any case): the class cues
        ("relat", "paywall") that survive a renamed but telling class."""
        pattern = re.compile(rf"^[^\n]*{re.escape(word)}[^\n]*$", re.MULTILINE | re.IGNORECASE)
        found: dict[etree._Element, None] = {}
        for name in pattern.findall(self._class_names):
            found.update(dict.fromkeys(self.by_class[name]))
        return list(found)

    def first(self, class_name: str, tag: str | None = None) -> etree._Element | None:
        return next((e for e in self.by_class.get(class_name, ()) if tag is None or e.tag == tag), None)


_HEAD = etree.XPath("/html/head")
_ITEMPROP_BODY = etree.XPath('//*[@itemprop="articleBody"]')


class Precomputed:
    """One page, parsed once: what the field methods choose from.

    ``html`` is the page's source; ``url`` is where the page came from ('' for a saved file); ``base_url`` is what its
    relative links resolve against.
    """

    def __init__(self, root: etree._Element, html: str, url: str, ld_blocks: jsonld.Blocks) -> None:
        self.root = root
        #: The page's source text: cheap "is this word on the page at all" checks.
        self.html = html
        self.url = url
        self.index = PageIndex(root)
        self.head: list[etree._Element] = _HEAD(root)
        self.ld: dict = ld_blocks.article or {}
        self.breadcrumbs: list[str] = ld_blocks.breadcrumbs
        self._found: dict[Query, list] = {}
        #: Values several cues share (the related boxes …), computed once.
        self.memo: dict[str, Any] = {}
        self.base_url = url if url.startswith(("http://", "https://")) else _base_url(self.canonical_link)

    @cached_property
    def meta(self) -> dict[str, str]:
        """``<meta property|name=… content=…>`` of the head, first of each key, keys lowercased."""
        found: dict[str, str] = {}
        for head in self.head:
            for meta in head.iter("meta"):
                key = meta.get("property") or meta.get("name")
                content = meta.get("content")
                if key and content is not None and content.strip():
                    found.setdefault(key.strip().lower(), content.strip())
        return found

    @cached_property
    def canonical_link(self) -> str:
        for head in self.head:
            for link in head.iter("link"):
                if (link.get("rel") or "").strip().lower() == "canonical":
                    return (link.get("href") or "").strip()
        return ""

    @cached_property
    def body_container(self) -> tuple[etree._Element | None, str]:
        """The known body container and the cue that found it (§3.1: ``#articletxt``
        since 2019; ``itemprop=articleBody`` and ``div.article-body`` on the same element)."""
        if (element := self.index.by_id.get("articletxt")) is not None:
            return element, "articletxt"
        if found := _ITEMPROP_BODY(self.root):
            return found[0], "itemprop"
        if (element := self.index.first("article-body", "div")) is not None:
            return element, "article_body_class"
        return None, "none"

    @property
    def body(self) -> etree._Element | None:
        return self.body_container[0]

    @cached_property
    def headline_element(self) -> etree._Element | None:
        """``h1.headline`` (current) or ``h1.title`` (2019), else the page's only ``h1``."""
        for class_name in ("headline", "title"):
            if (element := self.index.first(class_name, "h1")) is not None:
                return element
        h1s = list(self.root.iter("h1"))
        return h1s[0] if len(h1s) == 1 else None

    @cached_property
    def article_text(self) -> str:
        """The text of the block holding both the headline and the body (the whole page
        when either is unknown): where paywall prompts and the closing line sit."""
        headline, body = self.headline_element, self.body
        block = self.root
        if headline is not None and body is not None:
            around = set(body.iterancestors())
            block = next((a for a in headline.iterancestors() if a in around), self.root)
        return (
            etree.tostring(block, method="text", encoding=str, with_tail=False) if block is not self.root else self.html
        )

    def in_body(self, element: etree._Element) -> bool:
        """Inside the article body container (its text is the article's, not the page's)."""
        body = self.body
        return body is not None and (element is body or body in element.iterancestors())

    def in_header_area(self, element: etree._Element) -> bool:
        """Before the body (or the headline), outside it: where the section title, the
        byline and the 입력/수정/지면 labels sit (§3.2's order of visible text).
        Every element is, on a page with neither."""
        anchor = self.body if self.body is not None else self.headline_element
        return anchor is None or precedes(element, anchor)

    def find(self, query: Query) -> list[etree._Element]:
        """``query``'s results over the whole page, once per page (several cues ask the
        same: the 관련 뉴스 heading, the marked nav items …)."""
        if query not in self._found:
            self._found[query] = query(self)
        return self._found[query]

    def resolve(self, href: str) -> str | None:
        return urls.absolute_http_url(href, self.base_url)


def precedes(element: etree._Element, anchor: etree._Element) -> bool:
    """``element`` starts before ``anchor`` in document order and does not contain it
    (the ``preceding::`` axis), by their paths from the root: a few steps, where the
    axis itself lists every earlier element of the page."""
    path = [element, *element.iterancestors()]
    anchor_path = [anchor, *anchor.iterancestors()]
    if element in anchor_path[1:]:
        return False  # an ancestor of the anchor
    on_anchor_path = {node: depth for depth, node in enumerate(anchor_path)}
    for below, node in zip([None, *path], path, strict=False):
        if node in on_anchor_path:
            if below is None or on_anchor_path[node] == 0:
                return False  # the anchor itself, or inside it
            parent, theirs = node, anchor_path[on_anchor_path[node] - 1]
            return parent.index(below) < parent.index(theirs)
    return False


def _base_url(canonical: str) -> str:
    """What relative links resolve against when the page was read from a file
    (``hkcrawl extract saved.html``): the page's own canonical link."""
    return canonical if canonical.startswith(("http://", "https://")) else "https://www.hankyung.com/"


class Query:
    """A whole-page lookup that only runs when the page's source holds one of its
    ``gates`` (a plain substring search, ~50× cheaper than the XPath): most pages lack
    most cues' words (``구독자 전용``, ``관련 뉴스`` …), and XPath string tests over
    UTF-8 text cost ~0.3 ms per page each."""

    def __init__(self, xpath: str, gates: tuple[str, ...], article_only: bool = False) -> None:
        self.xpath = etree.XPath(xpath)
        self.gates = gates
        #: Gate on the article's own text (:attr:`Precomputed.article_text`): searching
        #: Korean words in the ~90 kB source costs ~50 µs each, in the article ~5 µs.
        self.article_only = article_only

    def __call__(self, page: Precomputed) -> list:
        return self.xpath(page.root) if self.passes(page) else []

    def passes(self, page: Precomputed) -> bool:
        text = page.article_text if self.article_only else page.html
        return any(gate in text for gate in self.gates)


class TextQuery(Query):
    """Elements with a text node that equals one of ``labels`` (``match="exact"``),
    starts with one (``"prefix"``) or contains one (``"contains"``, tail text too): the
    visible labels the seed page proves exist (``관련 뉴스``, ``입력``, ``지면`` …),
    found whatever element or class carries them."""

    def __init__(
        self, *labels: str, match: str = "exact", article_only: bool = False, gates: tuple[str, ...] = ()
    ) -> None:
        """``gates``: shorter words every label holds (one search instead of one per label)."""
        either = " or ".join(f"contains(., '{label}')" for label in labels)
        super().__init__(f"//text()[{either}]", gates or labels, article_only)
        self.labels = labels
        self.match = match

    def passes(self, page: Precomputed) -> bool:
        """A label must also start a text node in the source ("…>관련 뉴스<…"): a word
        inside body text ("불투명해지면서" holds 지면) does not open the XPath."""
        if self.match == "contains":
            return super().passes(page)
        if self.article_only and not super().passes(page):
            return False  # the cheap search first
        return any(map(partial(_starts_text, page.html), self.gates))

    def __call__(self, page: Precomputed) -> list[etree._Element]:
        found: list[etree._Element] = []
        for node in super().__call__(page):
            owner = node.getparent()
            if node.is_tail:
                if self.match != "contains":
                    continue
                owner = owner.getparent()
            if owner is None or owner.tag in ("script", "style", "title") or owner in found:
                continue
            text = normalize_space(node)
            if self.match == "exact":
                ok = text in self.labels
            elif self.match == "prefix":
                ok = text.startswith(self.labels)
            else:
                ok = True
            if ok:
                found.append(owner)
        return found


def _starts_text(html: str, label: str) -> bool:
    """Whether ``label`` occurs in ``html`` right after a tag's ``>`` (spaces between)."""
    at = html.find(label)
    while at != -1:
        before = html[max(0, at - 200) : at].rstrip()
        if before.endswith(">"):
            return True
        at = html.find(label, at + 1)
    return False


def class_query(*words: str) -> Query:
    """Elements whose class contains one of ``words`` (``relat``, ``paywall`` …)."""
    either = " or ".join(f"contains(., '{word}')" for word in words)
    return Query(f"//@class[{either}]/..", words)

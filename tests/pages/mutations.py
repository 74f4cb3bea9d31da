"""A deterministic markup mutator: the stored article pages as the site might serve them
after a redesign that keeps what the notes prove and changes what we guessed.

Only the markup moves; the article does not. A body paragraph stays a body paragraph,
every text the user sees stays, in the same order except for the two page blocks that
``move`` relocates (the section header and the related-news box, which are not the
article). Class and id names that ``../shared/notes/hankyung-site.md`` proves on real
article pages survive (:data:`EVIDENCE`); every other name is renamed.

Depends on lxml only, so ``benchmarks/mutations.py`` can run it beside any git revision
of ``hkcrawl``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

#: Class and id names the notes prove on real article pages, with the evidence. The
#: mutator keeps them (and the heading level of a heading that carries one).
EVIDENCE: dict[str, str] = {
    # Current design (June 2022 on), §3.1
    "headline": "§3.1 h1.headline: 5+ independent crawlers",
    "article-body": '§3.1 DevTools quote <div class="article-body" id="articletxt" itemprop="articleBody">',
    "articletxt": "§3.1 and §3.5 (an id): the body container, the same since 2019",
    "article-body-wrap": "§3.1 the stricter body container (idx:40185921527)",
    "summary": "§3.1 div.summary above the body (idx:17059348200)",
    "datetime": "§3.1 div.datetime span.item span.txt-date: 1st 입력, 2nd 수정",
    "item": "§3.1 span.item around each date; div.author a.item",
    "txt-date": "§3.1 the date spans",
    "author": "§3.1 div.author.link.subs_author_list[data-name], one per reporter",
    "link": "§3.1 (div.author.link)",
    "subs_author_list": "§3.1 (div.author.subs_author_list)",
    # 2019 design, §3.5 (forkonlp/newspaper yml, 2019-07)
    "title": "§3.5 h1.title",
    "date-published": "§3.5 span.date-published span",
    "date-modify": "§3.5 span.date-modify span",
    "logo": "§3.5 h1.logo a img@alt (the publisher)",
}
# Not kept, on purpose: figure classes (article-figure, figure-img, figure-caption: §3.1
# calls that markup synthetic), section-header/section-tit/li.on (§3.1: no verified
# selector), related-news (§3.7: a synthetic fixture's guess), premium-paywall,
# ai-summary, article-tag (docs/site-markup.md: assumed), ad-wrap, reaction,
# txt-copyright (in no source), news-tit/txt-num (§3.4: list pages, not articles).

KINDS = ("rename", "wrap", "unwrap", "move", "br_p", "drop_jsonld", "drop_meta", "headings")

_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_BLOCKS = _HEADINGS | {"div", "p", "ul", "ol", "dl", "figure", "section", "aside", "article", "header", "footer"}
_BLOCKS |= {"nav", "table", "blockquote"}
# Where an extra <div> is valid HTML: a div inside a <p> or an <a> would re-parse differently.
_CONTAINERS = _BLOCKS - _HEADINGS - {"p", "ul", "ol", "dl", "table"} | {"body", "li", "td", "dd"}
_INLINE = frozenset({"a", "span", "b", "strong", "em", "i", "u", "s", "sup", "sub", "small", "mark", "font", "q"})
_META_PREFIXES = ("og:", "article:", "twitter:")


@dataclass(frozen=True)
class Mutant:
    html: str
    #: What was done, ``kind`` or ``kind:detail``, in the order it was done.
    applied: list[str]


def _decode(html: bytes | str) -> str:
    """UTF-8 when the bytes are (they may declare otherwise, as a fixture does), else the declared charset."""
    if isinstance(html, str):
        return html
    try:
        return html.decode("utf-8")
    except UnicodeDecodeError:
        declared = re.search(rb"charset=[\"']?([\w-]+)", html[:4096])
        name = declared.group(1).decode("ascii").lower() if declared else "cp949"
        return html.decode("cp949" if name in ("euc-kr", "ks_c_5601-1987") else name)


def _names(element: etree._Element) -> list[str]:
    return (element.get("class") or "").split() + ([element.get("id")] if element.get("id") else [])


def _proven(element: etree._Element) -> bool:
    return any(name in EVIDENCE for name in _names(element))


def _by_class(root: etree._Element, name: str) -> etree._Element | None:
    return next((e for e in root.iter(etree.Element) if name in (e.get("class") or "").split()), None)


def _in_container(element: etree._Element) -> bool:
    parent = element.getparent()
    return parent is not None and parent.tag in _CONTAINERS


def _detach(element: etree._Element) -> None:
    """Remove ``element`` but leave its tail text where it was (lxml moves tails along)."""
    parent, previous, tail = element.getparent(), element.getprevious(), element.tail or ""
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    element.tail = None
    parent.remove(element)


def _content(parent: etree._Element) -> list[str | etree._Element]:
    """``parent``'s text and children in order, emptied out of it (tails become strings)."""
    items: list[str | etree._Element] = [parent.text or ""]
    for child in list(parent):
        tail, child.tail = child.tail or "", None
        parent.remove(child)
        items += [child, tail]
    parent.text = None
    return items


def _fill(parent: etree._Element, items: list[str | etree._Element]) -> None:
    for item in items:
        if isinstance(item, str):
            last = parent[-1] if len(parent) else None
            if last is None:
                parent.text = (parent.text or "") + item
            else:
                last.tail = (last.tail or "") + item
        else:
            parent.append(item)


class _Mutation:
    """One mutant in the making: the tree, the seeded random source and the log."""

    def __init__(self, root: etree._Element, rng: random.Random) -> None:
        self.root, self.rng, self.applied = root, rng, []
        self.body = root.find("body") if root.find("body") is not None else root
        self.article_body = next((e for e in root.iter(etree.Element) if e.get("id") == "articletxt"), None)
        self.headline = next((e for e in root.iter("h1") if {"headline", "title"} & set(_names(e))), None)

    def drop_jsonld(self) -> None:
        for script in self.root.xpath('//script[@type="application/ld+json"]'):
            _detach(script)

    def drop_meta(self) -> None:
        for meta in list(self.root.iter("meta")):
            if (meta.get("property") or meta.get("name") or "").startswith(_META_PREFIXES):
                _detach(meta)

    def move(self) -> None:
        """The section header and related news go elsewhere: around the article header,
        to the end of the body's wrapper, or into the sidebar; never into the body."""
        header = self.headline.getparent() if self.headline is not None else None
        wrapper = self.article_body.getparent() if self.article_body is not None else None
        asides = (e for e in self.body.iter(etree.Element) if e.tag == "aside" or "aside" in (e.get("class") or ""))
        sidebar = next(asides, None)
        targets: dict[str, Callable[[etree._Element], None]] = {}
        if header is not None and header is not wrapper:
            targets |= {"before-header": header.addprevious, "after-header": header.addnext}
        if wrapper is not None:
            targets["body-wrap-end"] = wrapper.append
        if sidebar is not None:
            targets["sidebar"] = lambda e: sidebar.insert(0, e)
        for name in ("section-header", "related-news"):
            block = _by_class(self.body, name)
            if block is None or not targets:
                continue
            where = self.rng.choice(sorted(targets))
            _detach(block)
            targets[where](block)
            block.tail = "\n"
            self.applied.append(f"move:{name}>{where}")

    def br_p(self) -> None:
        """``<br>``-separated text becomes ``<p>`` paragraphs, or the other way round,
        in the body and the summary: the same lines either way."""
        for name, box in (("body", self.article_body), ("summary", _by_class(self.body, "summary"))):
            if box is None:
                continue
            if any(child.tag == "br" for child in box):
                self._to_paragraphs(box)
                self.applied.append(f"br_p:{name}>p")
            elif any(child.tag == "p" for child in box):
                self._to_breaks(box)
                self.applied.append(f"br_p:{name}>br")

    def _to_paragraphs(self, box: etree._Element) -> None:
        items, paragraph = [], []

        def flush() -> None:
            if any(not isinstance(i, str) or i.strip() for i in paragraph):
                p = etree.Element("p")
                _fill(p, paragraph)
                items.extend([p, "\n"])
            paragraph.clear()

        for item in _content(box):
            if isinstance(item, str) or (isinstance(item.tag, str) and item.tag in _INLINE):
                paragraph.append(item)
            elif item.tag == "br":
                flush()
            else:  # blocks, scripts and comments stay between the paragraphs
                flush()
                items.append(item)
        flush()
        _fill(box, items)

    def _to_breaks(self, box: etree._Element) -> None:
        items: list[str | etree._Element] = []
        for item in _content(box):
            if isinstance(item, str) or item.tag != "p":
                items.append(item)
                continue
            items += [*_content(item), etree.Element("br"), etree.Element("br")]
        _fill(box, items)

    def headings(self) -> None:
        """Heading levels change, except where the notes prove the tag (h1.headline, h1.title)."""
        changed = 0
        for heading in self.body.iter(etree.Element):
            if heading.tag in _HEADINGS and not _proven(heading) and self.rng.random() < 0.6:
                heading.tag = self.rng.choice(sorted(_HEADINGS - {heading.tag}))
                changed += 1
        self.applied.append(f"headings:{changed}")

    def unwrap(self) -> None:
        """A ``div`` that only holds one block (and no text) gives way to that block."""
        done = 0
        for div in list(self.body.iter("div")):
            kids = list(div)
            if _proven(div) or not _in_container(div) or len(kids) != 1 or kids[0].tag not in _BLOCKS:
                continue
            if (div.text or "").strip() or (kids[0].tail or "").strip() or self.rng.random() < 0.3:
                continue
            kids[0].tail = None
            div.addprevious(kids[0])
            _detach(div)
            done += 1
        self.applied.append(f"unwrap:{done}")

    def wrap(self) -> None:
        """Extra ``div`` levels around blocks near the article and anywhere on the page."""
        blocks = [e for e in self.body.iter(etree.Element) if e.tag in _BLOCKS and _in_container(e)]
        keys = [e for e in (self.article_body, self.headline) if e is not None]
        near = {a for key in keys for a in [key, *key.iterancestors()]}
        near |= {child for key in keys for child in [*key, *key.getparent()]}
        near_blocks = [e for e in blocks if e in near]
        chosen = self.rng.sample(near_blocks, min(len(near_blocks), self.rng.randint(1, 4)))
        chosen += self.rng.sample(blocks, min(len(blocks), self.rng.randint(0, 6)))
        for block in dict.fromkeys(chosen):
            for _ in range(self.rng.randint(1, 3)):
                wrapper = etree.Element("div")
                block.addprevious(wrapper)
                wrapper.tail, block.tail = block.tail, None
                wrapper.append(block)
        self.applied.append(f"wrap:{len(set(chosen))}")

    def rename(self) -> None:
        """Every class and id the notes do not prove becomes a fresh token (the same
        token wherever the name appears, as a redesign's stylesheet would have it)."""
        tokens: dict[str, str] = {}

        def token(name: str) -> str:
            if name in EVIDENCE:
                return name
            return tokens.setdefault(name, f"{self.rng.choice('bcdfghkmnpqrstvwxz')}{self.rng.getrandbits(28):07x}")

        for element in self.root.iter(etree.Element):
            if classes := element.get("class"):
                element.set("class", " ".join(token(name) for name in classes.split()))
            if element.get("id"):
                element.set("id", token(element.get("id")))
        self.applied.append(f"rename:{len(tokens)}")


def _declare_utf8(root: etree._Element) -> None:
    """The mutant is text, sent as UTF-8: its charset declaration says so."""
    for meta in root.iter("meta"):
        if meta.get("charset"):
            meta.set("charset", "utf-8")
        elif (meta.get("http-equiv") or "").lower() == "content-type":
            meta.set("content", "text/html; charset=utf-8")


# The order matters: blocks are found by today's names, so rename comes last, and wrap
# after unwrap so that new wrappers are not taken away at once.
_ORDER = ("drop_jsonld", "drop_meta", "move", "br_p", "headings", "unwrap", "wrap", "rename")


def _draw_kinds(rng: random.Random) -> set[str]:
    kinds = {kind for kind in KINDS if rng.random() < 0.5}
    while len(kinds) < 2:
        kinds.add(rng.choice(KINDS))
    return kinds


def kinds_for(seed: int) -> set[str]:
    """The kinds :func:`mutate` applies for ``seed`` (without a ``kinds`` of its own),
    known without building the mutant: what tests mark known failures by."""
    return _draw_kinds(random.Random(seed))


def mutate(html: bytes | str, seed: int, kinds: set[str] | None = None) -> Mutant:
    """The page with markup changes chosen by ``seed``: each kind with even odds (at
    least two) when ``kinds`` is None, else exactly the ``kinds`` given."""
    if unknown := set(kinds or ()) - set(KINDS):
        raise ValueError(f"unknown mutation kinds {sorted(unknown)}; known: {KINDS}")
    rng = random.Random(seed)
    kinds = _draw_kinds(rng) if kinds is None else kinds
    root = etree.fromstring(_decode(html), etree.HTMLParser(remove_comments=False))
    doctype = root.getroottree().docinfo.doctype
    mutation = _Mutation(root, rng)
    _declare_utf8(root)
    for kind in _ORDER:
        if kind in kinds:
            before = len(mutation.applied)
            getattr(mutation, kind)()
            if len(mutation.applied) == before:
                mutation.applied.append(kind)
    text = etree.tostring(root, encoding="unicode", method="html")
    return Mutant(f"{doctype}\n{text}" if doctype else text, mutation.applied)

"""Cues that do not depend on a guessed class name: what the notes prove the page
shows (visible labels, role words, section links, breadcrumbs, the 프리미엄9 closing
line), found by text, link paths and document order.

Each function reads one :class:`~hkcrawl.pages.precomputed.Precomputed` page and
returns a candidate value or None; the field methods (:mod:`hkcrawl.pages.fields`)
decide the order and check the value.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

from lxml import etree

from hkcrawl import urls
from hkcrawl.bylines import name_from_byline
from hkcrawl.pages.body import WIDGET_LABELS
from hkcrawl.pages.precomputed import Precomputed, Query, TextQuery, joined_text, precedes
from hkcrawl.pages.text import normalize_space
from hkcrawl.sections import section_name

_HOME_CRUMBS = frozenset({"홈", "home", "한국경제", "한경닷컴", "hankyung", "hankyung.com"})
_CRUMB_SEPARATORS = frozenset({">", "›", "/", "|", "·", ">>", "»"})
ONE_SEGMENT = re.compile(r"^/([a-z][a-z0-9-]*)/?$")
_TWO_SEGMENT_HREF = re.compile(r"^(?:https?:)?(?://[^/]+)?/[a-z][a-z0-9-]*/[a-z0-9][a-z0-9-]*/?$")
TWO_SEGMENTS = re.compile(r"^/([a-z][a-z0-9-]*)/([a-z0-9][a-z0-9-]*)/?$")

# Visible labels (seed page, §3.2), looked up by text whatever element carries them.
# Anywhere on the page: the related block may sit outside the article's own block.
RELATED_HEADINGS = TextQuery("관련 뉴스", "관련뉴스", "관련 기사", "관련기사", gates=("관련",))
PUBLISHED_LABEL = TextQuery("입력", match="prefix", article_only=True)
MODIFIED_LABEL = TextQuery("수정", match="prefix", article_only=True)
PRINT_LABEL = TextQuery("지면", match="prefix", article_only=True)
#: Subscriber-only prompts (checked with body.PAYWALL_TEXT) and the 프리미엄9 closing line (§3.2).
PAYWALL_NODES = TextQuery("구독자 전용", "구독자전용", "구독 후", "구독후", match="contains", article_only=True)
CLOSING_LINE = TextQuery("프리미엄9의 모든 콘텐츠는", match="contains", article_only=True)
_ARIA_CURRENT = Query("//*[@aria-current]", ("aria-current",))
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_FOLLOWING = etree.XPath("following::*")
LINKS = etree.XPath(".//a[@href]")


def slug_path(href: str | None, page: Precomputed, pattern: re.Pattern[str]) -> re.Match[str] | None:
    """``pattern`` matched on the path of ``href``, if it stays on the site and is no article."""
    absolute = page.resolve(href or "")
    if absolute is None or urlsplit(absolute).hostname not in urls.site_hosts(page.base_url):
        return None
    path = urlsplit(absolute).path
    return None if "/article/" in path else pattern.match(path)


def in_excluded_block(page: Precomputed, element: etree._Element, stop: etree._Element | None = None) -> bool:
    """Inside a most-read / ranking / recommendation block (by class or id), below ``stop``."""
    excluded = page.index.excluded_blocks
    if not excluded:
        return False
    for node in (element, *element.iterancestors()):
        if node is stop:
            return False
        if node in excluded:
            return True
    return False


def section_title(page: Precomputed) -> str | None:
    """``.section-tit`` in the header area, else the page's only one (moved elsewhere)."""
    found = page.index.all("section-tit")
    in_header = [e for e in found if page.in_header_area(e)]
    chosen = in_header[:1] or (found if len(found) == 1 else [])
    return (joined_text(chosen[0]) or None) if chosen else None


def crumb(page: Precomputed, depth: int) -> str | None:
    """The ``depth``-th breadcrumb after "home" (0: section, 1: sub-section), from
    JSON-LD's BreadcrumbList or the texts of an element whose class mentions "breadcrumb"."""
    crumbs = page.breadcrumbs
    if not crumbs:
        for box in page.index.with_class_word("breadcrumb"):
            crumbs = [normalize_space(text) for text in box.itertext()]
            if crumbs := [c for c in crumbs if c and c not in _CRUMB_SEPARATORS]:
                break
    crumbs = [c for c in dict.fromkeys(crumbs) if c.lower() not in _HOME_CRUMBS]
    return crumbs[depth] if len(crumbs) > depth else None


def section_heading(page: Precomputed) -> str | None:
    """A heading (any level) in the header area that is one link to ``/<section>``."""
    for heading in page.root.iter(*_HEADINGS):
        if heading is page.headline_element or not (links := LINKS(heading)) or not page.in_header_area(heading):
            continue
        text = joined_text(heading)
        if len(links) == 1 and joined_text(links[0]) == text and slug_path(links[0].get("href"), page, ONE_SEGMENT):
            return text
    return None


def section_block(page: Precomputed) -> tuple[str, list[etree._Element]] | None:
    """The section header by its shape, wherever it sits and whatever its classes:
    a heading that is one link to ``/<section>`` next to a list of ≥ 2 links to
    ``/<section>/<sub>`` of that same section (§1.3's paths). A sidebar headline or
    a "more from 경제" box has no such list of sub-sections. Returns the heading's
    text and the list's items; outside the body and most-read blocks."""
    if "section_block" in page.memo:
        return page.memo["section_block"]
    found = None
    for heading in page.root.iter(*_HEADINGS):
        links = LINKS(heading)
        if heading is page.headline_element or len(links) != 1 or joined_text(links[0]) != joined_text(heading):
            continue
        top = slug_path(links[0].get("href"), page, ONE_SEGMENT)
        parent = heading.getparent()
        if top is None or parent is None or page.in_body(heading) or in_excluded_block(page, heading):
            continue
        for listing in parent.iter("ul", "ol"):
            items = [li for li in listing if li.tag == "li"]
            subs = [slug_path(a.get("href"), page, TWO_SEGMENTS) for li in items for a in LINKS(li)[:1]]
            if len(items) >= 2 and len(subs) == len(items) and all(s and s.group(1) == top.group(1) for s in subs):
                found = (joined_text(heading), items)
                break
        if found:
            break
    page.memo["section_block"] = found
    return found


def section_block_title(page: Precomputed) -> str | None:
    block = section_block(page)
    return block[0] if block else None


def section_block_item(page: Precomputed) -> str | None:
    """The section block's marked item: the one whose class its siblings lack."""
    block = section_block(page)
    if block is None:
        return None
    classed = [li for li in block[1] if li.get("class")]
    if len(classed) != 1 or len(block[1]) < 3:
        return None
    link = next(iter(LINKS(classed[0])), None)
    return joined_text(link) if link is not None else None


def marked_item(page: Precomputed, path: re.Pattern[str], header_only: bool) -> str | None:
    """The text of the one marked item (``on``/``active``/``current``, ``aria-current``)
    whose link path matches ``path``; None when there is none or they disagree."""
    values = set()
    for item in _marked_items(page):
        if header_only and not page.in_header_area(item):
            continue
        link = item if item.tag == "a" else next(iter(LINKS(item)), None)
        href = link.get("href", "").strip() if link is not None else ""
        two = bool(_TWO_SEGMENT_HREF.match(href))
        if href and two == (path is TWO_SEGMENTS) and slug_path(href, page, path):
            values.add(joined_text(link))
    return values.pop() if len(values) == 1 else None


def distinct_sub_item(page: Precomputed) -> str | None:
    """In the header area, a list of ≥3 ``/<section>/<sub>`` links of one section where
    exactly one item carries a class: the marked one, whatever its class is called."""
    classed_items = dict.fromkeys(e for es in page.index.by_class.values() for e in es if e.tag == "li")
    for item in classed_items:
        parent = item.getparent()
        link = next(iter(LINKS(item)), None)
        if parent is None or link is None or not _TWO_SEGMENT_HREF.match(link.get("href", "").strip()):
            continue  # cheap tests first: most classed items (menus, "premium") fail here
        siblings = [li for li in parent if li.tag == "li"]
        if len(siblings) < 3 or [li for li in siblings if li in classed_items] != [item]:
            continue
        if not page.in_header_area(item):
            continue
        links = [next(iter(LINKS(li)), None) for li in siblings]
        paths = [slug_path(a.get("href"), page, TWO_SEGMENTS) if a is not None else None for a in links]
        if all(paths) and len({p.group(1) for p in paths if p}) == 1:
            link = links[siblings.index(item)]
            return joined_text(link) if link is not None else None
    return None


def _marked_items(page: Precomputed) -> list[etree._Element]:
    """Items marked as the current one: class ``on``/``active``/``current``/``selected``, or ``aria-current``."""
    marked = [e for name in ("on", "active", "current", "selected") for e in page.index.all(name)]
    return marked + page.find(_ARIA_CURRENT)


def paywall_boxes(page: Precomputed) -> list[etree._Element]:
    return page.index.with_class_word("paywall")


def url_section(page: Precomputed) -> str | None:
    """2019 URLs carry the section (``/economy/article/<id>``); so do 2019 canonical links."""
    slug = urls.section_slug_from_url(page.url) or urls.section_slug_from_url(page.canonical_link)
    return section_name(slug) if slug else None


def byline_names(page: Precomputed) -> list[str]:
    """Bylines ("<name> 기자", "뉴욕=<name> 특파원") between the headline and the body."""
    headline, body = page.headline_element, page.body
    names = []
    for element in _FOLLOWING(headline) if headline is not None else ():
        if element is body:
            break
        text = normalize_space(element.text or "") if isinstance(element.tag, str) else ""
        if text and (name := name_from_byline(text)):
            names.append(name)
    return names


def labelled(
    page: Precomputed, query: etree.XPath, label: str, value: str, convert: Callable[[str], str | None]
) -> str | None:
    """The value right after a visible ``label`` in the header area; the label and its
    value sit in one element or in nested ones ("입력 <span>2022.06.17 17:48</span>")."""
    pattern = re.compile(re.escape(label) + r"\s*:?\s*" + value)
    for element in page.find(query):
        if not page.in_header_area(element):
            continue
        for scope in (element, element.getparent()):
            if scope is not None and (match := pattern.search(joined_text(scope))):
                return convert(match.group(1))
    return None


#: How many wrappers up from the body container the tag box may sit after it.
_TAG_BOX_LEVELS = 3


def tag_links(page: Precomputed) -> list[str]:
    """``/tag/`` link texts in the blocks right after the body container (where the
    tag box sits), or after a wrapper or two around it, outside most-read blocks."""
    body = page.body
    if body is None:
        return []
    levels = [body, *body.iterancestors()][:_TAG_BOX_LEVELS]
    found: dict[str, None] = {}
    for level in levels:
        for sibling in level.itersiblings():
            if not isinstance(sibling.tag, str):
                continue
            for a in sibling.iter("a"):
                if "/tag/" in (a.get("href") or "") and not in_excluded_block(page, a):
                    found.setdefault(joined_text(a))
        if found:
            break
    return list(found)


def related_boxes(page: Precomputed) -> list[etree._Element]:
    """Outermost containers whose class mentions "relat" (``related-news``, 2019's
    ``relate_news`` …), outside most-read blocks."""
    if "related_boxes" not in page.memo:
        page.memo["related_boxes"] = _related_boxes(page)
    return page.memo["related_boxes"]


def _related_boxes(page: Precomputed) -> list[etree._Element]:
    boxes = [box for box in page.index.with_class_word("relat") if not in_excluded_block(page, box)]
    chosen = set(boxes)
    return [box for box in boxes if not any(ancestor in chosen for ancestor in box.iterancestors())]


def links_in(page: Precomputed, boxes: list[etree._Element]) -> list[etree._Element]:
    return [a for box in boxes for a in LINKS(box) if not in_excluded_block(page, a, box)]


def links_after_related_heading(page: Precomputed) -> list[list[etree._Element]]:
    """For each ``관련 뉴스`` heading: the links after it in its block, up to the next
    widget heading (``많이 본 뉴스`` …), outside most-read blocks."""
    found = []
    for heading in page.find(RELATED_HEADINGS):
        box = heading.getparent()
        # Up from the heading to the block that holds its links.
        while box is not None and box.tag not in ("body", "html") and not _links_besides(box, heading):
            box = box.getparent()
        if box is None or in_excluded_block(page, box):
            continue
        links, started = [], False
        for node in box.iter():
            if node is heading:
                started = True
            elif started and node.text and normalize_space(node.text) in WIDGET_LABELS:
                break
            elif started and node.tag == "a" and node.get("href") and not in_excluded_block(page, node, box):
                links.append(node)
        found.append(links)
    return found


def _links_besides(box: etree._Element, heading: etree._Element) -> bool:
    return any(heading not in link.iterancestors() for link in LINKS(box))


def after_headline(page: Precomputed, query: etree.XPath) -> list[etree._Element]:
    """``query``'s results not before the headline (the page top's promo "한경 PREMIUM9
    … 구독하기" is not a paywall)."""
    headline = page.headline_element
    found = page.find(query)
    if headline is None or not found:
        return found
    ancestors = set(headline.iterancestors())
    return [e for e in found if e not in ancestors and (e is headline or not precedes(e, headline))]

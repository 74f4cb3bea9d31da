"""The article text inside a body container: which elements are not the article.

The parser only takes structural decisions here (which elements hold no article
text); line rules (copyright, email line, credits) belong to :mod:`hkcrawl.cleaning`.
Boxes are skipped by tag, by their guessed class, and by their text: a paywall box
whose class is not ``premium-paywall`` still shows "구독자 전용" (premium fixture,
replica), and a widget still starts with its heading (``관련 뉴스`` …, seed page).
"""

from __future__ import annotations

import re

from lxml import etree

from hkcrawl.pages.precomputed import joined_text, own_text
from hkcrawl.pages.text import normalize_space, text_lines

BODY_SKIP_TAGS = ("script", "style", "iframe", "noscript", "template", "figure", "button", "svg", "form", "ins")
# Guessed class names (docs/site-markup.md): photos, ads, the premium paywall box and
# the AI summary of premium pages, widgets.
BODY_SKIP_CLASSES = (
    "article-figure", "figure-img", "figure-caption", "ad-wrap", "ad-area", "ad", "adsbygoogle",
    "premium-paywall", "ai-summary", "related-news", "popular-news", "article-tag", "reaction",
)  # fmt: skip

#: Subscriber-only prompts of a paywall box.
PAYWALL_TEXT = re.compile(r"구독자\s?전용|구독\s?후\s?(?:이용|읽|보실)")
#: Headings of blocks that are never the article (seed page, §3.2).
WIDGET_LABELS = frozenset(
    {"관련 뉴스", "관련뉴스", "관련 기사", "관련기사", "많이 본 뉴스", "많이 본 기사", "이 시각 관심정보",
     "독자들의 PICK!", "추천 뉴스", "추천 기사", "AI 기사요약", "포토 뉴스", "랭킹 뉴스", "ADVERTISEMENT"}
)  # fmt: skip
_BOX_TEXT = etree.XPath(
    ".//*[not(self::script or self::style)][text()[contains(., '구독') or contains(., '뉴스') or contains(., '기사')"
    " or contains(., '관심정보') or contains(., 'PICK') or contains(., 'ADVERTISEMENT')]]"
)
_BOX_WORDS = (
    "구독",
    "관련",
    "많이 본",
    "관심정보",
    "PICK",
    "ADVERTISEMENT",
    "AI 기사요약",
    "추천",
    "포토 뉴스",
    "랭킹",
)
#: A paywall box is short; a paragraph that merely mentions subscribers is not one.
_PAYWALL_MAX_CHARS = 300
#: Text a wrapper may add around a box and still be part of it (a button, a short notice).
_WRAPPER_PROSE = 60


def _prose_outside(parent: etree._Element, inner: etree._Element) -> bool:
    """Whether ``parent`` holds a prose chunk (a paragraph's worth of text) outside ``inner``;
    link and list-item text (a widget's items) does not count."""
    chunks = [parent.text or "", inner.tail or ""]
    for child in parent:
        if child is inner or not isinstance(child.tag, str):
            chunks.append(child.tail or "")
            continue
        if child.tag not in ("a", "li", "ul", "ol"):
            chunks += [t for node in child.iter() if node.tag not in ("a", "li") for t in (node.text or "",)]
        chunks.append(child.tail or "")
    return any(len(normalize_space(chunk)) >= _WRAPPER_PROSE for chunk in chunks)


def _box_around(element: etree._Element, container: etree._Element) -> etree._Element:
    """The largest block around ``element`` below ``container`` that adds no prose."""
    box = element
    while (parent := box.getparent()) is not None and parent is not container and not _prose_outside(parent, box):
        box = parent
    return box


def boilerplate_boxes(container: etree._Element) -> frozenset[etree._Element]:
    """Paywall boxes and widgets inside ``container``, found by their text."""
    boxes: set[etree._Element] = set()
    text = etree.tostring(container, method="text", encoding=str, with_tail=False)
    if not any(word in text for word in _BOX_WORDS):
        return frozenset()
    for element in _BOX_TEXT(container):
        if own_text(element) in WIDGET_LABELS:
            boxes.add(_box_around(element, container))
        elif PAYWALL_TEXT.search(joined_text(element)):
            box = _box_around(element, container)
            if len(joined_text(box)) <= _PAYWALL_MAX_CHARS:
                boxes.add(box)
    return frozenset(boxes)


def body_lines(container: etree._Element) -> list[str]:
    """The visible text lines of ``container`` without the boxes that are not the article."""
    return text_lines(
        container, skip=BODY_SKIP_TAGS, skip_classes=BODY_SKIP_CLASSES, skip_elements=boilerplate_boxes(container)
    )

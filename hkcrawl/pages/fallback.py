"""The article text of a page with no known body container: a text-density rule.

When the site renames ``#articletxt`` (stable since 2019, §3.5) or serves a layout
nobody has seen, the article is still the one block of the page made of several
paragraphs of prose with few links; menus, lists and widgets are links and short
lines. A maintained extractor (trafilatura) would do as well on articles, but it is
~7× slower per page and keeps site furniture the cleaning rules do not know; this
rule reuses the body's skip rules, so what it returns is cleaned like any body.

List pages (many article links, one short lead each), challenge pages and the
homepage have no such block, so they are still never taken for articles.
"""

from __future__ import annotations

from lxml import etree

from hkcrawl import urls
from hkcrawl.pages.body import BODY_SKIP_TAGS, body_lines
from hkcrawl.pages.precomputed import Precomputed, joined_text
from hkcrawl.pages.text import normalize_space

#: A block needs this much prose (characters of its own paragraphs) to be an article:
#: a short news item is ~300 characters of Korean text in 2–3 paragraphs.
MIN_PROSE_CHARS = 200
#: ... in at least this many paragraphs of at least PARAGRAPH_CHARS characters.
MIN_PARAGRAPHS = 2
PARAGRAPH_CHARS = 40
#: At most this share of the block's text may be link text (menus, lists: most of it).
MAX_LINK_SHARE = 0.25
#: A block linking more articles than this is a list, not an article.
MAX_ARTICLE_LINKS = 3

_CANDIDATE_TAGS = ("div", "section", "article", "main", "td")
_BLOCKS = frozenset({*_CANDIDATE_TAGS, "ul", "ol", "table", "p"})
_PARAGRAPH_TAGS = frozenset({"p", "span", "font", "b", "strong"})
_CHALLENGE_MARKERS = ("_cf_chl_opt", "Just a moment", "cf-challenge", "challenge-platform")


def _paragraphs(block: etree._Element) -> list[str]:
    """The block's own paragraphs: its text nodes (``<br>`` bodies) and its ``<p>`` children."""
    chunks = [block.text or ""]
    for child in block:
        if isinstance(child.tag, str) and (child.tag in _PARAGRAPH_TAGS or _is_leaf_block(child)):
            chunks.append(joined_text(child))
        chunks.append(child.tail or "")
    return [text for text in map(normalize_space, chunks) if len(text) >= PARAGRAPH_CHARS]


def _is_leaf_block(element: etree._Element) -> bool:
    """A ``<div>`` with no blocks inside: one paragraph wrapped in its own div."""
    return element.tag == "div" and not any(
        isinstance(inner.tag, str) and inner.tag in _BLOCKS for inner in element.iterdescendants()
    )


def _link_share(block: etree._Element) -> tuple[float, int]:
    """Share of the block's text that is link text, and the article links it holds."""
    total = len(joined_text(block)) or 1
    links = list(block.iter("a"))
    link_chars = sum(len(joined_text(a)) for a in links)
    hrefs = (urls.absolute_http_url(a.get("href", ""), "https://www.hankyung.com/") for a in links)
    articles = {urls.article_id_from_url(href) for href in hrefs if href}
    return link_chars / total, len(articles - {None})


def is_challenge(page: Precomputed) -> bool:
    """A Cloudflare challenge (§6): never an article, whatever else it holds."""
    scripts = " ".join(script.text or "" for script in page.root.iter("script"))
    title = next((t.text or "" for head in page.head for t in head.iter("title")), "")
    return any(marker in scripts or marker in title for marker in _CHALLENGE_MARKERS)


def main_block(page: Precomputed) -> etree._Element | None:
    """The block with the most prose of its own, if it reads like an article."""
    best, best_chars = None, 0
    for block in page.root.iter(*_CANDIDATE_TAGS):
        if any(ancestor.tag in BODY_SKIP_TAGS for ancestor in block.iterancestors()):
            continue
        paragraphs = _paragraphs(block)
        chars = sum(map(len, paragraphs))
        if len(paragraphs) >= MIN_PARAGRAPHS and chars > best_chars:
            best, best_chars = block, chars
    if best is None or best_chars < MIN_PROSE_CHARS:
        return None
    share, article_links = _link_share(best)
    if share > MAX_LINK_SHARE or article_links > MAX_ARTICLE_LINKS:
        return None
    return best


def fallback_lines(page: Precomputed) -> list[str] | None:
    """The article's lines from the page's main block, or None (no article-like block,
    or a challenge page)."""
    if is_challenge(page):
        return None
    block = main_block(page)
    return (body_lines(block) or None) if block is not None else None

"""hankyung.com article pages -> an (uncleaned) :class:`~hkcrawl.items.Article`.

The page is parsed once (:class:`~hkcrawl.pages.precomputed.Precomputed`), a layout
class is chosen (:func:`hkcrawl.pages.layouts.choose`), and each field comes from
its own method, which owns its cues and their order (:mod:`hkcrawl.pages.fields`).
This module only assembles the record and says which cue gave each field.

The parser takes only structural decisions (which element is the body, which
elements inside it are not text); text rules (copyright lines, email line, credits)
belong to :mod:`hkcrawl.cleaning`, applied by the clean pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hkcrawl import urls
from hkcrawl.items import Article, Author
from hkcrawl.pages import jsonld
from hkcrawl.pages.encoding import decode_html
from hkcrawl.pages.fields import ArticleFields
from hkcrawl.pages.layouts import FallbackLayout, JsonLdOnlyLayout, choose
from hkcrawl.pages.precomputed import Precomputed, parse_html

#: Pages above this size are still parsed, but counted: a real article is ~86 kB (§3.1).
OVERSIZED_BYTES = 2_000_000


@dataclass
class ParseResult:
    """The article (or None for a page that is not one) and what went wrong.

    ``problems`` are short counter names (``no_body``, ``encoding_mismatch`` …); the
    spider adds them to Scrapy's stats, ``hkcrawl extract`` prints them.
    """

    article: Article | None
    problems: list[str] = field(default_factory=list)
    #: Part of the article (its related articles) is filled in by script: only a
    #: browser render of the page shows it.
    needs_render: bool = False
    #: field -> the cue that gave its value, or "none" (counted as ``hkcrawl/cue/<field>/<cue>``).
    cues: dict[str, str] = field(default_factory=dict)
    #: field -> the cues tried in order, the winner last (``hkcrawl extract --explain``).
    tried: dict[str, list[str]] = field(default_factory=dict)


def parse_article(body: bytes | str, url: str, content_type: str | None = None) -> ParseResult:
    """Parse one page. Never raises for bad input: problems are reported instead."""
    problems: list[str] = []
    if isinstance(body, bytes):
        if len(body) > OVERSIZED_BYTES:
            problems.append("oversized")
        decoded = decode_html(body, content_type)
        if decoded.encoding_mismatch:
            problems.append("encoding_mismatch")
        text, utf8_body = decoded.text, decoded.utf8_body
    else:
        text, utf8_body = body, None
    if not text.strip():
        return ParseResult(None, [*problems, "empty_page"])
    root, too_deep = parse_html(text, utf8_body)
    if too_deep:
        problems.append("too_deep")

    try:
        blocks = jsonld.find_blocks(root)
    except jsonld.BadJsonLd:
        blocks = jsonld.Blocks()
        problems.append("bad_jsonld")

    page = Precomputed(root, text, url, blocks)
    layout_class = choose(page)
    if layout_class is None:
        return ParseResult(None, [*problems, "not_article"])
    if layout_class in (JsonLdOnlyLayout, FallbackLayout):
        problems.append("unknown_layout")
    fields = layout_class(page)
    return _assemble(fields, url, problems)


def _assemble(fields: ArticleFields, url: str, problems: list[str]) -> ParseResult:
    """The record from the layout's field methods; no cue logic here."""
    article_id = fields.article_id()
    if article_id is None:
        problems.append("no_article_id")
    canonical_url = urls.canonical_article_url(article_id) if article_id else None
    # The URL the page came from; a saved file has none (hkcrawl extract without --url):
    # then the canonical URL stands in, as it is where the page lives.
    page_url = urls.absolute_http_url(url, "") if url else None
    if url and page_url is None:
        problems.append("bad_url")
    body_lines = fields.body_lines()
    if not body_lines:
        problems.append("no_body")
    headline = fields.headline()
    published = fields.date_published()
    layout = fields.name + ("+jsonld" if fields.ld and fields.name != "jsonld" else "")
    if fields.cues["articleBody"] == "fallback":
        layout = "fallback"

    article = Article(
        articleId=article_id,
        url=page_url or canonical_url or "",
        canonicalUrl=canonical_url,
        headline=headline,
        summary=fields.summary(),
        section=fields.section(),
        subsection=fields.subsection(),
        authors=[Author(name=name) for name in fields.authors()],
        datePublished=published,
        dateModified=fields.date_modified(published),
        printPage=fields.print_page(),
        articleBody="\n\n".join(body_lines) or None,
        images=fields.images(),
        keywords=fields.keywords(),
        relatedArticles=fields.related_articles(article_id),
        isPremium=fields.is_premium(headline),
        layout=layout,
    )
    problems += [problem for problem in fields.problems if problem not in problems]
    if fields.rejected_urls and "bad_url" not in problems:
        problems.append("bad_url")
    if not article.headline:
        problems.append("no_headline")
    if not article.datePublished:
        problems.append("no_date_published")
    return ParseResult(article, problems, fields.related_filled_by_script(), fields.cues, fields.tried)

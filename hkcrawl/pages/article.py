"""hankyung.com article pages -> an (uncleaned) :class:`~hkcrawl.items.Article`.

One parser class per layout era, tried in the order of :data:`LAYOUTS`; a
``NewsArticle`` JSON-LD block, when present, overrides the metadata it carries.
When the site changes again, add a layout class beside these and keep the old ones
so archived pages still parse. Selectors and their evidence: ``docs/site-markup.md``.

The parser takes only structural decisions (which element is the body, which
elements inside it are not text); text rules (copyright lines, email line, credits)
belong to :mod:`hkcrawl.cleaning`, applied by the clean pipeline.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property, partial
from urllib.parse import urlsplit

from lxml import etree
from parsel.csstranslator import HTMLTranslator

from hkcrawl import urls
from hkcrawl.bylines import strip_role
from hkcrawl.items import Article, Author, Image
from hkcrawl.pages import jsonld
from hkcrawl.pages.encoding import decode_html
from hkcrawl.pages.text import BadDate, kst_from_iso, kst_from_text, normalize_space, text_lines
from hkcrawl.sections import section_name

#: Pages above this size are still parsed, but counted: a real article is ~86 kB (§3.1).
OVERSIZED_BYTES = 2_000_000

# Inside #articletxt, these hold no article text (§3.1, §3.3): scripts and widgets,
# photos (their captions go to ``images``), ads, the premium paywall box and the
# AI summary of premium pages.
_BODY_SKIP_TAGS = ("script", "style", "iframe", "noscript", "template", "figure", "button", "svg", "form", "ins")
_BODY_SKIP_CLASSES = (
    "article-figure",
    "figure-img",
    "figure-caption",
    "ad-wrap",
    "ad-area",
    "ad",
    "adsbygoogle",
    "premium-paywall",
    "ai-summary",
    "related-news",
    "popular-news",
    "article-tag",
    "reaction",
)
_PREMIUM_TITLE_PREFIXES = ("[마켓PRO]", "[프리미엄]", "[한경 코리아마켓]")
_PREMIUM9_COPYRIGHT = "한경 프리미엄9의 모든 콘텐츠는"
_PRINT_PAGE = re.compile(r"지면\s*([A-Z]{0,2}\d{1,3})")
_TITLE_SUFFIX = re.compile(r"\s*[|\-]\s*(?:한국경제|한경닷컴|hankyung\.com)\s*$")

_CSS_TRANSLATOR = HTMLTranslator()


def _css(query: str) -> etree.XPath:
    """A CSS query (with parsel's ``::text`` / ``::attr()``) compiled once.

    It is the very XPath parsel would run for ``.css(query)``, so results are the
    same; evaluating it on plain lxml elements skips parsel's per-call evaluator
    setup and the ``Selector`` wrapper around every result (most of the query time).
    """
    return etree.XPath(_CSS_TRANSLATOR.css_to_xpath(query), smart_strings=False)


def _first(query: etree.XPath, elements: Iterable[etree._Element]) -> str | None:
    """``SelectorList.css(query).get()``: the first result over ``elements``."""
    for element in elements:
        if found := query(element):
            return found[0]
    return None


def _joined_text(query: etree.XPath, element: etree._Element) -> str:
    return normalize_space(" ".join(query(element)))


_HEAD = etree.XPath("/html/head")
_CANONICAL = _css('link[rel="canonical"]::attr(href)')
_OG_TITLE = _css('meta[property="og:title"]::attr(content)')
_TITLE_TEXT = _css("title::text")
_OG_IMAGE = _css('meta[property="og:image"]::attr(content)')
_OG_URL = _css('meta[property="og:url"]::attr(content)')
_SECTION_META = _css('meta[property="article:section"]::attr(content)')
_DABLE_AUTHOR = _css('meta[property="dable:author"]::attr(content)')
_ALL_TEXT = _css("::text")
_SECTION_TITLE_TEXT = _css(".section-tit ::text")
_SUBSECTION_TEXT = _css("li.on ::text")
_FIGURES = _css("figure, .article-figure")
_FIGURE_SRC = _css("img::attr(data-src), img::attr(src)")
_FIGCAPTION_TEXT = _css("figcaption ::text")
_LINK_TEXT = _css("a::text")
_LINK_HREFS = _css("a::attr(href)")
_AUTHOR_LINK_TEXT = _css("a.item::text")
_TXT_DATE = _css("span.txt-date")
_TXT_DATE_TEXT = _css("span.txt-date::text")


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


class PageIndex:
    """The page's elements by class and id, from one pass over the tree.

    Each field then searches only inside its own small element. One whole-document
    CSS query per field was most of the parse time on ~90 kB pages.
    """

    # Only the tags the layouts look up (docs/site-markup.md): <p> alone is most of a page's elements.
    _TAGS = ("div", "h1", "span")

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

    def first(self, class_name: str, tag: str | None = None) -> etree._Element | None:
        return next((e for e in self.by_class.get(class_name, ()) if tag is None or e.tag == tag), None)

    def texts(self, class_name: str, tag: str | None = None, query: etree.XPath = _ALL_TEXT) -> str:
        """The normalised text under the first such element ('' if none)."""
        found = self.first(class_name, tag)
        return _joined_text(query, found) if found is not None else ""


class ArticleLayout:
    """Fields common to every era; subclasses override what their markup changes."""

    name = "base"

    def __init__(self, root: etree._Element, index: PageIndex, url: str) -> None:
        self.root = root
        self.index = index
        self.url = url
        self.head: list[etree._Element] = _HEAD(root)
        self.base_url = url if url.startswith(("http://", "https://")) else _base_url(self.canonical_link)
        #: Links this page gave that resolve to no http(s) URL (``javascript:``, ``file:`` …):
        #: left out of the record; the caller counts them (``bad_url``).
        self.rejected_urls = 0

    def resolve(self, href: str) -> str | None:
        """``href`` as an absolute http(s) URL against the page, or None (and counted)."""
        if (absolute := urls.absolute_http_url(href, self.base_url)) is None:
            self.rejected_urls += 1
        return absolute

    @cached_property
    def canonical_link(self) -> str:
        return (_first(_CANONICAL, self.head) or "").strip()

    @cached_property
    def datetime_box(self) -> etree._Element | None:
        return self.index.first("datetime", "div")

    @classmethod
    def matches(cls, index: PageIndex) -> bool:
        raise NotImplementedError

    # -- fields ---------------------------------------------------------------
    def headline(self) -> str | None:
        for query in (_OG_TITLE, _TITLE_TEXT):
            if value := _first(query, self.head):
                return _TITLE_SUFFIX.sub("", normalize_space(value)) or None
        return None

    def summary(self) -> list[str] | None:
        box = self.index.first("summary", "div")
        return text_lines(box, skip=("script", "style")) or None if box is not None else None

    def section(self) -> str | None:
        meta = _first(_SECTION_META, self.head)
        if meta and meta.strip():
            return meta.strip()
        shown = self.index.texts("section-header", "div", _SECTION_TITLE_TEXT)
        if shown:
            return shown
        # 2019 URLs carry the section (/economy/article/<id>); so do 2019 canonical links.
        slug = urls.section_slug_from_url(self.url) or urls.section_slug_from_url(self.canonical_link)
        return section_name(slug) if slug else None

    def subsection(self) -> str | None:
        shown = self.index.texts("section-header", "div", _SUBSECTION_TEXT)
        return shown or None

    def author_names(self) -> list[str]:
        return []

    def date_published(self) -> str | None:
        return None

    def date_modified(self) -> str | None:
        return None

    def print_page(self) -> str | None:
        if self.datetime_box is None:
            return None
        match = _PRINT_PAGE.search(" ".join(_ALL_TEXT(self.datetime_box)))
        return match.group(1) if match else None

    @cached_property
    def body_element(self) -> etree._Element | None:
        return self.index.by_id.get("articletxt")

    def body_lines(self) -> list[str]:
        if self.body_element is None:
            return []
        return text_lines(self.body_element, skip=_BODY_SKIP_TAGS, skip_classes=_BODY_SKIP_CLASSES)

    def images(self) -> list[Image]:
        images = []
        if self.body_element is None:
            return []
        for figure in _FIGURES(self.body_element):
            src = _first(_FIGURE_SRC, (figure,))
            if not src or not src.strip() or not (url := self.resolve(src)):
                continue
            caption = _joined_text(_FIGCAPTION_TEXT, figure) or None
            image = Image(url=url, caption=caption)
            if image not in images:
                images.append(image)
        return images

    def og_image(self) -> str | None:
        src = _first(_OG_IMAGE, self.head)
        return self.resolve(src) if src and src.strip() else None

    def tags(self) -> list[str]:
        box = self.index.first("article-tag", "div")
        texts = _LINK_TEXT(box) if box is not None else []
        tags = (normalize_space(t).lstrip("#").strip() for t in texts)
        return [tag for tag in tags if tag]

    def related_articles(self, own_id: str | None) -> list[str]:
        page_host = urlsplit(self.base_url).hostname
        related: list[str] = []
        hrefs = [href for box in self.index.all("related-news", "div") for href in _LINK_HREFS(box)]
        for href in hrefs:
            if not (absolute := self.resolve(href)):
                continue
            host = urlsplit(absolute).hostname
            if host not in urls.ARTICLE_HOSTS and host != page_host:
                continue
            article_id = urls.article_id_from_url(absolute)
            if article_id and article_id != own_id:
                canonical = urls.canonical_article_url(article_id)
                if canonical not in related:
                    related.append(canonical)
        return related

    def related_filled_by_script(self) -> bool:
        """An empty "관련 뉴스" shell that a script fills (hankyung-site.md §5): a box
        with no links but a ``data-*`` hook, or an inline script that mentions it."""
        for box in self.index.all("related-news", "div"):
            if _LINK_HREFS(box):
                continue
            if any(name.startswith("data-") for name in box.attrib):
                return True
            if any("related" in (script.text or "") for script in self.root.iter("script")):
                return True
        return False

    def premium_markers(self) -> bool:
        if self.index.first("premium-paywall", "div") is not None:
            return True
        return bool(self.body_element is not None and _PREMIUM9_COPYRIGHT in "".join(self.body_element.itertext()))


class CurrentLayout(ArticleLayout):
    """June 2022 onward: ``h1.headline``, ``span.txt-date`` ×2, ``div.author[data-name]``."""

    name = "current"

    @classmethod
    def matches(cls, index: PageIndex) -> bool:
        return index.first("headline", "h1") is not None or any(_TXT_DATE(box) for box in index.all("datetime", "div"))

    def headline(self) -> str | None:
        shown = self.index.texts("headline", "h1")
        return shown or super().headline()

    def author_names(self) -> list[str]:
        boxes = self.index.all("author", "div")
        names = [strip_role(n) for box in boxes if (n := box.get("data-name", "")).strip()]
        if not names:
            names = [strip_role(normalize_space(n)) for box in boxes for n in _AUTHOR_LINK_TEXT(box)]
        names = [name for name in names if name]
        return list(dict.fromkeys(names))

    @cached_property
    def _dates(self) -> list[str]:
        # The first txt-date is 입력 (published), the second 수정 (modified) (§3.1).
        return _TXT_DATE_TEXT(self.datetime_box) if self.datetime_box is not None else []

    def date_published(self) -> str | None:
        dates = self._dates
        return kst_from_text(dates[0]) if dates else None

    def date_modified(self) -> str | None:
        dates = self._dates
        return kst_from_text(dates[1]) if len(dates) > 1 else None


class Legacy2019Layout(ArticleLayout):
    """2019 – mid-2022, ``/<section>/article/<id>``: ``h1.title``, ``span.date-published``."""

    name = "legacy2019"

    @classmethod
    def matches(cls, index: PageIndex) -> bool:
        return index.first("date-published", "span") is not None or (
            index.first("title", "h1") is not None and "articletxt" in index.by_id
        )

    def headline(self) -> str | None:
        shown = self.index.texts("title", "h1")
        return shown or super().headline()

    def author_names(self) -> list[str]:
        raw = _first(_DABLE_AUTHOR, self.head) or ""
        return [strip_role(part) for part in re.split(r"[,/·]", raw) if part.strip()]

    def date_published(self) -> str | None:
        return kst_from_text(self.index.texts("date-published", "span"))

    def date_modified(self) -> str | None:
        return kst_from_text(self.index.texts("date-modify", "span"))

    def print_page(self) -> str | None:
        return None


class JsonLdOnlyLayout(ArticleLayout):
    """No known DOM layout, but a NewsArticle block: metadata from JSON-LD alone."""

    name = "jsonld"

    @classmethod
    def matches(cls, index: PageIndex) -> bool:
        return False  # chosen explicitly when only JSON-LD is found


#: Tried in order; the first that matches parses the page.
LAYOUTS: tuple[type[ArticleLayout], ...] = (CurrentLayout, Legacy2019Layout)


def _base_url(canonical: str) -> str:
    """What relative links resolve against when the page was read from a file
    (``hkcrawl extract saved.html``): the page's own canonical link."""
    return canonical if canonical.startswith(("http://", "https://")) else "https://www.hankyung.com/"


def _article_id(page: ArticleLayout, data: dict) -> str | None:
    """From the URL, else the canonical link, og:url or the JSON-LD (saved files)."""
    if article_id := urls.article_id_from_url(page.url):
        return article_id
    candidates = [page.canonical_link, _first(_OG_URL, page.head)]
    candidates += [data.get("url"), data.get("mainEntityOfPage")]
    for candidate in candidates:
        if isinstance(candidate, dict):
            candidate = candidate.get("@id")
        absolute = urls.absolute_http_url(candidate, page.base_url) if isinstance(candidate, str) else None
        if absolute and (article_id := urls.article_id_from_url(absolute)):
            return article_id
    return None


@dataclass
class _Dates:
    """Picks each date from its sources in order; a source whose date is there but
    unusable (BadDate) is passed over and counted once per page as ``bad_date``."""

    problems: list[str]

    def first(self, *sources: Callable[[], str | None]) -> str | None:
        for source in sources:
            try:
                if found := source():
                    return found
            except BadDate:
                if "bad_date" not in self.problems:
                    self.problems.append("bad_date")
        return None


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
        data = jsonld.find_news_article(root)
    except jsonld.BadJsonLd:
        data = None
        problems.append("bad_jsonld")

    index = PageIndex(root)
    layout_class = next((layout for layout in LAYOUTS if layout.matches(index)), None)
    if layout_class is None:
        if data is None:
            return ParseResult(None, [*problems, "not_article"])
        layout_class = JsonLdOnlyLayout
        problems.append("unknown_layout")
    page = layout_class(root, index, url)
    data = data or {}

    article_id = _article_id(page, data)
    if article_id is None:
        problems.append("no_article_id")
    canonical_url = urls.canonical_article_url(article_id) if article_id else None
    # The URL the page came from; a saved file has none (hkcrawl extract without --url):
    # then the canonical URL stands in, as it is where the page lives.
    page_url = urls.absolute_http_url(url, "") if url else None
    if url and page_url is None:
        problems.append("bad_url")
    body_lines = page.body_lines()
    if not body_lines and (ld_body := jsonld.text(data.get("articleBody"))):
        body_lines = [line for line in map(normalize_space, ld_body.split("\n")) if line]
    if not body_lines:
        problems.append("no_body")

    images = page.images()
    if not images:
        ld_images = (page.resolve(src) for src in jsonld.image_urls(data.get("image")))
        if fallback := next((src for src in ld_images if src), None) or page.og_image():
            images = [Image(url=fallback)]

    section = jsonld.text(next(iter(jsonld.as_list(data.get("articleSection"))), None))
    headline = normalize_space(ld_headline) if (ld_headline := jsonld.text(data.get("headline"))) else page.headline()
    free = jsonld.is_free(data.get("isAccessibleForFree"))
    author_names = [strip_role(name) for name in jsonld.names(data.get("author"))] or page.author_names()
    dates = _Dates(problems)

    article = Article(
        articleId=article_id,
        url=page_url or canonical_url or "",
        canonicalUrl=canonical_url,
        headline=headline,
        summary=page.summary(),
        section=section or page.section(),
        subsection=page.subsection(),
        authors=[Author(name=name) for name in dict.fromkeys(author_names) if name],
        datePublished=dates.first(partial(kst_from_iso, data.get("datePublished")), page.date_published),
        dateModified=dates.first(partial(kst_from_iso, data.get("dateModified")), page.date_modified),
        printPage=page.print_page(),
        articleBody="\n\n".join(body_lines) or None,
        images=images,
        keywords=list(dict.fromkeys(jsonld.keywords(data.get("keywords")) + page.tags())),
        relatedArticles=page.related_articles(article_id),
        isPremium=(
            free is False or page.premium_markers() or bool(headline and headline.startswith(_PREMIUM_TITLE_PREFIXES))
        ),
        layout=page.name + ("+jsonld" if data and page.name != "jsonld" else ""),
    )
    if page.rejected_urls and "bad_url" not in problems:
        problems.append("bad_url")
    if not article.headline:
        problems.append("no_headline")
    if not article.datePublished:
        problems.append("no_date_published")
    return ParseResult(article, problems, needs_render=page.related_filled_by_script())

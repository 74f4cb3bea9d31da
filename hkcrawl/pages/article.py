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
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urljoin, urlsplit

from parsel import Selector

from hkcrawl import urls
from hkcrawl.bylines import strip_role
from hkcrawl.items import Article, Author, Image
from hkcrawl.pages import jsonld
from hkcrawl.pages.encoding import decode_html
from hkcrawl.pages.text import kst_from_iso, kst_from_text, normalize_space, text_lines
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


@dataclass
class ParseResult:
    """The article (or None for a page that is not one) and what went wrong.

    ``problems`` are short counter names (``no_body``, ``encoding_mismatch`` …); the
    spider adds them to Scrapy's stats, ``hkcrawl extract`` prints them.
    """

    article: Article | None
    problems: list[str] = field(default_factory=list)


class PageIndex:
    """The page's elements by class and id, from one pass over the tree.

    Each field then searches only inside its own small element. One whole-document
    CSS query per field was most of the parse time on ~90 kB pages.
    """

    _TAGS = ("div", "h1", "span", "p", "section", "article", "ul")

    def __init__(self, selector: Selector) -> None:
        self.by_class: dict[str, list] = {}
        self.by_id: dict[str, object] = {}
        for element in selector.root.iter(*self._TAGS):
            for name in (element.get("class") or "").split():
                self.by_class.setdefault(name, []).append(element)
            if element_id := element.get("id"):
                self.by_id.setdefault(element_id, element)

    def all(self, class_name: str, tag: str | None = None) -> list[Selector]:
        return [Selector(root=e) for e in self.by_class.get(class_name, ()) if tag is None or e.tag == tag]

    def first(self, class_name: str, tag: str | None = None) -> Selector | None:
        return next(iter(self.all(class_name, tag)), None)

    def texts(self, class_name: str, tag: str | None = None, query: str = "::text") -> str:
        """The normalised text under the first such element ('' if none)."""
        found = self.first(class_name, tag)
        return normalize_space(" ".join(found.css(query).getall())) if found is not None else ""


class ArticleLayout:
    """Fields common to every era; subclasses override what their markup changes."""

    name = "base"

    def __init__(self, selector: Selector, index: PageIndex, url: str) -> None:
        self.sel = selector
        self.index = index
        self.url = url
        self.head = selector.xpath("/html/head")
        self.base_url = url if url.startswith(("http://", "https://")) else _base_url(self.canonical_link)

    @cached_property
    def canonical_link(self) -> str:
        return (self.head.css('link[rel="canonical"]::attr(href)').get() or "").strip()

    @cached_property
    def datetime_box(self) -> Selector | None:
        return self.index.first("datetime", "div")

    @classmethod
    def matches(cls, index: PageIndex) -> bool:
        raise NotImplementedError

    # -- fields ---------------------------------------------------------------
    def headline(self) -> str | None:
        for query in ('meta[property="og:title"]::attr(content)', "title::text"):
            if value := self.head.css(query).get():
                return _TITLE_SUFFIX.sub("", normalize_space(value)) or None
        return None

    def summary(self) -> list[str] | None:
        box = self.index.first("summary", "div")
        return text_lines(box.root, skip=("script", "style")) or None if box is not None else None

    def section(self) -> str | None:
        meta = self.head.css('meta[property="article:section"]::attr(content)').get()
        if meta and meta.strip():
            return meta.strip()
        shown = self.index.texts("section-header", "div", ".section-tit ::text")
        if shown:
            return shown
        # 2019 URLs carry the section (/economy/article/<id>); so do 2019 canonical links.
        slug = urls.section_slug_from_url(self.url) or urls.section_slug_from_url(self.canonical_link)
        return section_name(slug) if slug else None

    def subsection(self) -> str | None:
        shown = self.index.texts("section-header", "div", "li.on ::text")
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
        match = _PRINT_PAGE.search(" ".join(self.datetime_box.css("::text").getall()))
        return match.group(1) if match else None

    @cached_property
    def body_element(self):
        return self.index.by_id.get("articletxt")

    def body_lines(self) -> list[str]:
        if self.body_element is None:
            return []
        return text_lines(self.body_element, skip=_BODY_SKIP_TAGS, skip_classes=_BODY_SKIP_CLASSES)

    def images(self) -> list[Image]:
        images = []
        if self.body_element is None:
            return []
        for figure in Selector(root=self.body_element).css("figure, .article-figure"):
            src = figure.css("img::attr(data-src), img::attr(src)").get()
            if not src or src.startswith("data:"):
                continue
            caption = normalize_space(" ".join(figure.css("figcaption ::text").getall())) or None
            image = Image(url=urljoin(self.base_url, src.strip()), caption=caption)
            if image not in images:
                images.append(image)
        return images

    def og_image(self) -> str | None:
        src = self.head.css('meta[property="og:image"]::attr(content)').get()
        return urljoin(self.base_url, src.strip()) if src and src.strip() else None

    def tags(self) -> list[str]:
        box = self.index.first("article-tag", "div")
        texts = box.css("a::text").getall() if box is not None else []
        return [normalize_space(t).lstrip("#") for t in texts if t.strip()]

    def related_articles(self, own_id: str | None) -> list[str]:
        page_host = urlsplit(self.base_url).hostname
        related: list[str] = []
        hrefs = [href for box in self.index.all("related-news", "div") for href in box.css("a::attr(href)").getall()]
        for href in hrefs:
            absolute = urljoin(self.base_url, href.strip())
            host = urlsplit(absolute).hostname
            if host not in urls.ARTICLE_HOSTS and host != page_host:
                continue
            article_id = urls.article_id_from_url(absolute)
            if article_id and article_id != own_id:
                canonical = urls.canonical_article_url(article_id)
                if canonical not in related:
                    related.append(canonical)
        return related

    def premium_markers(self) -> bool:
        if self.index.first("premium-paywall", "div") is not None:
            return True
        return bool(self.body_element is not None and _PREMIUM9_COPYRIGHT in "".join(self.body_element.itertext()))


class CurrentLayout(ArticleLayout):
    """June 2022 onward: ``h1.headline``, ``span.txt-date`` ×2, ``div.author[data-name]``."""

    name = "current"

    @classmethod
    def matches(cls, index: PageIndex) -> bool:
        return index.first("headline", "h1") is not None or any(
            box.css("span.txt-date") for box in index.all("datetime", "div")
        )

    def headline(self) -> str | None:
        shown = self.index.texts("headline", "h1")
        return shown or super().headline()

    def author_names(self) -> list[str]:
        boxes = self.index.all("author", "div")
        names = [strip_role(n) for box in boxes if (n := box.root.get("data-name", "")).strip()]
        if not names:
            names = [strip_role(normalize_space(n)) for box in boxes for n in box.css("a.item::text").getall()]
        names = [name for name in names if name]
        return list(dict.fromkeys(names))

    def _dates(self) -> list[str]:
        # The first txt-date is 입력 (published), the second 수정 (modified) (§3.1).
        return self.datetime_box.css("span.txt-date::text").getall() if self.datetime_box is not None else []

    def date_published(self) -> str | None:
        dates = self._dates()
        return kst_from_text(dates[0]) if dates else None

    def date_modified(self) -> str | None:
        dates = self._dates()
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
        raw = self.head.css('meta[property="dable:author"]::attr(content)').get() or ""
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
    candidates = [page.canonical_link, page.head.css('meta[property="og:url"]::attr(content)').get()]
    candidates += [data.get("url"), data.get("mainEntityOfPage")]
    for candidate in candidates:
        if isinstance(candidate, dict):
            candidate = candidate.get("@id")
        if isinstance(candidate, str) and (
            article_id := urls.article_id_from_url(urljoin(page.base_url, candidate.strip()))
        ):
            return article_id
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
        text = decoded.text
    else:
        text = body
    if not text.strip():
        return ParseResult(None, [*problems, "empty_page"])
    sel = Selector(text=text, type="html")

    try:
        data = jsonld.find_news_article(sel)
    except jsonld.BadJsonLd:
        data = None
        problems.append("bad_jsonld")

    index = PageIndex(sel)
    layout_class = next((layout for layout in LAYOUTS if layout.matches(index)), None)
    if layout_class is None:
        if data is None:
            return ParseResult(None, [*problems, "not_article"])
        layout_class = JsonLdOnlyLayout
        problems.append("unknown_layout")
    page = layout_class(sel, index, url)
    data = data or {}

    article_id = _article_id(page, data)
    if article_id is None:
        problems.append("no_article_id")
    body_lines = page.body_lines()
    if not body_lines and isinstance(data.get("articleBody"), str):
        body_lines = [line for line in map(normalize_space, data["articleBody"].split("\n")) if line]
    if not body_lines:
        problems.append("no_body")

    images = page.images()
    if not images:
        fallback = next(iter(jsonld.image_urls(data.get("image"))), None) or page.og_image()
        if fallback:
            images = [Image(url=urljoin(page.base_url, fallback))]

    section = data.get("articleSection")
    section = next(iter(jsonld.as_list(section)), None)
    headline = normalize_space(data["headline"]) if isinstance(data.get("headline"), str) else page.headline()
    free = jsonld.is_free(data.get("isAccessibleForFree"))
    author_names = [strip_role(name) for name in jsonld.names(data.get("author"))] or page.author_names()

    article = Article(
        articleId=article_id,
        url=url,
        canonicalUrl=urls.canonical_article_url(article_id) if article_id else None,
        headline=headline,
        summary=page.summary(),
        section=section.strip() if isinstance(section, str) and section.strip() else page.section(),
        subsection=page.subsection(),
        authors=[Author(name=name) for name in dict.fromkeys(author_names)],
        datePublished=kst_from_iso(data.get("datePublished")) or page.date_published(),
        dateModified=kst_from_iso(data.get("dateModified")) or page.date_modified(),
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
    if not article.headline:
        problems.append("no_headline")
    if not article.datePublished:
        problems.append("no_date_published")
    return ParseResult(article, problems)

"""One method per record field, each trying its cues in a documented order.

Several class names in ``docs/site-markup.md`` are guesses (*(assumed)*): no machine
here reaches the live site. So no field hangs on one selector: each tries the guessed
selector, then what the notes prove the page shows whatever its markup (visible
labels such as ``관련 뉴스``/``입력``/``지면``, role words, the 프리미엄9 closing line),
then ``<meta>`` tags, JSON-LD, breadcrumbs, the URL. A cue's value is checked before
it wins (a section is short text, a date is in range, a related link is an article
of the site outside most-read blocks), so a wrong guess gives null, never a wrong value.

:meth:`ArticleFields.pick` records which cue won each field and which were tried
(``cues`` / ``tried``): the crawl counts them (``hkcrawl/cue/<field>/<cue>``) so a run
shows at once when a guessed selector stopped matching and a fallback took over.
Era-specific selectors live in the layout subclasses (:mod:`hkcrawl.pages.layouts`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from hkcrawl import urls
from hkcrawl.bylines import name_from_byline, strip_role
from hkcrawl.items import Image
from hkcrawl.pages import cues, jsonld
from hkcrawl.pages.body import PAYWALL_TEXT, body_lines
from hkcrawl.pages.fallback import fallback_lines
from hkcrawl.pages.precomputed import Precomputed, Query, css, first, joined_text
from hkcrawl.pages.text import BadDate, kst_from_iso, kst_from_text, normalize_space, text_lines

#: A cue: its name (counted and shown by ``--explain``) and how to get its value.
Cue = tuple[str, Callable[[], Any]]

PREMIUM_TITLE_PREFIXES = ("[마켓PRO]", "[프리미엄]", "[한경 코리아마켓]")
_TITLE_SUFFIX = re.compile(r"\s*[|\-]\s*(?:한국경제|한경닷컴|hankyung\.com)\s*$")
_DATE = r"((?:19|20)\d\d[.\-/]\s*\d{1,2}[.\-/]\s*\d{1,2}\.?(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?)"
_PRINT = r"([A-Z]{0,2}\d{1,3})\b"
_DATA_NAMES = Query("//*[@data-name]", ("data-name",))
_SUB_ON = etree.XPath(".//li[contains(concat(' ', normalize-space(@class), ' '), ' on ')]//text()")
_FIGURES = css("figure, .article-figure")
_FIGURE_SRC = css("img::attr(data-src), img::attr(src)")
_FIGCAPTION_TEXT = css("figcaption ::text")
_LINK_TEXT = css("a::text")


def valid_label(text: str) -> bool:
    """A section name: short text, not a URL, not a number."""
    return 0 < len(text) <= 20 and "/" not in text and "http" not in text and not text.isdigit()


#: What a paid page's section header shows is the product it belongs to, not its news
#: section (hankyung-site.md §1.3, §6: 한경 프리미엄9 / PREMIUM9 areas).
PAID_AREAS = frozenset({"프리미엄", "프리미엄9", "한경 프리미엄9", "한경프리미엄9", "premium", "premium9"})


def valid_section(text: str) -> bool:
    """A news section's name: a label (:func:`valid_label`) that is not a paid area's name."""
    return valid_label(text) and text.strip().lower() not in PAID_AREAS


class ArticleFields:
    """Every field of the record as a method over a :class:`Precomputed` page.

    Each method documents its cue order; the first cue whose value is valid wins.
    Subclasses (one per layout era) supply the era's selectors through the
    ``selector_*`` hooks; everything else is shared.
    """

    name = "base"

    def __init__(self, page: Precomputed) -> None:
        self.page = page
        self.ld = page.ld
        #: field -> the cue that gave its value ("none" when no cue did).
        self.cues: dict[str, str] = {}
        #: field -> the cues tried, in order (the winner last).
        self.tried: dict[str, list[str]] = {}
        self.problems: list[str] = []
        #: Links this page gave that resolve to no http(s) URL (``javascript:`` …):
        #: left out of the record; the caller counts them (``bad_url``).
        self.rejected_urls = 0

    @classmethod
    def matches(cls, page: Precomputed) -> bool:
        raise NotImplementedError

    # -- machinery ------------------------------------------------------------
    def pick(self, field: str, cues: Iterable[Cue], valid: Callable[[Any], bool] = bool) -> Any:
        """The first cue's value that is not None and passes ``valid``; records the winner.

        A date cue that finds an unusable date (BadDate) is passed over and counted
        once per page as ``bad_date``.
        """
        tried: list[str] = []
        self.tried[field] = tried
        for name, get in cues:
            tried.append(name)
            try:
                value = get()
            except BadDate:
                if "bad_date" not in self.problems:
                    self.problems.append("bad_date")
                continue
            if value is not None and valid(value):
                self.cues[field] = name
                return value
        self.cues[field] = "none"
        return None

    def resolve(self, href: str) -> str | None:
        """``href`` as an absolute http(s) URL against the page, or None (and counted)."""
        if (absolute := self.page.resolve(href)) is None:
            self.rejected_urls += 1
        return absolute

    # -- era hooks --------------------------------------------------------------
    def selector_headline(self) -> str | None:
        return None

    def selector_authors(self) -> list[str] | None:
        return None

    def selector_dates(self) -> list[str]:
        """The era's displayed dates: 입력 first, 수정 second."""
        return []

    def selector_print_page(self) -> str | None:
        return None

    # -- fields -----------------------------------------------------------------
    def article_id(self) -> str | None:
        """URL, canonical link, ``og:url``, JSON-LD ``url``/``mainEntityOfPage`` (saved files)."""
        page = self.page

        def from_link(candidate: Any) -> str | None:
            if isinstance(candidate, dict):
                candidate = candidate.get("@id")
            absolute = urls.absolute_http_url(candidate, page.base_url) if isinstance(candidate, str) else None
            return urls.article_id_from_url(absolute) if absolute else None

        return self.pick(
            "articleId",
            (
                ("url", lambda: urls.article_id_from_url(page.url)),
                ("canonical", lambda: from_link(page.canonical_link)),
                ("og_url", lambda: from_link(page.meta.get("og:url"))),
                ("jsonld", lambda: from_link(self.ld.get("url")) or from_link(self.ld.get("mainEntityOfPage"))),
            ),
        )

    def headline(self) -> str | None:
        """JSON-LD ``headline``; the era's ``h1`` selector; any element of class
        ``headline`` (a heading level changed); ``og:title``; ``<title>`` minus " | 한국경제"."""

        def from_title(value: str | None) -> str | None:
            return _TITLE_SUFFIX.sub("", normalize_space(value)) if value else None

        def title_tag() -> str | None:
            found = next((t for head in self.page.head for t in head.iter("title")), None)
            return from_title(found.text) if found is not None else None

        return self.pick(
            "headline",
            (
                ("jsonld", lambda: normalize_space(text) if (text := jsonld.text(self.ld.get("headline"))) else None),
                ("selector", self.selector_headline),
                ("headline_class", lambda: next(map(joined_text, self.page.index.all("headline")), None)),
                ("og_title", lambda: from_title(self.page.meta.get("og:title"))),
                ("title_tag", title_tag),
            ),
            valid=lambda text: 0 < len(text) <= 300,
        )

    def summary(self) -> list[str] | None:
        """``div.summary`` (§3.1), one line per ``<br>`` or block. No other cue: the AI
        summary and ``og:description`` are not the editor's summary."""
        box = self.page.index.first("summary", "div")
        return self.pick(
            "summary",
            (("summary_box", lambda: text_lines(box, skip=("script", "style")) if box is not None else None),),
        )

    def section(self) -> str | None:
        """JSON-LD ``articleSection``; ``meta[article:section]``; ``.section-tit`` in the
        header area (or the page's only one); a breadcrumb (JSON-LD or markup); a
        heading before the headline that links to a section path; the section block by
        its shape anywhere (a heading linking ``/<section>`` beside a list of its
        sub-sections); the nav's marked item; the 2019 URL's section slug."""
        page = self.page
        return self.pick(
            "section",
            (
                ("jsonld", lambda: jsonld.text(next(iter(jsonld.as_list(self.ld.get("articleSection"))), None))),
                ("meta", lambda: self.page.meta.get("article:section")),
                ("section_title", lambda: cues.section_title(page)),
                ("breadcrumb", lambda: cues.crumb(page, 0)),
                ("section_heading", lambda: cues.section_heading(page)),
                ("section_block", lambda: cues.section_block_title(page)),
                ("nav_current", lambda: cues.marked_item(page, cues.ONE_SEGMENT, header_only=False)),
                ("url", lambda: cues.url_section(page)),
            ),
            valid=valid_section,
        )

    def subsection(self) -> str | None:
        """The section header's marked item (``.section-header li.on``); any marked
        item (``on``/``active``/``current``, ``aria-current``) linking
        ``/<section>/<sub>`` in the header area; the one item of such a list whose
        class its siblings lack (a renamed marker class); the breadcrumb after the section;
        the same distinct item in the section block found by its shape, anywhere."""
        page = self.page
        header = page.index.first("section-header", "div")
        return self.pick(
            "subsection",
            (
                (
                    "section_sub_on",
                    lambda: normalize_space(" ".join(_SUB_ON(header))) or None if header is not None else None,
                ),
                ("marked_item", lambda: cues.marked_item(page, cues.TWO_SEGMENTS, header_only=True)),
                ("distinct_item", lambda: cues.distinct_sub_item(page)),
                ("breadcrumb", lambda: cues.crumb(page, 1)),
                ("section_block_item", lambda: cues.section_block_item(page)),
            ),
            valid=valid_label,
        )

    def authors(self) -> list[str]:
        """JSON-LD ``author``; the era's selector (``div.author[data-name]``, ``a.item``;
        2019 ``dable:author``); any ``data-name`` that is a byline; a byline text in the
        header area ("<name> 기자", role words from :mod:`hkcrawl.bylines`)."""
        names = self.pick(
            "authors",
            (
                ("jsonld", lambda: [strip_role(name) for name in jsonld.names(self.ld.get("author"))]),
                ("selector", self.selector_authors),
                (
                    "data_name",
                    lambda: [n for e in self.page.find(_DATA_NAMES) if (n := name_from_byline(e.get("data-name", "")))],
                ),
                ("byline_text", lambda: cues.byline_names(self.page)),
            ),
            valid=lambda found: any(found),
        )
        return list(dict.fromkeys(name for name in names or [] if name))

    def date_published(self) -> str | None:
        """JSON-LD ``datePublished``; the era's first date (``span.txt-date``); the date
        after an ``입력`` label in the header area; ``meta[article:published_time]``."""
        return self.pick(
            "datePublished",
            (
                ("jsonld", lambda: kst_from_iso(self.ld.get("datePublished"))),
                ("selector", lambda: kst_from_text(dates[0]) if (dates := self.selector_dates()) else None),
                ("label", lambda: cues.labelled(self.page, cues.PUBLISHED_LABEL, "입력", _DATE, kst_from_text)),
                ("meta", lambda: kst_from_iso(self.page.meta.get("article:published_time"))),
            ),
        )

    def date_modified(self, published: str | None) -> str | None:
        """As :meth:`date_published` with ``dateModified``, the second date, ``수정``
        and ``article:modified_time``; never before the published date."""
        return self.pick(
            "dateModified",
            (
                ("jsonld", lambda: kst_from_iso(self.ld.get("dateModified"))),
                ("selector", lambda: kst_from_text(dates[1]) if len(dates := self.selector_dates()) > 1 else None),
                ("label", lambda: cues.labelled(self.page, cues.MODIFIED_LABEL, "수정", _DATE, kst_from_text)),
                ("meta", lambda: kst_from_iso(self.page.meta.get("article:modified_time"))),
            ),
            valid=lambda value: published is None or value >= published,
        )

    def print_page(self) -> str | None:
        """The era's date box ("지면 A11"); a ``지면`` label in the header area."""
        return self.pick(
            "printPage",
            (
                ("selector", self.selector_print_page),
                ("label", lambda: cues.labelled(self.page, cues.PRINT_LABEL, "지면", _PRINT, str)),
            ),
        )

    def body_lines(self) -> list[str]:
        """The known container's text (``#articletxt``; ``[itemprop=articleBody]``;
        ``div.article-body``, §3.1); JSON-LD ``articleBody``; only when the page has no
        known container, the density rule of :mod:`hkcrawl.pages.fallback`."""
        container, container_cue = self.page.body_container

        def from_ld() -> list[str] | None:
            text = jsonld.text(self.ld.get("articleBody"))
            return [line for line in map(normalize_space, text.split("\n")) if line] if text else None

        cues: list[Cue] = [
            ("jsonld", from_ld),
        ]
        if container is not None:
            cues.insert(0, (container_cue, lambda: body_lines(container)))
        else:
            cues.append(("fallback", lambda: fallback_lines(self.page)))
        return self.pick("articleBody", cues) or []

    def images(self) -> list[Image]:
        """Figures in the body (with captions); else JSON-LD ``image``; else ``og:image``."""

        def ld_image() -> list[Image] | None:
            found = next((src for src in map(self.resolve, jsonld.image_urls(self.ld.get("image"))) if src), None)
            return [Image(url=found)] if found else None

        def og_image() -> list[Image] | None:
            src = self.page.meta.get("og:image")
            return [Image(url=found)] if src and (found := self.resolve(src)) else None

        return self.pick("images", (("figures", self._figures), ("jsonld", ld_image), ("og_image", og_image))) or []

    def keywords(self) -> list[str]:
        """JSON-LD ``keywords`` and the page's tags together (``div.article-tag`` links,
        else ``/tag/`` links after the body); the cue names both when both gave some."""
        from_ld = jsonld.keywords(self.ld.get("keywords"))
        box = self.page.index.first("article-tag", "div")
        tags, tag_cue = (_LINK_TEXT(box), "tag_box") if box is not None else (cues.tag_links(self.page), "tag_links")
        tags = [t for t in (normalize_space(t).lstrip("#").strip() for t in tags) if t]
        used = [name for name, found in (("jsonld", from_ld), (tag_cue, tags)) if found]
        self.cues["keywords"] = "+".join(used) or "none"
        self.tried["keywords"] = ["jsonld", tag_cue]
        return list(dict.fromkeys(from_ld + tags))

    def related_articles(self, own_id: str | None) -> list[str]:
        """Article links in containers whose class mentions "relat"; else in the block
        a ``관련 뉴스`` heading introduces (up to the next widget heading). Never links
        inside most-read / ranking / recommendation blocks (``많이 본 뉴스`` …)."""
        return (
            self.pick(
                "relatedArticles",
                (
                    (
                        "related_class",
                        lambda: self._canonical_links(cues.links_in(self.page, cues.related_boxes(self.page)), own_id),
                    ),
                    (
                        "related_heading",
                        lambda: next(
                            filter(
                                None,
                                (
                                    self._canonical_links(links, own_id)
                                    for links in cues.links_after_related_heading(self.page)
                                ),
                            ),
                            None,
                        ),
                    ),
                ),
            )
            or []
        )

    def is_premium(self, headline: str | None) -> bool:
        """JSON-LD ``isAccessibleForFree`` (either way); a paywall box by class
        ("paywall") or by its subscriber-only prompt after the headline; the 프리미엄9
        closing line anywhere after the headline; a title prefix (``[마켓PRO]`` …)."""
        free = jsonld.is_free(self.ld.get("isAccessibleForFree"))
        found = self.pick(
            "isPremium",
            (
                ("jsonld", lambda: None if free is None else not free),
                ("paywall_class", lambda: bool(cues.paywall_boxes(self.page)) or None),
                (
                    "paywall_text",
                    lambda: (
                        any(
                            PAYWALL_TEXT.search(joined_text(e))
                            for e in cues.after_headline(self.page, cues.PAYWALL_NODES)
                        )
                        or None
                    ),
                ),
                ("closing_line", lambda: bool(cues.after_headline(self.page, cues.CLOSING_LINE)) or None),
                ("title_prefix", lambda: bool(headline and headline.startswith(PREMIUM_TITLE_PREFIXES)) or None),
            ),
            valid=lambda value: isinstance(value, bool),
        )
        return bool(found)

    def related_filled_by_script(self) -> bool:
        """An empty "관련 뉴스" shell that a script fills (hankyung-site.md §5): a box
        with no links but a ``data-*`` hook, or an inline script that mentions it."""
        for box in cues.related_boxes(self.page):
            if cues.LINKS(box):
                continue
            if any(name.startswith("data-") for name in box.attrib):
                return True
            if any("related" in (script.text or "") for script in self.page.root.iter("script")):
                return True
        return False

    # -- helpers that count rejected links ------------------------------------
    def _figures(self) -> list[Image] | None:
        body = self.page.body
        images: list[Image] = []
        for figure in _FIGURES(body) if body is not None else ():
            src = first(_FIGURE_SRC, (figure,))
            if not src or not src.strip() or not (url := self.resolve(src)):
                continue
            caption = normalize_space(" ".join(_FIGCAPTION_TEXT(figure))) or None
            image = Image(url=url, caption=caption)
            if image not in images:
                images.append(image)
        return images

    def _canonical_links(self, links: Iterable[etree._Element], own_id: str | None) -> list[str]:
        page_host = urlsplit(self.page.base_url).hostname
        related: list[str] = []
        for link in links:
            if not (absolute := self.resolve(link.get("href", ""))):
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

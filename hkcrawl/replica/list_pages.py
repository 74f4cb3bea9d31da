"""List pages in the markup of hankyung-site.md §3.4: sections, 전체뉴스, ranking, tags.

Links to articles are absolute URLs on the replica's own base URL (the real site
writes ``https://www.hankyung.com/article/<id>``); the spider rebases them. A page
number past the end gives the list wrapper with no items: the stop signal.
"""

from __future__ import annotations

from typing import Any

from hkcrawl.replica import chrome
from hkcrawl.replica.chrome import attr, esc
from hkcrawl.replica.model import SiteModel, display_time
from hkcrawl.sections import SECTIONS, SUBSECTIONS

#: Articles shown in a section page's headline block, above the list (page 1 only).
HEADLINE_COUNT = 3


def _page(base: str, title: str, page_type: str, body_class: str, inner: str) -> str:
    return "".join(
        (
            chrome.head(f"{title} | 한국경제", page_type),
            f'<body class="{body_class}">\n',
            chrome.header(base),
            inner,
            chrome.footer(base),
        )
    )


def _paging(page: int, total: int) -> str:
    """The page selector whose ``span.total`` tells the number of pages (§1.3)."""
    options = "".join(
        f'<option value="{n}"{" selected" if n == page else ""}>{n}</option>' for n in range(1, total + 1)
    )
    prev_link = f'<a href="?page={page - 1}" class="btn-prev">이전</a>' if page > 1 else ""
    next_link = f'<a href="?page={page + 1}" class="btn-next">다음</a>' if page < total else ""
    return (
        f'<div class="select-paging">\n  <div class="paging">{prev_link}\n'
        f'    <div class="page-select"><select title="페이지 선택" onchange="location.href=\'?page=\'+this.value">'
        f'{options}</select> / <span class="total">{total}</span></div>{next_link}\n  </div>\n</div>\n'
    )


def _news_item(model: SiteModel, article_id: str, base: str, extra_class: str = "", with_depth: bool = True) -> str:
    article = model.article(article_id)
    url = f"{base}/article/{article_id}"
    thumb = (
        f'<figure class="thumb"><a href="{url}"><img src="{article.thumbnail}" alt="{attr(article.headline)}"></a>'
        "</figure>"
        if article.thumbnail
        else ""
    )
    depth = ""
    if with_depth and article.subsection:
        href = f"/{article.section}/{article.subsection}"
        depth = f'<span class="depth3"><a href="{href}">{article.subsection_name}</a></span>'
    return (
        f'<div class="news-item{extra_class}">{thumb}<div class="text-cont">'
        f'<h2 class="news-tit"><a href="{url}">{esc(article.headline)}</a></h2>'
        f'<p class="lead">{esc(model.content(article_id).lead)}</p>'
        f'<div class="info">{depth}<p class="txt-date">{display_time(article.published)}</p></div></div></div>'
    )


def news_list(model: SiteModel, base: str, title: str, page: int, headline_block: bool, **filters: Any) -> str:
    """A section-style list page (``/economy``, ``/economy/macro``, ``/tag/…``, ``/premium9``)."""
    ids = model.page(page, **filters)
    total = model.total_pages(**filters)
    parts = [f'<div class="section-header">\n  <h2 class="section-tit">{esc(title)}</h2>\n</div>\n']
    if headline_block and page == 1:
        top = model.ids(**filters)[:HEADLINE_COUNT]
        items = "\n".join(_news_item(model, aid, base, " type-headline", with_depth=False) for aid in top)
        parts.append(f'<div class="main-news-wrap">\n{items}\n</div>\n')
    items = "".join(f"    <li>{_news_item(model, aid, base)}</li>\n" for aid in ids)
    parts.append(f'<div class="news-list-wrap">\n  <ul class="news-list">\n{items}  </ul>\n</div>\n')
    parts.append(_paging(page, total))
    return _page(base, title, "section", "page-section", "".join(parts))


def section(model: SiteModel, base: str, slug: str, sub: str | None, page: int) -> str:
    title = SUBSECTIONS[slug][sub] if sub else SECTIONS[slug]
    subs = SUBSECTIONS.get(slug, {})
    on = ' class="on"'
    menu = "".join(f'<li{on if s == sub else ""}><a href="/{slug}/{s}">{name}</a></li>' for s, name in subs.items())
    html = news_list(model, base, title, page, headline_block=True, section=slug, subsection=sub)
    if menu:  # the sub-section menu under the section title, as on article pages
        html = html.replace("</h2>\n</div>", f'</h2>\n  <ul class="section-sub">{menu}</ul>\n</div>', 1)
    return html


def tag(model: SiteModel, base: str, keyword: str, page: int) -> str:
    return news_list(model, base, f"#{keyword}", page, headline_block=False, tag=keyword)


def premium(model: SiteModel, base: str, page: int) -> str:
    return news_list(model, base, "한경 프리미엄9", page, headline_block=True, premium=True)


def all_news(model: SiteModel, base: str, page: int) -> str:
    """``/all-news``: ``li[data-aid]`` items with ``txt-cont`` (not ``text-cont``), no category (§3.4)."""
    items = []
    for aid in model.page(page):
        article = model.article(aid)
        url = f"{base}/article/{aid}"
        thumb = f'<div class="thumb"><a href="{url}"><img src="{article.thumbnail}" alt=""></a></div>'
        items.append(
            f'    <li data-aid="{aid}"><div class="news-item">{thumb if article.thumbnail else ""}'
            f'<div class="txt-cont"><h2 class="news-tit"><a href="{url}">{esc(article.headline)}</a></h2>'
            f'<p class="txt-date">{display_time(article.published)}</p></div></div></li>\n'
        )
    inner = (
        '<div class="allnews-wrap">\n  <h2 class="allnews-tit">전체뉴스</h2>\n'
        f'  <ul class="allnews-list">\n{"".join(items)}  </ul>\n</div>\n{_paging(page, model.total_pages())}'
    )
    return _page(base, "전체뉴스", "allnews", "page-allnews", inner)


def ranking(model: SiteModel, base: str) -> str:
    """``/ranking``: the most read of the last 24 hours, as of the model's clock."""
    items = "".join(
        f'    <li><em class="rank txt-num">{number}</em><div class="news-item"><div class="txt-cont">'
        f'<h2 class="news-tit"><a href="{base}/article/{aid}">{esc(model.article(aid).headline)}</a></h2>'
        f'<p class="txt-date">{display_time(model.article(aid).published)}</p></div></div></li>\n'
        for number, aid in enumerate(model.ranking(), 1)
    )
    inner = (
        '<div class="ranking-wrap">\n  <h2 class="ranking-tit">많이 본 뉴스</h2>\n'
        f'  <div class="ranking-range"><strong class="txt-num">{display_time(model.now)}</strong>'
        " 기준 최근 24시간</div>\n"
        '  <div class="ranking-panel" data-panel="all">\n'
        f'    <ul class="ranking-news-list">\n{items}    </ul>\n  </div>\n'
        "</div>\n"
    )
    return _page(base, "랭킹뉴스", "ranking", "page-ranking", inner)


def home(model: SiteModel, base: str) -> str:
    top = "\n".join(_news_item(model, aid, base, " type-headline") for aid in model.ids()[:HEADLINE_COUNT])
    boxes = []
    for slug, name in SECTIONS.items():
        links = "".join(
            f'<li><a href="{base}/article/{aid}">{esc(model.article(aid).headline)}</a></li>'
            for aid in model.ids(slug)[:5]
        )
        boxes.append(f'<div class="section-box"><h2><a href="{base}/{slug}">{name}</a></h2><ul>{links}</ul></div>')
    inner = f'<div class="main-news-wrap">\n{top}\n</div>\n' + "\n".join(boxes) + "\n"
    return _page(base, "한국경제", "main", "page-main", inner)


def not_found(base: str) -> str:
    inner = (
        '<div class="error-wrap"><h2 class="error-tit">페이지를 찾을 수 없습니다</h2>'
        '<p class="error-desc">요청하신 페이지가 삭제되었거나 주소가 잘못되었습니다.</p>'
        f'<a href="{base}/" class="btn-home">한경닷컴 홈으로</a></div>\n'
    )
    return _page(base, "페이지를 찾을 수 없습니다", "error", "page-error", inner)

"""The article page, current layout, exactly as ``docs/site-markup.md`` describes it.

Around the article sit the site's usual non-article parts (toolbar, reactions,
copyright line, subscription prompts, ad slots, a most-read widget, "이 시각 관심정보")
so that a crawl's cleaning has real work. Where a part has several documented
forms (``<br>`` or ``<p>`` bodies, one or several email lines, JSON-LD shapes), the
article's :class:`~hkcrawl.replica.model.Variant` picks one.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from hkcrawl.replica import chrome
from hkcrawl.replica.chrome import attr, esc
from hkcrawl.replica.model import SiteArticle, SiteModel, display_time, iso_time
from hkcrawl.sections import SUBSECTIONS

PREMIUM9_LINE = "한경 프리미엄9의 모든 콘텐츠는 한국경제신문의 저작물로 저작권법의 보호를 받습니다."
COPYRIGHT = "ⓒ 한경닷컴, 무단전재 및 재배포 금지"


def render(model: SiteModel, article_id: str, base: str) -> str:
    article = model.article(article_id)
    content = model.content(article_id)
    title = article.headline
    meta = [
        f'<meta name="description" content="{attr(content.lead)}">',
        f'<link rel="canonical" href="{article.canonical_url}">',
        '<meta property="og:type" content="article">',
        '<meta property="og:site_name" content="한국경제">',
        f'<meta property="og:title" content="{attr(title)}">',
        f'<meta property="og:url" content="{article.canonical_url}">',
    ]
    if article.thumbnail:
        meta.append(f'<meta property="og:image" content="{article.thumbnail}">')
    if content.variant.meta_section:
        meta.append(f'<meta property="article:section" content="{article.section_name}">')
    if article.jsonld:
        meta.append(_jsonld(model, article))
    return "".join(
        (
            chrome.head(f"{title} | 한국경제", "article", "\n".join(meta) + "\n"),
            '<body class="page-article">\n',
            chrome.header(base),
            _section_header(article),
            chrome.ad_slot(1, "ad-wrap ad-top"),
            _PREMIUM9_BANNER.format(base=base),
            '<div class="article-contents">\n',
            _article_header(model, article, base),
            _body_wrap(model, article, base),
            _SUBSCRIBE,
            _reporter_cards(article),
            chrome.ad_slot(2),
            _related(model, article, base),
            f'<div id="commentArea" class="comment-wrap" data-aid="{article.id}"></div>\n</div>\n',
            _aside(model, article, base),
            chrome.footer(base),
        )
    )


_PREMIUM9_BANNER = """<div class="banner-premium9">
  <a href="{base}/premium9" class="link-premium9"><strong class="logo-premium9">한경 PREMIUM9</strong>
  <span class="copy">AI를 넘어서는 성공투자,</span> <span class="copy-strong">한경 프리미엄9</span> <em class="btn-subscribe">구독하기</em></a>
</div>
"""  # noqa: E501

_TOOLBAR = """  <div class="article-util">
    <button type="button" class="btn-util btn-fontsize"><span class="blind">글자크기 조절</span></button>
    <div class="util-item"><button type="button" class="btn-util btn-scrap"><span class="blind">기사 스크랩</span></button><span class="util-tooltip">기사 스크랩</span></div>
    <div class="util-item"><button type="button" class="btn-util btn-share"><span class="blind">공유</span></button><span class="util-tooltip">공유</span></div>
    <div class="util-item"><a href="#commentArea" class="btn-util btn-comment"><span class="blind">댓글</span><span class="comment-count">0</span></a></div>
    <div class="util-item"><button type="button" class="btn-util btn-cleanview"><span class="blind">클린뷰</span></button></div>
    <div class="util-item"><button type="button" class="btn-util btn-print"><span class="blind">프린트</span></button></div>
  </div>
"""  # noqa: E501

_REACTIONS = """  <div class="reaction" id="reactionArea">
    <button type="button" class="btn-reaction" data-type="like"><span class="txt">좋아요</span></button>
    <button type="button" class="btn-reaction" data-type="dislike"><span class="txt">싫어요</span></button>
    <button type="button" class="btn-reaction" data-type="follow"><span class="txt">후속기사 원해요</span></button>
  </div>
"""

_SUBSCRIBE = """<div class="subscribe-box">
  <a href="https://hk.hankyung.com/subscription" class="btn-subscribe-paper">한국경제 구독신청</a>
  <a href="https://www.hankyung.com/premium/subscribe" class="btn-subscribe-premium">한경프리미엄9 구독신청</a>
</div>
"""

_PAYWALL = """<div class="premium-paywall">
  <strong class="paywall-tit">이 기사는 한경 프리미엄9 구독자 전용 콘텐츠입니다.</strong>
  <p class="paywall-desc">구독하고 한경 프리미엄9의 심층 분석 기사를 모두 읽어보세요.</p>
  <div class="paywall-btns"><a href="https://www.hankyung.com/premium/subscribe" class="btn-paywall-subscribe">구독하기</a></div>
</div>
"""  # noqa: E501

_RELATED_SCRIPT = """<script>
window.__RELATED_NEWS__ = %s;
(function () {
  var box = document.querySelector('div.related-news[data-related-src="inline"]');
  var items = window.__RELATED_NEWS__ || [];
  if (!box || !items.length) { return; }
  var heading = document.createElement('h3');
  heading.className = 'related-tit';
  heading.textContent = '관련 뉴스';
  var list = document.createElement('ul');
  list.className = 'related-list';
  items.forEach(function (item) {
    var li = document.createElement('li');
    var link = document.createElement('a');
    link.setAttribute('href', '/article/' + item.aid);
    link.textContent = item.title;
    li.appendChild(link);
    list.appendChild(li);
  });
  box.appendChild(heading);
  box.appendChild(list);
})();
</script>
"""


def _section_header(article: SiteArticle) -> str:
    """The section title and its sub-sections, the article's own one marked ``on``."""
    subs = SUBSECTIONS.get(article.section, {})
    on = ' class="on"'
    items = "".join(
        f'<li{on if slug == article.subsection else ""}><a href="/{article.section}/{slug}">{name}</a></li>'
        for slug, name in subs.items()
    )
    sub_list = f'\n  <ul class="section-sub">{items}</ul>' if items else ""
    return (
        f'<div class="section-header">\n  <h2 class="section-tit"><a href="/{article.section}">'
        f"{article.section_name}</a></h2>{sub_list}\n</div>\n"
    )


def _article_header(model: SiteModel, article: SiteArticle, base: str) -> str:
    authors = "".join(
        f'    <div class="author link subs_author_list" data-name="{r.byline}" data-id="{r.reporter_id}">'
        f'<a href="{base}/reporter/{r.reporter_id}" class="item">{r.byline}</a>'
        f'<button type="button" class="btn-subscribe-reporter" data-reporter="{r.reporter_id}">기자 구독</button>'
        "</div>\n"
        for r in article.reporters
    )
    dates = f'    <span class="item">입력 <span class="txt-date">{display_time(article.published)}</span></span>\n'
    modified = model.modified(article.id)
    if modified:
        dates += f'    <span class="item">수정 <span class="txt-date">{display_time(modified)}</span></span>\n'
    if article.print_page:
        dates += f'    <span class="item">지면 <span class="txt-num">{article.print_page}</span></span>\n'
    return (
        f'<div class="article-header">\n  <h1 class="headline">{esc(article.headline)}</h1>\n'
        f'  <div class="author-wrap">\n{authors}  </div>\n  <div class="datetime">\n{dates}  </div>\n{_TOOLBAR}</div>\n'
    )


def _lines(lines: tuple[str, ...] | list[str], markup: str) -> str:
    if markup == "p":
        return "".join(f"<p>{esc(line)}</p>" for line in lines)
    return "<br>".join(esc(line) for line in lines)


def _body_wrap(model: SiteModel, article: SiteArticle, base: str) -> str:
    content = model.content(article.id)
    parts = ['<div class="article-body-wrap">\n']
    if article.premium:
        points = "".join(f"<li>{esc(line)}</li>" for line in (content.lead, *content.summary))
        parts.append(
            '<div class="ai-summary">\n  <strong class="ai-summary-tit">AI 기사요약</strong>\n'
            f'  <ul class="ai-summary-list">{points}</ul>\n'
            '  <p class="ai-summary-notice">AI가 기사 본문을 요약한 내용으로, '
            "전체 맥락을 이해하려면 기사 본문을 함께 확인해 주세요.</p>\n"
            "</div>\n"
        )
    if content.summary:
        parts.append(f'<div class="summary">{_lines(content.summary, content.variant.summary_markup)}</div>\n')
    parts.append('<div class="article-body" id="articletxt" itemprop="articleBody">\n')
    parts.append(_body(model, article))
    parts.append("</div>\n")
    if article.keywords:
        tags = "".join(f'<a href="/tag/{quote(k)}" class="tag">{esc(k)}</a>' for k in article.keywords)
        parts.append(f'  <div class="article-tag">{tags}</div>\n')
    parts.append(_REACTIONS)
    parts.append(f'  <p class="txt-copyright">{COPYRIGHT}</p>\n</div>\n')
    return "".join(parts)


def _body(model: SiteModel, article: SiteArticle) -> str:
    """#articletxt's inside: paragraphs, photos, an ad and a script between them, then the
    reporters' email line(s); a premium page stops at the paywall instead."""
    variant = model.content(article.id).variant
    paragraphs = model.visible_paragraphs(article.id)
    photo_after = {0: 0, min(2, len(paragraphs) - 1): 1} if len(article.photos) > 1 else {0: 0}
    blocks: list[tuple[str, str]] = []  # (kind, html): "text" blocks get the <br><br> separators
    for index, text in enumerate(paragraphs):
        if variant.source_wrap and index == 1 and ". " in text:
            text = text.replace(". ", ".\n        ", 1)  # a hard-wrapped line in the CMS source
        blocks.append(("text", esc(text)))
        if index in photo_after and photo_after[index] < len(article.photos):
            photo = article.photos[photo_after[index]]
            blocks.append(
                (
                    "block",
                    '<figure class="article-figure" data-type="photo"><div class="figure-img">'
                    f'<img src="{photo.url}" alt="{attr(photo.caption)}" loading="lazy"></div>'
                    f'<figcaption class="figure-caption">{esc(photo.caption)}</figcaption></figure>',
                )
            )
        if index == 1 and variant.script_in_body:
            blocks.append(("block", '<script>const apiDomain = "https://api.hankyung.com";</script>'))
        if index == len(paragraphs) // 2 and variant.ad_in_body:
            blocks.append(("block", chrome.ad_slot(0)))
    if article.premium:
        blocks.append(("block", _PAYWALL.rstrip()))
        blocks.append(("text", PREMIUM9_LINE))
    elif variant.emails_on_one_line:
        blocks.append(("text", " ".join(r.email_line for r in article.reporters)))
    else:
        blocks.append(("text", "<br>".join(r.email_line for r in article.reporters)))
    if variant.body_markup == "p":
        return "\n".join(f"<p>{html}</p>" if kind == "text" else html for kind, html in blocks) + "\n"
    out = []
    for number, (kind, html) in enumerate(blocks):
        out.append(html)
        if kind == "text" and number < len(blocks) - 1:
            out.append("<br><br>")
        out.append("\n")
    return "".join(out)


def _reporter_cards(article: SiteArticle) -> str:
    cards = "".join(
        f'<div class="reporter-card"><strong class="name">{r.byline}</strong>'
        f'<p class="intro">한국경제신문 {article.section_name}부 {r.role}입니다.</p></div>'
        for r in article.reporters
    )
    return f'<div class="reporter-wrap">{cards}</div>\n'


def _related(model: SiteModel, article: SiteArticle, base: str) -> str:
    related = model.content(article.id).related
    if article.js_related:
        data = [{"aid": aid, "title": model.article(aid).headline} for aid in related]
        payload = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
        return '<div class="related-news" data-related-src="inline"></div>\n' + _RELATED_SCRIPT % payload
    if not related:
        return ""
    items = "".join(
        f'    <li><em class="txt-num">{number}</em><div class="news-item"><h4 class="news-tit">'
        f'<a href="{base}/article/{aid}">{esc(model.article(aid).headline)}</a></h4>'
        f'<p class="lead">{esc(model.content(aid).lead)}</p></div></li>\n'
        for number, aid in enumerate(related, 1)
    )
    return (
        '<div class="related-news">\n  <h3 class="related-tit">관련 뉴스</h3>\n'
        f'  <ul class="related-list">\n{items}  </ul>\n</div>\n'
    )


def _aside(model: SiteModel, article: SiteArticle, base: str) -> str:
    popular = "".join(
        f'<li><em class="rank txt-num">{number}</em>'
        f'<a href="{base}/article/{aid}" class="news-tit">{esc(model.article(aid).headline)}</a></li>\n'
        for number, aid in enumerate(model.popular(article.id), 1)
    )
    return (
        '<aside class="aside-wrap">\n'
        + chrome.ad_slot(3)
        + f'\n<div class="popular-news">\n  <h3 class="popular-tit">많이 본 뉴스</h3>\n'
        f'  <ol class="popular-list">\n{popular}  </ol>\n</div>\n'
        + chrome.ad_slot(4)
        + '\n<div class="interest-news"><h3 class="interest-tit">이 시각 관심정보</h3><span class="ad-mark">AD</span>'
        '<div id="dablewidget_Xo9M6BlY" data-widget_id="Xo9M6BlY"></div></div>\n'
        '<div class="pick-news"><h3 class="pick-tit">독자들의 PICK!</h3><div id="dablewidget_pick"></div></div>\n'
        "</aside>\n"
    )


def _jsonld(model: SiteModel, article: SiteArticle) -> str:
    """A schema.org NewsArticle (§4) in the shape the article's variant picks."""
    content = model.content(article.id)
    data: dict = {
        "@type": "NewsArticle",
        "mainEntityOfPage": {"@type": "WebPage", "@id": article.canonical_url},
        "headline": article.headline,
        "description": content.lead,
    }
    if article.photos:
        data["image"] = [photo.url for photo in article.photos]
    elif article.thumbnail:
        data["image"] = {"@type": "ImageObject", "url": article.thumbnail, "width": 1200, "height": 630}
    data["datePublished"] = iso_time(article.published)
    modified = model.modified(article.id)
    if modified:
        data["dateModified"] = iso_time(modified)
    persons = [{"@type": "Person", "name": r.name, "url": f"/reporter/{r.reporter_id}"} for r in article.reporters]
    data["author"] = persons[0] if len(persons) == 1 else persons
    data["publisher"] = {"@type": "Organization", "name": "한국경제", "logo": {"@type": "ImageObject", "url": _LOGO}}
    data["articleSection"] = article.section_name
    data["keywords"] = ", ".join(article.keywords) if content.variant.jsonld_keywords_as_string else article.keywords
    data["isAccessibleForFree"] = not article.premium
    if article.premium:
        data["hasPart"] = {"@type": "WebPageElement", "isAccessibleForFree": False, "cssSelector": ".premium-paywall"}
    data["inLanguage"] = "ko"
    shape = content.variant.jsonld_shape
    if shape == "graph":
        page = {"@type": "WebPage", "@id": article.canonical_url, "name": article.headline}
        document: object = {"@context": "https://schema.org", "@graph": [page, data]}
    elif shape == "list":
        crumbs = {"@context": "https://schema.org", "@type": "BreadcrumbList", "itemListElement": []}
        document = [crumbs, {"@context": "https://schema.org", **data}]
    else:
        document = {"@context": "https://schema.org", **data}
    text = json.dumps(document, ensure_ascii=False, indent=2).replace("</", "<\\/")
    return f'<script type="application/ld+json">\n{text}\n</script>'


_LOGO = "https://static.hankyung.com/img/logo/logo-news-black.png"

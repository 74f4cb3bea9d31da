"""Each field's cues, one at a time, on small hand-made pages: the guessed class names
of docs/site-markup.md are absent or renamed, and the field still comes out, or
comes out null, never wrong. Also the three failures the issue quotes."""

from __future__ import annotations

import json

from hkcrawl.pages.article import ParseResult, parse_article
from hkcrawl.record import build_record
from tests.conftest import ARTICLE_FIXTURES, fixture_url

URL = "https://www.hankyung.com/article/2024031512345"
PARAGRAPHS = (
    "정부가 내년 예산안을 확정했다. 총지출 규모는 올해보다 3% 늘어난 680조원 수준으로 잡혔다. "
    "재정수지 적자는 국내총생산의 2%대로 관리하기로 했다.",
    "기획재정부는 경기 둔화에 대응해 일자리와 연구개발 예산을 우선 배정했다고 설명했다. "
    "지방교부세는 세수 감소를 반영해 소폭 줄었다.",
    "국회는 다음달부터 예산안 심사에 들어간다. 여야는 주요 쟁점 사업을 두고 공방을 예고했다. "
    "법정 처리 시한은 12월 2일이다.",
)
BODY = "<br><br>".join(PARAGRAPHS)


def page(
    *,
    head: str = "",
    before: str = "",
    header: str = "",
    body: str = BODY,
    after_body: str = "",
    after: str = "",
    title: str = "예산안 680조원 확정",
) -> str:
    """A current-design page with only the evidence-backed markup (§3.1): ``h1.headline``,
    ``div.datetime``/``span.txt-date``, ``#articletxt``; everything else is passed in."""
    return f"""<!DOCTYPE html><html lang="ko"><head><meta charset="utf-8">
<title>{title} | 한국경제</title><link rel="canonical" href="{URL}">{head}</head>
<body><div class="gnb"><ul><li><a href="/economy">경제</a></li><li><a href="/society">사회</a></li>
<li><a href="/reporter">기자 코너</a></li></ul></div>
{before}
<div class="wrap-x1"><h1 class="headline">{title}</h1>{header}
<div class="datetime"><span class="item">입력 <span class="txt-date">2024.03.15 10:00</span></span></div>
<div class="wrap-x2"><div class="article-body" id="articletxt" itemprop="articleBody">{body}</div>{after_body}</div>
</div>{after}</body></html>"""


def parse(html: str, url: str = URL) -> ParseResult:
    result = parse_article(html.encode("utf-8"), url)
    assert result.article is not None, result.problems
    return result


def jsonld(data: dict) -> str:
    return f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>'


# -- section ------------------------------------------------------------------------
def test_section_title_in_another_wrapper_than_section_header() -> None:
    """Issue failure 1: the title sat in another wrapper than div.section-header."""
    result = parse(
        page(before='<div class="category-top"><h2 class="section-tit"><a href="/society">사회</a></h2></div>')
    )
    assert (result.article.section, result.cues["section"]) == ("사회", "section_title")


def test_section_from_a_heading_that_links_a_section_whatever_its_class() -> None:
    result = parse(page(before='<div class="c9"><h3 class="x7"><a href="/economy">경제</a></h3></div>'))
    assert (result.article.section, result.cues["section"]) == ("경제", "section_heading")


SECTION_BLOCK = (
    '<div class="q1"><h4 class="q2"><a href="/society">사회</a></h4><ul class="q3">'
    '<li><a href="/society/administration">행정</a></li><li class="q9"><a href="/society/education">교육</a></li>'
    '<li><a href="/society/employment">고용</a></li></ul></div>'
)


def test_a_section_block_moved_below_the_article_is_still_the_section() -> None:
    """Renamed classes and moved below the body: its shape (a heading linking /society
    beside a list of /society/<sub> links, one item marked) still says 사회 / 교육."""
    result = parse(page(after=SECTION_BLOCK))
    assert (result.article.section, result.cues["section"]) == ("사회", "section_block")
    assert (result.article.subsection, result.cues["subsection"]) == ("교육", "section_block_item")


def test_a_heading_linking_a_section_without_its_sub_sections_below_the_article_is_no_section() -> None:
    """A "more from 경제" box after the article: no list of the section's sub-sections, no section."""
    more = (
        '<div class="q1"><h4><a href="/economy">경제</a></h4>'
        '<ul><li><a href="/article/2024031500001">x</a></li></ul></div>'
    )
    result = parse(page(after=more))
    assert (result.article.section, result.cues["section"]) == (None, "none")


def test_section_from_a_breadcrumb_alone() -> None:
    crumbs = {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": 1, "name": "홈"},
            {"@type": "ListItem", "position": 2, "name": "정치"},
        ],
    }
    result = parse(page(head=jsonld(crumbs)))
    assert (result.article.section, result.cues["section"]) == ("정치", "breadcrumb")
    markup = '<nav class="breadcrumb"><a href="/">홈</a> &gt; <a href="/it">IT</a></nav>'
    assert parse(page(before=markup)).article.section == "IT"


def test_section_from_the_marked_nav_item() -> None:
    nav = '<ul><li><a href="/economy">경제</a></li><li class="active"><a href="/politics">정치</a></li></ul>'
    result = parse(page(before=nav))
    assert (result.article.section, result.cues["section"]) == ("정치", "nav_current")


def test_section_cue_order_json_ld_then_meta_then_markup() -> None:
    markup = '<h2 class="section-tit"><a href="/premium">프리미엄</a></h2>'
    head = '<meta property="article:section" content="산업">'
    assert parse(page(head=head, before=markup)).cues["section"] == "meta"
    with_ld = page(head=head + jsonld({"@type": "NewsArticle", "articleSection": "경제"}), before=markup)
    assert parse(with_ld).article.section == "경제"


def test_a_section_that_is_not_a_short_label_is_null() -> None:
    head = '<meta property="article:section" content="https://www.hankyung.com/economy">'
    result = parse(page(head=head))
    assert result.article.section is None and result.cues["section"] == "none"
    assert result.tried["section"][:2] == ["jsonld", "meta"]


def test_subsection_from_the_one_item_whose_class_its_siblings_lack() -> None:
    """A renamed "on" class: the marked item is still the only one with a class."""
    subs = "".join(
        f'<li{" class=q3" if slug == "macro" else ""}><a href="/economy/{slug}">{name}</a></li>'
        for slug, name in (("economic-policy", "경제정책"), ("macro", "거시경제"), ("tax", "세금"))
    )
    result = parse(page(before=f"<div><h2><a href='/economy'>경제</a></h2><ul>{subs}</ul></div>"))
    assert (result.article.subsection, result.cues["subsection"]) == ("거시경제", "distinct_item")


# -- related articles ----------------------------------------------------------------------
RELATED = "https://www.hankyung.com/article/2024031400011"
POPULAR = "https://www.hankyung.com/article/2024031499991"


def test_related_from_a_heading_with_unknown_classes_never_most_read() -> None:
    block = (
        f'<div class="z1"><h4 class="z2">관련 뉴스</h4><ul class="z3"><li><a href="{RELATED}">다른 기사</a></li></ul>'
        f'<h4 class="z2">많이 본 뉴스</h4><ol class="z4"><li><a href="{POPULAR}">인기 기사</a></li></ol></div>'
    )
    result = parse(page(after=block))
    assert result.article.relatedArticles == [RELATED]
    assert result.cues["relatedArticles"] == "related_heading"


def test_related_class_block_skips_a_most_read_list_inside_it() -> None:
    block = (
        f'<div class="related-area"><a href="{RELATED}">관련</a>'
        f'<div class="popular-box"><a href="{POPULAR}">인기</a></div></div>'
    )
    assert parse(page(after=block)).article.relatedArticles == [RELATED]


def test_most_read_links_alone_are_never_related() -> None:
    block = f'<div class="rank_news"><h3>많이 본 뉴스</h3><a href="{POPULAR}">인기</a></div>'
    result = parse(page(after=block))
    assert result.article.relatedArticles == [] and result.cues["relatedArticles"] == "none"


def test_2019_related_articles_with_another_class() -> None:
    """Issue failure 3: a 2019 page's related block had another class than related-news."""
    html = (ARTICLE_FIXTURES / "legacy2019_economy.html").read_text(encoding="utf-8")
    related_2019 = "https://www.hankyung.com/economy/article/2019062400121"
    block = (
        f'<div class="relate_news"><h3 class="tit">관련기사</h3>'
        f'<ul><li><a href="{related_2019}">금리</a></li></ul></div>'
    )
    html = html.replace('<p class="article-copyright">', block + '<p class="article-copyright">', 1)
    result = parse(html, "https://www.hankyung.com/economy/article/2019062450611")
    assert result.article.relatedArticles == ["https://www.hankyung.com/article/2019062400121"]
    assert result.cues["relatedArticles"] == "related_class"


# -- premium ---------------------------------------------------------------------------
PREMIUM9_LINE = "한경 프리미엄9의 모든 콘텐츠는 한국경제신문의 저작물로 저작권법의 보호를 받습니다."
PAYWALL = (
    '<div class="lock-box"><strong>이 기사는 한경 프리미엄9 구독자 전용 콘텐츠입니다.</strong>'
    "<p>구독하고 심층 분석 기사를 모두 읽어보세요.</p><a href='/premium/subscribe'>구독하기</a></div>"
)


def test_premium_page_with_another_paywall_class_and_the_closing_line_after_the_body() -> None:
    """Issue failure 2: the paywall box had another class, the closing line sat just after #articletxt."""
    record = build_record(page(body=BODY + PAYWALL, after_body=f"<p>{PREMIUM9_LINE}</p>").encode(), URL)
    assert record.article.isPremium is True
    assert record.cues["isPremium"] == "paywall_text"
    # The renamed paywall box is not article text.
    assert record.article.articleBody == "\n\n".join(PARAGRAPHS)


def test_premium_from_the_closing_line_alone() -> None:
    result = parse(page(after_body=f"<p>{PREMIUM9_LINE}</p>"))
    assert result.article.isPremium and result.cues["isPremium"] == "closing_line"


def test_premium_from_a_paywall_class_alone_and_json_ld_first() -> None:
    assert parse(page(body=BODY + '<div class="pw-paywall-v2"></div>')).cues["isPremium"] == "paywall_class"
    free = page(
        head=jsonld({"@type": "NewsArticle", "isAccessibleForFree": True}), after_body=f"<p>{PREMIUM9_LINE}</p>"
    )
    assert parse(free).article.isPremium is False


def test_the_premium9_promo_above_the_title_is_not_a_paywall() -> None:
    promo = '<div class="b1"><strong>한경 PREMIUM9</strong> 한경 프리미엄9 <em>구독하기</em> 구독자 전용 혜택</div>'
    result = parse(page(before=promo))
    assert result.article.isPremium is False and result.cues["isPremium"] == "none"


# -- dates, print page, authors ----------------------------------------------------------
def test_dates_and_print_page_from_their_labels_without_classes() -> None:
    html = page().replace(
        '<div class="datetime"><span class="item">입력 <span class="txt-date">2024.03.15 10:00</span></span></div>',
        "<div class='k1'><span>입력 <em>2024.03.15 10:00</em></span><span>수정 <em>2024.03.16 08:30</em></span>"
        "<span>지면 <b>A5</b></span></div>",
    )
    result = parse(html)
    article = result.article
    assert (article.datePublished, article.dateModified, article.printPage) == (
        "2024-03-15T10:00:00+09:00",
        "2024-03-16T08:30:00+09:00",
        "A5",
    )
    assert result.cues["datePublished"] == result.cues["dateModified"] == result.cues["printPage"] == "label"


def test_a_modified_date_before_the_published_one_is_null() -> None:
    html = page(header="<div><span>수정 2024.03.14 09:00</span></div>")
    assert parse(html).article.dateModified is None


def test_authors_from_a_byline_with_a_role_word_only() -> None:
    result = parse(page(header='<div class="p1"><a href="/reporter/1">김민수 기자</a></div>'))
    assert result.article.authors[0].name == "김민수" and result.cues["authors"] == "byline_text"
    # "기자 코너" (a menu link) is no byline.
    assert parse(page()).article.authors == []


# -- body --------------------------------------------------------------------------------
def test_body_without_a_known_container_comes_from_the_fallback() -> None:
    html = page().replace('class="article-body" id="articletxt" itemprop="articleBody"', 'class="story-x"')
    paragraphs = "".join(f"<p>{text}</p>" for text in PARAGRAPHS)
    html = html.replace(BODY, paragraphs + "<p>ⓒ 한경닷컴, 무단전재 및 재배포 금지</p>")
    record = build_record(html.encode(), URL)
    assert record.article.layout == "fallback" and record.cues["articleBody"] == "fallback"
    assert record.article.articleBody == "\n\n".join(PARAGRAPHS)  # the cleaning rules ran
    assert record.valid


def test_a_renamed_id_is_found_by_itemprop() -> None:
    html = page().replace('id="articletxt"', 'id="body-77"')
    result = parse(html)
    assert result.cues["articleBody"] == "itemprop" and result.article.layout == "current"


def test_list_pages_and_the_homepage_are_never_articles_even_at_an_article_url() -> None:
    for name in ("not_article_economy_list.html", "not_article_real_homepage_2018-03-20.html"):
        body = (ARTICLE_FIXTURES / name).read_bytes()
        result = parse_article(body, URL)
        assert result.article is None and "not_article" in result.problems, name


def test_a_challenge_page_is_never_a_fallback_article() -> None:
    challenge = page(head="<script>window._cf_chl_opt={cType: 'interactive'};</script>").replace(
        'class="headline"', 'class="t"'
    )
    challenge = challenge.replace('id="articletxt" itemprop="articleBody"', "").replace('class="datetime"', "")
    assert parse_article(challenge.encode(), URL).article is None


def test_every_fixture_reports_a_cue_for_every_field() -> None:
    seed = ARTICLE_FIXTURES / "current_seed_2022-06-17.html"
    result = parse_article(seed.read_bytes(), fixture_url(seed))
    assert result.cues["articleBody"] == "articletxt" and result.cues["section"] == "meta"
    assert set(result.cues) == set(result.tried)
    assert all(cue == "none" or cue in result.tried[name] or "+" in cue for name, cue in result.cues.items())

"""What every replica HTML page shares: head, header with the section menu, footer.

Built once per base URL and cached: the server formats a page from these strings
and the page's own parts, with no per-request work beyond that. Nothing here loads
from another host (no external CSS or script), so a browser rendering a replica
page offline is not held up by fetches that cannot succeed.
"""

from __future__ import annotations

import json
import random
from functools import lru_cache
from html import escape

from hkcrawl.sections import SECTIONS

STYLE = """<style>
.blind{position:absolute;width:1px;height:1px;margin:-1px;overflow:hidden;clip:rect(0 0 0 0)}
.header{position:relative;min-width:1240px;height:140px;border-bottom:1px solid #e5e5e5;background:#fff}
.gnb-wrap{width:1240px;margin:0 auto}.gnb-wrap .gnb-list{display:flex;justify-content:center}
.gnb-wrap .gnb-list>li>a{display:block;padding:0 13px;font-size:17px;line-height:46px;color:#111}
.gnb-wrap .gnb-list>li.premium>a{color:#0a53a0}
.section-header{width:1240px;margin:30px auto 0;border-bottom:2px solid #111}
.section-header .section-tit{font-size:26px;font-weight:700}
.section-header .section-sub li{display:inline-block;margin-right:16px}
.section-header .section-sub li.on a{font-weight:700;color:#0a53a0}
.article-header .headline{font-size:32px;line-height:1.4;letter-spacing:-.04em;word-break:keep-all}
.article-header .datetime .item{margin-right:10px;font-size:13px;color:#777}
.article-body{font-size:18px;line-height:1.9;color:#222;word-break:break-all}
.article-figure{margin:30px 0}.article-figure .figure-caption{margin-top:10px;font-size:14px;color:#666}
.summary{margin:25px 0;padding:0 0 0 18px;border-left:3px solid #0a53a0;font-size:18px;font-weight:700}
.ad-wrap{margin:30px 0;text-align:center}.ad-wrap .ad-label{display:block;font-size:10px;color:#aaa}
.related-news{margin-top:40px;border-top:2px solid #111}
.related-news .related-list li{position:relative;padding:18px 0 18px 34px;border-bottom:1px solid #eee}
.popular-news .popular-list li{display:flex;padding:10px 0;border-bottom:1px solid #f0f0f0}
.banner-premium9{width:1240px;margin:18px auto;padding:14px 20px;background:#0b1f3a;color:#fff}
.ai-summary{margin:25px 0;padding:20px 24px;border-radius:8px;background:#f4f7fb}
.premium-paywall{margin:40px 0;padding:32px;text-align:center;border:1px solid #d5dde8}
.news-list li{display:flex;padding:20px 0;border-bottom:1px solid #eee}
.news-list .thumb{flex:0 0 200px;margin-right:20px}.news-item .txt-date{font-size:13px;color:#888}
.select-paging{margin:40px 0;text-align:center}.page-select select{height:32px}
.footer{min-width:1240px;background:#222;color:#999;font-size:12px}
@media print{.header,.footer,.aside-wrap,.ad-wrap,.article-util,.reaction,.related-news,.subscribe-box{
display:none!important}}
</style>"""

_TRACKING = """<script>
  window.dataLayer = window.dataLayer || [];
  window.dataLayer.push({'pageType': '%s', 'platform': 'pc', 'loginStatus': 'N'});
  window.googletag = window.googletag || {cmd: []};
</script>"""


def head(title: str, page_type: str, extra: str = "") -> str:
    """``<!DOCTYPE html>`` … ``</head>``; ``extra`` holds the page's own meta tags."""
    return (
        '<!DOCTYPE html>\n<html lang="ko">\n<head>\n<meta charset="utf-8">\n'
        '<meta http-equiv="X-UA-Compatible" content="IE=edge">\n<meta name="viewport" content="width=1240">\n'
        f"<title>{escape(title, quote=False)}</title>\n{extra}{STYLE}\n{_TRACKING % page_type}\n</head>\n"
    )


_ICONS = (
    "logo-symbol", "ico-search", "ico-close", "ico-menu", "ico-user", "ico-share", "ico-scrap", "ico-comment",
    "ico-font", "ico-print", "ico-cleanview", "ico-kakao", "ico-facebook", "ico-x", "ico-naver", "ico-band",
    "ico-mail", "ico-url", "ico-like", "ico-dislike", "ico-follow", "ico-arrow-up", "ico-arrow-right",
    "ico-arrow-left", "ico-play", "ico-premium", "ico-ai", "ico-newsletter", "ico-bell",
)  # fmt: skip
_MORE_MENU = (
    ("골프", "golf"), ("회원전용", "membership"), ("한경트래블", "travel"), ("뉴스레터", "newsletter"),
    ("스페셜 리포트", "special-report"), ("The Moneyist", "moneyist"), ("The Lifeist", "lifeist"),
    ("기자 코너", "reporter"), ("POLL", "poll"), ("인사·부고", "people"), ("보도자료", "press-release"),
    ("한경행사", "events"), ("스타워즈", "starwars"), ("한경유레카", "eureka"), ("PR Newswire", "prnewswire"),
)  # fmt: skip
_FAMILY = (
    ("한국경제TV", "https://www.wowtv.co.kr"), ("KED Global", "https://www.kedglobal.com"),
    ("한국경제매거진", "https://magazine.hankyung.com"), ("한경 arte TV", "https://www.artetv.co.kr"),
    ("생글생글", "https://sgsg.hankyung.com"), ("TESAT", "https://www.tesat.or.kr"),
    ("블루밍비트", "https://bloomingbit.io"), ("한경아카데미", "https://academy.hankyung.com"),
)  # fmt: skip


@lru_cache(maxsize=1)
def _sprite() -> str:
    """The inline SVG icon sprite real pages start their body with (most of their weight)."""
    rng = random.Random("hkcrawl.replica/sprite")

    def path() -> str:
        points = " ".join(f"{rng.choice('LCQ')}{rng.uniform(0, 25):.2f} {rng.uniform(0, 25):.2f}" for _ in range(14))
        start = f"M{rng.uniform(0, 24):.2f} {rng.uniform(0, 24):.2f}"
        return f'<path fill="currentColor" fill-rule="evenodd" d="{start}{points}Z"/>'

    symbols = "\n".join(
        f'  <symbol id="{name}" viewBox="0 0 24 24">{"".join(path() for _ in range(rng.randint(1, 3)))}</symbol>'
        for name in _ICONS
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" class="svg-sprite" aria-hidden="true" '
        f'style="position:absolute;width:0;height:0;overflow:hidden">\n{symbols}\n</svg>\n'
    )


@lru_cache(maxsize=16)
def _menu_script(base: str) -> str:
    """The menu data the header's search-in-menu box filters (the site inlines it)."""
    gnb = [
        {"name": name, "url": f"{base}/{slug}", "code": f"G{n:03d}"}
        for n, (slug, name) in enumerate(SECTIONS.items(), 1)
    ]
    more = [
        {"name": name, "url": f"{base}/{slug}", "code": f"M{n:03d}"} for n, (name, slug) in enumerate(_MORE_MENU, 1)
    ]
    family = [{"name": name, "url": url, "newWindow": True} for name, url in _FAMILY]
    data = json.dumps({"version": "20261101", "gnb": gnb, "more": more, "family": family}, ensure_ascii=False, indent=2)
    return f"""<script>
  window.HK_MENU = {data};
  (function(){{
    var input = document.getElementById('menuSearchInput');
    if(!input) return;
    input.addEventListener('input', function(){{
      var q = input.value.trim(); var list = document.querySelector('.autocomplete-list');
      if(!q){{ list.innerHTML = ''; return; }}
      var all = HK_MENU.gnb.concat(HK_MENU.more, HK_MENU.family);
      list.innerHTML = all.filter(function(m){{ return m.name.indexOf(q) > -1; }}).slice(0, 10)
        .map(function(m){{ return '<li><a href="' + m.url + '">' + m.name + '</a></li>'; }}).join('');
    }});
  }})();
</script>
"""


LAYERS = """<div class="layer-popup layer-fontsize" id="layerFontSize" role="dialog" aria-modal="true">
  <button type="button" class="btn-close-layer"><span class="blind">팝업 닫기</span></button>
  <div class="font-setting"><strong class="setting-tit">글자크기</strong>
    <ul class="setting-list" data-setting="font-size"><li><button type="button" data-value="1">1단계</button></li><li><button type="button" data-value="2">2단계</button></li><li class="on"><button type="button" data-value="3">3단계</button></li><li><button type="button" data-value="4">4단계</button></li><li><button type="button" data-value="5">5단계</button></li></ul>
  </div>
</div>
<div class="layer-popup layer-share" id="layerShare" role="dialog" aria-modal="true">
  <button type="button" class="btn-close-layer"><span class="blind">팝업 닫기</span></button>
  <ul class="share-list"><li><button type="button" class="btn-share-kakao">카카오톡</button></li><li><button type="button" class="btn-share-facebook">페이스북</button></li><li><button type="button" class="btn-share-x">엑스</button></li><li><button type="button" class="btn-share-url">URL복사</button></li><li><button type="button" class="btn-share-naver">네이버</button></li><li><button type="button" class="btn-share-mail">메일</button></li></ul>
</div>
<div class="layer-popup layer-login-confirm" id="layerLoginConfirm" role="alertdialog">
  <p class="txt-msg">로그인이 필요한 서비스 입니다.</p><p class="txt-msg-sub">로그인 하시겠습니까?</p>
  <div class="btn-group"><button type="button" class="btn-no">아니오</button><button type="button" class="btn-yes">예</button></div>
</div>
"""  # noqa: E501


@lru_cache(maxsize=16)
def header(base: str) -> str:
    """The top bar and the section menu (every link on the replica's own host)."""
    items = "\n".join(f'      <li><a href="{base}/{slug}">{name}</a></li>' for slug, name in SECTIONS.items())
    more = "\n".join(f'            <li><a href="{base}/{slug}">{name}</a></li>' for name, slug in _MORE_MENU)
    family = "\n".join(
        f'              <li><a href="{url}" target="_blank" rel="noopener">{name}</a></li>' for name, url in _FAMILY
    )
    return (
        _sprite()
        + f"""<div id="wrap">
<div id="skipNav"><a href="#container">본문 바로가기</a></div>
<header class="header" id="header">
  <div class="header-inner">
    <div class="logo"><a href="{base}/"><span class="blind">한국경제</span></a></div>
    <div class="top-menu"><a href="{base}/all-news">전체뉴스</a><a href="{base}/ranking">랭킹뉴스</a>
      <a href="{base}/feed">RSS</a></div>
    <nav class="gnb-wrap" aria-label="주메뉴">
      <ul class="gnb-list">
{items}
      <li class="premium"><a href="{base}/premium9">한경 프리미엄9</a></li>
      </ul>
      <div class="gnb-tooltip" role="tooltip" data-for="premium">한경만의 독자적인 프리미엄 콘텐츠입니다.</div>
      <button type="button" class="btn-allmenu" aria-expanded="false" aria-controls="allMenu">더보기</button>
      <div class="allmenu-layer" id="allMenu">
        <div class="allmenu-inner">
          <ul class="allmenu-list">
{more}
          </ul>
          <div class="family-site"><strong class="family-tit">한경미디어</strong>
            <ul class="family-list">
{family}
            </ul>
          </div>
          <div class="menu-search">
            <input type="text" id="menuSearchInput" placeholder="메뉴 이름을 입력하세요" autocomplete="off">
            <div class="menu-autocomplete" hidden><ul class="autocomplete-list"></ul></div></div>
        </div>
      </div>
    </nav>
    <div class="search-layer" id="searchLayer">
      <form action="{base}/search" method="get">
        <input type="search" name="query" title="검색어 입력" placeholder="검색어를 입력하세요">
        <button type="submit" class="btn-search"><span class="blind">검색</span></button>
      </form>
    </div>
    <div class="user-wrap"><button type="button" class="btn-login" id="btnLogin">로그인</button>
      <div class="member-layer" id="memberLayer" style="display:none">
        <a href="{base}/my-news" class="link-my">My한경</a></div>
    </div>
  </div>
</header>
"""
        + _menu_script(base)
        + """<div id="container" class="container">
"""
    )


@lru_cache(maxsize=16)
def footer(base: str) -> str:
    return f"""</div>
{LAYERS}<footer class="footer" id="footer">
  <div class="footer-inner">
    <div class="footer-company">
      <strong class="company-name">한국경제신문</strong>
      <ul class="footer-menu">
        <li><a href="{base}/company">회사소개</a></li><li><a href="{base}/help/grievance">고충처리</a></li>
        <li><a href="{base}/help/ad">광고안내</a></li><li><a href="{base}/sitemap.html">사이트맵</a></li>
        <li><a href="{base}/feed">RSS</a></li><li><a href="{base}/help/privacy"><strong>개인정보처리방침</strong></a></li>
      </ul>
      <address class="address">서울시 중구 청파로 <span class="num">463</span> 한국경제신문사</address>
      <dl class="company-info"><dt>대표번호:</dt> <dd>02-3604-114</dd><dt>인터넷신문등록번호: 서울 아</dt> <dd>01035</dd></dl>
      <p class="copyright">Copyright 1999-2026. <a href="{base}/">한경닷컴</a> All rights reserved.</p>
    </div>
  </div>
</footer>
<a href="#wrap" class="btn-top">상단 바로가기</a>
</div>
<script>
  (function(){{ var top = document.querySelector('.btn-top'); if (top) top.addEventListener('click', function(){{ window.scrollTo(0, 0); }}); }})();
</script>
</body>
</html>
"""  # noqa: E501


def ad_slot(number: int, css_class: str = "ad-wrap") -> str:
    """A Google Ad Manager slot as the site has them (§5): the label and an empty box."""
    return (
        f'<div class="{css_class}"><span class="ad-label">ADVERTISEMENT</span>'
        f'<div id="div-gpt-ad-1655362143151-{number}" class="ad-area"></div></div>'
    )


def esc(text: str) -> str:
    """Text content: the site escapes &, < and > (quotes stay as typed)."""
    return escape(text, quote=False)


def attr(text: str) -> str:
    return escape(text, quote=True)

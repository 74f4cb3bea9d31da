"""Article pages: fetched over HTTP, they extract to exactly the model's expected record.

This is the replica's contract with the parsers: markup per docs/site-markup.md, and
``hkcrawl.record.build_record`` (what a crawl runs) agrees with the model field by
field, for every kind of article.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import asdict

import pytest
from parsel import Selector

from hkcrawl.record import build_record
from hkcrawl.replica import ReplicaServer, SiteModel
from tests.replica.conftest import fetch


def _sample(model: SiteModel, size: int = 200) -> list[str]:
    """Every premium and JS-related article, then JSON-LD and plain ones up to ``size``."""
    ids = model.all_ids
    chosen = [a for a in ids if model.article(a).premium or model.article(a).js_related]
    chosen += [a for a in ids if model.article(a).jsonld and a not in chosen][:60]
    chosen += [a for a in ids if a not in chosen][: size - len(chosen)]
    return chosen


def test_sample_covers_every_kind(model: SiteModel) -> None:
    kinds = [model.article(aid).kinds for aid in _sample(model)]
    assert len(kinds) == 200
    for kind in ("plain", "jsonld", "premium", "js_related"):
        assert sum(kind in k for k in kinds) >= 5, kind


def test_every_sampled_article_extracts_to_its_expected_record(replica: ReplicaServer, model: SiteModel) -> None:
    failures = []
    for aid in _sample(model):
        url = replica.url(f"/article/{aid}")
        response = fetch(url)
        assert response.status == 200 and response.headers["content-type"] == "text/html; charset=UTF-8"
        result = build_record(response.body, url, response.headers["content-type"])
        assert result.article is not None and result.valid, (aid, result.problems, result.missing)
        got = asdict(result.article)
        want = model.expected_record(aid, rendered=False)  # a plain fetch runs no script
        diff = {key: (got[key], value) for key, value in want.items() if got[key] != value}
        if diff:
            failures.append((aid, sorted(model.article(aid).kinds), diff))
        assert result.problems == [], (aid, result.problems)
    assert not failures, failures[:3]


def test_js_related_pages_ship_an_empty_shell_and_the_data_in_a_script(
    replica: ReplicaServer, model: SiteModel
) -> None:
    aid = next(a for a in model.all_ids if model.article(a).js_related and len(model.content(a).related) >= 2)
    page = Selector(fetch(replica.url(f"/article/{aid}")).text)
    shell = page.css('div.related-news[data-related-src="inline"]')
    assert len(shell) == 1 and shell.xpath("./node()").getall() == []
    script = next(s for s in page.css("script::text").getall() if "__RELATED_NEWS__" in s)
    data = json.loads(script.split("window.__RELATED_NEWS__ = ", 1)[1].split(";\n", 1)[0])
    assert [item["aid"] for item in data] == list(model.content(aid).related)
    assert model.expected_record(aid)["relatedArticles"] == [
        f"https://www.hankyung.com/article/{r['aid']}" for r in data
    ]


# A DOM just big enough for the related-news script: run it under node, read the links back.
_FAKE_DOM = """
function El(tag) { this.tag = tag; this.children = []; this.attrs = {}; this.textContent = ''; this.className = ''; }
El.prototype.appendChild = function (c) { this.children.push(c); return c; };
El.prototype.setAttribute = function (k, v) { this.attrs[k] = String(v); };
var shell = new El('div');
global.window = global;
global.document = {
  createElement: function (tag) { return new El(tag); },
  querySelector: function (q) { return q === 'div.related-news[data-related-src="inline"]' ? shell : null; },
};
function links(el, out) { if (el.tag === 'a') out.push([el.attrs.href, el.textContent]);
  el.children.forEach(function (c) { links(c, out); }); return out; }
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_related_script_inserts_the_links_when_run(replica: ReplicaServer, model: SiteModel) -> None:
    aid = next(a for a in model.all_ids if model.article(a).js_related and len(model.content(a).related) >= 2)
    page = Selector(fetch(replica.url(f"/article/{aid}")).text)
    script = next(s for s in page.css("script::text").getall() if "__RELATED_NEWS__" in s)
    program = _FAKE_DOM + script + "\nconsole.log(JSON.stringify(links(shell, [])));"
    result = subprocess.run(["node", "-e", program], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    links = json.loads(result.stdout)
    assert [href for href, _ in links] == [f"/article/{r}" for r in model.content(aid).related]
    assert [title for _, title in links] == [model.article(r).headline for r in model.content(aid).related]


def test_most_read_widget_links_five_other_articles_that_are_not_related(
    replica: ReplicaServer, model: SiteModel
) -> None:
    aid = model.all_ids[3]
    url = replica.url(f"/article/{aid}")
    page = Selector(fetch(url).text)
    popular = [h.rsplit("/", 1)[1] for h in page.css("div.popular-news a::attr(href)").getall()]
    assert len(popular) == 5 and aid not in popular and all(model.visible(p) for p in popular)
    assert set(popular) - set(model.content(aid).related)  # so reading the widget would show
    assert build_record(fetch(url).body, url).article.relatedArticles == model.expected_record(aid)["relatedArticles"]


def test_premium_pages_carry_the_contract_markers(replica: ReplicaServer, model: SiteModel) -> None:
    for aid in [a for a in model.all_ids if model.article(a).premium]:
        text = fetch(replica.url(f"/article/{aid}")).text
        page = Selector(text)
        assert page.css("#articletxt div.premium-paywall")
        assert "한경 프리미엄9의 모든 콘텐츠는" in "".join(page.css("#articletxt ::text").getall())
        assert page.css("div.ai-summary")
        if model.article(aid).jsonld:
            assert '"isAccessibleForFree": false' in text
        # The page shows only the opening paragraphs: the rest stays behind the paywall.
        assert model.content(aid).paragraphs[-1] not in text


def test_boilerplate_surrounds_the_body(replica: ReplicaServer, model: SiteModel) -> None:
    text = fetch(replica.url(f"/article/{model.all_ids[0]}")).text
    pieces = ["ⓒ 한경닷컴, 무단전재 및 재배포 금지", "좋아요", "후속기사 원해요", "기사 스크랩", "한국경제 구독신청"]
    pieces += ["ADVERTISEMENT", "이 시각 관심정보", "독자들의 PICK!", "많이 본 뉴스", "gnb-list", 'class="footer"']
    for piece in pieces:
        assert piece in text, piece
    assert 30_000 < len(text.encode()) < 120_000  # a real page is ~86 kB (§3.1)


def test_source_wrapped_paragraphs_are_one_paragraph() -> None:
    """CMS-wrapped source lines (a raw newline inside a paragraph's text) are HTML whitespace,
    not a paragraph break: a browser shows one paragraph, and so must the record."""
    model = SiteModel(articles=40, seed=2, source_wrap=1.0)
    aid = next(a for a in model.all_ids if not model.article(a).premium)
    with ReplicaServer(model) as server:
        url = server.url(f"/article/{aid}")
        page = fetch(url).body
    assert b".\n        " in page  # the wrap is in the source ...
    assert build_record(page, url).article.articleBody == model.expected_record(aid)["articleBody"]  # ... not the text


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(_chromium() is None, reason="no Chromium on this machine (apt-get install chromium)")
def test_a_browser_render_shows_the_js_related_articles(replica: ReplicaServer, model: SiteModel) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    aid = next(a for a in model.all_ids if model.article(a).js_related and len(model.content(a).related) >= 2)
    url = replica.url(f"/article/{aid}")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(url, wait_until="domcontentloaded")
            rendered = page.content()
        finally:
            browser.close()
    result = build_record(rendered, url)
    assert result.article.relatedArticles == model.expected_record(aid)["relatedArticles"] != []
    assert build_record(fetch(url).body, url).article.relatedArticles == []  # the plain fetch misses them

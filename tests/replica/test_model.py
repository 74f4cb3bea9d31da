"""The site model: deterministic, valid ids, the clock, what each article holds."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hkcrawl.bylines import strip_role
from hkcrawl.replica import KST, SiteModel
from hkcrawl.replica.site import Site
from hkcrawl.sections import SECTIONS, SUBSECTIONS
from hkcrawl.urls import is_article_id


def test_same_seed_same_site_byte_for_byte() -> None:
    first, second = SiteModel(articles=150, seed=5), SiteModel(articles=150, seed=5)
    assert first.all_ids == second.all_ids
    site_a, site_b = Site(first, "http://127.0.0.1:9"), Site(second, "http://127.0.0.1:9")
    # Different orders of first use must not change a page (each article has its own RNG).
    paths = ["/article/" + aid for aid in first.all_ids[:40]] + ["/economy", "/all-news?page=2", "/feed/all-news"]
    pages_a = [site_a.get(path).body for path in paths]
    pages_b = [site_b.get(path).body for path in reversed(paths)][::-1]
    assert pages_a == pages_b


def test_another_seed_another_site() -> None:
    assert SiteModel(articles=50, seed=1).all_ids != SiteModel(articles=50, seed=2).all_ids


def test_ids_are_valid_unique_and_dated_by_their_publish_day(model: SiteModel) -> None:
    ids = model.all_ids
    assert len(ids) == len(set(ids)) == 400
    for aid in ids:
        article = model.article(aid)
        assert is_article_id(aid) and len(aid) == 13
        assert aid[:8] == article.published.strftime("%Y%m%d")
    letters = [aid for aid in ids if not aid[-1].isdigit()]
    assert 0 < len(letters) < len(ids) * 0.3  # mostly digits, some letter suffixes (§1.1)


def test_publish_times_spread_several_per_hour_newest_first(model: SiteModel) -> None:
    times = [model.article(aid).published for aid in model.all_ids]
    assert times == sorted(times, reverse=True)
    assert times[0] <= model.end and times[-1] >= model.end - timedelta(days=model.days)
    assert model.days == 2 and all(t.second == 0 and t.tzinfo is not None for t in times)
    hours = {t.replace(minute=0) for t in times}
    assert len(times) / len(hours) >= 4  # several per hour


def test_sections_subsections_and_kinds(model: SiteModel) -> None:
    articles = [model.article(aid) for aid in model.all_ids]
    assert {a.section for a in articles} <= set(SECTIONS)
    for article in articles:
        if article.subsection:
            assert article.subsection in SUBSECTIONS[article.section]
    assert sum(a.subsection is not None for a in articles) > len(articles) / 2
    counts = model.kind_counts
    assert 0.2 < counts["jsonld"] / 400 < 0.4
    assert 3 <= counts["premium"] <= 30 and 8 <= counts["js_related"] <= 40


def test_reporters_have_korean_names_that_survive_strip_role(model: SiteModel) -> None:
    for desk in model.reporters.values():
        for reporter in desk:
            assert strip_role(reporter.byline) == reporter.name
            assert reporter.email.endswith("@hankyung.com")
    emails = [r.email for desk in model.reporters.values() for r in desk]
    assert len(emails) == len(set(emails))
    for aid in model.all_ids:
        assert 1 <= len(model.article(aid).reporters) <= 3


def test_bodies_all_differ_and_have_3_to_8_paragraphs(model: SiteModel) -> None:
    bodies = [model.content(aid).paragraphs for aid in model.all_ids]
    assert len(set(bodies)) == len(bodies)
    assert all(3 <= len(body) <= 8 for body in bodies)
    paragraphs = [p for body in bodies for p in body]
    assert len(set(paragraphs)) > 0.99 * len(paragraphs)


def test_related_are_other_older_articles_mostly_of_the_same_section(model: SiteModel) -> None:
    same = total = 0
    for aid in model.all_ids:
        article = model.article(aid)
        related = model.content(aid).related
        assert len(related) <= 4 and aid not in related and len(set(related)) == len(related)
        for other in related:
            assert model.article(other).published <= article.published
            same += model.article(other).section == article.section
            total += 1
        if article.js_related and model.all_ids.index(aid) < len(model.all_ids) - 5:
            assert related  # a script with nothing to insert would test nothing
    assert same / total > 0.7


def test_clock_hides_future_articles_everywhere(model: SiteModel) -> None:
    clocked = SiteModel(articles=400, seed=7)
    newest = clocked.all_ids[:30]
    clocked.now = clocked.article(newest[-1]).published - timedelta(minutes=1)
    site = Site(clocked, "http://x")
    for aid in newest:
        assert not clocked.visible(aid)
        assert site.get(f"/article/{aid}").status == 404
    shown = set(clocked.ids()) | set(clocked.latest()) | set(clocked.ranking())
    assert shown.isdisjoint(newest)
    for path in ("/all-news", "/sitemap/latest-article.xml", "/feed/all-news", "/ranking", "/"):
        body = site.get(path).body.decode()
        assert not any(aid in body for aid in newest), path
    clocked.advance(timedelta(days=1))  # later, they appear
    assert all(clocked.visible(aid) for aid in newest)
    assert site.get(f"/article/{newest[0]}").status == 200


def test_a_modification_shows_once_the_clock_reaches_it() -> None:
    clocked = SiteModel(articles=60, seed=11)
    aid = next(a for a in clocked.all_ids[10:] if clocked.article(a).modified is None)
    later = clocked.now + timedelta(hours=2)
    clocked.modify(aid, later)
    assert clocked.expected_record(aid)["dateModified"] is None
    clocked.now = later
    assert clocked.expected_record(aid)["dateModified"] == later.isoformat()
    assert '수정 <span class="txt-date">' in Site(clocked, "http://x").get(f"/article/{aid}").body.decode()
    with pytest.raises(ValueError):
        clocked.modify(aid, clocked.article(aid).published - timedelta(minutes=1))


def test_expected_record_has_the_record_fields(model: SiteModel) -> None:
    aid = model.all_ids[0]
    record = model.expected_record(aid)
    assert set(record) == {
        "articleId", "canonicalUrl", "headline", "summary", "section", "subsection", "authors", "datePublished",
        "dateModified", "printPage", "articleBody", "images", "keywords", "relatedArticles", "isPremium",
    }  # fmt: skip
    assert record["canonicalUrl"] == f"https://www.hankyung.com/article/{aid}"
    assert record["datePublished"].endswith("+09:00")
    assert model.article(aid).published.tzinfo.utcoffset(None) == KST.utcoffset(None)


def test_js_related_expected_depends_on_rendering(model: SiteModel) -> None:
    aid = next(a for a in model.all_ids if model.article(a).js_related and model.content(a).related)
    assert model.expected_record(aid, rendered=False)["relatedArticles"] == []
    assert len(model.expected_record(aid)["relatedArticles"]) == len(model.content(aid).related)


def test_copies_repeat_an_earlier_story() -> None:
    """``copies``: some articles repeat an earlier one's body, word for word or with a paragraph added."""
    plain, copying = SiteModel(articles=200), SiteModel(articles=200, copies=0.2)
    copies = {aid: copying.copy_of(aid) for aid in copying.all_ids if copying.copy_of(aid)}
    assert 20 <= len(copies) <= 60 and {exact for _, exact in copies.values()} == {True, False}
    for article_id in copying.all_ids:
        record = copying.expected_record(article_id)
        if article_id not in copies:
            assert record == plain.expected_record(article_id)  # the others are as without copies
            continue
        source, word_for_word = copies[article_id]
        assert copying.article(source).published <= copying.article(article_id).published
        source_paragraphs = copying.content(source).paragraphs
        paragraphs = copying.content(article_id).paragraphs
        assert paragraphs == source_paragraphs if word_for_word else paragraphs[:-1] == source_paragraphs

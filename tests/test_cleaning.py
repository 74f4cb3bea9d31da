"""Each boilerplate rule: a line it must remove and an article line it must keep."""

from __future__ import annotations

import pytest

from hkcrawl.cleaning import LINE_RULES, clean_article, matching_rule
from hkcrawl.items import Article, Author

RULE_CASES = [
    # (rule, boilerplate line from the site, a real article line it must not touch)
    ("copyright", "ⓒ 한경닷컴, 무단전재 및 재배포 금지", "한경닷컴은 이날 새 서비스를 공개했다."),
    ("copyright", "Copyright 1999-2025. 한경닷컴 All rights reserved.", "저작권 침해 소송이 잇따르고 있다."),
    (
        "premium_copyright",
        "한경 프리미엄9의 모든 콘텐츠는 한국경제신문의 저작물로 저작권법의 보호를 받습니다.",
        "모든 콘텐츠는 저작권법의 보호를 받는다는 판결이 나왔다.",
    ),
    ("reaction_buttons", "후속기사 원해요", "후속기사를 원하는 독자가 많았다."),
    ("toolbar", "글자크기 조절", "글자크기를 키운 모델이 인기다."),
    ("toolbar", "댓글 0", "댓글 기능을 없앤 포털이 늘고 있다."),
    ("subscription_prompt", "한국경제 구독신청", "한국경제 구독신청이 늘었다고 회사 측은 밝혔다."),
    ("subscription_prompt", "고재연 기자 구독하기", "고재연 기자가 취재했다."),
    ("advertisement", "ADVERTISEMENT", "ADVERTISEMENT 시장 규모는 커지고 있다."),
    ("widget_heading", "이 시각 관심정보", "이 시각 관심정보를 묻는 설문이 있었다."),
    ("widget_heading", "AI 기사요약", "AI 기사요약 서비스가 출시됐다."),
    ("photo_credit", "사진=연합뉴스", "연합뉴스에 따르면 사진 전시회가 열린다."),
    ("photo_credit", "(사진=한경DB)", "한경DB를 보면 사진=자료가 없다는 설명이다. 이어 회사는 새로운 계획을 발표했다."),
    ("old_slogan", "성공을 부르는 습관 한경닷컴", "성공을 부르는 습관에 대한 책이 나왔다."),
]


@pytest.mark.parametrize(("rule", "boilerplate", "article_line"), RULE_CASES, ids=lambda v: str(v)[:20])
def test_rule_removes_boilerplate_and_keeps_article_text(rule: str, boilerplate: str, article_line: str) -> None:
    assert matching_rule(boilerplate) == rule
    assert matching_rule(article_line) is None


def test_every_rule_has_a_case() -> None:
    assert {rule.name for rule in LINE_RULES} == {case[0] for case in RULE_CASES}


def _article(body: str, authors: list[Author] | None = None) -> Article:
    return Article(articleId="2022061771721", url="u", canonicalUrl="c", articleBody=body, authors=authors or [])


def test_email_line_moves_to_the_author_and_leaves_the_body() -> None:
    result = clean_article(_article("첫 문단.\n\n둘째 문단.\n\n정지은 기자 jeong@hankyung.com", [Author("정지은")]))
    assert result.article.articleBody == "첫 문단.\n\n둘째 문단."
    assert result.article.authors == [Author("정지은", "jeong@hankyung.com")]
    assert result.removed["email_line"] == 1


def test_email_line_with_two_reporters_and_a_dateline() -> None:
    body = "본문.\n\n뉴욕=김현석 특파원 realist@hankyung.com 이광식 기자 bumeran@hankyung.com"
    result = clean_article(_article(body, [Author("김현석"), Author("이광식")]))
    assert result.article.articleBody == "본문."
    assert [(a.name, a.email) for a in result.article.authors] == [
        ("김현석", "realist@hankyung.com"),
        ("이광식", "bumeran@hankyung.com"),
    ]


def test_email_of_an_unlisted_reporter_adds_the_author() -> None:
    result = clean_article(_article("본문.\n\n고재연 기자 yeon@hankyung.com"))
    assert result.article.authors == [Author("고재연", "yeon@hankyung.com")]


def test_an_address_quoted_in_the_article_stays() -> None:
    body = "문의는 help@hankyung.com 으로 하면 된다.\n\n끝 문단."
    assert clean_article(_article(body)).article.articleBody == body


def test_boilerplate_after_the_email_line_is_removed_too() -> None:
    body = "본문.\n\n정지은 기자 jeong@hankyung.com\n\n좋아요\n\nⓒ 한경닷컴, 무단전재 및 재배포 금지"
    result = clean_article(_article(body, [Author("정지은")]))
    assert result.article.articleBody == "본문."
    assert result.removed == {"email_line": 1, "reaction_buttons": 1, "copyright": 1}


def test_body_hash_follows_the_cleaned_body() -> None:
    one = clean_article(_article("같은 본문.\n\nⓒ 한경닷컴, 무단전재 및 재배포 금지")).article
    two = clean_article(_article("같은 본문.")).article
    assert one.articleBodyHash == two.articleBodyHash
    assert one.articleBodyHash.startswith("sha256:")

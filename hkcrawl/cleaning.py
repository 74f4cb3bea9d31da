"""Text rules that take hankyung's boilerplate out of a record: all of them, here.

The page parsers pick the body element and skip non-text elements; what is left is
text the site puts *inside* the body that is not the article (copyright lines, the
reporter's email line, photo credits …, hankyung-site.md §3.2–3.3). Each rule has a
name; the clean pipeline counts every line a rule removes under that name, so a
rule that starts eating article text shows up in the crawl stats.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, replace

from hkcrawl.bylines import is_bare_email, parse_email_line
from hkcrawl.items import Article, Author
from hkcrawl.pages.text import normalize_space, normalized_lines


@dataclass(frozen=True)
class LineRule:
    """A whole line that is boilerplate when it matches ``pattern`` (full match)."""

    name: str
    pattern: re.Pattern[str]


def _rule(name: str, pattern: str) -> LineRule:
    return LineRule(name, re.compile(pattern))


LINE_RULES: tuple[LineRule, ...] = (
    _rule("copyright", r"(?:ⓒ|©|\(c\)|Copyright)\s*(?:\d{4}(?:-\d{4})?\.?\s*)?(?:한경닷컴|한국경제|hankyung).*"),
    _rule("copyright", r".*무단\s*전재\s*(?:및|&|·)?\s*재?배포\s*금지.*"),
    _rule(
        "premium_copyright", r"한경 ?프리미엄9의 모든 콘텐츠는 한국경제신문의 저작물로 저작권법의 보호를 받습니다\.?"
    ),
    _rule("reaction_buttons", r"좋아요|싫어요|후속기사 원해요"),
    _rule("toolbar", r"기사 스크랩|스크랩|기사 공유|공유|댓글(?: \d+)?|글자크기(?: 조절)?|클린뷰|프린트"),
    _rule(
        "subscription_prompt",
        r"(?:한국경제|한경 ?프리미엄9|한경 ?PREMIUM9|모바일한경) ?(?:구독신청|구독하기|보기)"
        r"|.{2,12} 기자 구독(?:하기)?|기자 구독",
    ),
    _rule("advertisement", r"ADVERTISEMENT|AD|광고"),
    _rule("widget_heading", r"이 시각 관심정보|독자들의 PICK!|관련 ?뉴스|많이 본 뉴스|AI 기사요약"),
    # "사진=연합뉴스", "(사진=한경DB)", "/그래픽=전희성 기자": credits belong to images.
    _rule("photo_credit", r"[(\[/]?\s*(?:사진|그래픽|자료|영상|출처)\s*=\s*[^=]{1,40}?[)\]]?"),
    _rule("old_slogan", r"성공을 부르는 습관 한경닷컴"),
)

#: The reporter line is searched for among the body's last few lines only: after
#: it come only things the rules above remove.
_EMAIL_LINE_WINDOW = 3


@dataclass
class CleanResult:
    article: Article
    removed: Counter[str]


#: All rules as one pattern, one named group per rule, in order: one regex call per
#: line instead of one per rule (alternatives are tried in order, so the first rule
#: that matches the whole line wins, as with the rules one by one).
_ANY_RULE = re.compile("|".join(f"(?P<r{number}>{rule.pattern.pattern})" for number, rule in enumerate(LINE_RULES)))


def matching_rule(line: str) -> str | None:
    found = _ANY_RULE.fullmatch(line)
    return LINE_RULES[int(found.lastgroup[1:])].name if found and found.lastgroup else None


def _drop_boilerplate(lines: list[str], removed: Counter[str]) -> list[str]:
    kept = []
    for line in lines:
        if name := matching_rule(line):
            removed[name] += 1
        else:
            kept.append(line)
    return kept


def _take_email_lines(lines: list[str], removed: Counter[str]) -> tuple[list[str], list[tuple[str, str | None]]]:
    """Remove the reporter line(s) near the end; return them as (name, email) pairs."""
    pairs: list[tuple[str, str | None]] = []
    kept = list(lines)
    start = max(0, len(kept) - _EMAIL_LINE_WINDOW)
    for index in range(len(kept) - 1, start - 1, -1):
        line = kept[index]
        found = parse_email_line(line)
        if found:
            pairs = found + pairs
        elif is_bare_email(line):
            pairs = [("", line.strip()), *pairs]
        else:
            continue
        del kept[index]
        removed["email_line"] += 1
    return kept, pairs


def _merge_emails(authors: list[Author], pairs: list[tuple[str, str | None]]) -> list[Author]:
    merged = [replace(author) for author in authors]
    for name, email in pairs:
        match = next((a for a in merged if a.name == name), None)
        if match is None and not name:
            # A bare address: it belongs to the only reporter, if there is one.
            match = merged[0] if len(merged) == 1 else None
        if match is None and name:
            match = Author(name=name)
            merged.append(match)
        if match is not None and match.email is None:
            match.email = email
    return merged


def body_hash(body: str | None) -> str | None:
    return "sha256:" + hashlib.sha256(body.encode("utf-8")).hexdigest() if body else None


def clean_article(article: Article) -> CleanResult:
    """A copy of ``article`` with boilerplate removed and emails moved to authors."""
    removed: Counter[str] = Counter()
    lines = normalized_lines(article.articleBody or "")
    lines = _drop_boilerplate([line for line in lines if line], removed)
    lines, pairs = _take_email_lines(lines, removed)
    body = "\n\n".join(lines) or None
    summary = _drop_boilerplate([normalize_space(s) for s in article.summary or [] if s.strip()], removed)
    cleaned = replace(
        article,
        headline=normalize_space(article.headline) if article.headline else article.headline,
        summary=summary or None,
        authors=_merge_emails(article.authors, pairs),
        articleBody=body,
        articleBodyHash=body_hash(body),
    )
    return CleanResult(cleaned, removed)

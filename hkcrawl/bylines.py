"""Reporter bylines: ``정지은 기자``, ``뉴욕=김현석 특파원``, ``… 기자 jeong@hankyung.com``.

The page shows the role after the name (``data-name="정지은 기자"``, §3.1) and ends the
body with an email line (§3.2); the record keeps the bare name and the email.
"""

from __future__ import annotations

import re

# Longest first, so "선임기자" is not read as "선임" + "기자".
ROLE_WORDS = (
    "선임기자",
    "객원기자",
    "수습기자",
    "대기자",
    "기자",
    "특파원",
    "논설위원실장",
    "논설위원",
    "편집위원",
    "전문위원",
    "선임연구위원",
    "연구위원",
    "연구원",
    "칼럼니스트",
    "위원",
    "에디터",
    "PD",
)
_ROLE = "|".join(map(re.escape, ROLE_WORDS))
# "뉴욕=" / "워싱턴=" datelines before a correspondent's name.
_DATELINE = r"(?:[가-힣A-Za-z]{1,10}\s?=\s?)?"
_NAME = r"[가-힣]{2,5}|[A-Za-z][A-Za-z.\- ]{1,40}?"
_NAME_WITH_ROLE = re.compile(rf"^{_DATELINE}(?P<name>{_NAME})\s*(?:{_ROLE})?$")
# A byline as the page shows it: the role word is required ("정지은 기자", "뉴욕=김현석 특파원").
_BYLINE = re.compile(rf"^{_DATELINE}(?P<name>{_NAME})\s*(?:{_ROLE})$")
_EMAIL = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"
# One "<name> <role> <email>" group of an email line; names may be joined by "/" or "·".
_EMAIL_GROUP = re.compile(
    rf"{_DATELINE}(?P<names>(?:[가-힣]{{2,5}}\s*[/·,]\s*)*[가-힣]{{2,5}})\s*(?:{_ROLE})\s*(?P<email>{_EMAIL})"
)
_EMAIL_ONLY = re.compile(rf"^\s*(?P<email>{_EMAIL})\s*$")


def strip_role(byline: str) -> str:
    """``'정지은 기자'`` -> ``'정지은'``; ``'뉴욕=김현석 특파원'`` -> ``'김현석'``."""
    text = " ".join(byline.split())
    match = _NAME_WITH_ROLE.match(text)
    return match.group("name").strip() if match else text


def name_from_byline(text: str) -> str | None:
    """The name in a byline that ends with a role word, else None: the check that
    tells a reporter's byline from any short text near the headline."""
    match = _BYLINE.match(" ".join(text.split()))
    return match.group("name").strip() if match else None


def parse_email_line(line: str) -> list[tuple[str, str]] | None:
    """``[(name, email), …]`` if the whole line is a byline-with-email, else None.

    Only a line made of nothing but such groups qualifies, so a body sentence that
    happens to quote an address is left alone.
    """
    if "@" not in line:
        return None  # every group ends in an address; skips the regex scan of body lines
    pairs: list[tuple[str, str]] = []
    position = 0
    text = line.strip()
    for match in _EMAIL_GROUP.finditer(text):
        if text[position : match.start()].strip(" ,/·|"):
            return None
        for name in re.split(r"\s*[/·,]\s*", match.group("names")):
            pairs.append((name, match.group("email")))
        position = match.end()
    if not pairs or text[position:].strip(" ,/·|"):
        return None
    return pairs


def is_bare_email(line: str) -> bool:
    return "@" in line and bool(_EMAIL_ONLY.match(line))

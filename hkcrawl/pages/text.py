"""Text helpers shared by the page parsers: block-aware text and KST dates."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

from lxml import etree

KST = timezone(timedelta(hours=9), "KST")

# Elements whose start and end break a line, as a browser would lay them out.
_BLOCK_TAGS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "dd",
        "div",
        "dl",
        "dt",
        "figure",
        "figcaption",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "ul",
    ]
)
# Source newlines are spaces, as in a browser; only <br> and blocks break lines.
_BREAK = "\u2029"
_SPACE = r"[ \t\r\f\v\u00a0\u2000-\u200b\u3000\ufeff]"
# Every run of _SPACE becomes one " ". A lone " " already is one, so only the runs
# that change are matched: not replacing each word gap halves the time on bodies.
_SPACES = re.compile(rf"[\t\r\f\v\u00a0\u2000-\u200b\u3000\ufeff]{_SPACE}*| {_SPACE}+")


def has_class(element: etree._Element, *names: str) -> bool:
    classes = (element.get("class") or "").split()
    return any(name in classes for name in names)


def text_lines(
    element: etree._Element,
    skip: Iterable[str] = (),
    skip_classes: Iterable[str] = (),
    skip_elements: frozenset[etree._Element] = frozenset(),
) -> list[str]:
    """Visible text of ``element`` as lines, one per ``<br>`` or block element.

    hankyung bodies are mostly bare text separated by ``<br><br>`` (§3.1), sometimes
    ``<p>``; both end up as one line per paragraph. Elements in ``skip`` (tag names)
    or carrying a class in ``skip_classes``, and the ``skip_elements`` themselves
    (found by their text, whatever their class), contribute nothing, but the text
    after them (their tail) is kept: it is the next paragraph.
    """
    skip_tags = frozenset(skip)
    skip_class_set = frozenset(skip_classes)
    pieces: list[str] = []
    append = pieces.append
    # An explicit stack, not recursion: the page decides how deep the tree is (libxml2
    # nests up to ~2,000 levels, twice Python's recursion limit). It holds elements
    # still to visit and strings (closing breaks, tails) to emit once the elements
    # above them on the stack are done; children go on in reverse so the first pops first.
    stack: list[etree._Element | str] = [element]
    pop, push, extend = stack.pop, stack.append, stack.extend
    while stack:
        node = pop()
        if isinstance(node, str):
            append(node)
            continue
        tag = node.tag
        if not isinstance(tag, str):  # comments, processing instructions
            tag = ""
            skipped = True
        else:
            classes = node.get("class") if skip_class_set else None
            skipped = tag in skip_tags or bool(classes and skip_class_set.intersection(classes.split()))
            if skip_elements and not skipped:
                skipped = node in skip_elements
        if node.tail and node is not element:
            push(node.tail.replace("\n", " "))
        if not skipped:
            if tag == "br":
                append(_BREAK)
            else:
                block = tag in _BLOCK_TAGS
                if block:
                    append(_BREAK)
                    push(_BREAK)
                if node.text:
                    append(node.text.replace("\n", " "))
                extend(reversed(node))
        elif tag in _BLOCK_TAGS:
            append(_BREAK)  # a hidden block still separates the text around it
    return [line for line in normalized_lines("".join(pieces), _BREAK) if line]


def normalize_space(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def normalized_lines(text: str, separator: str = "\n") -> list[str]:
    """``[normalize_space(line) for line in text.split(separator)]``, faster.

    One substitution over the whole text instead of one per line; ``_SPACES``
    never matches ``\\n`` or ``_BREAK``, so each line comes out the same.
    """
    return [line.strip() for line in _SPACES.sub(" ", text).split(separator)]


_DOTTED_DATE = re.compile(
    r"(?P<y>(?:19|20)\d\d)[.\-/]\s*(?P<m>\d{1,2})[.\-/]\s*(?P<d>\d{1,2})\.?\s*"
    r"(?:(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?"
)


class BadDate(ValueError):
    """A date is there but unusable: not a date, impossible, or outside :func:`checked_kst`'s range."""


#: hankyung.com went online in the 1990s; nothing it shows as 입력 is older than this.
EARLIEST = datetime(1990, 1, 1, tzinfo=KST)
#: Clocks and time zones can put a fresh article a little ahead of ours; more is a broken page.
FUTURE_SLACK = timedelta(days=2)


def checked_kst(moment: datetime) -> str:
    """``moment`` as ISO 8601 in KST to the second; BadDate outside 1990 … now + 2 days.

    Pages can carry any year (``0001-01-01T00:00:00+14:00`` overflows on conversion);
    such a date must become a counted problem, never an exception or a bogus record.
    """
    try:
        kst = moment.astimezone(KST)
        if not EARLIEST <= kst <= datetime.now(KST) + FUTURE_SLACK:
            raise BadDate(f"{moment.isoformat()} is outside 1990 … now + 2 days")
    except OverflowError as error:
        raise BadDate(f"{moment!r} cannot be expressed in KST") from error
    return kst.isoformat(timespec="seconds")


def kst_from_text(text: str | None) -> str | None:
    """``2022.06.17 17:48`` (the site's display format, KST) -> ISO 8601 +09:00.

    None when the text holds no date; BadDate when it holds an impossible or out-of-range one.
    """
    if not text:
        return None
    match = _DOTTED_DATE.search(text)
    if not match:
        return None
    try:
        moment = datetime(
            int(match["y"]),
            int(match["m"]),
            int(match["d"]),
            int(match["H"] or 0),
            int(match["M"] or 0),
            int(match["S"] or 0),
            tzinfo=KST,
        )
    except ValueError as error:
        raise BadDate(f"{match[0]!r}: {error}") from error
    return checked_kst(moment)


def kst_from_iso(value: object) -> str | None:
    """An ISO 8601 timestamp from JSON-LD, re-expressed in KST; naive ones are KST.

    None when there is no value (absent, blank); BadDate for anything else that is not
    a usable date (a number, an object, unparseable text, out of range).
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise BadDate(f"a {type(value).__name__}, not a date string")
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        if found := kst_from_text(value):
            return found
        raise BadDate(f"{value[:40]!r} is not a date") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=KST)
    return checked_kst(moment)


def kst_or_none(value: object) -> str | None:
    """:func:`kst_from_iso` for callers that only want a usable date or nothing (list pages)."""
    try:
        return kst_from_iso(value)
    except BadDate:
        return None

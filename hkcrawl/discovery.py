"""Which lists a rerun reads: the latest sitemap first, the list walk only when it may add something.

On the live site every request costs about 2 s, and a steady-state cron run used to
spend more of them on list pages (the first page of every section and sub-section)
than on the new articles themselves. The latest sitemap is one request and lists every
article of its window (the last 48 h on hankyung.com, newest first, up to 1000 entries;
hankyung-site.md §2.2). When that window reaches back past the newest article an
earlier run exported, everything published since is in it, and the section lists can
only repeat it. One list page (``/all-news``, the newest articles of every section)
is still read as a canary: an article on it that is neither known nor in the sitemap
means the sitemap is not to be trusted this time, and the lists are walked as before.

These are pure decisions; the spider fetches, counts (``hkcrawl/discovery/<name>``)
and logs them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from hkcrawl.pages.text import KST

ECONOMICAL, THOROUGH = "economical", "thorough"
DISCOVERY_COSTS = (ECONOMICAL, THOROUGH)


@dataclass(frozen=True)
class Decision:
    """``name`` is the counter's last part; ``walk_lists``: read the section lists (and
    /all-news) as a first run does, with the usual paging stops."""

    name: str
    walk_lists: bool
    why: str


def before_sitemap(cost: str, newest_known: str | None, last_run_status: str | None) -> Decision | None:
    """The decision that needs no sitemap, or None: fetch the latest sitemap and ask :func:`after_sitemap`."""
    if cost not in DISCOVERY_COSTS:
        raise ValueError(f"HKCRAWL_DISCOVERY={cost!r}: choose one of {', '.join(DISCOVERY_COSTS)}")
    if cost == THOROUGH:
        return Decision("thorough", True, "HKCRAWL_DISCOVERY=thorough")
    if newest_known is None:
        return Decision("first_run", True, "no article is known yet")
    if last_run_status != "ok":
        # A run that was killed, blocked or failed may have stopped before its lists:
        # what it never saw can be older than the newest article it did export.
        return Decision("previous_run_incomplete", True, f"the last run ended {last_run_status or 'unfinished'}")
    return None


def after_sitemap(newest_known: str, published: Iterable[str | None]) -> Decision:
    """Does the latest sitemap reach back past the newest known article?

    Strictly before it: at the same minute a capped sitemap may have cut some articles.
    """
    times = [moment for text in published if text and (moment := _moment(text)) is not None]
    known = _moment(newest_known)
    if not times or known is None:
        return Decision("sitemap_undated", True, "the latest sitemap gave no publish times to compare")
    oldest = min(times)
    if oldest < known:
        return Decision(
            "sitemap_covers",
            False,
            f"the latest sitemap reaches back to {oldest.isoformat()}, before the newest known article "
            f"({newest_known}): it lists everything new; one list page checks it",
        )
    return Decision(
        "gap_too_long",
        True,
        f"the latest sitemap starts at {oldest.isoformat()}, after the newest known article ({newest_known}): "
        "articles published in between are only in the lists",
    )


def sitemap_gap(unlisted: list[str]) -> Decision | None:
    """The canary's verdict: None when every article on it was known or listed."""
    if not unlisted:
        return None
    shown = ", ".join(unlisted[:5]) + (" …" if len(unlisted) > 5 else "")
    return Decision("sitemap_gap", True, f"{len(unlisted)} article(s) on /all-news missing from the sitemap: {shown}")


def _moment(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=KST)  # the site's times are KST

"""Did the run do its job? One pure function over what the run saw, and the summary lines.

Users build datasets on the word "ok", so "ok" needs evidence: pages were reached,
articles were found where articles were expected, what was tried was saved, and
the site did not block or drift. :class:`hkcrawl.run.Run` gathers the facts and
asks :func:`failure_reason`; the crawl command turns the answer into an exit status.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from scrapy.settings import BaseSettings

from hkcrawl.middlewares.challenge import BLOCKED_REASON

#: Close reasons of a crawl that ended normally.
OK_REASONS = frozenset({"finished", "max_articles", "closespider_itemcount"})


@dataclass
class RunFacts:
    """What a run saw, beyond Scrapy's stats: distinct URLs, not requests (retries of one
    URL are one URL), and articles by what finally became of them."""

    own_failure: str | None = None  # the run itself failed: files, lock, unreachable site
    urls_tried: int = 0
    urls_failed: int = 0
    lists_expected: bool = False  # discovery ran, so article links were expected
    article_links: int = 0  # article links seen in lists (known ones too) and given URLs
    articles_tried: int = 0  # article ids fetched (a resumed JOBDIR run reads no list, say)
    unsaved: Counter[str] = field(default_factory=Counter)  # reason -> articles tried, not saved
    last_run_with_new: str | None = None


def with_prefix(stats: dict[str, Any], prefix: str) -> dict[str, int]:
    """The counters under ``prefix``, keyed by the rest of their name, sorted."""
    return {key[len(prefix) :]: value for key, value in sorted(stats.items()) if key.startswith(prefix)}


def _line(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts.items()) or "none"


def failure_reason(stats: dict[str, Any], facts: RunFacts, settings: BaseSettings) -> str | None:
    """Why this run counts as failed, or None when it did its job."""
    if facts.own_failure:
        return facts.own_failure
    reason = stats.get("finish_reason")
    if reason == BLOCKED_REASON:
        return "blocked by the site (Cloudflare challenges)"
    if reason is not None and reason not in OK_REASONS:
        return f"the crawl ended early: {reason}"
    if stats.get("hkcrawl/errors/nothing_to_crawl"):
        return "nothing to crawl (no URLs and no discovery)"
    if facts.urls_tried == 0:
        rejected = sum(with_prefix(stats, "hkcrawl/rejected_urls/").values())
        if rejected:
            return f"nothing was fetched: all {rejected} given URL(s) were rejected (see hkcrawl/rejected_urls/*)"
        if facts.lists_expected or facts.article_links:
            return "nothing was fetched"
    if not stats.get("response_received_count") and facts.urls_tried:
        return f"no page of the site could be reached ({facts.urls_tried} URL(s) tried)"
    if facts.urls_tried and facts.urls_failed == facts.urls_tried:
        return f"every one of the {facts.urls_tried} URL(s) tried failed"
    max_rate = settings.getfloat("HKCRAWL_MAX_ERROR_RATE")
    if facts.urls_tried and facts.urls_failed / facts.urls_tried > max_rate:
        return f"{facts.urls_failed} of {facts.urls_tried} URLs failed (over HKCRAWL_MAX_ERROR_RATE={max_rate:g})"
    if facts.lists_expected and not facts.article_links and not facts.articles_tried:
        lists = sum(v for k, v in with_prefix(stats, "hkcrawl/lists/").items() if not k.startswith("stopped/"))
        return f"no article link found: {lists} list page(s) and sitemap(s) read, none listed an article"
    if unrendered := stats.get("hkcrawl/render/unavailable"):
        return f"{unrendered} page(s) needed JavaScript but no browser was found (see the log's first warning)"
    if raised := stats.get("spider_exceptions/count"):
        # A bug or a page shape nothing planned for: what that page listed or held may be
        # missing, and the next run walks every list again (it follows a failed run).
        return (
            f"{raised} page(s) raised an error while being handled (see the log's tracebacks): "
            "links or records may be missing"
        )
    if unreadable := stats.get("hkcrawl/frontier/unreadable"):
        return (
            f"{unreadable} entr(ies) of the shared queue could not be read and were dropped "
            "(not requests hkcrawl wrote)"
        )
    unsaved = sum(facts.unsaved.values())
    if unsaved > settings.getint("HKCRAWL_MAX_UNSAVED_ARTICLES"):
        reasons = ", ".join(f"{why} {count}" for why, count in facts.unsaved.most_common())
        return (
            f"{unsaved} article(s) could not be saved ({reasons}); they are remembered and "
            f"fetched again by the next run (report: failedArticles)"
        )
    pages = stats.get("hkcrawl/pages/article", 0)
    invalid = stats.get("hkcrawl/dropped/invalid", 0)
    if pages >= 20 and (pages - invalid) / pages < settings.getfloat("HKCRAWL_MIN_VALID_RATE"):
        return (
            f"layout drift: only {pages - invalid} of {pages} article pages gave a valid record "
            f"(see hkcrawl/dropped/missing_* and docs/site-markup.md)"
        )
    window = settings.getfloat("HKCRAWL_EXPECT_NEW_WITHIN_HOURS")
    last = facts.last_run_with_new
    quiet_since = datetime.fromisoformat(last.replace("Z", "+00:00")) if last else None
    stale = quiet_since is not None and quiet_since < datetime.now(UTC) - timedelta(hours=window)
    if window > 0 and stale and not stats.get("hkcrawl/exported/new"):
        return f"no new article since {last} (more than HKCRAWL_EXPECT_NEW_WITHIN_HOURS={window:g} h)"
    return None


def summary_lines(stats: dict[str, Any], facts: RunFacts) -> list[str]:
    exported = stats.get("item_scraped_count", 0)
    lists = with_prefix(stats, "hkcrawl/lists/")
    lists_read = sum(count for name, count in lists.items() if not name.startswith("stopped/"))
    problems = {k: v for k, v in with_prefix(stats, "hkcrawl/pages/").items() if k != "article"}
    return [
        f"exported {exported} article(s); by section: {_line(with_prefix(stats, 'hkcrawl/exported/section/'))}",
        f"dropped: {_line(with_prefix(stats, 'hkcrawl/dropped/'))}; not saved: {_line(dict(facts.unsaved))}",
        f"blocks: {_line(with_prefix(stats, 'hkcrawl/blocks/'))}; "
        f"errors: {_line(with_prefix(stats, 'hkcrawl/errors/'))}, "
        f"spider exceptions {stats.get('spider_exceptions/count', 0)}; off-site refused: "
        f"{_line(with_prefix(stats, 'hkcrawl/offsite/'))}; page problems: {_line(problems)}",
        f"URLs tried {facts.urls_tried}, failed {facts.urls_failed}; requests "
        f"{stats.get('downloader/request_count', 0)}, list pages read {lists_read}, "
        f"finish reason {stats.get('finish_reason')}",
    ]

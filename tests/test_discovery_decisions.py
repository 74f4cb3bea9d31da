"""hkcrawl.discovery: when a rerun may skip the section lists (README "Scheduled runs")."""

from __future__ import annotations

import pytest

from hkcrawl import discovery

KNOWN = "2026-11-20T09:00:00+09:00"


@pytest.mark.parametrize(
    ("cost", "newest_known", "last_status", "name"),
    [
        ("thorough", KNOWN, "ok", "thorough"),
        ("economical", None, None, "first_run"),
        ("economical", KNOWN, None, "previous_run_incomplete"),  # killed: no status
        ("economical", KNOWN, "blocked", "previous_run_incomplete"),
        ("economical", KNOWN, "failed", "previous_run_incomplete"),
    ],
)
def test_lists_are_walked_without_asking_the_sitemap(
    cost: str, newest_known: str | None, last_status: str | None, name: str
) -> None:
    decision = discovery.before_sitemap(cost, newest_known, last_status)
    assert decision is not None and (decision.name, decision.walk_lists) == (name, True)


def test_after_an_ok_run_the_sitemap_decides() -> None:
    assert discovery.before_sitemap("economical", KNOWN, "ok") is None


def test_an_unknown_cost_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="economical, thorough"):
        discovery.before_sitemap("cheap", KNOWN, "ok")


@pytest.mark.parametrize(
    ("published", "name", "walk"),
    [
        (["2026-11-20T18:00:00+09:00", "2026-11-20T08:59:00+09:00"], "sitemap_covers", False),
        (["2026-11-20T18:00:00+09:00", KNOWN], "gap_too_long", True),  # a tie: a capped sitemap may cut that minute
        (["2026-11-20T18:00:00+09:00", "2026-11-20T09:01:00+09:00"], "gap_too_long", True),
        ([None, "not a time"], "sitemap_undated", True),
        ([], "sitemap_undated", True),
    ],
)
def test_the_sitemap_covers_what_is_new_only_when_it_reaches_back_past_the_newest_known(
    published: list[str | None], name: str, walk: bool
) -> None:
    decision = discovery.after_sitemap(KNOWN, published)
    assert (decision.name, decision.walk_lists) == (name, walk)


def test_times_compare_across_offsets_and_without_one_are_the_sites_kst() -> None:
    assert discovery.after_sitemap(KNOWN, ["2026-11-19T23:59:00Z"]).name == "sitemap_covers"  # 08:59 KST
    assert discovery.after_sitemap(KNOWN, ["2026-11-20T00:00:00Z"]).name == "gap_too_long"  # 09:00 KST
    assert discovery.after_sitemap(KNOWN, ["2026-11-20T08:00:00"]).name == "sitemap_covers"
    assert discovery.after_sitemap(KNOWN, ["2026-11-20T10:00:00"]).name == "gap_too_long"


def test_the_canary_flags_unlisted_articles() -> None:
    assert discovery.sitemap_gap([]) is None
    gap = discovery.sitemap_gap([f"20261120{n:04d}1" for n in range(7)])
    assert gap is not None and (gap.name, gap.walk_lists) == ("sitemap_gap", True)
    assert "7 article(s)" in gap.why and gap.why.endswith(" …")

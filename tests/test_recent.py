"""Bounded memory of the latest keys: what it keeps, what it forgets."""

from __future__ import annotations

import pytest

from hkcrawl.recent import RecentMap, RecentSet


def test_a_set_keeps_the_latest_keys_and_says_when_one_is_new() -> None:
    recent: RecentSet[str] = RecentSet(3)
    assert [recent.add(key) for key in "abc"] == [True, True, True]
    assert recent.add("a") is False  # "a" is now the latest
    assert recent.add("d") is True  # "b" was the oldest: forgotten
    assert "b" not in recent and all(key in recent for key in "acd")
    assert len(recent) == 3
    assert recent.add("b") is True  # met again after it was forgotten: new


def test_a_map_keeps_the_latest_values() -> None:
    recent: RecentMap[str, bool] = RecentMap(2)
    recent["x"] = False
    recent["y"] = True
    recent["x"] = True  # setting makes it the latest
    recent["z"] = False
    assert recent.get("y") is None and recent.get("x") is True and recent.get("z") is False
    assert len(recent) == 2


def test_memory_stays_bounded_over_a_million_keys() -> None:
    recent: RecentSet[int] = RecentSet(1000)
    for key in range(1_000_000):
        recent.add(key)
    assert len(recent) == 1000 and 999_999 in recent and 0 not in recent


def test_a_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="1 or more"):
        RecentSet(0)

"""Bounded memory of the latest keys a crawl met: membership, and a value per key.

A crawl remembers ids and URLs to avoid doing work twice (asking for an article again,
counting a URL's retry as another URL). Kept for the whole crawl, those sets grow with
every article: a back-fill of millions would keep hundreds of megabytes for answers
that only matter within minutes (a repeat link, a retry, a re-render). These keep the
latest ``size`` keys instead; what falls out is met again only long after, where the
request filter (Scrapy's or, distributed, Redis's) still drops the repeat.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

#: Keys kept by default (the setting HKCRAWL_RECENT_KEYS): ~200 bytes each, ~2 MB a set.
DEFAULT_SIZE = 10_000


class RecentMap(Generic[K, V]):
    """A dict of the latest ``size`` keys set; setting a key makes it the latest."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        if size < 1:
            raise ValueError(f"size must be 1 or more, not {size}")
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: K, default: V | None = None) -> V | None:
        return self._items.get(key, default)

    def __setitem__(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        if len(self._items) > self.size:
            self._items.popitem(last=False)


class RecentSet(Generic[K]):
    """A set of the latest ``size`` keys added."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self._keys: RecentMap[K, None] = RecentMap(size)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, key: K) -> bool:
        """Add ``key``; True when it was not there (new, or forgotten since)."""
        new = key not in self._keys
        self._keys[key] = None
        return new

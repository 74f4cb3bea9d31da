"""Distributed mode: one switch (``-s HKCRAWL_REDIS_URL=redis://host:6379/0``) shares the frontier.

An add-on, because add-ons change settings before Scrapy freezes them, whatever the
spider. It only writes setting values (import paths as strings), so a crawl without
the switch never imports scrapy-redis nor needs Redis.
"""

from __future__ import annotations

from typing import Any

from scrapy.utils.misc import load_object


class RedisFrontier:
    """Turns on scrapy-redis's scheduler and request filter when ``HKCRAWL_REDIS_URL`` is set.

    Every worker started with the same URL then takes requests from one queue and
    drops what any worker has already requested. Values are set at add-on priority,
    so ``-s`` still overrides each of them (e.g. ``-s SCHEDULER_PERSIST=False``).
    """

    def update_settings(self, settings: Any) -> None:
        url = settings.get("HKCRAWL_REDIS_URL")
        if not url:
            return
        settings.set("REDIS_URL", url, priority="addon")
        settings.set("SCHEDULER", "hkcrawl.redis_scheduler.SharedScheduler", priority="addon")
        settings.set("DUPEFILTER_CLASS", "scrapy_redis.dupefilter.RFPDupeFilter", priority="addon")
        # The in-flight bookkeeping (hkcrawl/frontier.py) pops this queue's sorted set itself.
        settings.set("SCHEDULER_QUEUE_CLASS", "scrapy_redis.queue.PriorityQueue", priority="addon")
        # Keep queue and seen-set when a worker closes: the last worker leaving must not wipe
        # what others (or a resumed crawl) still need; the next crawl clears them as it begins.
        settings.set("SCHEDULER_PERSIST", True, priority="addon")
        # Each worker's counters in Redis for `hkcrawl watch` (hkcrawl/worker_stats.py).
        stats = load_object("hkcrawl.worker_stats.WorkerStats")
        settings.setdefault_in_component_priority_dict("EXTENSIONS", stats, 520)

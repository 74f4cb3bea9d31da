"""``hkcrawl seed``: begin a shared crawl (Redis) from the requests a back-fill needs.

The workers (``scrapy crawl hankyung -s HKCRAWL_REDIS_URL=…``) that join a seeded crawl
only work its queue: they add none of their own start requests. The requests are the
spider's own (``HankyungSpider.seed_requests``: for ``--since/--until`` with the sitemap,
the daily sitemap of each day), queued and marked seen the way scrapy-redis does, so a
worker takes them as if one of them had found them.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from typing import Any

#: The spider's arguments a seed takes, as ``--name``.
SEED_ARGUMENTS = ("since", "until", "discover", "sections")


def add_parser(commands: Any) -> None:
    seed = commands.add_parser(
        "seed",
        help="begin a shared crawl (Redis) with the requests for a date range, e.g. a back-fill's daily sitemaps",
    )
    seed.add_argument("--redis", required=True, metavar="URL", help="the workers' HKCRAWL_REDIS_URL")
    seed.add_argument("--since", help="first KST day, YYYY-MM-DD (as -a since=)")
    seed.add_argument("--until", help="last KST day, YYYY-MM-DD (as -a until=; default today)")
    seed.add_argument(
        "--discover", help="where to find articles (as -a discover=; default: sitemap with --since, else the spider's)"
    )
    seed.add_argument("--sections", help="section lists to walk (as -a sections=)")
    seed.add_argument("--add", action="store_true", help="add to the active crawl instead of refusing")
    seed.add_argument("--base-url", help="the site (default: the HANKYUNG_BASE_URL setting), e.g. the replica")
    seed.set_defaults(handler=seed_command)


def seed_command(args: argparse.Namespace) -> int:
    from hkcrawl.spiders.arguments import BadArgument, parse_arguments

    given = {name: getattr(args, name) for name in SEED_ARGUMENTS if getattr(args, name)}
    if args.since and not args.discover:
        given["discover"] = "sitemap"  # a back-fill reads the daily sitemaps
    try:
        parse_arguments(given)
    except BadArgument as error:
        print(f"hkcrawl seed: {str(error).replace('-a ', '--', 1)}", file=sys.stderr)
        return 2
    import redis

    from hkcrawl.redis_url import shown_url

    try:
        return _seed(args, given)
    except (redis.ConnectionError, redis.TimeoutError) as error:
        print(f"hkcrawl seed: Redis at {shown_url(args.redis)} cannot be reached ({error})", file=sys.stderr)
        return 1


def _seed(args: argparse.Namespace, given: dict[str, str]) -> int:
    import redis
    from scrapy.crawler import Crawler
    from scrapy.utils.project import get_project_settings
    from scrapy_redis import defaults
    from scrapy_redis.dupefilter import RFPDupeFilter
    from scrapy_redis.queue import PriorityQueue

    from hkcrawl.frontier import BUSY_KEY, Frontier
    from hkcrawl.spiders.hankyung import HankyungSpider

    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "hkcrawl.settings")
    settings = get_project_settings()
    if args.base_url:
        settings.set("HANKYUNG_BASE_URL", args.base_url, priority="cmdline")
    spider = HankyungSpider(**given, render="never")
    spider._set_crawler(Crawler(HankyungSpider, settings))  # what the spider reads: its settings
    # No run of its own (a worker's); set, so that serialising a request, which looks at
    # every attribute of the spider for the callback, does not try to build it.
    vars(spider)["run"] = None
    requests = list(spider.seed_requests())

    server = redis.Redis.from_url(args.redis, socket_connect_timeout=10, socket_timeout=30)
    queue_key = (settings.get("SCHEDULER_QUEUE_KEY") or defaults.SCHEDULER_QUEUE_KEY) % {"spider": spider.name}
    seen_key = (settings.get("SCHEDULER_DUPEFILTER_KEY") or defaults.SCHEDULER_DUPEFILTER_KEY) % {"spider": spider.name}
    worker = f"seed:{socket.gethostname()}:{os.getpid()}"
    frontier = Frontier(server, spider.name, worker, queue_key, seen_key, ttl=30)
    active = frontier.active_crawl()
    if active and not args.add:
        print(
            f"hkcrawl seed: crawl {active.get('id')} is active (started {active.get('started')}, "
            f"{server.zcard(queue_key)} requests queued): let it finish, or give --add to add to it",
            file=sys.stderr,
        )
        return 1
    # Busy while it fills the queue: a worker that joins meanwhile must not end the crawl.
    busy_key = BUSY_KEY % {"spider": spider.name, "worker": worker}
    server.set(busy_key, "1", ex=300)
    crawl = frontier.begin_or_join(seeded=True)
    queue = PriorityQueue(server, spider, queue_key)
    seen = RFPDupeFilter(server, key=seen_key)
    queued = 0
    for request in requests:
        if frontier.push(seen.request_fingerprint(request), -request.priority, queue._encode_request(request)):
            queued += 1
    server.delete(busy_key)
    what = "began" if crawl.began else "added to"
    print(f"Queued {queued} request(s) ({len(requests) - queued} already seen): {what} crawl {crawl.id}")
    return 0

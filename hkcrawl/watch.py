"""``hkcrawl watch``: a distributed crawl's progress, read from its Redis.

Reads what the workers share (the frontier, the seen-set, the shared run state when
there is one) and what each publishes about itself (hkcrawl/worker_stats.py). A worker
named in ``hankyung:workers`` whose stats hash has expired stopped writing without
closing: it died, and is shown as gone with the counters this watch last saw.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any, TextIO

from hkcrawl.redis_url import shown_url

SPIDER = "hankyung"
#: What each worker publishes (hkcrawl/worker_stats.py), with the spider's name in front
#: as scrapy-redis's own keys: one hash per worker, and the names of all of them.
STATS_KEY = "%(spider)s:stats:%(worker)s"
WORKERS_KEY = "%(spider)s:workers"
#: Keys counted as they are, when they exist (the shared run state creates the last two).
QUEUE_KEY = f"{SPIDER}:requests"
SEEN_KEY = f"{SPIDER}:dupefilter"
SHARED_KEYS = {"known": f"{SPIDER}:known", "failures": f"{SPIDER}:failures"}
#: Redis calls that count a key's members, by the key's type.
SIZE_COMMANDS = {"zset": "zcard", "list": "llen", "set": "scard", "hash": "hlen"}
COUNTERS = ("requests", "pages", "articles", "failed")


@dataclass
class Worker:
    name: str
    state: str  # running, idle, finished, failed; gone: its hash expired
    requests: int = 0
    pages: int = 0
    articles: int = 0
    failed: int = 0
    rate: float = 0.0  # pages/s over the last interval
    started: float | None = None
    updated: float | None = None  # epoch seconds of its last write
    failure: str | None = None


@dataclass
class View:
    """One reading of the crawl; ``known`` and ``failures`` are None when the keys do not exist."""

    time: float
    queue: int
    seen: int
    known: int | None
    failures: int | None
    workers: list[Worker] = field(default_factory=list)

    def totals(self) -> dict[str, float]:
        totals: dict[str, float] = {name: sum(getattr(w, name) for w in self.workers) for name in COUNTERS}
        totals["rate"] = round(sum(w.rate for w in self.workers if w.state in ("running", "idle")), 2)
        starts = [w.started for w in self.workers if w.started]
        ends = [w.updated for w in self.workers if w.updated]
        span = max(ends) - min(starts) if starts and ends else 0.0
        # The crawl's pages/s from the first worker's start to the latest write.
        totals["overall_rate"] = round(totals["pages"] / span, 2) if span > 0 else 0.0
        return totals

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "totals": self.totals()}


def _size(client: Any, key: str) -> int | None:
    kind = client.type(key)
    kind = kind.decode() if isinstance(kind, bytes) else kind
    command = SIZE_COMMANDS.get(kind)
    return getattr(client, command)(key) if command else None


def _number(record: dict[str, str], name: str, kind: type = int) -> Any:
    try:
        value = float(record[name])
        if not math.isfinite(value):  # "inf" is no worker's, and no JSON
            return None
        return kind(value)
    except (KeyError, ValueError, TypeError):  # absent, or a value no worker wrote
        return None


class Watcher:
    """Reads views; remembers the last one, for rates between readings and for the gone."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.last: dict[str, Worker] = {}

    def read(self) -> View:
        client = self.client
        view = View(
            time=round(time.time(), 3),
            queue=_size(client, QUEUE_KEY) or 0,
            seen=_size(client, SEEN_KEY) or 0,
            known=_size(client, SHARED_KEYS["known"]),
            failures=_size(client, SHARED_KEYS["failures"]),
        )
        names = sorted(client.smembers(WORKERS_KEY % {"spider": SPIDER}))
        pipe = client.pipeline()
        for name in names:
            pipe.hgetall(STATS_KEY % {"spider": SPIDER, "worker": name})
        # A key no worker wrote (another type) reads as an error: that worker is shown unreadable.
        for name, record in zip(names, pipe.execute(raise_on_error=False), strict=True):
            view.workers.append(
                Worker(name, "unreadable") if isinstance(record, Exception) else self._worker(name, record)
            )
        self.last = {w.name: w for w in view.workers}
        return view

    def _worker(self, name: str, record: dict[str, str]) -> Worker:
        before = self.last.get(name)
        if not record:
            gone = Worker(name, "gone")
            if before is not None:
                gone = Worker(**{**asdict(before), "state": "gone", "rate": 0.0})
            return gone
        worker = Worker(
            name,
            record.get("state", "?"),
            **{counter: _number(record, counter) or 0 for counter in COUNTERS},
            rate=_number(record, "rate", float) or 0.0,
            started=_number(record, "started", float),
            updated=_number(record, "updated", float),
            failure=record.get("failure"),
        )
        # Between two readings of this watch, the rate over that span (a longer interval
        # than the worker's own is steadier); the worker's own until then.
        if before is not None and before.updated and worker.updated and worker.updated > before.updated:
            worker.rate = round((worker.pages - before.pages) / (worker.updated - before.updated), 2)
        if worker.state in ("finished", "failed"):
            worker.rate = 0.0
        return worker


def _ago(view: View, worker: Worker) -> str:
    return f"{max(view.time - worker.updated, 0):.0f} s ago" if worker.updated else "-"


def table(view: View) -> list[str]:
    """The view as lines of text, for a terminal or a log."""
    totals = view.totals()
    head = f"queue {view.queue:,} | seen {view.seen:,}"
    if view.known is not None:
        head += f" | known {view.known:,}"
    if view.failures is not None:
        head += f" | failures {view.failures:,}"
    rows = [("worker", "state", "articles", "failed", "pages", "pages/s", "last seen")]
    for w in view.workers:
        counts = (f"{w.articles:,}", f"{w.failed:,}", f"{w.pages:,}", f"{w.rate:.1f}")
        rows.append((w.name, w.state, *counts, _ago(view, w)))
    rows.append(
        ("total", f"{len(view.workers)} workers", f"{totals['articles']:,}", f"{totals['failed']:,}",
         f"{totals['pages']:,}", f"{totals['rate']:.1f}", f"overall {totals['overall_rate']:.1f} pages/s")
    )  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [head]
    for row in rows:
        pairs = enumerate(zip(row, widths, strict=True))
        cells = [cell.ljust(width) if i < 2 else cell.rjust(width) for i, (cell, width) in pairs]
        lines.append("  ".join(cells).rstrip())
    lines += [f"{w.name} failed: {w.failure}" for w in view.workers if w.failure]
    return lines


class Screen:
    """Shows each view: redrawn in place on a terminal, one after another elsewhere."""

    def __init__(self, stream: TextIO, as_json: bool) -> None:
        self.stream = stream
        self.as_json = as_json
        from hkcrawl.progress import is_terminal  # the crawl's own test; its module is not light

        self.in_place = not as_json and is_terminal(stream)
        self.shown = 0  # lines on screen to redraw over

    def show(self, view: View) -> None:
        if self.as_json:
            self.stream.write(json.dumps(view.as_json(), ensure_ascii=False) + "\n")
        else:
            lines = table(view)
            if self.in_place and self.shown:
                # Up to the first line of the last table, erase from there down.
                self.stream.write(f"\x1b[{self.shown}F\x1b[J")
            elif self.shown:
                self.stream.write("\n")
            self.stream.write("\n".join(lines) + "\n")
            self.shown = len(lines)
        self.stream.flush()


def watch(url: str, interval: float, once: bool, as_json: bool, stream: TextIO = sys.stdout) -> int:
    """Show views every ``interval`` seconds until Ctrl-C (or one, ``once``); 1 when Redis cannot be read."""
    import redis  # only this command needs it

    try:
        client = redis.Redis.from_url(
            # encoding_errors: bytes that are no UTF-8 (not a worker's) are shown, not a traceback.
            url,
            decode_responses=True,
            encoding_errors="replace",
            socket_connect_timeout=5,
            socket_timeout=10,
        )
    except ValueError as error:
        print(f"hkcrawl watch: {error}", file=sys.stderr)
        return 2
    watcher, screen = Watcher(client), Screen(stream, as_json)
    try:
        while True:
            screen.show(watcher.read())
            if once:
                return 0
            time.sleep(interval)  # the refresh period itself, not a wait for a condition
    except redis.RedisError as error:
        print(f"hkcrawl watch: cannot read Redis at {shown_url(url)}: {' '.join(str(error).split())}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        client.close()


def add_command(commands: Any) -> None:
    """The ``watch`` subcommand, added to ``hkcrawl``'s parser (hkcrawl/cli.py)."""
    parser = commands.add_parser("watch", help="show a distributed crawl's progress from its Redis, per worker")
    parser.add_argument("--redis", required=True, metavar="URL", help="the workers' HKCRAWL_REDIS_URL")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between refreshes (%(default)s)")
    parser.add_argument("--once", action="store_true", help="show one reading and exit")
    parser.add_argument("--json", action="store_true", help="one JSON object per reading instead of a table")
    parser.set_defaults(handler=command)


def command(args: argparse.Namespace) -> int:
    return watch(args.redis, max(args.interval, 0.1), args.once, args.json)

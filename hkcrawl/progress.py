"""A sense of progress: a live line on a terminal, a plain line now and then in a log.

At the live site's pace a crawl runs for hours, and Scrapy's own log says little a
user can act on. This extension reads the crawl's stats (and, from the run, the
articles still to fetch) and shows, on a terminal (stderr a TTY), one status line
rewritten in place every ``HKCRAWL_PROGRESS_REFRESH`` seconds; into the log (a
``LOG_FILE``, or stderr that is no terminal) it writes one plain ``Progress:`` line
every ``HKCRAWL_PROGRESS_INTERVAL`` seconds. ``hkcrawl cron`` has no terminal and a
log file, so it stays silent. The terminal line holds no escape codes (it is erased
with spaces), fits the terminal's width (Korean section names take two columns a
character), steps aside for every log record and is erased when the crawl closes.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import threading
import time
import unicodedata
from collections import deque
from dataclasses import dataclass
from typing import Any, TextIO

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import AsyncioLoopingCall, create_looping_call
from twisted.internet.task import LoopingCall

from hkcrawl.run import Run

logger = logging.getLogger(__name__)

#: The rate is taken over this many seconds back: recent enough to show a slowdown.
RATE_WINDOW_SECONDS = 60.0
TOP_SECTIONS = 3


@dataclass(frozen=True)
class Snapshot:
    """What the line says, taken from the stats at one moment."""

    elapsed: float
    exported: int
    per_minute: float | None  # None until there is a time span to measure
    failed: int  # URLs finally failed (hkcrawl/errors/*): articles and lists
    blocked: int  # Cloudflare challenges met
    lists: int  # list pages and sitemaps read
    requests: int
    sections: list[tuple[str, int]]  # exported per section, most first
    done: int | None = None  # articles settled this run (saved, failed, dropped); None: unknown
    left: int | None = None  # articles asked for and not yet settled


def snapshot(stats: dict[str, Any], elapsed: float, per_minute: float | None, left: int | None) -> Snapshot:
    def total(prefix: str) -> int:
        return sum(value for key, value in stats.items() if key.startswith(prefix) and isinstance(value, int))

    exported = stats.get("hkcrawl/exported/new", 0) + stats.get("hkcrawl/exported/updated", 0)
    sections = sorted(
        ((key.rsplit("/", 1)[1], value) for key, value in stats.items() if key.startswith("hkcrawl/exported/section/")),
        key=lambda pair: (-pair[1], pair[0]),
    )
    lists = total("hkcrawl/lists/") - total("hkcrawl/lists/stopped/")
    done = None
    if left is not None:
        done = exported + total("hkcrawl/articles/failed/") + total("hkcrawl/dropped/")
    return Snapshot(
        elapsed=elapsed,
        exported=exported,
        per_minute=per_minute,
        failed=total("hkcrawl/errors/"),
        blocked=stats.get("hkcrawl/blocks/challenge", 0),
        lists=lists,
        requests=stats.get("downloader/request_count", 0),
        sections=sections,
        done=done,
        left=left,
    )


def progress_line(s: Snapshot) -> str:
    """One line, the most telling first, so cutting it to a narrow terminal loses the least."""
    articles = f"{s.exported:,} article{'s' * (s.exported != 1)}"
    parts = [_duration(s.elapsed), articles + (f", {s.per_minute:,.0f}/min" if s.per_minute else "")]
    parts.append(f"{s.failed:,} failed" + (f", {s.blocked:,} blocked" if s.blocked else ""))
    if s.left is not None and s.done is not None:
        left = f"{s.left:,} of {s.done + s.left:,} left"
        if s.left and s.per_minute:
            left += f", ~{_duration(s.left / s.per_minute * 60)}"
        parts.append(left)
    parts.append(f"{s.lists:,} lists, {s.requests:,} requests")
    if s.sections:
        parts.append(", ".join(f"{name} {count:,}" for name, count in s.sections[:TOP_SECTIONS]))
    return " | ".join(parts)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def char_width(char: str) -> int:
    """Columns a character takes on a terminal: Hangul and other wide characters two."""
    if unicodedata.combining(char) or unicodedata.category(char) in ("Cc", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def display_width(text: str) -> int:
    return sum(map(char_width, text))


def fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` columns, ending in "..." when cut."""
    if display_width(text) <= width:
        return text
    room, kept = max(width - 3, 0), []
    for char in text:
        room -= char_width(char)
        if room < 0:
            break
        kept.append(char)
    return "".join(kept) + "..."[: max(width, 0)]


def terminal_width(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return shutil.get_terminal_size().columns


class TerminalLine:
    """One line of a terminal rewritten in place (``\\r``), erased with spaces: no escape
    codes, so nothing odd is left wherever the stream really goes."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.shown = 0  # columns the line on screen takes
        self._lock = threading.Lock()  # log records may come from other threads

    def show(self, text: str) -> None:
        # One column short of the width: writing the last column wraps on some terminals.
        text = fit(text, terminal_width(self.stream) - 1)
        width = display_width(text)
        with self._lock:
            self.stream.write("\r" + text + " " * max(self.shown - width, 0))
            self.stream.flush()
            self.shown = width

    def clear(self) -> None:
        with self._lock:
            if self.shown:
                self.stream.write("\r" + " " * self.shown + "\r")
                self.stream.flush()
                self.shown = 0


class _ClearLineBeforeRecords(logging.Filter):
    """On the log handler that writes to the same terminal: the status line steps aside for
    each record (the next redraw brings it back below), so log lines are never garbled."""

    def __init__(self, line: TerminalLine) -> None:
        super().__init__()
        self.line = line

    def filter(self, record: logging.LogRecord) -> bool:
        self.line.clear()
        return True


def _writes_to(handler: logging.Handler, stream: TextIO) -> bool:
    target = getattr(handler, "stream", None)
    if target is None or isinstance(handler, logging.FileHandler):
        return False
    try:
        return target is stream or target.fileno() == stream.fileno()
    except (OSError, ValueError, AttributeError):
        return False


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (OSError, ValueError, AttributeError):
        return False


class Progress:
    """The extension; enabled in ``EXTENSIONS`` (settings.py)."""

    def __init__(self, crawler: Crawler, stream: TextIO) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.stream = stream
        refresh = settings.getfloat("HKCRAWL_PROGRESS_REFRESH")
        interval = settings.getfloat("HKCRAWL_PROGRESS_INTERVAL")
        terminal = is_terminal(stream)
        self.line = TerminalLine(stream) if terminal and refresh > 0 else None
        # Plain lines go to the log; when the log is the terminal the live line says it already.
        self.log_interval = interval if interval > 0 and (settings.get("LOG_FILE") or not terminal) else None
        if self.line is None and self.log_interval is None:
            raise NotConfigured
        self.tick_seconds = refresh if self.line is not None else interval
        self._filter = _ClearLineBeforeRecords(self.line) if self.line is not None else None
        self._task: AsyncioLoopingCall | LoopingCall | None = None
        self._started = time.monotonic()
        self._last_log = self._started
        self._samples: deque[tuple[float, int]] = deque()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        progress = cls(crawler, sys.stderr)
        crawler.signals.connect(progress.start, signal=signals.engine_started)
        crawler.signals.connect(progress.stop, signal=signals.spider_closed)
        return progress

    def start(self) -> None:
        self._started = self._last_log = time.monotonic()
        self._samples = deque([(self._started, 0)])
        if self._filter is not None:
            for handler in logging.root.handlers:
                if _writes_to(handler, self.stream):
                    handler.addFilter(self._filter)
        self._task = create_looping_call(self.tick)
        self._task.start(self.tick_seconds, now=False)

    def stop(self) -> None:
        """Before the closing summary is logged: the terminal is left with no half line."""
        if self._task is not None and self._task.running:
            self._task.stop()
        if self.line is not None:
            self.line.clear()
        if self._filter is not None:
            for handler in logging.root.handlers:
                handler.removeFilter(self._filter)

    def tick(self) -> None:
        now = time.monotonic()
        text = progress_line(self.current(now))
        if self.line is not None:
            self.line.show(text)
        if self.log_interval is not None and now - self._last_log >= self.log_interval * 0.99:
            self._last_log = now
            logger.info("Progress: %s", text)

    def current(self, now: float) -> Snapshot:
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        exported = stats.get("hkcrawl/exported/new", 0) + stats.get("hkcrawl/exported/updated", 0)
        self._samples.append((now, exported))
        while len(self._samples) > 2 and now - self._samples[1][0] >= RATE_WINDOW_SECONDS:
            self._samples.popleft()
        since, before = self._samples[0]
        per_minute = (exported - before) / (now - since) * 60 if now - since >= 1 else None
        return snapshot(stats, now - self._started, per_minute, self._articles_left())

    def _articles_left(self) -> int | None:
        run = self.crawler.get_extension(Run)
        return run.articles_waiting if run is not None else None

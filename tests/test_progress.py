"""The progress line: what it says for given stats, and how it fits a terminal."""

from __future__ import annotations

import io
from collections import deque

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.settings import Settings

from hkcrawl.progress import Progress, TerminalLine, display_width, fit, progress_line, snapshot

STATS = {
    "hkcrawl/exported/new": 300,
    "hkcrawl/exported/updated": 40,
    "hkcrawl/exported/section/경제": 120,
    "hkcrawl/exported/section/증권": 80,
    "hkcrawl/exported/section/산업": 80,
    "hkcrawl/exported/section/IT": 60,
    "hkcrawl/errors/http_500": 2,
    "hkcrawl/errors/timeout": 1,
    "hkcrawl/articles/failed/http_500": 2,
    "hkcrawl/dropped/duplicate": 8,
    "hkcrawl/lists/section": 40,
    "hkcrawl/lists/latest-sitemap": 2,
    "hkcrawl/lists/stopped/known": 7,
    "downloader/request_count": 402,
    "start_time": "not a number",
}


def test_the_line_says_articles_rate_failures_what_is_left_and_top_sections() -> None:
    line = progress_line(snapshot(STATS, elapsed=125, per_minute=212.4, left=650))
    assert line == (
        "2:05 | 340 articles, 212/min | 3 failed | 650 of 1,000 left, ~3:03 | 42 lists, 402 requests"
        " | 경제 120, 산업 80, 증권 80"
    )


def test_unknown_work_left_and_rate_are_not_guessed() -> None:
    line = progress_line(snapshot({"hkcrawl/blocks/challenge": 3}, elapsed=3725, per_minute=None, left=None))
    assert line == "1:02:05 | 0 articles | 0 failed, 3 blocked | 0 lists, 0 requests"


def test_fit_counts_hangul_as_two_columns() -> None:
    text = "12 articles | 경제 12"
    assert display_width(text) == 21
    assert fit(text, 21) == text
    assert fit(text, 19) == "12 articles | 경..."
    assert fit(text, 18) == "12 articles | ..."  # no half of a wide character
    assert fit(text, 2) == ".."


def _screen(written: str) -> str:
    """What one terminal line shows after ``written``: ``\r`` returns to column 0, text overwrites."""
    cells: list[str] = []
    column = 0
    for char in written:
        if char == "\r":
            column = 0
            continue
        cells[column : column + 1] = [char]
        column += 1
    return "".join(cells)


def test_terminal_line_rewrites_in_place_and_leaves_a_clean_line() -> None:
    stream = io.StringIO()
    line = TerminalLine(stream)
    line.show("a longer first line")
    line.show("short")
    assert "\n" not in stream.getvalue()
    assert _screen(stream.getvalue()).rstrip() == "short"
    line.clear()
    assert stream.getvalue().endswith("\r") and _screen(stream.getvalue()).strip() == ""
    written = len(stream.getvalue())
    line.clear()  # nothing shown: nothing written
    assert len(stream.getvalue()) == written


def test_terminal_line_fits_the_width() -> None:
    stream = io.StringIO()  # no terminal: the fallback width (COLUMNS, else 80)
    TerminalLine(stream).show("경제 " * 100)
    assert display_width(stream.getvalue()) <= 79


class _Stats:
    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def get_stats(self) -> dict[str, int]:
        return self.values


class _Crawler:
    def __init__(self, **settings: object) -> None:
        self.settings = Settings({"HKCRAWL_PROGRESS_REFRESH": 1.0, "HKCRAWL_PROGRESS_INTERVAL": 60.0, **settings})
        self.stats = _Stats()

    def get_extension(self, cls: type) -> None:
        return None


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_where_progress_goes() -> None:
    on_terminal = Progress(_Crawler(), _Terminal())  # type: ignore[arg-type]
    assert on_terminal.line is not None and on_terminal.log_interval is None  # the log is the terminal
    logged_too = Progress(_Crawler(LOG_FILE="crawl.log"), _Terminal())  # type: ignore[arg-type]
    assert logged_too.line is not None and logged_too.log_interval == 60.0
    piped = Progress(_Crawler(), io.StringIO())  # type: ignore[arg-type]
    assert piped.line is None and piped.log_interval == 60.0 and piped.tick_seconds == 60.0
    with pytest.raises(NotConfigured):
        Progress(_Crawler(HKCRAWL_PROGRESS_INTERVAL=0), io.StringIO())  # type: ignore[arg-type]


def test_the_rate_is_over_the_last_minute() -> None:
    crawler = _Crawler()
    progress = Progress(crawler, io.StringIO())  # type: ignore[arg-type]
    progress._started, progress._samples = 0.0, deque([(0.0, 0)])
    crawler.stats.values["hkcrawl/exported/new"] = 100
    assert progress.current(30.0).per_minute == 200
    crawler.stats.values["hkcrawl/exported/new"] = 400
    now = progress.current(90.0)  # the first 30 s (100 articles) are out of the window
    assert now.per_minute == 300 and now.elapsed == 90 and now.left is None

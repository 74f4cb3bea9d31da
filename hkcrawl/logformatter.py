"""Scrapy's log lines, without whole articles in them.

Scrapy logs every dropped item with its full repr: a whole article body, several kB
of Korean text per line, for each duplicate or record past ``max_articles``. That
buries the log. The drop's reason already names the article (its id or URL), so
that is what is logged.
"""

from __future__ import annotations

from typing import Any

from scrapy import Spider
from scrapy.http import Response
from scrapy.logformatter import LogFormatter, LogFormatterResult
from twisted.python.failure import Failure


class ConciseLogFormatter(LogFormatter):
    def dropped(
        self, item: Any, exception: BaseException, response: Response | Failure | None, spider: Spider
    ) -> LogFormatterResult:
        result = super().dropped(item, exception, response, spider)
        return {**result, "msg": "Dropped: %(exception)s", "args": {"exception": exception}}

"""``scrapy crawl`` that exits non-zero when the crawl failed.

Scrapy's own command exits 0 after nearly every failure (a block, connection
errors, a stopped crawl), so cron and CI could not tell. This one takes the run's
verdict (hkcrawl/run.py): exit 1 for a failed run, 3 when the site blocked it, 75
when another run holds the state directory; the reason is printed on stderr in one
line (and is in the log and the run's report).
"""

from __future__ import annotations

import argparse
import logging
import sys

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from hkcrawl.run import Run

EXIT_FAILED = 1
EXIT_BLOCKED = 3
EXIT_BUSY = 75  # EX_TEMPFAIL: another run holds the lock; try again later


def exit_status(run: Run | None) -> int:
    if run is None or run.status == "running":
        return EXIT_FAILED  # it never got to a verdict
    if run.busy:
        return EXIT_BUSY
    return {"ok": 0, "blocked": EXIT_BLOCKED}.get(run.status, EXIT_FAILED)


class Command(ScrapyCrawlCommand):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one spider name")
        assert self.crawler_process
        # Scrapy filters by level only at its handler, so its two DEBUG lines per page
        # ("Crawled", "Scraped from") are built and thrown away at INFO: 1.5% of a
        # crawl's CPU. Its own loggers now skip them up front.
        if self.settings is not None:
            logging.getLogger("scrapy").setLevel(self.settings.get("LOG_LEVEL"))
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = EXIT_FAILED
            return
        try:
            run = crawler.get_extension(Run)
        except RuntimeError:  # the crawl never got as far as building its extensions
            run = None
        self.exitcode = exit_status(run)
        if self.exitcode:
            reason = run.failure if run is not None else "the crawl did not start"
            where = f"; report: {run.report_path}" if run is not None and run.report_path else ""
            verb = "busy" if self.exitcode == EXIT_BUSY else "failed"
            print(f"hkcrawl: crawl {verb}: {reason}{where}", file=sys.stderr)

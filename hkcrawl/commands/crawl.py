"""``scrapy crawl`` that exits non-zero when the crawl failed.

Scrapy's own command exits 0 after nearly every failure (a block, connection
errors, a stopped crawl), so cron and CI could not tell. This one takes the run's
verdict (hkcrawl/run.py): exit 1 for a failed run, 3 when the site blocked it, 75
when another run holds the state directory; the reason is printed on stderr in one
line (and is in the log and the run's report). A spider argument it cannot use is
refused before anything starts: one line on stderr, exit 2 (usage).
"""

from __future__ import annotations

import argparse
import logging
import sys

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError
from scrapy.spiderloader import get_spider_loader

from hkcrawl.run import Run
from hkcrawl.spiders.arguments import BadArgument

EXIT_FAILED = 1
EXIT_USAGE = 2  # as Scrapy's own usage errors
EXIT_BLOCKED = 3
EXIT_BUSY = 75  # EX_TEMPFAIL: another run holds the lock; try again later


def exit_status(run: Run | None) -> int:
    if run is None or run.status == "running":
        return EXIT_FAILED  # it never got to a verdict
    if run.busy:
        return EXIT_BUSY
    return {"ok": 0, "blocked": EXIT_BLOCKED}.get(run.status, EXIT_FAILED)


class Command(ScrapyCrawlCommand):
    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        """Scrapy's options, then the spider's arguments, checked before the crawl starts:
        raised from inside the running crawl, a bad one would be a traceback and exit 1;
        this is before Scrapy logs anything, so the line saying what is wrong stands alone."""
        super().process_options(args, opts)
        if len(args) != 1 or self.settings is None:
            return
        try:
            spider_class = get_spider_loader(self.settings).load(args[0])
        except KeyError:
            return  # Scrapy says so itself, in its own words
        check = getattr(spider_class, "check_arguments", None)
        if check is None:
            return
        try:
            check(opts.spargs)
        except BadArgument as error:
            # Scrapy's UsageError would wrap the message in its usage text: one line says it all.
            print(f"hkcrawl: {error}", file=sys.stderr)
            raise SystemExit(EXIT_USAGE) from None

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

"""The run's verdict and its report: a part of :class:`hkcrawl.run.Run`.

At spider_closed the run gathers its facts, asks hkcrawl/verdict.py whether the crawl
did its job, logs the summary and writes ``<run>.report.json`` beside the run file; a
failure met after that (a -o feed Scrapy could not store, the state's last write)
revises both. :class:`RunReport` is mixed into ``Run``, whose ``__init__`` sets every
attribute used here.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import Any

from hkcrawl.output import iso, write_json_atomically
from hkcrawl.run_output import describe
from hkcrawl.verdict import failure_reason, summary_lines, with_prefix

logger = logging.getLogger("hkcrawl.run")  # the Run's log lines keep the one origin


class RunReport:
    """The verdict, and the report that carries it (see the module docstring)."""

    def _decide(self, stats: dict[str, Any]) -> None:
        self.facts.urls_tried = self._urls_tried
        self.facts.urls_failed = self._urls_failed
        self.facts.articles_tried = self._saved_count + self._settled_count + len(self._failed)
        self.facts.unsaved = Counter(reason for aid, (_, reason) in self._failed.items() if aid not in self._saved)
        self.facts.own_failure = self.own_failure
        for line in summary_lines(stats, self.facts):
            logger.info("Summary: %s", line)
        failure = failure_reason(stats, self.facts, self.settings)
        self.failure = failure
        if self.busy:
            self.status = "busy"
        elif failure is None:
            self.status = "ok"
        else:
            self.status = "blocked" if stats.get("finish_reason") == "blocked" else "failed"
            if failure != self.own_failure:  # that one was logged when it happened
                logger.error("Crawl FAILED: %s", failure)
        if self.busy:
            return  # another run owns the files: leave no report beside theirs
        self.report = self._build_report(stats)
        if self.use_feeds or self.paths.output_dir is None:
            return
        path = self.paths.output_dir / f"{self.run_id}.report.json"
        try:
            write_json_atomically(path, self.report)
            self.report_path = path
        except OSError as error:
            logger.error("Cannot write the run report %s: %s", path, describe(error))
            return
        logger.info(
            "Run %s: %s, %d new, %d updated -> %s",
            self.run_id, self.status, self.report["new"], self.report["updated"], self.report["output"],
        )  # fmt: skip

    def _fail_after_verdict(self, reason: str) -> None:
        """A failure met once the verdict was given: revise it, and the report if one was written."""
        self.failure, self.status = reason, "failed"
        logger.error("Crawl FAILED: %s", reason)
        if self.report_path is not None:
            self.report = {**self.report, "status": self.status, "failure": reason}
            try:
                write_json_atomically(self.report_path, self.report)
            except OSError as error:
                logger.error("Cannot write the run report %s: %s", self.report_path, describe(error))

    def _build_report(self, stats: dict[str, Any]) -> dict[str, Any]:
        dropped = with_prefix(stats, "hkcrawl/dropped/")
        now = time.time()
        return {
            "run": self.run_id,
            "status": self.status,
            "failure": self.failure,
            "output": self.file.final.name if self.file is not None and self.status != "running" else None,
            "started": iso(self.started),
            "finished": iso(now),
            "durationSeconds": round(now - self.started, 1),
            "new": stats.get("hkcrawl/exported/new", 0),
            "updated": stats.get("hkcrawl/exported/updated", 0),
            "knownSkipped": stats.get("hkcrawl/links/known", 0),
            "duplicates": dropped.get("duplicate", 0),
            "nearDuplicates": with_prefix(stats, "hkcrawl/duplicates/"),
            # Written records whose original turned out to be published earlier (hkcrawl merge fixes them).
            "duplicateCorrections": [
                {"articleId": aid, "duplicateOf": of}
                for aid, of in sorted(stats.get("hkcrawl/near_duplicates/corrections", {}).items())
            ],
            "dropped": {reason: count for reason, count in dropped.items() if reason != "duplicate"},
            "blocks": stats.get("hkcrawl/blocks/challenge", 0),
            "errors": with_prefix(stats, "hkcrawl/errors/"),
            "offsiteRefused": with_prefix(stats, "hkcrawl/offsite/"),
            "spiderExceptions": stats.get("spider_exceptions/count", 0),
            "pageProblems": {k: v for k, v in with_prefix(stats, "hkcrawl/pages/").items() if k != "article"},
            "requests": stats.get("downloader/request_count", 0),
            "urlsTried": self.facts.urls_tried,
            "urlsFailed": self.facts.urls_failed,
            "articlePages": stats.get("hkcrawl/pages/article", 0),
            "failedArticles": [
                {"articleId": aid, "url": url, "reason": reason}
                for aid, (url, reason) in sorted(self._failed.items())
                if aid not in self._saved
            ],
            "retried": len(self.retried),
            "recoveredFromEarlierFailures": len(set(self.retried) & self._recovered_ids),
            "gaveUp": [
                {"articleId": f.article_id, "url": f.url, "reason": f.gave_up_why, "attempts": f.attempts}
                for f in self.given_up
            ],
            "stateForgotten": self.forgotten,
            "recoveredFiles": self.recovered,
            # Requests a killed worker had taken, put back in the shared queue by this one (Redis).
            "frontierRecovered": stats.get("hkcrawl/frontier/recovered", 0),
            "rendering": with_prefix(stats, "hkcrawl/render/"),
            # field -> {cue: pages}: fallbacks taking over from guessed selectors (layout drift).
            "cues": _nested(with_prefix(stats, "hkcrawl/cue/")),
            "finishReason": stats.get("finish_reason"),
        }


def _nested(flat: dict[str, int]) -> dict[str, dict[str, int]]:
    """``{"section/meta": 3}`` -> ``{"section": {"meta": 3}}``."""
    nested: dict[str, dict[str, int]] = {}
    for key, value in flat.items():
        field, _, cue = key.partition("/")
        nested.setdefault(field, {})[cue] = value
    return nested

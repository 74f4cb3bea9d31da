"""A worker's SQLite ledger in distributed mode: every change mirrored into Redis, and the
spider's questions (known? what to retry? newest?) answered from Redis, i.e. from every worker.

Imported only with ``HKCRAWL_REDIS_URL`` (hkcrawl/reconcile.py's ``open_store``). The Redis side,
its keys and value formats are in hkcrawl/shared_state.py.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Callable, Iterable
from pathlib import Path

from scrapy.settings import BaseSettings

from hkcrawl.shared_state import BATCH, SharedState
from hkcrawl.state import Exported, Failure, GiveUpRule, Known, StateStore, StateUnavailable

logger = logging.getLogger(__name__)

#: Link answers kept from the last list pages (a page has 20 to a few hundred links).
PREFETCHED_KEPT = 4096


class SharedStateStore(StateStore):
    """A worker's SQLite ledger that mirrors every change into Redis and answers the
    spider's questions (known? what to retry? newest?) from Redis: from every worker.

    Each write goes to SQLite first, then Redis; after a Redis error, writes go on in SQLite
    alone and ``problem()`` says why (the run fails on it), so a rerun republishes. Reads
    from Redis raise StateUnavailable.
    """

    def __init__(self, path: Path, output_dir: Path, shared: SharedState, host: str | None = None) -> None:
        super().__init__(path)
        self.shared = shared
        self.output_dir = output_dir
        self.host = host or socket.gethostname()
        self.ledger = f"{self.host}:{path.parent.absolute()}"
        self._epoch: str | None = None
        self._prefetched: dict[str, Known | None] = {}

    @classmethod
    def from_settings(cls, path: Path, output_dir: Path, settings: BaseSettings, spider: str) -> SharedStateStore:
        return cls(path, output_dir, SharedState.from_url(settings.get("HKCRAWL_REDIS_URL"), spider))

    def holder(self, output: str) -> str:
        """``host:/absolute/path`` of an output the ledger names: which worker, which file."""
        if not output or output.startswith("("):
            return f"{self.host}:{output}"
        return f"{self.host}:{(self.output_dir / output).absolute()}"

    # -- answers from Redis (every worker) -------------------------------------------------
    def known(self, article_id: str) -> Known | None:
        if article_id in self._prefetched:
            return self._prefetched[article_id]
        return self.shared.known(article_id)

    def prefetch(self, article_ids: Iterable[str]) -> None:
        """One HMGET for a list page's links instead of one HGET each. Pages are parsed
        interleaved, so the answers of the last few pages are kept (PREFETCHED_KEPT), a
        second or so old at most: an article another worker exports meanwhile is in this
        crawl's seen-set anyway, and this worker's own marks replace their entries."""
        wanted = [article_id for article_id in dict.fromkeys(article_ids) if article_id not in self._prefetched]
        if len(self._prefetched) + len(wanted) > PREFETCHED_KEPT:
            recent = list(self._prefetched.items())[-PREFETCHED_KEPT // 2 :]
            self._prefetched = dict(recent)
        self._prefetched.update(self.shared.known_many(wanted))

    def newest_published(self) -> str | None:
        return self.shared.newest_published()

    def failures(self, include_given_up: bool = False) -> list[Failure]:
        return self.shared.failures(include_given_up)

    def give_up(self, rule: GiveUpRule, when: str) -> list[Failure]:
        super().give_up(rule, when)
        return self.shared.give_up(rule, when)

    # -- writes: SQLite, then Redis -----------------------------------------------------------
    def _mirror(self, write: Callable[[], object]) -> None:
        """The SQLite write done, the same in Redis. A Redis error does not stop this worker's
        ledger: it is kept (``problem()``, the run fails on it) and SQLite stays complete,
        so the next start publishes what Redis missed."""
        with contextlib.suppress(StateUnavailable):
            write()

    def problem(self) -> str | None:
        return self.shared.broken

    def mark_exported(self, records: Iterable[Exported]) -> int:
        batch = list(records)
        count = super().mark_exported(batch)
        for record in batch:
            self._prefetched.pop(record.article_id, None)
        self._mirror(lambda: self.shared.mark_exported(batch, self.holder))
        return count

    def forget(self, article_ids: Iterable[str], output: str | None = None) -> int:
        ids = list(article_ids)
        count = super().forget(ids, output)
        if output is not None:
            self._mirror(lambda: self.shared.forget(ids, self.holder(output)))
        return count

    def record_failures(self, failures: Iterable[tuple[str, str | None, str]], when: str, run_id: str) -> int:
        rows = list(failures)
        count = super().record_failures(rows, when, run_id)
        # Two workers' runs may share a run id (started in the same second): the ledger names the run.
        self._mirror(lambda: self.shared.record_failures(rows, when, f"{self.ledger}/{run_id}"))
        return count

    def mark_pending(self, articles: Iterable[tuple[str, str | None]], when: str) -> int:
        rows = list(articles)
        count = super().mark_pending(rows, when)
        self._mirror(lambda: self.shared.mark_pending(rows, when))
        return count

    def clear_failures(self, article_ids: Iterable[str]) -> None:
        ids = list(article_ids)
        super().clear_failures(ids)
        self._mirror(lambda: self.shared.clear_failures(ids))

    # -- the ledger against Redis ----------------------------------------------------------
    def fingerprint(self) -> str:
        """Changes whenever the ledger does (a mark, a forget, a failure, a clear)."""
        articles = self.db.execute("SELECT count(*), max(last_exported) FROM articles").fetchone()
        failures = self.db.execute("SELECT count(*), max(last_failed), sum(attempts) FROM failures").fetchone()
        return "|".join(str(value) for value in (*articles, *failures))

    def share(self) -> None:
        """At start: publish the ledger where Redis may lack part of it, else take in what
        other workers settled of this ledger's failures."""
        self._epoch = self.shared.epoch()
        if self.shared.ledger_mark(self.ledger) == f"{self._epoch}|{self.fingerprint()}":
            local = [f.article_id for f in super().failures(include_given_up=True)]
            settled = set(local) - self.shared.failure_ids(local)
            super().clear_failures(settled)  # saved or settled by another worker
            return
        published = self.republish()
        where = self.shared.safe_url
        logger.info("Published this worker's ledger to %s: %d known article(s) Redis lacked", where, published)

    def republish(self) -> int:
        rows = self.db.execute("SELECT article_id, published, modified, output FROM articles")
        published = 0
        while batch := rows.fetchmany(BATCH):
            published += self.shared.publish_known([(aid, p, m, self.holder(out or "")) for aid, p, m, out in batch])
        saved = self.shared.publish_failures(super().failures(include_given_up=True))
        super().clear_failures(saved)
        return published

    def close(self) -> None:
        """Tell Redis the ledger is all there (no republish next start), unless Redis failed."""
        try:
            if self._epoch is not None and self.shared.broken is None and self.shared.epoch() == self._epoch:
                self.shared.set_ledger_mark(self.ledger, f"{self._epoch}|{self.fingerprint()}")
        except StateUnavailable as error:
            logger.warning("%s: this ledger is published again at the next start", error)
        finally:
            super().close()
            self.shared.close()

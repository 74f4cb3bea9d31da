"""What earlier runs exported and failed: the memory that makes a rerun fetch only what is new
and fetch again what was lost.

SQLite in WAL mode. ``articles``: one row per exported article (id, publish and 수정
times, body hash, which file holds it); a row is written only after the record is
durably in an output file (see :mod:`hkcrawl.run`), so a run killed at any moment
leaves the state *behind* the files (an article fetched again next time) but never
*ahead* of them. :meth:`StateStore.forget_missing` checks that at the start of every
run (and ``hkcrawl check``): ids that no finished file holds are forgotten.

``failures``: articles a run tried and could not save (HTTP error after retries,
timeout, truncated body, …), with the reason. Every later run fetches them again,
whatever discovery finds, until one succeeds or :func:`give_up_reason` says stop.
"""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hkcrawl.pages.text import checked_kst
from hkcrawl.recent import RecentSet

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    article_id     TEXT PRIMARY KEY,
    published      TEXT,
    modified       TEXT,
    body_hash      TEXT,
    first_exported TEXT NOT NULL,
    last_exported  TEXT NOT NULL,
    versions       INTEGER NOT NULL DEFAULT 1,
    output         TEXT
);
CREATE INDEX IF NOT EXISTS articles_published ON articles (published);
CREATE INDEX IF NOT EXISTS articles_output ON articles (output);
CREATE TABLE IF NOT EXISTS runs (
    run_id    TEXT PRIMARY KEY,
    started   TEXT NOT NULL,
    finished  TEXT,
    status    TEXT,
    new       INTEGER,
    output    TEXT
);
CREATE TABLE IF NOT EXISTS failures (
    article_id   TEXT PRIMARY KEY,
    url          TEXT,
    reason       TEXT NOT NULL,
    first_failed TEXT NOT NULL,
    last_failed  TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 1,
    first_gone   TEXT,
    last_gone    TEXT,
    gave_up      TEXT,
    gave_up_why  TEXT,
    last_run     TEXT
);
CREATE TABLE IF NOT EXISTS verified_files (
    output   TEXT PRIMARY KEY,
    size     INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL
);
"""

#: Reasons that mean "the site says this article does not exist (any more)".
GONE_REASONS = frozenset({"http_404", "http_410"})


class StateUnavailable(Exception):
    """The shared part of the state (distributed mode: Redis) cannot be used; the message
    names it, for the run's one-line failure. Defined here so the run catches it without
    importing the Redis client."""


@dataclass(frozen=True)
class Known:
    published: str | None
    modified: str | None


@dataclass(frozen=True)
class Exported:
    article_id: str
    published: str | None
    modified: str | None
    body_hash: str | None
    exported_at: str
    output: str


@dataclass(frozen=True)
class Failure:
    article_id: str
    url: str | None
    reason: str
    first_failed: str
    last_failed: str
    attempts: int
    first_gone: str | None
    last_gone: str | None
    gave_up: str | None = None
    gave_up_why: str | None = None
    last_run: str | None = None


@dataclass(frozen=True)
class GiveUpRule:
    """When a failing article stops being fetched again (README, "Nothing is lost").

    An article the site answers 404/410 for is given up once two such answers lie at
    least ``gone_hours`` apart (a page can 404 for a moment while it is edited); any
    other failure after ``attempts`` failed runs spanning at least ``days`` days.
    """

    gone_hours: float = 24.0
    attempts: int = 10
    days: float = 7.0


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def plausible_time(value: object) -> bool:
    """An ISO time with its offset that a record can hold: the extraction's own range
    (:func:`hkcrawl.pages.text.checked_kst`, 1990 to two days from now)."""
    if not isinstance(value, str):
        return False
    try:
        moment = _time(value)
        if moment.tzinfo is None:
            return False
        checked_kst(moment)
    except ValueError:  # not a time, or BadDate
        return False
    return True


#: Unreadable records already warned about: each is read again at every lookup.
_WARNED: RecentSet[str] = RecentSet(1000)


def warn_once(key: str, message: str, *args: object) -> None:
    if _WARNED.add(key):
        logger.warning(message, *args)


def checked_failure(article_id: str, fields: Sequence[object]) -> Failure:
    """A failure record as read back (a SQLite row, a Redis entry), from ``url`` on.

    One no run wrote (a time that is no time, attempts that are no number, missing
    fields) stays a failure with its times reset: the article is still fetched again by
    its id, and the give-up rule never meets what it cannot read.
    """
    try:
        url, reason, first, last, attempts, *rest = fields
        failure = Failure(
            article_id, _text_or_none(url), str(reason), str(first), str(last), int(attempts),  # type: ignore[call-overload]
            *(_text_or_none(value) for value in rest[:5]),
        )  # fmt: skip
        for moment in (failure.first_failed, failure.last_failed, failure.first_gone, failure.last_gone):
            if moment is not None:
                _time(moment)
        return failure
    except (ValueError, TypeError, OverflowError) as error:
        warn_once(
            f"{article_id} {fields!r}",
            "Unreadable failure record of %s (%s): %r; fetching it again",
            article_id,
            error,
            repr(fields)[:120],
        )
        now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        return Failure(article_id, None, "unreadable", now, now, 0, None, None)


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def give_up_reason(failure: Failure, rule: GiveUpRule) -> str | None:
    first, last = failure.first_gone, failure.last_gone
    if first and last and _time(last) - _time(first) >= timedelta(hours=rule.gone_hours):
        return f"gone: {failure.reason} at {failure.first_gone} and {failure.last_gone}"
    span = _time(failure.last_failed) - _time(failure.first_failed)
    if failure.attempts >= rule.attempts and span >= timedelta(days=rule.days):
        return f"failed {failure.attempts} times over {span.days} days, last: {failure.reason}"
    return None


class StateStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None)
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            # FULL: a committed mark survives a power cut, like the fsync'd line it vouches for.
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(_SCHEMA)
        except sqlite3.Error:
            self.db.close()
            raise
        self._known: dict[str, Known] | None = None

    def _load(self) -> dict[str, Known]:
        # One read at start: a million rows is ~100 MB less than per-link queries cost in time.
        if self._known is None:
            rows = self.db.execute("SELECT article_id, published, modified FROM articles")
            self._known = {aid: Known(published, modified) for aid, published, modified in rows}
        return self._known

    def known(self, article_id: str) -> Known | None:
        """What runs *before this one* exported (this run's own marks do not show here:
        within a run, Scrapy's dupefilter and the dedupe pipeline handle repeats)."""
        return self._load().get(article_id)

    def prefetch(self, article_ids: Iterable[str]) -> None:
        """The spider is about to ask about these ids (one list page's links): a shared state
        fetches them in one round trip; this one holds them all in memory already."""

    def __len__(self) -> int:
        return len(self._load())

    def newest_published(self) -> str | None:
        """The latest 입력 time known; a value no record could hold (a hand edit) is passed over,
        as it would otherwise stand for "everything is known" in discovery's decisions."""
        for (published,) in self.db.execute(
            "SELECT published FROM articles WHERE published IS NOT NULL ORDER BY published DESC"
        ):
            if plausible_time(published):
                return published
            warn_once(f"newest {published!r}", "Unreadable publication time in the state: %r; passed over", published)
        return None

    def mark_exported(self, records: Iterable[Exported]) -> int:
        """Record exported articles in one transaction (and forget their failures); returns how many."""
        rows = [
            (r.article_id, r.published, r.modified, r.body_hash, r.exported_at, r.exported_at, r.output)
            for r in records
        ]
        if not rows:
            return 0
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany(
                """INSERT INTO articles
                     (article_id, published, modified, body_hash, first_exported, last_exported, output)
                   VALUES (?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT(article_id) DO UPDATE SET
                     modified = excluded.modified, body_hash = excluded.body_hash,
                     last_exported = excluded.last_exported, output = excluded.output,
                     versions = versions + 1""",
                rows,
            )
            self.db.executemany("DELETE FROM failures WHERE article_id = ?", [(row[0],) for row in rows])
        return len(rows)

    # -- state vs. files ---------------------------------------------------------------
    def outputs(self) -> dict[str, int]:
        """Each output named by known articles, with how many articles it should hold."""
        rows = self.db.execute("SELECT output, count(*) FROM articles GROUP BY output")
        return {output or "": count for output, count in rows}

    def ids_in_output(self, output: str) -> set[str]:
        rows = self.db.execute("SELECT article_id FROM articles WHERE output IS ?", (output or None,))
        return {row[0] for row in rows}

    def verified(self, output: str) -> tuple[int, int] | None:
        row = self.db.execute("SELECT size, mtime_ns FROM verified_files WHERE output = ?", (output,)).fetchone()
        return (row[0], row[1]) if row else None

    def set_verified(self, output: str, size: int, mtime_ns: int) -> None:
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO verified_files (output, size, mtime_ns) VALUES (?, ?, ?)",
                (output, size, mtime_ns),
            )

    def forget(self, article_ids: Iterable[str], output: str | None = None) -> int:
        """Drop articles from the known set (no file holds them): the next discovery fetches them again.
        ``output``: the file that should have held them (a shared state forgets only its entries)."""
        ids = [(article_id,) for article_id in article_ids]
        if not ids:
            return 0
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany("DELETE FROM articles WHERE article_id = ?", ids)
        self._known = None
        return len(ids)

    def forget_missing(self, holds: Callable[[str], set[str] | None]) -> dict[str, int]:
        """Forget every known id that its output does not hold; returns forgotten counts per output.

        ``holds(output)`` gives the ids a finished output file holds, or None when the
        output cannot be checked (not a local file): those rows are kept.
        """
        forgotten: dict[str, int] = {}
        for output in self.outputs():
            held = holds(output)
            if held is None:
                continue
            missing = self.ids_in_output(output) - held
            if missing:
                forgotten[output] = self.forget(missing, output)
        return forgotten

    def problem(self) -> str | None:
        """Why a shared state stopped taking writes (distributed mode: Redis failed); alone, None."""
        return None

    def share(self) -> None:
        """Give a shared state what it lacks of this ledger (hkcrawl/shared_state.py); alone, nothing to do."""

    # -- failures -------------------------------------------------------------------------
    def record_failures(self, failures: Iterable[tuple[str, str | None, str]], when: str, run_id: str) -> int:
        """This run's failed attempt for each (article id, url, reason); one attempt per run
        however often it is recorded (a run records at every checkpoint)."""
        rows = list(failures)
        if not rows:
            return 0
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            for article_id, url, reason in rows:
                gone = when if reason in GONE_REASONS else None
                self.db.execute(
                    """INSERT INTO failures (article_id, url, reason, first_failed, last_failed, attempts,
                                             first_gone, last_gone, last_run)
                       VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?)
                       ON CONFLICT(article_id) DO UPDATE SET
                         url = coalesce(excluded.url, url), reason = excluded.reason,
                         last_failed = excluded.last_failed,
                         attempts = attempts + (last_run IS NOT excluded.last_run),
                         first_gone = coalesce(first_gone, excluded.first_gone),
                         last_gone = coalesce(excluded.last_gone, last_gone),
                         last_run = excluded.last_run""",
                    (article_id, url, reason, when, when, gone, gone, run_id),
                )
        return len(rows)

    def mark_pending(self, articles: Iterable[tuple[str, str | None]], when: str) -> int:
        """Articles this run asked for and has not settled yet (kept if the run dies):
        not an attempt, but later runs fetch them like failures."""
        rows = [(article_id, url, "interrupted", when, when) for article_id, url in articles]
        if not rows:
            return 0
        with self.db:
            self.db.executemany(
                """INSERT INTO failures (article_id, url, reason, first_failed, last_failed, attempts)
                   VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT(article_id) DO NOTHING""",
                rows,
            )
        return len(rows)

    def clear_failures(self, article_ids: Iterable[str]) -> None:
        """Fetched fine after all (not saved for another reason, e.g. not a valid record)."""
        ids = [(article_id,) for article_id in article_ids]
        if ids:
            with self.db:
                self.db.executemany("DELETE FROM failures WHERE article_id = ?", ids)

    def failures(self, include_given_up: bool = False) -> list[Failure]:
        query = "SELECT * FROM failures" + ("" if include_given_up else " WHERE gave_up IS NULL")
        return [checked_failure(row[0], row[1:]) for row in self.db.execute(query + " ORDER BY article_id")]

    def give_up(self, rule: GiveUpRule, when: str) -> list[Failure]:
        """Mark the failures the rule gives up on; returns them (with their reason)."""
        given_up = []
        for failure in self.failures():
            why = give_up_reason(failure, rule)
            if why is not None:
                given_up.append(dataclasses.replace(failure, gave_up=when, gave_up_why=why))
        if given_up:
            with self.db:
                self.db.executemany(
                    "UPDATE failures SET gave_up = ?, gave_up_why = ? WHERE article_id = ?",
                    [(when, f.gave_up_why, f.article_id) for f in given_up],
                )
        return given_up

    # -- runs -----------------------------------------------------------------------------
    def start_run(self, run_id: str, started: str, output: str) -> None:
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO runs (run_id, started, output) VALUES (?, ?, ?)", (run_id, started, output)
            )

    def finish_run(self, run_id: str, finished: str, status: str, new: int) -> None:
        with self.db:
            self.db.execute(
                "UPDATE runs SET finished = ?, status = ?, new = ? WHERE run_id = ?", (finished, status, new, run_id)
            )

    def last_run_status(self) -> str | None:
        """How the most recent run ended (``ok``, ``failed``, ``blocked``; None if it never
        finished, or there was none): only after an ``ok`` run may discovery trust that
        everything older than the newest known article was seen (hkcrawl/discovery.py)."""
        row = self.db.execute("SELECT status FROM runs ORDER BY started DESC, run_id DESC LIMIT 1").fetchone()
        return row[0] if row else None

    def last_run_with_new_articles(self) -> str | None:
        """When the latest run that exported something new finished (a value no run wrote is passed over)."""
        for (finished,) in self.db.execute("SELECT finished FROM runs WHERE new > 0 ORDER BY finished DESC"):
            try:
                _time(finished)
            except (ValueError, TypeError, AttributeError):
                continue
            return finished
        return None

    def close(self) -> None:
        self.db.close()

"""What earlier runs exported: the memory that makes a rerun fetch only what is new.

SQLite in WAL mode, one row per exported article (id, publish and 수정 times, body
hash, which file holds it). A row is written only after the record is durably in
an output file (see :mod:`hkcrawl.output`), so a run killed at any moment can
leave the state *behind* the files (an article fetched again next time) but never
*ahead* of them (an article marked known that no file holds).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

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
CREATE TABLE IF NOT EXISTS runs (
    run_id    TEXT PRIMARY KEY,
    started   TEXT NOT NULL,
    finished  TEXT,
    status    TEXT,
    new       INTEGER,
    output    TEXT
);
"""


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


class StateStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed mark survives a power cut, like the fsync'd line it vouches for.
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(_SCHEMA)
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

    def __len__(self) -> int:
        return len(self._load())

    def newest_published(self) -> str | None:
        row = self.db.execute("SELECT max(published) FROM articles").fetchone()
        return row[0] if row else None

    def mark_exported(self, records: Iterable[Exported]) -> int:
        """Record exported articles in one transaction; returns how many."""
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
        return len(rows)

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

    def last_run_with_new_articles(self) -> str | None:
        row = self.db.execute("SELECT max(finished) FROM runs WHERE new > 0").fetchone()
        return row[0] if row else None

    def close(self) -> None:
        self.db.close()

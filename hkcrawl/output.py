"""Each run's own JSONL file, never seen half-written, and the state marks behind it.

Records go to ``<run>.jsonl.part`` and are fsync'd in checkpoints (every
``HKCRAWL_CHECKPOINT_ITEMS`` records or ``HKCRAWL_CHECKPOINT_SECONDS``); only then are
they marked known in the state store. At the end the file is renamed to
``<run>.jsonl`` (a consumer globbing ``*.jsonl`` never sees a partial file) and a
``<run>.report.json`` is written beside it. A run killed before that leaves its
``.part`` file: the next run (holding the lock, so no writer is alive) keeps its
complete lines and renames it, so every article the state calls known is in a
finished file.

When the user names a feed (``-o``/``-O``), Scrapy's feed exporter writes it and the
marks are made once the feed is closed.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import time
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from scrapy import signals
from scrapy.crawler import Crawler

from hkcrawl import lock
from hkcrawl.exporters import DataclassJsonLinesExporter
from hkcrawl.items import Article
from hkcrawl.state import Exported, StateStore

logger = logging.getLogger(__name__)

PART_SUFFIX = ".part"


def state_for(crawler: Crawler) -> StateStore | None:
    """The crawl's one state store (None when HKCRAWL_STATE_ENABLED is off)."""
    if not crawler.settings.getbool("HKCRAWL_STATE_ENABLED"):
        return None
    store = getattr(crawler, "_hkcrawl_state", None)
    if store is None:
        state_dir = Path(crawler.settings.get("HKCRAWL_STATE_DIR"))
        lock.acquire(state_dir / "hankyung.lock")
        store = StateStore(state_dir / "hankyung.sqlite3")
        crawler._hkcrawl_state = store  # type: ignore[attr-defined]
    return store


def run_id_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H-%M-%S")


@dataclass
class _RunFile:
    final: Path
    part: Path
    raw: IO[bytes]
    stream: IO[bytes]  # raw, or a gzip stream over it

    def checkpoint(self) -> None:
        if isinstance(self.stream, gzip.GzipFile):
            self.stream.flush(zlib.Z_SYNC_FLUSH)
        self.raw.flush()
        os.fsync(self.raw.fileno())

    def finish(self) -> None:
        if isinstance(self.stream, gzip.GzipFile):
            self.stream.close()
        self.raw.flush()
        os.fsync(self.raw.fileno())
        self.raw.close()
        os.replace(self.part, self.final)
        _fsync_dir(self.final.parent)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def recover_part_file(part: Path) -> tuple[Path, int]:
    """Keep the complete lines of a dead run's ``.part`` file; returns (file, lines)."""
    final = part.with_name(part.name[: -len(PART_SUFFIX)])
    data = part.read_bytes()
    if final.suffix == ".gz":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            data = inflater.decompress(data)
        except zlib.error:
            data = b""
    complete = data[: data.rfind(b"\n") + 1]
    tmp = part.with_name(part.name + ".recovering")
    with open(tmp, "wb") as raw:
        if final.suffix == ".gz":
            with gzip.GzipFile(fileobj=raw, mode="wb") as stream:
                stream.write(complete)
        else:
            raw.write(complete)
        raw.flush()
        os.fsync(raw.fileno())
    os.replace(tmp, final)
    part.unlink()
    return final, complete.count(b"\n")


class RunOutput:
    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        self.state = state_for(crawler)
        self.use_feeds = bool(settings.getdict("FEEDS"))
        self.directory = Path(settings.get("HKCRAWL_OUTPUT_DIR"))
        self.gzip = settings.getbool("HKCRAWL_OUTPUT_GZIP")
        self.checkpoint_items = settings.getint("HKCRAWL_CHECKPOINT_ITEMS")
        self.checkpoint_seconds = settings.getfloat("HKCRAWL_CHECKPOINT_SECONDS")
        self.run_id = run_id_now()
        self.started = time.time()
        self.pending: list[Exported] = []
        self.last_checkpoint = time.monotonic()
        self.file: _RunFile | None = None
        self.exporter: DataclassJsonLinesExporter | None = None
        self.status = "running"
        self.report: dict[str, Any] = {"new": 0}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunOutput:
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(extension.feed_exporter_closed, signal=signals.feed_exporter_closed)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    @property
    def output_name(self) -> str:
        return f"{self.run_id}.jsonl" + (".gz" if self.gzip else "")

    def spider_opened(self) -> None:
        if self.state is not None:
            self.state.start_run(self.run_id, _iso(self.started), "(feeds)" if self.use_feeds else self.output_name)
        if self.use_feeds:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        for part in sorted(self.directory.glob(f"*.jsonl{PART_SUFFIX}")) + sorted(
            self.directory.glob(f"*.jsonl.gz{PART_SUFFIX}")
        ):
            final, lines = recover_part_file(part)
            self.stats.inc_value("hkcrawl/output/recovered_files")
            logger.warning("Recovered %d record(s) of an interrupted run into %s", lines, final)
        final = self.directory / self.output_name
        part = final.with_name(final.name + PART_SUFFIX)
        raw = open(part, "wb")  # noqa: SIM115 (closed in finish())
        stream: IO[bytes] = gzip.GzipFile(fileobj=raw, mode="wb") if self.gzip else raw
        self.file = _RunFile(final, part, raw, stream)
        self.exporter = DataclassJsonLinesExporter(stream, encoding="utf-8")
        self.exporter.start_exporting()
        logger.info("Writing %s", final)

    def item_scraped(self, item: Article) -> None:
        if self.exporter is not None:
            self.exporter.export_item(item)
        self.stats.inc_value("hkcrawl/exported/updated" if item.isUpdate else "hkcrawl/exported/new")
        self.pending.append(
            Exported(
                item.articleId, item.datePublished, item.dateModified, item.articleBodyHash,
                item.dateDownloaded or _iso(time.time()), self.output_name,
            )
        )  # fmt: skip
        if self.file is not None and (
            len(self.pending) >= self.checkpoint_items
            or time.monotonic() - self.last_checkpoint >= self.checkpoint_seconds
        ):
            self._checkpoint()

    def _checkpoint(self) -> None:
        if self.file is not None:
            self.file.checkpoint()
        if self.state is not None:
            self.state.mark_exported(self.pending)
        self.pending = []
        self.last_checkpoint = time.monotonic()

    def feed_exporter_closed(self) -> None:
        # Scrapy stores -o/-O feeds after spider_closed; only now may their records
        # be marked known.
        if self.use_feeds:
            self._checkpoint()
            self._close_state()

    def spider_closed(self, reason: str) -> None:
        stats = self.crawler.stats.get_stats()
        stats.setdefault("finish_reason", reason)
        if self.file is not None:
            self._checkpoint()
            self.exporter.finish_exporting()
            self.file.finish()
        failure = stats.get("hkcrawl/failure")  # the verdict of extensions.summary, which runs first
        self.status = "ok" if failure is None else ("blocked" if reason == "blocked" else "failed")
        self.report = build_report(stats, self.run_id, self.started, self.status, failure, self.file)
        if self.file is not None:
            _write_json_atomically(self.directory / f"{self.run_id}.report.json", self.report)
            logger.info(
                "Run %s: %s, %d new, %d updated -> %s",
                self.run_id, self.status, self.report["new"], self.report["updated"], self.file.final,
            )  # fmt: skip
        if not self.use_feeds:
            self._close_state()

    def _close_state(self) -> None:
        if self.state is not None:
            self.state.finish_run(self.run_id, _iso(time.time()), self.status, self.report["new"])
            self.state.close()
            lock.release(Path(self.crawler.settings.get("HKCRAWL_STATE_DIR")) / "hankyung.lock")


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _by_prefix(stats: dict[str, Any], prefix: str) -> dict[str, int]:
    return {key[len(prefix) :]: value for key, value in sorted(stats.items()) if key.startswith(prefix)}


def build_report(
    stats: dict[str, Any], run_id: str, started: float, status: str, failure: str | None, file: _RunFile | None
) -> dict[str, Any]:
    dropped = _by_prefix(stats, "hkcrawl/dropped/")
    return {
        "run": run_id,
        "status": status,
        "failure": failure,
        "output": file.final.name if file else None,
        "started": _iso(started),
        "finished": _iso(time.time()),
        "durationSeconds": round(time.time() - started, 1),
        "new": stats.get("hkcrawl/exported/new", 0),
        "updated": stats.get("hkcrawl/exported/updated", 0),
        "knownSkipped": stats.get("hkcrawl/links/known", 0),
        "duplicates": dropped.get("duplicate", 0),
        "nearDuplicates": _by_prefix(stats, "hkcrawl/duplicates/"),
        "dropped": {reason: count for reason, count in dropped.items() if reason != "duplicate"},
        "blocks": stats.get("hkcrawl/blocks/challenge", 0),
        "errors": _by_prefix(stats, "hkcrawl/errors/"),
        "spiderExceptions": stats.get("spider_exceptions/count", 0),
        "pageProblems": {k: v for k, v in _by_prefix(stats, "hkcrawl/pages/").items() if k != "article"},
        "requests": stats.get("downloader/request_count", 0),
        "articlePages": stats.get("hkcrawl/pages/article", 0),
        "rendering": _by_prefix(stats, "hkcrawl/render/"),
        "finishReason": stats.get("finish_reason"),
    }


def _write_json_atomically(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + PART_SUFFIX)
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)

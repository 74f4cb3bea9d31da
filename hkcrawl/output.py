"""Run files on disk: each run's own JSONL file, never seen half-written.

Records go to ``<run>.jsonl.part`` and are fsync'd in checkpoints; at the end the
file is renamed to ``<run>.jsonl`` (a consumer globbing ``*.jsonl`` never sees a
partial file). A run killed before that leaves its ``.part`` file: the next run
keeps its complete lines and renames it. The writer holds an ``flock`` on its
``.part`` file for as long as it writes, so a ``.part`` file that is still locked
belongs to a live run and is never taken (whatever happened to the state lock).

Only :class:`hkcrawl.run.Run` uses these: it decides when, and turns every error
here into a failed run.
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import json
import logging
import os
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from hkcrawl.exporters import DataclassJsonLinesExporter
from hkcrawl.items import Article
from hkcrawl.lock import identity

logger = logging.getLogger(__name__)

PART_SUFFIX = ".part"
RUN_FILE_PATTERNS = ("*.jsonl", "*.jsonl.gz")
_GZIP_MAGIC = b"\x1f\x8b"


def run_id_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H-%M-%S")


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class RunFile:
    """The run's ``.part`` file: locked, written, checkpointed (fsync), then renamed."""

    def __init__(self, final: Path, gzipped: bool) -> None:
        self.final = final
        self.part = final.with_name(final.name + PART_SUFFIX)
        # "x": never write into a file someone else has (two runs started in one second).
        self.raw: IO[bytes] = open(self.part, "xb")  # noqa: SIM115 (closed in finish()/abandon())
        try:
            fcntl.flock(self.raw.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            self.stream: IO[bytes] = gzip.GzipFile(fileobj=self.raw, mode="wb") if gzipped else self.raw
            self.exporter = DataclassJsonLinesExporter(self.stream, encoding="utf-8")
            self.exporter.start_exporting()
        except BaseException:
            self.raw.close()
            raise
        info = os.fstat(self.raw.fileno())
        self._identity = (info.st_dev, info.st_ino)
        self.records = 0
        self.finished = False
        #: Bytes of the file on disk at the last checkpoint: the records a state may already
        #: mark known. Nothing before this offset is ever rewritten.
        self.checkpointed = 0

    def write(self, item: Article) -> None:
        self.exporter.export_item(item)
        self.records += 1

    def still_ours(self) -> bool:
        """True while the ``.part`` path still names the file this run writes."""
        return identity(self.part) == self._identity

    def checkpoint(self) -> None:
        """Everything written so far is on disk when this returns (raises OSError otherwise)."""
        if isinstance(self.stream, gzip.GzipFile):
            self.stream.flush(zlib.Z_SYNC_FLUSH)
        self.raw.flush()
        os.fsync(self.raw.fileno())
        self.checkpointed = self.raw.tell()

    def drop_records(self, article_ids: set[str]) -> int:
        """Take these articles' records back out of the file; returns how many went.

        For a run whose unfinished requests others will fetch again (the shared frontier
        lost, hkcrawl/redis_scheduler.py): keeping their records would export them twice.
        Only what was written since the last checkpoint is rewritten, so a crash during
        the rewrite can cost no record the state already marks known: at worst a broken
        line, which recovery (:func:`recover_part_file`) leaves out, or a record that comes
        out twice. A gzip stream cannot be cut back: it keeps them (0).
        """
        if isinstance(self.stream, gzip.GzipFile) or not article_ids:
            return 0
        self.raw.flush()
        kept, dropped = [], 0
        with self.part.open("rb") as written:
            written.seek(self.checkpointed)
            for line in written:
                if line.endswith(b"\n") and _article_id(line) in article_ids:
                    dropped += 1
                else:
                    kept.append(line)
        if dropped:
            self.raw.seek(self.checkpointed)
            self.raw.write(b"".join(kept))
            self.raw.truncate()
            self.raw.flush()
            os.fsync(self.raw.fileno())
            self.records -= dropped
        return dropped

    def finish(self) -> None:
        self.exporter.finish_exporting()
        if isinstance(self.stream, gzip.GzipFile):
            self.stream.close()
        self.raw.flush()
        os.fsync(self.raw.fileno())
        os.replace(self.part, self.final)
        self.finished = True
        fsync_dir(self.final.parent)
        self.raw.close()  # closing releases the flock: only after the rename

    def abandon(self) -> None:
        """Stop writing without renaming (the lock was lost): close, and leave the file as it is."""
        with contextlib.suppress(OSError):
            self.raw.close()


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _locked_by_someone(path: Path) -> bool:
    with open(path, "rb") as file:
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(file.fileno(), fcntl.LOCK_UN)
        return False


def dead_part_files(directory: Path) -> tuple[list[Path], list[Path]]:
    """(``.part`` files of dead runs, ``.part`` files a live run still writes)."""
    dead, live = [], []
    for part in sorted(directory.glob(f"*.jsonl{PART_SUFFIX}")) + sorted(directory.glob(f"*.jsonl.gz{PART_SUFFIX}")):
        (live if _locked_by_someone(part) else dead).append(part)
    return dead, live


def _record(line: bytes) -> dict[str, Any] | None:
    """The JSON object on a line, or None for a line that is no whole record."""
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def _article_id(line: bytes) -> object:
    return (_record(line) or {}).get("articleId")


def _whole_records(data: bytes, part: Path) -> bytes:
    """The lines of ``data`` that are JSON objects: a run killed mid-write leaves a cut
    last line, a crash while taking records back (RunFile.drop_records) a broken one."""
    lines = data[: data.rfind(b"\n") + 1].splitlines(keepends=True)
    whole = [line for line in lines if _record(line) is not None]
    if len(whole) < len(lines):
        logger.warning("%s: %d broken line(s) left out", part, len(lines) - len(whole))
    return b"".join(whole)


def recover_part_file(part: Path) -> tuple[Path, int]:
    """Keep the whole records of a dead run's ``.part`` file; returns (file, lines)."""
    final = part.with_name(part.name[: -len(PART_SUFFIX)])
    data = part.read_bytes()
    if final.suffix == ".gz":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            data = inflater.decompress(data)
        except zlib.error:
            data = b""
    complete = _whole_records(data, part)
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
    fsync_dir(final.parent)
    return final, complete.count(b"\n")


def finished_files(directory: Path) -> list[Path]:
    """The finished run files of a directory, oldest first (run ids sort by time)."""
    if not directory.is_dir():
        return []
    return sorted({p for pattern in RUN_FILE_PATTERNS for p in directory.glob(pattern) if p.is_file()})


def records_in(path: Path) -> Iterator[dict[str, Any]]:
    """The records of a run file that have an article id; unreadable lines (a cut gzip, a bad line) are skipped."""
    for line in _lines(path):
        record = _record(line)
        if record is not None and isinstance(record.get("articleId"), str):
            yield record


def article_ids_in(path: Path) -> set[str]:
    """The article ids a run file holds."""
    return {record["articleId"] for record in records_in(path)}


def _lines(path: Path) -> Iterator[bytes]:
    with path.open("rb") as raw:
        gzipped = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        if not gzipped:
            yield from raw
            return
        try:
            with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                yield from stream
        except (EOFError, zlib.error, gzip.BadGzipFile) as error:
            logger.warning("%s: cut short or corrupt (%s): only the lines before that count", path, error)


def write_json_atomically(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as file:
        file.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        file.flush()
        os.fsync(file.fileno())
    os.replace(tmp, path)

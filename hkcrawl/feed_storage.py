"""Local ``-O FILE`` feeds that replace FILE only when a run has something to put there.

Scrapy's file storage opens an overwritten feed with ``wb`` as the crawl opens, so
FILE is emptied before anything else happens: a run that then finds another run holding
the lock (exit 75), or cannot open its state, would leave the user's earlier dataset
truncated. Here the records go to a hidden temporary file beside FILE, which replaces
FILE (fsync'd, renamed) when the feed is stored, and only if the run opened. A killed
run leaves FILE as it was, plus a ``.FILE.*.tmp`` to delete. Appending feeds (``-o``)
keep Scrapy's behaviour: appending nothing changes nothing.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import IO, Any

from scrapy.extensions.feedexport import FileFeedStorage

from hkcrawl.run import Run


class ReplacingFileFeedStorage(FileFeedStorage):
    def __init__(self, uri: str, *, feed_options: dict[str, Any] | None = None, crawler: Any = None) -> None:
        super().__init__(uri, feed_options=feed_options)
        self.crawler = crawler
        self.temp: Path | None = None

    @classmethod
    def from_crawler(
        cls, crawler: Any, uri: str, *, feed_options: dict[str, Any] | None = None
    ) -> ReplacingFileFeedStorage:
        return cls(uri, feed_options=feed_options, crawler=crawler)

    def open(self, spider: Any) -> IO[bytes]:
        if self.write_mode != "wb":
            return super().open(spider)
        final = Path(self.path)
        final.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
        self.temp = Path(name)
        os.chmod(self.temp, 0o644)  # what open() gives with the usual umask; mkstemp gives 0600
        return os.fdopen(handle, "wb")

    def store(self, file: IO[bytes]) -> None:
        if self.temp is None:
            file.close()
            return
        try:
            file.flush()
            os.fsync(file.fileno())
        finally:
            file.close()
        if not self._run_opened():
            self.temp.unlink(missing_ok=True)  # busy or could not start: FILE stays as it was
            return
        os.replace(self.temp, self.path)

    def _run_opened(self) -> bool:
        if self.crawler is None:
            return True
        try:
            return Run.of(self.crawler).opened
        except RuntimeError:  # Run disabled in EXTENSIONS: Scrapy's behaviour
            return True

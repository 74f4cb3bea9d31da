"""The state against the files: what a run's ledger may call known is what a finished file holds.

A killed run leaves the state *behind* its files, never ahead; a file removed or edited
by hand can leave it ahead. These two functions put it right at the start of every run
(and ``hkcrawl check``): forget what no file holds, or rebuild a lost state from the files.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from scrapy.settings import BaseSettings

from hkcrawl.output import article_ids_in, iso, records_in
from hkcrawl.state import Exported, StateStore


def open_store(path: Path, output_dir: Path, settings: BaseSettings, spider: str = "hankyung") -> StateStore:
    """The ledger at ``path``; in distributed mode (``HKCRAWL_REDIS_URL``) one that shares
    itself through Redis, so a reconcile forgets the shared entries too."""
    if not settings.get("HKCRAWL_REDIS_URL"):
        return StateStore(path)
    from hkcrawl.shared_ledger import SharedStateStore  # distributed mode only: imports redis

    return SharedStateStore.from_settings(path, output_dir, settings, spider)


def reconcile(state: StateStore, output_dir: Path) -> dict[str, int]:
    """Forget known articles that no finished file holds (so they are fetched again).

    Each output file is read once: a file already checked at the same size and
    modification time is trusted.
    """

    def holds(output: str) -> set[str] | None:
        if not output or output.startswith("("):  # "(feeds)" of older versions: cannot be checked
            return None
        path = Path(output) if os.path.isabs(output) else output_dir / output
        try:
            info = path.stat()
        except FileNotFoundError:
            return set()
        if state.verified(output) == (info.st_size, info.st_mtime_ns):
            return state.ids_in_output(output)
        ids = article_ids_in(path)
        state.set_verified(output, info.st_size, info.st_mtime_ns)
        return ids

    return state.forget_missing(holds)


def rebuild_state(state: StateStore, files: list[Path]) -> int:
    """Mark known what the finished files hold (oldest first, so the latest version wins); returns how many."""
    for path in files:
        batch = [
            Exported(
                record["articleId"], record.get("datePublished"), record.get("dateModified"),
                record.get("articleBodyHash"), record.get("dateDownloaded") or iso(time.time()), path.name,
            )
            for record in records_in(path)
        ]  # fmt: skip
        state.mark_exported(batch)
    return len(state)

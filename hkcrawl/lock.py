"""One run at a time per state directory.

An exclusive ``flock`` on ``<state dir>/hankyung.lock``: the kernel drops it when the
holder dies, even by SIGKILL, so a crashed run never blocks the next one. ``hkcrawl
cron`` takes it before the crawl starts (to exit at once when busy); the crawl takes
it too, for runs started by hand; in one process the second request gets the lock
the first already holds.
"""

from __future__ import annotations

import fcntl
import os
from datetime import UTC, datetime
from pathlib import Path

_held: dict[Path, int] = {}


class LockBusy(RuntimeError):
    """Another run holds the lock; the message says which."""


def acquire(path: Path) -> None:
    path = path.resolve()
    if path in _held:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "unknown process"
        os.close(fd)
        raise LockBusy(f"another hkcrawl run is in progress ({holder}; lock {path})") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid {os.getpid()} since {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}\n".encode(), 0)
    _held[path] = fd


def release(path: Path) -> None:
    fd = _held.pop(path.resolve(), None)
    if fd is not None:
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

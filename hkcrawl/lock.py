"""One run at a time per state directory, and a lock that cannot be stolen by ``rm``.

The lock is an exclusive ``flock`` on the state *directory itself*: the kernel drops
it when the holder dies, even by SIGKILL, so a crashed run never blocks the next
one; and no file can be deleted to take it from a live run (a lock *file* could be:
the next run would create a new one and lock that). ``hankyung.lock`` inside the
directory only says who holds it, for the "busy" message.

Removing or renaming the whole directory still lets a second run start on a fresh
one; :meth:`DirectoryLock.still_guards` tells the holder so (the path no longer
names the directory it locked), and the run stops writing before its next
checkpoint.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from datetime import UTC, datetime
from pathlib import Path

HOLDER_FILE = "hankyung.lock"


def identity(path: Path | None) -> tuple[int, int] | None:
    """(device, inode) of what ``path`` names now, or None: a file replaced or removed
    under the same name has another identity (or none)."""
    if path is None:
        return None
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_dev, info.st_ino)


class LockBusy(RuntimeError):
    """Another run holds the lock; the message says which."""


class LockLost(RuntimeError):
    """The locked directory is no longer the one at the path in use."""


class DirectoryLock:
    def __init__(self, directory: Path) -> None:
        self.directory = directory.resolve()
        self._fd: int | None = None
        self._identity: tuple[int, int] | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Lock the directory (created if missing); raises LockBusy when another run has it."""
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LockBusy(f"another hkcrawl run is in progress ({self.holder()}; lock {self.directory})") from None
        self._fd = fd
        info = os.fstat(fd)
        self._identity = (info.st_dev, info.st_ino)
        # Only informational; a full disk is caught where it matters (the state store).
        with contextlib.suppress(OSError):
            (self.directory / HOLDER_FILE).write_text(
                f"pid {os.getpid()} since {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}\n", encoding="utf-8"
            )

    def holder(self) -> str:
        try:
            return (self.directory / HOLDER_FILE).read_text(encoding="utf-8", errors="replace").strip()[:200]
        except OSError:
            return "unknown process"

    def still_guards(self) -> bool:
        """True while the path still names the directory this lock holds."""
        return self._fd is not None and self._identity is not None and identity(self.directory) == self._identity

    def check(self) -> None:
        if not self.still_guards():
            raise LockLost(f"the state directory {self.directory} was removed or replaced while this run held its lock")

    def release(self) -> None:
        if self._fd is None:
            return
        if self.still_guards():
            with contextlib.suppress(OSError):
                (self.directory / HOLDER_FILE).write_text("", encoding="utf-8")
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

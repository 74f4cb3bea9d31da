"""A pseudo-terminal for a child's stderr, and what a user would see on it."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import pty
import struct
import subprocess
import termios
import time
from collections.abc import Iterator


@contextlib.contextmanager
def terminal(columns: int) -> Iterator[tuple[int, int]]:
    """(controller, terminal) file descriptors of a new pseudo-terminal ``columns`` wide."""
    controller, child_side = pty.openpty()
    fcntl.ioctl(child_side, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    try:
        yield controller, child_side
    finally:
        os.close(controller)
        with contextlib.suppress(OSError):
            os.close(child_side)


def read_until_closed(controller: int, child_side: int, proc: subprocess.Popen, timeout: float = 300) -> str:
    """Everything the child writes to the terminal until it exits (within ``timeout``)."""
    os.close(child_side)  # ours: the read ends (EIO) once the child's copies are closed
    deadline = time.monotonic() + timeout
    chunks = []
    while time.monotonic() < deadline:
        try:
            chunk = os.read(controller, 65536)
        except OSError as error:  # EIO: every writer of the terminal has closed it
            if error.errno != errno.EIO:
                raise
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=max(deadline - time.monotonic(), 1))
    return b"".join(chunks).decode("utf-8")


def screen(output: str) -> list[str]:
    """The lines a terminal shows after ``output``: ``\\r`` goes back to the line's start, text overwrites."""
    lines: list[list[str]] = [[]]
    column = 0
    for char in output:
        if char == "\r":
            column = 0
        elif char == "\n":
            lines.append([])
            column = 0
        else:
            lines[-1][column : column + 1] = [char]
            column += 1
    return ["".join(line).rstrip() for line in lines]

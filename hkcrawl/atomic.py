"""Replace a file so that a crash leaves the old one or the new one, never half of one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


@contextmanager
def replacing(out: Path) -> Iterator[BinaryIO]:
    """A binary file to write ``out``'s new content into; on a clean exit it becomes ``out``.

    The content goes to ``.<name>.<random>.tmp`` beside ``out`` (a name no run-file or
    state pattern matches), is fsync'd and renamed over ``out``, and the directory is
    fsync'd so the rename survives a power cut. On any error the temporary file is
    removed, ``out`` is left as it was, and the error (OSError for a full disk) goes on.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temp, 0o644)  # what open() gives with the usual umask; mkstemp gives 0600
        os.replace(temp, out)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    directory = os.open(out.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)

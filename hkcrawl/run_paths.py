"""Where a run's files go: the one place that reads the directory settings.

:class:`hkcrawl.run.Run` and ``hkcrawl check`` take the state database, the output
directory and the near-duplicate index from here, and a run checks its -o/-O feeds
with :func:`local_feeds`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from scrapy.settings import BaseSettings
from scrapy.utils.conf import closest_scrapy_cfg

DATABASE_NAME = "hankyung.sqlite3"
NEAR_DUPLICATES_NAME = "near_duplicates.npz"


@dataclass(frozen=True)
class RunPaths:
    """Where a run's files go, from settings: the one place that reads those settings."""

    state_dir: Path | None  # None: HKCRAWL_STATE_ENABLED is off
    output_dir: Path
    gzip: bool

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> RunPaths:
        """Relative directories are taken from HKCRAWL_BASE_DIR (see :func:`base_dir`)."""
        base = base_dir(settings)
        state = base / settings.get("HKCRAWL_STATE_DIR") if settings.getbool("HKCRAWL_STATE_ENABLED") else None
        return cls(state, base / settings.get("HKCRAWL_OUTPUT_DIR"), settings.getbool("HKCRAWL_OUTPUT_GZIP"))

    @property
    def database(self) -> Path | None:
        return self.state_dir / DATABASE_NAME if self.state_dir else None

    @property
    def near_duplicates(self) -> Path | None:
        return self.state_dir / NEAR_DUPLICATES_NAME if self.state_dir else None


def base_dir(settings: BaseSettings) -> Path:
    """Where relative output and state directories are: HKCRAWL_BASE_DIR when set; else
    the project root (the scrapy.cfg Scrapy found), so ``scrapy crawl`` from a subfolder
    of the project does not start a second, empty history there; else (outside any
    project, e.g. ``hkcrawl cron --dir``) the working directory. Absolute paths are kept."""
    given = settings.get("HKCRAWL_BASE_DIR")
    if given:
        return Path(given).absolute()
    cfg = closest_scrapy_cfg()
    return Path(cfg).parent if cfg else Path.cwd()


def local_feeds(settings: BaseSettings) -> list[tuple[Path, int]]:
    """Local JSON Lines feeds (-o/-O) with the lines each holds before the run (0 when overwritten)."""
    found = []
    for uri, options in settings.getdict("FEEDS").items():
        text = str(uri)
        parts = urlsplit(text)
        if parts.scheme not in ("", "file") or "%(" in text:
            continue
        path = Path(parts.path if parts.scheme == "file" else text)
        before = 0
        if not (options or {}).get("overwrite") and path.exists():
            try:
                before = count_lines(path)
            except OSError:
                before = 0
        found.append((path.resolve(), before))
    return found


def count_lines(path: Path) -> int:
    with path.open("rb") as file:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: file.read(1 << 20), b""))

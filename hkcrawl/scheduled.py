"""``hkcrawl cron`` and ``hkcrawl check``: one scheduled run, and the check of what the runs left.

Both work on the runs' directory (``--dir``: data/, state/ and logs/ under it) and go
through the state directory's lock, as every crawl does: a check never races a run.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def cron_command(args: argparse.Namespace) -> int:
    """One scheduled run: crawl, log to a file, exit non-zero on failure.

    Made for cron's bare environment: no PATH or terminal needed, every path is
    under --dir, and output on stdout/stderr only when something is wrong (cron
    mails what a job prints). The crawl itself locks its state directory and gives
    the verdict (exit 75 when another run holds the lock).
    """
    from scrapy.cmdline import execute

    from hkcrawl.output import run_id_now

    home = Path(args.dir).resolve()
    home.mkdir(parents=True, exist_ok=True)
    os.chdir(home)
    crawl_args = [arg for arg in args.crawl_args if arg != "--"]
    log_file = home / "logs" / f"hankyung-{run_id_now()}.log"
    log_file.parent.mkdir(exist_ok=True)
    os.environ["SCRAPY_SETTINGS_MODULE"] = "hkcrawl.settings"
    try:
        # Relative paths under --dir even when it lies inside the project (HKCRAWL_BASE_DIR).
        base = ["-s", f"HKCRAWL_BASE_DIR={home}"]
        execute(["scrapy", "crawl", "hankyung", "-s", f"LOG_FILE={log_file}", *base, *crawl_args])
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    if code != 0:
        # The crawl printed its one-line reason on stderr; say where the whole story is
        # (a refused argument stops it before it logs anything).
        where = f"; log: {log_file}" if log_file.exists() else ""
        print(f"hkcrawl cron: exit {code}{where}", file=sys.stderr)
    return code


def check_command(args: argparse.Namespace) -> int:
    """Compare the state with the finished files; forget what no file holds (fetched again next run)."""
    import sqlite3

    from scrapy.utils.project import get_project_settings

    from hkcrawl.lock import DirectoryLock, LockBusy
    from hkcrawl.reconcile import open_store, reconcile
    from hkcrawl.run_paths import RunPaths
    from hkcrawl.state import StateUnavailable

    if args.dir:
        os.chdir(Path(args.dir))
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "hkcrawl.settings")
    settings = get_project_settings()
    if args.dir:  # the runs' files are under DIR, as for hkcrawl cron --dir
        settings.set("HKCRAWL_BASE_DIR", str(Path.cwd()), priority="cmdline")
    for pair in args.set or []:
        name, _, value = pair.partition("=")
        settings.set(name, value, priority="cmdline")
    paths = RunPaths.from_settings(settings)
    if paths.database is None or not paths.database.exists():
        print(f"hkcrawl check: no state at {paths.database or '(state disabled)'}: nothing to check")
        return 0
    lock = DirectoryLock(paths.state_dir)
    try:
        lock.acquire()
    except LockBusy as busy:
        print(f"hkcrawl check: {busy}; try again later", file=sys.stderr)
        return 75
    try:
        state = open_store(paths.database, paths.output_dir, settings)
        try:
            known = len(state)
            forgotten = reconcile(state, paths.output_dir)
            failures = state.failures(include_given_up=True)
            if problem := state.problem():  # distributed mode: Redis did not take the forgets
                raise StateUnavailable(problem)
        finally:
            state.close()
    except (OSError, sqlite3.Error, StateUnavailable) as error:
        print(f"hkcrawl check: cannot check {paths.database}: {error}", file=sys.stderr)
        return 2
    finally:
        lock.release()
    lost = sum(forgotten.values())
    print(f"{known} known articles; {known - lost} in the finished files of {paths.output_dir}")
    for output, count in sorted(forgotten.items()):
        print(f"  forgot {count} article(s) that {output} does not hold: the next run fetches them again")
    waiting = [f for f in failures if not f.gave_up]
    print(f"{len(waiting)} article(s) to fetch again; {len(failures) - len(waiting)} given up")
    for failure in failures:
        if failure.gave_up:
            print(f"  gave up {failure.article_id}: {failure.gave_up_why}")
    return 0

"""``hkcrawl`` command line: tools around the crawl (``scrapy crawl hankyung`` is the crawl)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.request
from dataclasses import asdict
from pathlib import Path

from hkcrawl.record import build_record


def _fetch(url: str) -> tuple[bytes, str | None]:
    from hkcrawl.settings import USER_AGENT

    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read(), response.headers.get("Content-Type")


def extract_command(args: argparse.Namespace) -> int:
    source: str = args.source
    content_type = None
    if source.startswith(("http://", "https://")):
        try:
            body, content_type = _fetch(source)
        except OSError as error:
            print(f"hkcrawl extract: cannot fetch {source}: {error}", file=sys.stderr)
            return 2
        url = args.url or source
    else:
        path = Path(source)
        try:
            body = path.read_bytes()
        except OSError as error:
            print(f"hkcrawl extract: cannot read {source}: {error.strerror}", file=sys.stderr)
            return 2
        # Without --url the article id comes from the page's canonical link.
        url = args.url or path.resolve().as_uri()
    result = build_record(body, url, content_type)
    for problem in result.problems:
        print(f"hkcrawl extract: {problem}", file=sys.stderr)
    if result.article is None:
        print(f"hkcrawl extract: {source} is not an article page", file=sys.stderr)
        print("null")
        return 1
    for rule, count in sorted(result.removed.items()):
        print(f"hkcrawl extract: cleaned {count} line(s) by rule {rule}", file=sys.stderr)
    print(json.dumps(asdict(result.article), ensure_ascii=False, indent=2))
    if result.missing:
        print(
            f"hkcrawl extract: the crawl would drop this record: missing {', '.join(result.missing)}",
            file=sys.stderr,
        )
        return 1
    return 0


def demo_command(args: argparse.Namespace) -> int:
    from hkcrawl.demo import run_demo  # the replica is only loaded for the demo

    return run_demo(args.articles, args.output, args.discover)


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
        execute(["scrapy", "crawl", "hankyung", "-s", f"LOG_FILE={log_file}", *crawl_args])
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    if code != 0:
        # The crawl printed its one-line reason on stderr; say where the whole story is.
        print(f"hkcrawl cron: exit {code}; log: {log_file}", file=sys.stderr)
    return code


def check_command(args: argparse.Namespace) -> int:
    """Compare the state with the finished files; forget what no file holds (fetched again next run)."""
    import sqlite3

    from scrapy.utils.project import get_project_settings

    from hkcrawl.lock import DirectoryLock, LockBusy
    from hkcrawl.run import RunPaths, reconcile
    from hkcrawl.state import StateStore

    if args.dir:
        os.chdir(Path(args.dir))
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "hkcrawl.settings")
    settings = get_project_settings()
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
        state = StateStore(paths.database)
        try:
            known = len(state)
            forgotten = reconcile(state, paths.output_dir)
            failures = state.failures(include_given_up=True)
        finally:
            state.close()
    except (OSError, sqlite3.Error) as error:
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


def validate_command(args: argparse.Namespace) -> int:
    """Check exported files against the record schema, one line per problem (``FILE:LINE: …``,
    easy to grep or jump to); exit 0 all valid, 1 some record invalid, 2 a file unreadable."""
    from hkcrawl import datasets  # jsonschema is only loaded for validate/merge

    files: list[Path] = []
    unreadable = False
    for given in args.files:  # a missing one does not stop the others being checked
        try:
            files += datasets.input_files([given])
        except datasets.DatasetError as error:
            print(f"hkcrawl validate: {error}", file=sys.stderr)
            unreadable = True
    records = invalid = 0
    for path in files:
        try:
            for line in datasets.read_lines(path):
                records += 1
                problems = datasets.line_problems(line)
                invalid += bool(problems)
                for problem in problems:
                    print(problem)
        except datasets.DatasetError as error:
            print(f"hkcrawl validate: {error}", file=sys.stderr)
            unreadable = True
    print(f"{records} records, {invalid} invalid in {len(files)} files")
    return 2 if unreadable else 1 if invalid else 0


def merge_command(args: argparse.Namespace) -> int:
    """Join run files into one dataset, the latest version of each article winning;
    exit 2 (OUT untouched) when an input cannot be read or OUT cannot be written."""
    from hkcrawl import datasets

    try:
        summary = datasets.merge(args.out, args.inputs)
    except datasets.DatasetError as error:
        print(f"hkcrawl merge: {error}; {args.out} not written", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"hkcrawl merge: cannot write {args.out}: {error.strerror or error}", file=sys.stderr)
        return 2
    for problem in summary.skipped:
        print(f"hkcrawl merge: skipped {problem}", file=sys.stderr)
    print(f"wrote {summary.output}")
    for line in summary.lines():
        print(f"  {line}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hkcrawl", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    extract = commands.add_parser(
        "extract",
        help="print the record for one saved page or URL, as the crawl would export it",
    )
    extract.add_argument("source", metavar="FILE_OR_URL", help="a saved HTML file, or an http(s) URL to fetch")
    extract.add_argument("--url", help="the URL the saved page came from (gives the article id and resolves links)")
    extract.set_defaults(handler=extract_command)
    demo = commands.add_parser(
        "demo",
        help="start the bundled replica of hankyung.com, crawl it with the real spider, write JSONL",
    )
    demo.add_argument("--articles", type=int, default=1000, help="articles on the replica (default 1000)")
    demo.add_argument("--discover", default="sections,sitemap", help="the spider's -a discover= (%(default)s)")
    demo.add_argument("--output", type=Path, help="JSONL file to write (default data/demo/<UTC time>.jsonl)")
    demo.set_defaults(handler=demo_command)
    cron = commands.add_parser(
        "cron",
        help="one scheduled crawl: locked against overlap, logged to DIR/logs, non-zero exit when it failed",
    )
    cron.add_argument("--dir", required=True, help="working directory: data/, state/ and logs/ go under it")
    cron.add_argument("crawl_args", nargs=argparse.REMAINDER, help="after --: arguments for scrapy crawl (-a …, -s …)")
    cron.set_defaults(handler=cron_command)
    check = commands.add_parser(
        "check",
        help="compare the state with the finished run files and forget what no file holds (fetched again)",
    )
    check.add_argument("--dir", help="working directory of the runs (as hkcrawl cron --dir); default: here")
    check.add_argument("-s", "--set", action="append", metavar="NAME=VALUE", help="a setting, as for scrapy crawl")
    check.set_defaults(handler=check_command)
    validate = commands.add_parser(
        "validate",
        help="check exported .jsonl/.jsonl.gz files against the record schema (hkcrawl/schema/article.schema.json)",
    )
    validate.add_argument(
        "files", nargs="+", metavar="FILE_OR_DIR", help="run files, or directories (their *.jsonl and *.jsonl.gz)"
    )
    validate.set_defaults(handler=validate_command)
    merge = commands.add_parser(
        "merge",
        help="join run files into one deduplicated dataset, the latest version of each article winning",
    )
    merge.add_argument("out", type=Path, metavar="OUT", help="file to write (gzip'd when it ends .gz)")
    merge.add_argument(
        "inputs", nargs="+", metavar="FILE_OR_DIR", help="run files, or directories (their *.jsonl and *.jsonl.gz)"
    )
    merge.set_defaults(handler=merge_command)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())

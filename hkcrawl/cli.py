"""``hkcrawl`` command line: tools around the crawl (``scrapy crawl hankyung`` is the crawl)."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import threading
import urllib.request
from dataclasses import asdict
from pathlib import Path
from typing import IO, BinaryIO
from urllib.parse import urlsplit

from hkcrawl import seed, urls
from hkcrawl.record import RecordResult, build_record
from hkcrawl.settings import HANKYUNG_BASE_URL


class FetchError(Exception):
    """The page could not be fetched; the message is the one line ``hkcrawl extract`` prints."""


def _one_line(text: object) -> str:
    """Messages from servers and exceptions can hold newlines; an error stays one line."""
    return " ".join(str(text).split())


class _SameSiteRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to http(s) on the allowed hosts: ``extract`` must not be
    walked off to another site, as the crawl never is (its offsite filtering)."""

    def __init__(self, hosts: frozenset[str]) -> None:
        self.hosts = hosts

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        _check_fetchable(newurl, self.hosts, what=f"cannot fetch {req.full_url}: redirected to")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _check_fetchable(url: str, hosts: frozenset[str], what: str = "cannot fetch") -> None:
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise FetchError(f"{what} {url}: not a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"{what} {url}: only http(s) URLs are fetched")
    if host not in hosts:
        raise FetchError(f"{what} {url}: {host} is not a hankyung.com article host nor the --base-url host")


def _read_capped(stream: BinaryIO, limit: int, source: str) -> bytes:
    """At most ``limit`` bytes; more is an error, as DOWNLOAD_MAXSIZE is in the crawl."""
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise FetchError(f"{source} is larger than {limit:,} bytes (DOWNLOAD_MAXSIZE): not read")
    return body


def _download(url: str, hosts: frozenset[str], timeout: float, limit: int) -> tuple[bytes, str | None, str]:
    """The body, Content-Type and final URL (after same-site redirects)."""
    from hkcrawl.settings import USER_AGENT

    opener = urllib.request.build_opener(_SameSiteRedirects(hosts))
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with opener.open(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > limit:
                raise FetchError(f"{url} is larger than {limit:,} bytes (DOWNLOAD_MAXSIZE): not read")
            return _read_capped(response, limit, url), response.headers.get("Content-Type"), response.geturl()
    except (OSError, http.client.HTTPException, ValueError) as error:
        reason = getattr(error, "reason", None) or error
        raise FetchError(f"cannot fetch {url}: {_one_line(reason) or type(error).__name__}") from error


def _fetch(url: str, hosts: frozenset[str], timeout: float, limit: int) -> tuple[bytes, str | None, str]:
    """:func:`_download` within ``timeout`` seconds in all: a socket timeout bounds each
    read, not a server that trickles bytes or redirects slowly, so the download runs in
    a daemon thread that is abandoned (the process exits) when the time is up."""
    _check_fetchable(url, hosts)
    outcome: list[tuple[bytes, str | None, str] | BaseException] = []

    def run() -> None:
        try:
            outcome.append(_download(url, hosts, timeout, limit))
        except BaseException as error:  # handed to the caller's thread
            outcome.append(error)

    worker = threading.Thread(target=run, name="hkcrawl-extract-fetch", daemon=True)
    worker.start()
    worker.join(timeout)
    if not outcome:
        raise FetchError(f"cannot fetch {url}: timed out: no complete answer within {timeout:g} s (--timeout)")
    if isinstance(result := outcome[0], BaseException):
        raise result
    return result


def _read_file(path: Path, limit: int) -> bytes:
    try:
        with path.open("rb") as stream:
            return _read_capped(stream, limit, str(path))
    except OSError as error:
        raise FetchError(f"cannot read {path}: {error.strerror or _one_line(error)}") from error


def extract_command(args: argparse.Namespace) -> int:
    """``extract`` with a last-resort guard: whatever goes wrong, one line and exit 2, never a traceback."""
    try:
        return _extract(args)
    except FetchError as error:
        print(f"hkcrawl extract: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hkcrawl extract: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # a bug or a page nobody planned for: still one line
        print(f"hkcrawl extract: internal error: {type(error).__name__}: {_one_line(error)}", file=sys.stderr)
        return 2


def _extract(args: argparse.Namespace) -> int:
    from hkcrawl import settings

    source: str = args.source
    limit = settings.DOWNLOAD_MAXSIZE
    content_type = None
    if source.startswith(("http://", "https://")):
        hosts = urls.ARTICLE_HOSTS | {urlsplit(args.base_url).hostname or ""}
        body, content_type, final_url = _fetch(source, hosts, args.timeout, limit)
        url = args.url or final_url
    else:
        body = _read_file(Path(source), limit)
        # Without --url the article id and the record's url come from the page's canonical link.
        url = args.url or ""
    result = build_record(body, url, content_type)
    for problem in result.problems:
        print(f"hkcrawl extract: {problem}", file=sys.stderr)
    if result.article is None:
        print(f"hkcrawl extract: {source} is not an article page", file=sys.stderr)
        print("null")
        return 1
    for rule, count in sorted(result.removed.items()):
        print(f"hkcrawl extract: cleaned {count} line(s) by rule {rule}", file=sys.stderr)
    if getattr(args, "explain", False):  # Namespaces built by hand (tests) lack it
        for line in explain_lines(result):
            print(f"hkcrawl extract: {line}", file=sys.stderr)
    print(json.dumps(asdict(result.article), ensure_ascii=False, indent=2))
    if result.missing:
        print(
            f"hkcrawl extract: the crawl would drop this record: missing {', '.join(result.missing)}",
            file=sys.stderr,
        )
        return 1
    for where, message in result.schema:
        print(f"hkcrawl extract: the crawl would drop this record: {where}: {message}", file=sys.stderr)
    if result.truncated:
        print(
            "hkcrawl extract: the page is cut short (no closing </html>): the crawl would fetch it again",
            file=sys.stderr,
        )
    return 1 if result.schema or result.truncated else 0


def explain_lines(result: RecordResult) -> list[str]:
    """One line per field: the cue that gave its value ("none" when no cue did) and the
    cues tried, in order, so a page shows which guessed selectors still match."""
    width = max(map(len, result.cues), default=0)
    return [
        f"cue {name.ljust(width)}  {cue}  (tried: {', '.join(result.tried.get(name, [])) or '-'})"
        for name, cue in result.cues.items()
    ]


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
    from hkcrawl.run import RunPaths
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


def validate_command(args: argparse.Namespace) -> int:
    """Check exported files against the record schema, one line per problem (``FILE:LINE: …``,
    easy to grep or jump to); exit 0 all valid, 1 some record invalid, 2 a file unreadable."""
    from hkcrawl import datasets

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

    missing = next((parent for parent in reversed(args.out.absolute().parents) if not parent.exists()), None)
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
    if missing is not None:  # a typo in OUT's folder should not go unnoticed
        print(f"created {missing}/")
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
    extract.add_argument(
        "--base-url",
        default=HANKYUNG_BASE_URL,
        help="a site whose host may be fetched besides hankyung.com's article hosts, e.g. the replica (%(default)s)",
    )
    extract.add_argument(
        "--timeout", type=float, default=30.0, help="seconds for the whole download, redirects included (%(default)s)"
    )
    extract.add_argument(
        "--explain",
        action="store_true",
        help="print to stderr, per field, the cue that gave its value and the cues tried in order",
    )
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
    from hkcrawl import watch  # the command and its options live in hkcrawl/watch.py

    watch.add_command(commands)
    merge = commands.add_parser(
        "merge",
        help="join run files into one deduplicated dataset, the latest version of each article winning",
    )
    merge.add_argument("out", type=Path, metavar="OUT", help="file to write (gzip'd when it ends .gz)")
    merge.add_argument(
        "inputs", nargs="+", metavar="FILE_OR_DIR", help="run files, or directories (their *.jsonl and *.jsonl.gz)"
    )
    merge.set_defaults(handler=merge_command)
    seed.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())

"""``hkcrawl extract``: the record the crawl would export for one saved page or URL.

A URL is fetched within the crawl's limits: only http(s) on the article hosts (and the
--base-url host), redirects only within them, at most DOWNLOAD_MAXSIZE bytes, within
--timeout in all. Whatever goes wrong is one line on stderr and a documented exit status.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
import urllib.request
from dataclasses import asdict
from pathlib import Path
from typing import IO, BinaryIO
from urllib.parse import urlsplit

from hkcrawl import urls
from hkcrawl.record import RecordResult, build_record


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

"""``hkcrawl extract`` against hostile files and servers: a record or one line of error,
the documented exit status, and never a traceback."""

from __future__ import annotations

import argparse
import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from hkcrawl import cli, extract, record
from hkcrawl.items import Image
from hkcrawl.pages.article import ParseResult, parse_article
from tests.conftest import ARTICLE_FIXTURES, ROOT, serving

SEED = ARTICLE_FIXTURES / "current_seed_2022-06-17.html"
ARTICLE_PATH = "/article/2022061771721"
ELEVEN_MB = 11 * 1024 * 1024


def _extract(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hkcrawl.cli", "extract", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _assert_one_line_error(proc: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hkcrawl extract: "), proc.stderr
    for text in expected:
        assert text in lines[0]


class _HostileHandler(http.server.BaseHTTPRequestHandler):
    """Each path misbehaves in its own way; ``release`` frees handlers that hold a connection."""

    release: ClassVar[threading.Event]
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:
        match self.path:
            case "/article/2022061771721":
                self._send_body(SEED.read_bytes())
            case "/same-site-redirect":
                self._redirect(ARTICLE_PATH)
            case "/off-site-redirect":
                self._redirect("http://example.invalid/article/2022061771721")
            case "/javascript-redirect":
                self._redirect("javascript:alert(1)")
            case "/loop":
                self._redirect("/loop")
            case "/stall":  # headers, then nothing until the test is done
                self._headers(length=100_000)
                self.release.wait()
            case "/trickle":  # a byte every 0.2 s: no single read ever times out
                self._headers(length=None)
                while not self.release.wait(0.2):
                    self.wfile.write(b" ")
                    self.wfile.flush()
            case "/huge-declared":
                self._send_body(b" " * ELEVEN_MB)
            case "/huge-undeclared":
                self._headers(length=None)
                self.wfile.write(b"<html>" + b" " * ELEVEN_MB)
            case _:
                self.send_error(404)

    def _headers(self, length: int | None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.flush()

    def _send_body(self, body: bytes) -> None:
        self._headers(len(body))
        self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hostile_site() -> Iterator[str]:
    release = threading.Event()
    handler = type("Handler", (_HostileHandler,), {"release": release})
    with serving(handler) as base_url:
        try:
            yield base_url
        finally:
            release.set()  # before the server closes: its stalled handlers end


# -- URLs ---------------------------------------------------------------------


def test_a_same_site_redirect_is_followed_and_the_final_url_recorded(hostile_site: str) -> None:
    proc = _extract(f"{hostile_site}/same-site-redirect", "--base-url", hostile_site)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["url"] == hostile_site + ARTICLE_PATH


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/off-site-redirect", "redirected to http://example.invalid/article/2022061771721: example.invalid is not"),
        ("/javascript-redirect", "'javascript:alert(1)' is not allowed"),  # urllib's own refusal
    ],
)
def test_a_redirect_off_the_site_is_refused(hostile_site: str, path: str, message: str) -> None:
    proc = _extract(hostile_site + path, "--base-url", hostile_site)
    _assert_one_line_error(proc, message)
    assert proc.stdout == ""


def test_a_redirect_loop_is_an_error(hostile_site: str) -> None:
    _assert_one_line_error(_extract(f"{hostile_site}/loop", "--base-url", hostile_site), "cannot fetch")


@pytest.mark.parametrize("path", ["/stall", "/trickle"])
def test_the_timeout_bounds_the_whole_download(hostile_site: str, path: str) -> None:
    """``/trickle`` keeps every socket read under the timeout: only an overall bound stops it."""
    proc = _extract(hostile_site + path, "--base-url", hostile_site, "--timeout", "1", timeout=30)
    _assert_one_line_error(proc, "timed out")


@pytest.mark.parametrize("path", ["/huge-declared", "/huge-undeclared"])
def test_a_body_over_download_maxsize_is_not_read(hostile_site: str, path: str) -> None:
    _assert_one_line_error(_extract(hostile_site + path, "--base-url", hostile_site), "larger than", "DOWNLOAD_MAXSIZE")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://example.invalid/article/2022061771721", "example.invalid is not a hankyung.com article host"),
        ("http://127.0.0.1:9/article/2022061771721", "127.0.0.1 is not a hankyung.com article host"),
        ("https://[::1/article/2022061771721", "not a valid URL"),
    ],
)
def test_only_article_hosts_and_the_base_url_host_are_fetched(url: str, message: str) -> None:
    _assert_one_line_error(_extract(url), message)


# -- files -----------------------------------------------------------------------


def _file(tmp_path: Path, name: str, content: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


def test_a_binary_file_is_not_an_article(tmp_path: Path) -> None:
    proc = _extract(_file(tmp_path, "x.bin", bytes(range(256)) * 4000))
    assert proc.returncode == 1 and proc.stdout.strip() == "null"
    assert "Traceback" not in proc.stderr


def test_a_file_over_download_maxsize_is_not_read(tmp_path: Path) -> None:
    _assert_one_line_error(_extract(_file(tmp_path, "huge.html", b"<p>" * (ELEVEN_MB // 3 + 1))), "larger than")


def test_a_directory_is_a_read_error(tmp_path: Path) -> None:
    _assert_one_line_error(_extract(str(tmp_path)), "cannot read")


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deeply_nested_pages_give_a_record_or_a_reason(tmp_path: Path, depth: int) -> None:
    html = SEED.read_text(encoding="utf-8").replace('<div class="summary">', '<div class="summary">' + "<span>" * depth)
    proc = _extract(_file(tmp_path, "deep.html", html.encode()))
    assert "Traceback" not in proc.stderr
    record = json.loads(proc.stdout)
    assert record["articleId"] == "2022061771721"
    if depth > 2048:  # past libxml2's depth limit the rest of the page is lost
        assert proc.returncode == 1 and "too_deep" in proc.stderr and "missing articleBody" in proc.stderr
    else:
        assert proc.returncode == 0, proc.stderr


def test_a_url_option_that_is_not_http_is_bad_url() -> None:
    """``--url`` garbage: counted, and the canonical URL stands in, so the record still passes."""
    proc = _extract(str(SEED), "--url", "javascript:alert(1)")
    assert proc.returncode == 0, proc.stderr
    assert "hkcrawl extract: bad_url" in proc.stderr
    assert json.loads(proc.stdout)["url"] == "https://www.hankyung.com/article/2022061771721"


def test_a_record_the_schema_refuses_is_reported(monkeypatch, capsys) -> None:
    """Should a parser bug ever let a bad value through, extract says the crawl would drop it."""

    def leaky_parse(body: bytes, url: str, content_type: str | None) -> ParseResult:
        parsed = parse_article(body, url, content_type)
        parsed.article.images = [Image(url="javascript:alert(1)")]
        return parsed

    monkeypatch.setattr(record, "parse_article", leaky_parse)
    code = extract.extract_command(argparse.Namespace(source=str(SEED), url=None, base_url="", timeout=1.0))
    assert code == 1
    err = capsys.readouterr().err
    assert "hkcrawl extract: the crawl would drop this record: $.images[0].url: " in err


def test_an_unexpected_bug_is_one_line_and_exit_2(monkeypatch, capsys) -> None:
    def broken(*args: object) -> None:
        raise KeyError("something nobody planned for\nsecond line")

    monkeypatch.setattr(extract, "build_record", broken)
    code = extract.extract_command(argparse.Namespace(source=str(SEED), url=None, base_url="", timeout=1.0))
    assert code == 2
    err = capsys.readouterr().err
    assert err == "hkcrawl extract: internal error: KeyError: 'something nobody planned for\\nsecond line'\n"


def test_explain_prints_the_winning_cue_and_the_cues_tried_per_field(capsys) -> None:
    assert cli.main(["extract", "--explain", str(SEED)]) == 0
    err = capsys.readouterr().err.splitlines()
    lines = {line.split()[3]: line for line in err if line.startswith("hkcrawl extract: cue ")}
    assert set(lines) >= {"headline", "section", "articleBody", "relatedArticles", "isPremium"}
    # The seed page has no JSON-LD: meta gives the section after JSON-LD was tried.
    assert lines["section"].split()[4:] == ["meta", "(tried:", "jsonld,", "meta)"]
    assert lines["isPremium"].split()[4] == "none"
    # Without --explain: no cue lines.
    assert cli.main(["extract", str(SEED)]) == 0
    assert "cue " not in capsys.readouterr().err

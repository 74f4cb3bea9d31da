"""A local HTTP server for end-to-end crawls of the stored fixtures.

Each article fixture is served under all four URL forms the site has used
(hankyung-site.md §1.2), so a crawl can be given the same article several times.
"""

from __future__ import annotations

import gzip
import http.server
import json
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest

from hkcrawl.demo import crawl_environment, local_crawl_command
from hkcrawl.replica import ReplicaServer, SiteModel
from hkcrawl.urls import article_id_from_url
from tests.conftest import ROOT, article_fixture_pages, expected_record, serving


def _routes() -> dict[str, Path]:
    """Article id -> fixture page; non-articles under a made-up id."""
    routes: dict[str, Path] = {}
    for page in article_fixture_pages():
        expected = expected_record(page)
        routes[expected["articleId"] if expected else f"list:{page.stem}"] = page
    return routes


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, Path]] = {}
    extra: ClassVar[dict[str, tuple[int, str, bytes]]] = {}

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path in self.extra:
            status, content_type, body = self.extra[parts.path]
            return self._send(status, content_type, body)
        aid = parse_qs(parts.query).get("aid", [None])[0]
        article_id = aid or article_id_from_url("http://x" + parts.path)
        page = self.routes.get(article_id or "")
        if page is None:
            return self._send(404, "text/html; charset=utf-8", b"<html><body>not found</body></html>")
        return self._send(200, "text/html", page.read_bytes())

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


#: Broken responses at article URLs: each must be counted, none emitted.
BROKEN_PAGES: dict[str, tuple[int, str, bytes]] = {
    "/article/2022061700002": (200, "text/html", b""),
    "/article/2022061700003": (200, "application/octet-stream", b"%PDF-1.7\n\x00\xff\xfe\x89PNG"),
    "/article/2022061700004": (
        200,
        "text/html; charset=utf-8",
        (ROOT / "tests/fixtures/articles/not_article_economy_list.html").read_bytes(),
    ),
}


#: The seed article's page again under another article id: the same story, re-run.
REPUBLISHED_SEED = "/article/2022061899991"
EXTRA_PAGES = {
    **BROKEN_PAGES,
    REPUBLISHED_SEED: (
        200,
        "text/html; charset=utf-8",
        (ROOT / "tests/fixtures/articles/current_seed_2022-06-17.html").read_bytes(),
    ),
}


@pytest.fixture
def fixture_site() -> Iterator[str]:
    handler = type("Handler", (_Handler,), {"routes": _routes(), "extra": EXTRA_PAGES})
    with serving(handler) as base_url:
        yield base_url


@pytest.fixture
def replica() -> Iterator[ReplicaServer]:
    """A 300-article replica: every list, feed and sitemap of the real site, small."""
    with ReplicaServer(SiteModel(articles=300)) as server:
        yield server


@dataclass
class CrawlRun:
    returncode: int
    log: str
    items: list[dict]
    raw: bytes

    @staticmethod
    def state_failures(cwd: Path) -> dict[str, str]:
        """Article id -> reason of the failures the run's state remembers (to fetch again)."""
        with sqlite3.connect(cwd / "state" / "hankyung.sqlite3") as db:
            return dict(db.execute("SELECT article_id, reason FROM failures WHERE gave_up IS NULL"))

    def stat(self, name: str) -> int:
        """A counter from the 'Dumping Scrapy stats' block of the log (0 if absent)."""
        marker = f"'{name}': "
        for line in self.log.splitlines():
            line = line.strip()
            if line.startswith(marker):
                return int(line[len(marker) :].rstrip(",}"))
        return 0


def run_crawl(
    args: list[str], base_url: str, cwd: Path, output: Path | None, settings: dict[str, str] | None = None
) -> CrawlRun:
    """The real ``scrapy crawl hankyung`` in a subprocess, as a user runs it."""
    command = local_crawl_command(base_url, *args, settings={"LOG_LEVEL": "INFO", **(settings or {})})
    if output is not None:
        command += ["-O", str(output)]
    # errors="replace": a log line quoting a page with broken encoding must not fail the test.
    proc = subprocess.run(
        command, cwd=cwd, env=crawl_environment(), capture_output=True, text=True, errors="replace", timeout=300
    )
    raw = output.read_bytes() if output is not None and output.exists() else b""
    items = [json.loads(line) for line in raw.decode("utf-8").splitlines() if line.strip()]
    return CrawlRun(proc.returncode, proc.stderr, items, raw)


#: The arguments of a scheduled run's first, full crawl.
FULL = ["-a", "max_pages=1000"]


@dataclass
class FirstRuns:
    """A first full run with the replica's clock held back, crawled once per site and hold-back
    in the session; each test gets its own copy of that run's files and state.

    The run is deterministic (same site model, same clock, same arguments), so crawling it again
    for every test that starts from it proved nothing more and cost a 300-article crawl each.
    Only a pristine replica qualifies (clock never moved, nothing modified, no faults): any other
    is crawled afresh.
    """

    folder: Path
    done: dict[tuple, Path] = field(default_factory=dict)

    def __call__(self, replica: ReplicaServer, work: Path, held_back: timedelta) -> set[str]:
        """``work`` as after that run; the replica's clock put back and its log cleared.
        Returns the ids the run saw (every article published by then)."""
        model = replica.model
        pristine = model.version == 0 and replica.faults is None
        end = model.now
        model.now = end - held_back
        seen = set(model.ids())
        key = (model.seed, model.end, model.days, model.page_size, model.source_wrap, tuple(model.ids()), held_back)
        if pristine and key in self.done:
            shutil.copytree(self.done[key], work, dirs_exist_ok=True)  # copy2: times kept, as the state checks
        else:
            first = run_crawl(FULL, replica.base_url, work, None)
            assert first.returncode == 0, first.log[-2000:]
            if pristine:
                self.done[key] = shutil.copytree(work, self.folder / f"run{len(self.done)}")
        assert set(finished_ids(work)) == seen
        model.now = end
        replica.log.clear()
        return seen


@pytest.fixture(scope="session")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> FirstRuns:
    """``first_run(replica, work, held_back)``: ``work`` as after a full first run (FirstRuns)."""
    return FirstRuns(tmp_path_factory.mktemp("first-runs"))


def finished_ids(work: Path) -> list[str]:
    """Article ids in the finished run files under ``work`` (never a running or dead run's .part)."""
    return [record["articleId"] for record in finished_records(work)]


def finished_records(work: Path) -> list[dict]:
    records = []
    for path in sorted((work / "data" / "hankyung").glob("*.jsonl*")):
        if path.name.endswith(".part"):
            continue
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        records += [json.loads(line) for line in raw.decode("utf-8").splitlines()]
    return records


def reports(work: Path) -> list[dict]:
    """The run reports under ``work``, oldest first."""
    return [json.loads(p.read_text()) for p in sorted((work / "data" / "hankyung").glob("*.report.json"))]


def cron(home: Path, cwd: Path, base_url: str, *extra: str) -> subprocess.Popen[str]:
    """The real ``hkcrawl cron --dir home`` as crontab runs it, against a local site."""
    hkcrawl = Path(sys.executable).with_name("hkcrawl")
    crawl_args = ["-s", f"HANKYUNG_BASE_URL={base_url}", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]
    # cron's environment: no PATH beyond the basics, no HOME, no terminal, another directory.
    return subprocess.Popen(
        ["env", "-i", "PATH=/usr/bin:/bin", str(hkcrawl), "cron", "--dir", str(home), "--", *crawl_args, *extra],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )

"""The fault matrix: every fault of the replica against real ``hkcrawl cron`` runs, and what was lost.

One table of scenarios and one runner, shared by ``tests/e2e/test_fault_matrix.py``
(which asserts on each outcome) and ``benchmarks/faults.py`` (which prints the table
for the README). What is measured is the README's promise: an article a run tried
and did not save is remembered with its reason and fetched again by every later run
until saved; the state never runs ahead of the finished files; a run says "ok" only
when it saved everything it tried; nothing is requested off the site.

Each scenario: a fresh replica (the fault on) and cron home; run 1; then the reruns,
with the fault still configured (bursts, ``count=N``, are used up by then) or lifted
first (``lift``: a permanent fault of the site that goes away). Off-site faults point
at a recording server on 127.0.0.2, which must get no request at all.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from hkcrawl.replica import ReplicaServer, RequestRecord, SiteModel
from hkcrawl.replica.site import Response
from tests.e2e.conftest import cron, finished_ids, finished_records
from tests.e2e.local_hosts import recording_server

#: Small enough that a run is mostly process start-up; five list pages and an empty one.
ARTICLES = 100
ALL_NEWS = ("-a", "discover=all-news", "-a", "max_pages=1000")
SITEMAP = ("-a", "discover=sitemap")
CRAWL_ARGS = (
    "-a", "related_depth=0", "-a", "render=never",
    "-s", "CONCURRENT_REQUESTS=8", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
    # Challenge back-off in hundredths of a second instead of the live site's 30 s.
    "-s", "HKCRAWL_BLOCK_BACKOFF=0.01", "-s", "HKCRAWL_BLOCK_MAX_DELAY=0.05",
)  # fmt: skip
#: A run never takes this long; a hung crawl fails the scenario instead of the whole suite.
RUN_TIMEOUT = 120


@dataclass(frozen=True)
class Scenario:
    """One fault, and how to rerun after it.

    What run 1 must report follows from what it did (see :meth:`Outcome.expected_run1`):
    ``ok`` only when it saved every servable article and every article it tried.
    """

    name: str
    spec: str
    lift: bool = False  # the site fixes the fault before the reruns
    reruns: int = 1
    discover: tuple[str, ...] = ALL_NEWS
    extra: tuple[str, ...] = ()
    stops: bool = False  # challenges enough to stop the crawl: run 1 is "blocked"
    kill_after: int | None = None  # SIGKILL run 1 once the replica served this many article pages
    wait_429: bool = False  # the scenario must show retries that waited out a Retry-After
    offsite: bool = False  # the fault points off the site: the crawl must show it refused something

    @property
    def id(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("500 burst on articles", "500:articles:share=0.1:count=3"),
    Scenario("502 burst on lists, retried in the run", "502:lists:count=2:scope=site"),
    Scenario("503 burst on lists", "503:lists:count=3:scope=site"),
    Scenario("500 on articles for good, then fixed", "500:articles:share=0.05", lift=True),
    Scenario("429 with Retry-After", "429:articles:share=0.1:count=1:after=1", wait_429=True),
    Scenario("connection reset", "reset:articles:share=0.1:count=3"),
    Scenario("reset mid-body", "reset-body:articles:share=0.1:count=3"),
    Scenario(
        "stall past DOWNLOAD_TIMEOUT", "stall:articles:share=0.05:count=3:secs=4", extra=("-s", "DOWNLOAD_TIMEOUT=2"),
    ),
    Scenario("truncated, Content-Length kept", "truncate:articles:share=0.1:count=3"),
    Scenario("truncated, no Content-Length", "truncate-nolength:articles:share=0.1:count=1"),
    Scenario("Content-Type missing", "content-type:articles:share=0.2"),
    Scenario("Content-Type wrong", "content-type:articles:share=0.2:to=application/octet-stream"),
    Scenario("CP949 body labelled UTF-8", "mislabel-utf8:articles:share=0.2"),
    Scenario("UTF-8 body labelled EUC-KR", "mislabel-euckr:articles:share=0.2"),
    Scenario("10 MB pages, then fixed", "huge:articles:share=0.05", lift=True),
    Scenario("redirect loop, then fixed", "redirect:articles:to=loop", lift=True),
    Scenario("redirect to itself, then fixed", "redirect:articles:share=0.05:to=self", lift=True),
    Scenario("off-site redirect, then fixed", "redirect:articles:share=0.05:to=offsite", lift=True, offsite=True),
    Scenario("file: redirect, then fixed", "redirect:articles:share=0.05:to=file", lift=True),
    Scenario("challenge burst on articles", "challenge:articles:count=4:scope=site"),
    # robots.txt, then the sitemap and all-news side by side: every request is challenged
    # until the 8th in a row stops the crawl, whatever order the answers come in.
    Scenario(
        "challenge burst that stops the crawl", "challenge:all:count=9:scope=site", stops=True,
        discover=("-a", "discover=sitemap,all-news", "-a", "max_pages=1000"),
    ),
    Scenario("404 between list and fetch, for good", "404:articles:share=0.05"),
    Scenario("404 between list and fetch, then back", "404:articles:share=0.05:count=1"),
    Scenario("sitemap entries off-site, file:, ftp:, /dev/zero", "extra-locs:sitemaps", discover=SITEMAP, offsite=True),
    Scenario("kill -9 mid-crawl", "none", kill_after=30, extra=("-s", "HKCRAWL_CHECKPOINT_ITEMS=10")),
)  # fmt: skip


@dataclass
class RunResult:
    exit: int
    status: str | None  # the report's; None when the run was killed (no report)
    tried: set[str]  # article ids the replica was asked for
    failed_articles: dict[str, int]  # the report's failedArticles, by reason
    offsite_refused: int  # off-site requests refused, and off-site/bad-scheme links not followed
    stderr: str
    saved: set[str]  # article ids in the finished files once the run was over


@dataclass
class Outcome:
    scenario: Scenario
    runs: list[RunResult]
    faulted: int  # requests the replica answered with the fault in run 1
    servable_run1: set[str]
    saved_run1: set[str]  # articles in finished files after run 1
    known_run1: int  # articles the state called exported after run 1
    servable: set[str]  # at the time of the reruns
    saved: set[str]  # after the reruns
    offsite_hits: list[str]
    early_429: int  # requests that came before their Retry-After was up
    waited_429: int
    silent: list[str] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)
    wrong_text: list[str] = field(default_factory=list)
    state_ahead: set[str] = field(default_factory=set)

    @property
    def lost(self) -> set[str]:
        return self.servable - self.saved

    @property
    def missed_run1(self) -> set[str]:
        return self.servable_run1 - self.saved_run1

    @property
    def expected_run1(self) -> str | None:
        """The honest report of run 1: ``ok`` only if it saved everything servable and everything it tried."""
        first = self.runs[0]
        if self.scenario.kill_after is not None:
            return None
        if self.scenario.stops:
            return "blocked"
        return "failed" if self.missed_run1 or first.tried - first.saved else "ok"

    @property
    def offsite_refused(self) -> int:
        return sum(run.offsite_refused for run in self.runs)


def run_scenario(scenario: Scenario, work: Path) -> Outcome:
    """Run 1 and the reruns of ``scenario`` in ``work`` (an empty directory); what became of every article."""
    home = work / "home"
    with (
        recording_server("127.0.0.2") as other_host,
        ReplicaServer(SiteModel(articles=ARTICLES), faults=scenario.spec, offsite=other_host.base_url) as replica,
    ):
        log: list[RequestRecord] = []
        first = _run(replica, home, work, scenario, log, kill_after=scenario.kill_after)
        faulted = sum(1 for record in log if record.fault)
        servable_run1 = set(replica.article_availability().servable)
        saved_run1 = set(finished_ids(home))
        known_run1 = len(_state_ids(home))
        state_ahead = _state_ahead(home, also=_part_ids(home))
        if scenario.lift:
            replica.set_faults("none")
        runs = [first]
        for _ in range(scenario.reruns):
            runs.append(_run(replica, home, work, scenario, log))
            state_ahead |= _state_ahead(home)
        outcome = Outcome(
            scenario, runs, faulted, servable_run1, saved_run1, known_run1,
            servable=set(replica.article_availability().servable), saved=set(finished_ids(home)),
            offsite_hits=[path for _, path in other_host.hits],
            early_429=sum(1 for record in log if record.early is True),
            waited_429=sum(1 for record in log if record.early is False),
            state_ahead=state_ahead,
        )  # fmt: skip
        _judge(outcome, home, replica.model)
    return outcome


def _run(
    replica: ReplicaServer,
    home: Path,
    cwd: Path,
    scenario: Scenario,
    log: list[RequestRecord],
    kill_after: int | None = None,
) -> RunResult:
    """One ``hkcrawl cron``; its requests are added to ``log``."""
    replica.log.clear()
    reports_dir = home / "data" / "hankyung"
    before = set(reports_dir.glob("*.report.json")) | set((home / "logs").glob("*.log"))
    proc = cron(home, cwd, replica.base_url, *scenario.discover, *CRAWL_ARGS, *scenario.extra)
    if kill_after is not None:
        with _held_after(replica, kill_after):
            _wait_for(lambda: len(_part_ids(home)) >= kill_after * 2 // 3 or proc.poll() is not None, "output")
            proc.kill()
    _, stderr = proc.communicate(timeout=RUN_TIMEOUT)
    records = replica.log.records
    log += records
    tried = {r.path.split("?")[0].rsplit("/", 1)[-1] for r in records if r.path.startswith("/article/")}
    new_reports = sorted(set(reports_dir.glob("*.report.json")) - before)
    new_logs = sorted(set((home / "logs").glob("*.log")) - before)
    log_text = new_logs[-1].read_text(encoding="utf-8", errors="replace") if new_logs else ""
    report = json.loads(new_reports[-1].read_text(encoding="utf-8")) if new_reports else {}
    return RunResult(
        proc.returncode,
        report.get("status"),
        tried,
        dict(Counter(failure["reason"] for failure in report.get("failedArticles", []))),
        sum(report.get("offsiteRefused", {}).values())
        + _stat(log_text, "hkcrawl/links/off_site")
        + _stat(log_text, "hkcrawl/links/bad_scheme"),
        stderr,
        set(finished_ids(home)),
    )


def _stat(log_text: str, name: str) -> int:
    """A counter from the log's final stats dump (0 if absent)."""
    found = re.search(rf"'{re.escape(name)}': (\d+)", log_text.rpartition("Dumping Scrapy stats")[2])
    return int(found[1]) if found else 0


@contextmanager
def _held_after(replica: ReplicaServer, pages: int) -> Iterator[None]:
    """Article pages after the first ``pages`` wait until the block ends: the crawl cannot
    finish before it is killed, whatever the machine's speed."""
    release, lock, served = threading.Event(), threading.Lock(), [0]
    original = replica.site.get

    def held(path: str) -> Response:
        if path.startswith("/article/"):
            with lock:
                served[0] += 1
                wait = served[0] > pages
            if wait:
                release.wait(RUN_TIMEOUT)
        return original(path)

    replica.site.get = held  # type: ignore[method-assign]
    try:
        yield
    finally:
        release.set()
        del replica.site.get


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:g} s for {what}")
        time.sleep(0.02)


def _judge(outcome: Outcome, home: Path, model: SiteModel) -> None:
    """Silent failures, crashes and wrong text, from the runs, the logs and the finished files."""
    statuses = {0: "ok", 1: "failed", 3: "blocked"}
    for number, run in enumerate(outcome.runs, 1):
        if run.status is None and run.exit == -9:
            continue
        if statuses.get(run.exit) != run.status:
            outcome.silent.append(f"run {number}: exit {run.exit} but report status {run.status}")
        if (run.status == "ok" or run.exit == 0) and (unsaved := run.tried - run.saved):
            outcome.silent.append(f"run {number} said ok but did not save {sorted(unsaved)}")
    for number, run in enumerate(outcome.runs, 1):
        if "Traceback" in run.stderr:
            outcome.crashes.append(f"run {number} printed a traceback")
    for path in sorted((home / "logs").glob("*.log")):
        if "Traceback" in path.read_text(encoding="utf-8", errors="replace"):
            outcome.crashes.append(f"Traceback in {path.name}")
    for record in finished_records(home):
        expected = model.expected_record(record["articleId"])
        if (record["articleBody"], record["headline"]) != (expected["articleBody"], expected["headline"]):
            outcome.wrong_text.append(record["articleId"])


def _state_ahead(home: Path, also: AbstractSet[str] = frozenset()) -> set[str]:
    """Ids the state calls exported that no finished file (nor ``also``) holds: must be none."""
    return _state_ids(home) - set(finished_ids(home)) - also


def _state_ids(home: Path) -> set[str]:
    database = home / "state" / "hankyung.sqlite3"
    if not database.exists():
        return set()
    with sqlite3.connect(database) as db:
        return {row[0] for row in db.execute("SELECT article_id FROM articles")}


def _part_ids(home: Path) -> set[str]:
    """Ids in the complete lines of unfinished (.part) run files."""
    ids = set()
    for part in (home / "data" / "hankyung").glob("*.part"):
        for line in part.read_bytes().decode("utf-8", "replace").splitlines():
            if line.endswith("}"):
                ids.add(json.loads(line)["articleId"])
    return ids


# -- the table ----------------------------------------------------------------------


def table(outcomes: list[Outcome]) -> str:
    """The README's loss table, one row per scenario."""
    header = (
        "| scenario | fault spec | run 1: exit / report (unsaved by reason) | faulted requests | servable "
        "| saved after run 1 | after reruns (reruns) | lost | requests to the other host (off-site refused) "
        "| silent failure | crash |"
    )
    rows = [header, "|" + "---|" * 4 + "---:|" * 4 + "---|---|---|"]
    for o in outcomes:
        first = o.runs[0]
        status = "killed (-9)" if first.status is None and first.exit == -9 else f"{first.exit} / {first.status}"
        if first.failed_articles:
            status += " (" + ", ".join(f"{why} {n}" for why, n in sorted(first.failed_articles.items())) + ")"
        rows.append(
            f"| {o.scenario.name} | `{o.scenario.spec}` | {status} | {o.faulted} | {len(o.servable)} "
            f"| {len(o.saved_run1 & o.servable_run1)} of {len(o.servable_run1)} "
            f"| {len(o.saved & o.servable)} ({len(o.runs) - 1}) | {len(o.lost)} "
            f"| {len(o.offsite_hits)} ({o.offsite_refused}) | {'; '.join(o.silent) or 'no'} "
            f"| {'; '.join(o.crashes) or 'no'} |"
        )
    return "\n".join(rows)

"""The offline demo: the real ``scrapy crawl hankyung`` against the bundled replica.

Also the one definition of "a crawl of a local site", which the end-to-end tests
and benchmarks use too: only the base URL and the politeness settings differ from
a live crawl (no delay is needed against our own server).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from hkcrawl.progress import TerminalLine, is_terminal
from hkcrawl.replica import ReplicaServer, SiteModel

#: Politeness off: the replica is ours. Everything else is the live configuration.
LOCAL_SITE_SETTINGS = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "CONCURRENT_REQUESTS": "16",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
}


def local_crawl_command(base_url: str, *args: str, settings: dict[str, str] | None = None) -> list[str]:
    command = [sys.executable, "-m", "scrapy", "crawl", "hankyung", "-s", f"HANKYUNG_BASE_URL={base_url}"]
    for name, value in {**LOCAL_SITE_SETTINGS, **(settings or {})}.items():
        command += ["-s", f"{name}={value}"]
    return command + list(args)


def crawl_environment() -> dict[str, str]:
    """Lets ``scrapy crawl`` find the project from any working directory."""
    return {**os.environ, "SCRAPY_SETTINGS_MODULE": "hkcrawl.settings"}


def run_demo(articles: int, output: Path | None, discover: str) -> int:
    """Crawl a fresh replica into ``output``; non-zero, with the reason, when that failed.

    The crawl gets a state and output directory of its own, made for this run and
    removed after it: the demo's synthetic ids must never reach the live crawl's
    ``state/`` (they would be taken as known), and every demo repeats the whole work.
    Its log goes to a file beside ``output``; its progress is shown as it comes.
    """
    output = output or Path("data") / "demo" / f"{datetime.now(UTC):%Y-%m-%dT%H-%M-%S}.jsonl"
    output.parent.mkdir(parents=True, exist_ok=True)
    log_path = output.with_suffix(".log")
    print(f"Starting a local replica of hankyung.com with {articles} articles…", file=sys.stderr)
    with (
        ReplicaServer(SiteModel(articles=articles)) as replica,
        tempfile.TemporaryDirectory(prefix="hkcrawl-demo-") as scratch,
    ):
        print(f"Replica at {replica.base_url}; crawling it (discover={discover})…", file=sys.stderr)
        terminal = TerminalLine(sys.stderr) if is_terminal(sys.stderr) else None
        command = local_crawl_command(
            replica.base_url, "-a", f"discover={discover}", "-a", "max_pages=1000", "-O", str(output),
            settings={
                "LOG_LEVEL": "INFO",
                "HKCRAWL_STATE_DIR": str(Path(scratch) / "state"),
                "HKCRAWL_OUTPUT_DIR": str(Path(scratch) / "data"),
                # The crawl writes to our pipe, so it logs plain progress lines; we show them.
                "HKCRAWL_PROGRESS_INTERVAL": "0.5" if terminal else "5",
            },
        )  # fmt: skip
        with (
            log_path.open("w", encoding="utf-8") as log,
            subprocess.Popen(
                command, env=crawl_environment(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True, encoding="utf-8", errors="replace",
            ) as proc,
        ):  # fmt: skip
            assert proc.stdout is not None
            reason = _follow(proc.stdout, log, terminal)
            returncode = proc.wait()
    records = output.read_text(encoding="utf-8").splitlines() if output.exists() else []
    if records:  # a failed crawl may still have saved some: say where they are
        first = json.loads(records[0])
        print(f"First record: {first['articleId']} {first['headline']}", file=sys.stderr)
        print(f"Wrote {len(records)} articles to {output.resolve()}")
    if returncode:
        print(f"hkcrawl demo: the crawl failed (exit {returncode}): {reason}; log: {log_path}", file=sys.stderr)
        return returncode
    if not records:
        print(f"hkcrawl demo: the crawl wrote no article; log: {log_path}", file=sys.stderr)
        return 1
    return 0


def _follow(crawl_log: IO[str], log: IO[str], terminal: TerminalLine | None) -> str:
    """Copy the crawl's log to ``log`` as it comes, showing its progress and summary lines;
    returns its reason for failing (its verdict line, else its last line: a crawl that
    never started, on a bad argument, ends with the exception)."""
    verdict = last = ""
    for line in crawl_log:
        log.write(line)
        line = line.rstrip("\n")
        last = line or last
        if "] INFO: Progress: " in line:
            text = line.split("] INFO: Progress: ", 1)[1]
            if terminal is not None:
                terminal.show(text)
            else:
                print(f"Progress: {text}", file=sys.stderr)
        elif "Summary:" in line or "FAILED" in line:
            if terminal is not None:
                terminal.clear()
            print(line.split("] INFO: ", 1)[-1].split("] ERROR: ", 1)[-1], file=sys.stderr)
        elif line.startswith("hkcrawl: "):  # the crawl command's one-line verdict
            verdict = line
    if terminal is not None:
        terminal.clear()
    return verdict or last or "no output"

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
    """
    output = output or Path("data") / "demo" / f"{datetime.now(UTC):%Y-%m-%dT%H-%M-%S}.jsonl"
    output.parent.mkdir(parents=True, exist_ok=True)
    print(f"Starting a local replica of hankyung.com with {articles} articles…", file=sys.stderr)
    with (
        ReplicaServer(SiteModel(articles=articles)) as replica,
        tempfile.TemporaryDirectory(prefix="hkcrawl-demo-") as scratch,
    ):
        print(f"Replica at {replica.base_url}; crawling it (discover={discover})…", file=sys.stderr)
        command = local_crawl_command(
            replica.base_url, "-a", f"discover={discover}", "-a", "max_pages=1000", "-O", str(output),
            settings={
                "LOG_LEVEL": "INFO",
                "HKCRAWL_STATE_DIR": str(Path(scratch) / "state"),
                "HKCRAWL_OUTPUT_DIR": str(Path(scratch) / "data"),
            },
        )  # fmt: skip
        proc = subprocess.run(command, env=crawl_environment(), capture_output=True, text=True)
    for line in proc.stderr.splitlines():
        if "Summary:" in line or "FAILED" in line:
            print(line.split("] INFO: ", 1)[-1].split("] ERROR: ", 1)[-1], file=sys.stderr)
    records = output.read_text(encoding="utf-8").splitlines() if output.exists() else []
    if records:
        first = json.loads(records[0])
        print(f"First record: {first['articleId']} {first['headline']}", file=sys.stderr)
    print(f"Wrote {len(records)} articles to {output.resolve()}")
    if proc.returncode:
        said = [line for line in proc.stderr.splitlines() if line.startswith("hkcrawl: ")]
        # A crawl that never started (a bad argument) said why in its last line only.
        reason = said[-1] if said else (proc.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"hkcrawl demo: the crawl failed (exit {proc.returncode}): {reason}", file=sys.stderr)
        return proc.returncode
    if not records:
        print("hkcrawl demo: the crawl wrote no article", file=sys.stderr)
        return 1
    return 0

"""Reruns against the replica: what a steady-state run costs, and that it misses nothing.

    .venv/bin/python benchmarks/reruns.py [--articles 5000] [--new 100] [--baseline REF]

1. full crawl of the replica with its clock held back (the first run);
2. the clock moves on until --new more articles are published; a rerun must fetch
   those (and the articles edited meanwhile) and little else. Target (issue 14):
   requests ≤ 1.1 × exported articles + 3, every request counted (robots.txt,
   sitemaps, lists, articles);
3. a rerun with nothing new, timed against the first.

Then completeness: a full crawl of the same replica state (every list to its end, the
sitemaps, /all-news) in a fresh directory; every article it finds must be in the
finished files of runs 1 and 2.

Every crawl is the real ``scrapy crawl hankyung`` (default discovery) in a child
process. ``--baseline REF`` runs the same three crawls, against the same replica, with
``hkcrawl/`` as of that git revision (``git archive`` into a temporary folder, first on
PYTHONPATH), so both are measured in one run.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hkcrawl.demo import crawl_environment, local_crawl_command  # noqa: E402
from hkcrawl.replica import ReplicaServer, SiteModel  # noqa: E402


@dataclass
class Crawl:
    wall: float
    report: dict
    requests: int  # as the replica counted them: every request that reached it
    article_requests: int


@dataclass
class Scenario:
    label: str
    runs: list[Crawl]
    ids_after_run_2: set[str]


def crawl(replica: ReplicaServer, work: Path, env: dict[str, str], *args: str) -> Crawl:
    replica.log.clear()
    start = time.perf_counter()
    command = local_crawl_command(replica.base_url, "-a", "max_pages=100000", *args)
    subprocess.run(command, cwd=work, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - start
    report = json.loads(sorted((work / "data" / "hankyung").glob("*.report.json"))[-1].read_text())
    return Crawl(wall, report, len(replica.log.records), replica.log.count("/article/"))


def finished_ids(work: Path) -> set[str]:
    return {
        json.loads(line)["articleId"]
        for path in (work / "data" / "hankyung").glob("*.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines()
    }


def scenario(label: str, replica: ReplicaServer, held_back: datetime, end: datetime, env: dict[str, str]) -> Scenario:
    """Runs 1–3 in a fresh directory: first run at ``held_back``, the others at ``end``."""
    work = Path(tempfile.mkdtemp(prefix="hkcrawl-reruns-"))
    replica.model.now = held_back
    first = crawl(replica, work, env)
    replica.model.now = end
    second = crawl(replica, work, env)
    ids = finished_ids(work)
    third = crawl(replica, work, env)
    return Scenario(label, [first, second, third], ids)


def baseline_environment(ref: str, folder: str) -> dict[str, str]:
    """The crawl's environment with ``hkcrawl/`` as of ``ref`` first on the path (checked)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "hkcrawl"], capture_output=True, check=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(folder, filter="data")
    env = {**crawl_environment(), "PYTHONPATH": os.pathsep.join([folder, str(ROOT)])}
    probe = [sys.executable, "-c", "import hkcrawl; print(hkcrawl.__file__)"]
    imported = subprocess.run(probe, env=env, cwd=folder, capture_output=True, text=True, check=True).stdout.strip()
    if not imported.startswith(folder):
        raise RuntimeError(f"the baseline imports {imported}, not the archive of {ref} in {folder}")
    return env


def print_scenario(result: Scenario, new: int, reference: set[str]) -> None:
    first, second, third = result.runs
    exported = second.report["new"] + second.report["updated"]
    print(f"{result.label}:")
    print("| run | exported (new / updated) | requests | article pages | robots/sitemap/list | wall s |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, run in (("1: first full crawl", first), (f"2: {new} new", second), ("3: nothing new", third)):
        other = run.requests - run.article_requests
        print(
            f"| {name} | {run.report['new']} / {run.report['updated']} | {run.requests} | {run.article_requests} | "
            f"{other} | {run.wall:.1f} |"
        )
    budget = 1.1 * exported + 3
    verdict = "met" if second.requests <= budget else "NOT met"
    print(
        f"run 2: {second.requests} requests for {exported} exported articles "
        f"({second.requests / max(exported, 1):.2f} per article); "
        f"target ≤ 1.1 × {exported} + 3 = {budget:.1f}: {verdict}"
    )
    print(
        f"run 2: {second.article_requests / max(exported, 1):.2f} article requests per exported article "
        f"plus {second.requests - second.article_requests} robots/sitemap/list requests"
    )
    missing = reference - result.ids_after_run_2
    shown = ", ".join(sorted(missing)[:5])
    print(
        f"completeness after run 2: {len(reference & result.ids_after_run_2)} of the {len(reference)} articles "
        f"a full crawl of the same replica finds; missing {len(missing)}{f' ({shown})' if missing else ''}"
    )
    print(f"run 3 (nothing new) is {first.wall / third.wall:.1f}× faster than the first full crawl (target ≥ 10×)")
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--new", type=int, default=100)
    parser.add_argument("--baseline", metavar="REF", help="also run hkcrawl/ as of this git revision")
    args = parser.parse_args()
    model = SiteModel(articles=args.articles)
    end = model.now
    # Hold the clock back so that exactly --new articles are still to come.
    held_back = model.article(model.ids()[args.new]).published
    results = []
    with ReplicaServer(model) as replica, tempfile.TemporaryDirectory(prefix="hkcrawl-baseline-") as folder:
        if args.baseline:
            env = baseline_environment(args.baseline, folder)
            results.append(scenario(f"baseline {args.baseline}", replica, held_back, end, env))
        results.append(scenario("this tree", replica, held_back, end, crawl_environment()))
        # The reference: everything a full crawl finds at run 2's replica state.
        model.now = end
        work = Path(tempfile.mkdtemp(prefix="hkcrawl-reruns-full-"))
        crawl(replica, work, crawl_environment(), "-a", "discover=sections,all-news,sitemap")
        reference = finished_ids(work)
    print(f"{args.articles}-article replica, {args.new} published between run 1 and run 2; one run each")
    print(
        f"full crawl of the replica at run 2: {len(reference)} articles "
        f"(the replica shows {len(model.ids())}; {len(reference ^ set(model.ids()))} differ)"
    )
    print()
    for result in results:
        print_scenario(result, args.new, reference)
    return 0


if __name__ == "__main__":
    sys.exit(main())

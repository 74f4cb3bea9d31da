"""Reruns against the replica: requests per new article, and a rerun with nothing new.

    .venv/bin/python benchmarks/reruns.py [--articles 5000] [--new 100]

1. full crawl of the replica with its clock held back (the first run);
2. the clock moves on until --new more articles are published; a rerun must fetch
   those (and the articles edited meanwhile) and little else;
3. a rerun with nothing new, timed against the first.
Every crawl is the real ``scrapy crawl hankyung`` (default discovery) in a child process.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hkcrawl.demo import crawl_environment, local_crawl_command  # noqa: E402
from hkcrawl.replica import ReplicaServer, SiteModel  # noqa: E402


def crawl(replica: ReplicaServer, work: Path) -> tuple[float, dict]:
    replica.log.clear()
    start = time.perf_counter()
    command = local_crawl_command(replica.base_url, "-a", "max_pages=100000")
    subprocess.run(command, cwd=work, env=crawl_environment(), check=True, capture_output=True)
    wall = time.perf_counter() - start
    report = json.loads(sorted((work / "data" / "hankyung").glob("*.report.json"))[-1].read_text())
    return wall, report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--new", type=int, default=100)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hkcrawl-incremental-"))
    model = SiteModel(articles=args.articles)
    end = model.now
    newest_first = model.ids()
    # Hold the clock back so that exactly --new articles are still to come.
    model.now = model.article(newest_first[args.new]).published
    with ReplicaServer(model) as replica:
        first_wall, first = crawl(replica, work)
        model.now = end
        new_wall, second = crawl(replica, work)
        article_requests = replica.log.count("/article/")
        list_requests = len(replica.log.records) - article_requests
        same_wall, third = crawl(replica, work)

    wanted = second["new"] + second["updated"]
    print(f"{args.articles}-article replica, {args.new} published between run 1 and run 2; one run each")
    print("| run | exported (new / updated) | requests | article pages | list/sitemap/robots | wall s |")
    print("|---|---:|---:|---:|---:|---:|")
    print(f"| 1: first full crawl | {first['new']} / {first['updated']} | {first['requests']} | | | {first_wall:.1f} |")
    print(
        f"| 2: {args.new} new | {second['new']} / {second['updated']} | {second['requests']} | {article_requests} | "
        f"{list_requests} | {new_wall:.1f} |"
    )
    print(f"| 3: nothing new | {third['new']} / {third['updated']} | {third['requests']} | | | {same_wall:.1f} |")
    print()
    print(
        f"run 2: {article_requests / max(wanted, 1):.2f} article requests per exported article "
        f"(target ≤ 1.2) plus {list_requests} list/sitemap/robots requests"
    )
    print(f"run 3 (nothing new) is {first_wall / same_wall:.1f}× faster than the first full crawl (target ≥ 10×)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The same article pages crawled with -a render=never, auto and always, same run.

    .venv/bin/python benchmarks/rendering.py [--pages 200] [--rounds 3] [--long 500] [--polite]

The replica's article pages (5% have a related block filled by script) are fetched
from a URL list (related_depth=0), so the three modes do the same work but for the
browser. Peak memory is the largest sum of RSS over the crawl and all its child
processes (Chromium, Playwright's driver), sampled from /proc every 0.1 s; shared
pages are counted in each process, so it over-states a little. --long also runs one
render=always crawl of that many pages and prints its memory over time.

By default the crawls run as fast as the replica answers (16 requests at once, no
delay): the CPU-bound worst case, where the browser competes for the two cores with
the crawl and with the replica server itself. --polite runs them with the project's
own settings for the live site instead (one request at a time, 2 s delay,
AutoThrottle), where a rendered page costs mostly its second request.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hkcrawl import settings as project_settings  # noqa: E402
from hkcrawl.demo import LOCAL_SITE_SETTINGS, crawl_environment, local_crawl_command  # noqa: E402
from hkcrawl.replica import ReplicaServer, SiteModel  # noqa: E402


def _tree_rss_mb(root_pid: int) -> float:
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * 4096
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total / 2**20


def crawl(
    replica: ReplicaServer,
    urls_file: Path,
    mode: str,
    samples: list[tuple[float, float]] | None = None,
    polite: bool = False,
):
    work = Path(tempfile.mkdtemp(prefix=f"hkcrawl-render-{mode}-"))
    # --polite: put back the live site's values of the settings the local runs relax.
    live = {name: str(getattr(project_settings, name)) for name in LOCAL_SITE_SETTINGS} if polite else {}
    command = local_crawl_command(
        replica.base_url, "-a", f"urls_file={urls_file}", "-a", "related_depth=0", "-a", f"render={mode}",
        "-O", str(work / "out.jsonl"), settings=live,
    )  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.Popen(
        command, cwd=work, env=crawl_environment(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    peak = 0.0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            current = _tree_rss_mb(proc.pid)
            peak = max(peak, current)
            if samples is not None:
                samples.append((time.perf_counter() - start, current))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    proc.wait()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    lines = (work / "out.jsonl").read_text(encoding="utf-8").count("\n")
    return wall, peak, lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--share", type=float, default=0.05, help="share of pages that need rendering (0.05)")
    parser.add_argument("--long", type=int, default=0, help="pages of a long render=always crawl (0: skip)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--polite", action="store_true", help="the live site's delays and concurrency")
    args = parser.parse_args()
    model = SiteModel(articles=max(args.pages, args.long, 1000))
    with ReplicaServer(model) as replica:
        # The case: a site where 5% of pages need rendering.
        js = [aid for aid in model.ids() if "js_related" in model.article(aid).kinds]
        plain = [aid for aid in model.ids() if "js_related" not in model.article(aid).kinds]
        need_count = round(args.pages * args.share)
        ids = js[:need_count] + plain[: args.pages - need_count]
        urls_file = Path(tempfile.mkdtemp()) / "urls.txt"
        urls_file.write_text("\n".join(f"{replica.base_url}/article/{aid}" for aid in ids))
        need = sum("js_related" in model.article(aid).kinds for aid in ids)
        modes = ("never", "auto", "always")
        runs: dict[str, list[tuple[float, float, int]]] = {mode: [] for mode in modes}
        for _ in range(args.rounds):  # alternate the modes so a noisy minute hits all of them
            for mode in modes:
                runs[mode].append(crawl(replica, urls_file, mode, polite=args.polite))
        share = f"{need} ({need / args.pages:.0%})"
        pace = "the live site's politeness settings" if args.polite else "as fast as the replica answers"
        print(f"{args.pages} replica article pages, {share} need rendering; {pace}; 2 cores;")
        print(f"median of {args.rounds} alternating rounds")
        print("| render | wall s | pages/s | peak RSS MB (crawl + browser) | records |")
        print("|---|---:|---:|---:|---:|")
        for mode in modes:
            wall = statistics.median(w for w, _, _ in runs[mode])
            peak = max(p for _, p, _ in runs[mode])
            lines = min(n for _, _, n in runs[mode])
            print(f"| {mode} | {wall:.1f} | {args.pages / wall:.2g} | {peak:.0f} | {lines} |")
        ratios = [a[0] / n[0] for a, n in zip(runs["auto"], runs["never"], strict=True)]
        print(
            f"\nauto takes {statistics.median(ratios):.2f}× the time of never, median of the rounds "
            f"({', '.join(f'{r:.2f}' for r in ratios)}; target ≤ 1.3×)"
        )
        if args.long:
            urls_file.write_text("\n".join(f"{replica.base_url}/article/{aid}" for aid in model.ids()[: args.long]))
            samples: list[tuple[float, float]] = []
            wall, peak, lines = crawl(replica, urls_file, "always", samples)
            quarter = len(samples) // 4 or 1
            marks = [
                statistics.median(mb for _, mb in samples[i : i + quarter]) for i in range(0, len(samples), quarter)
            ]
            print(
                f"\nrender=always over {args.long} pages: {wall:.0f} s, {lines} records, peak {peak:.0f} MB; "
                f"median RSS per quarter of the run: {', '.join(f'{mb:.0f}' for mb in marks[:4])} MB"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())

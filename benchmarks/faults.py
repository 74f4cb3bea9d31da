"""The fault matrix as the README's loss table: each replica fault through real ``hkcrawl cron`` runs.

For every scenario of ``tests/e2e/fault_scenarios.py`` (the same ones the e2e test
asserts on): a fresh 100-article replica with the fault on, run 1, then the
documented reruns (the fault's burst used up, or the fault lifted when the site would
fix it); counted: articles the replica could serve, articles in the finished files
after run 1 and after the reruns, lost, requests that reached another host (a
recording server on 127.0.0.2) and off-site requests refused, silent failures (a run
said ok while an article it tried is in no finished file) and tracebacks.

    .venv/bin/python benchmarks/faults.py [--only SCENARIO-ID-PART …]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.fault_scenarios import ARTICLES, SCENARIOS, run_scenario, table  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=[], help="run only scenarios whose id contains one of these")
    args = parser.parse_args()
    chosen = [s for s in SCENARIOS if not args.only or any(part in s.id for part in args.only)]
    outcomes = []
    started = time.monotonic()
    for scenario in chosen:
        with tempfile.TemporaryDirectory(prefix="hkcrawl-faults-") as work:
            began = time.monotonic()
            outcome = run_scenario(scenario, Path(work))
        outcomes.append(outcome)
        print(f"{scenario.id}: {time.monotonic() - began:.1f} s", file=sys.stderr)
    print(f"{ARTICLES}-article replica, {len(outcomes)} scenarios, run of {datetime.now(UTC):%Y-%m-%d}")
    print(table(outcomes))
    lost = sum(len(o.lost) for o in outcomes)
    bad = [o.scenario.name for o in outcomes if o.runs[0].status != o.expected_run1]
    print(
        f"\nlost after reruns: {lost}; off-site requests: {sum(len(o.offsite_hits) for o in outcomes)}; "
        f"silent failures: {sum(len(o.silent) for o in outcomes)}; crashes: {sum(len(o.crashes) for o in outcomes)}; "
        f"run 1 status not as it should be: {', '.join(bad) or 'none'}; {time.monotonic() - started:.0f} s"
    )
    return 1 if lost or bad or any(o.silent or o.crashes or o.offsite_hits for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())

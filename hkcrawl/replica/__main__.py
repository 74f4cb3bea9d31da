"""``python -m hkcrawl.replica``: serve the replica until Ctrl-C.

Prints the base URL to pass to the spider (``-s HANKYUNG_BASE_URL=…``) and, on
exit, how many requests of each kind it answered.
"""

from __future__ import annotations

import argparse
import signal
import sys
from datetime import datetime

from hkcrawl.replica.challenge import ChallengePolicy
from hkcrawl.replica.faults import FaultPlan
from hkcrawl.replica.model import DEFAULT_END, SiteModel, as_kst, iso_time
from hkcrawl.replica.server import ReplicaServer


def _moment(text: str) -> datetime:
    """``2026-11-20T18:00`` (KST unless an offset is given)."""
    try:
        return as_kst(datetime.fromisoformat(text))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not an ISO date-time: {text!r} (e.g. 2026-11-20T18:00)") from error


def _policy(text: str) -> str:
    try:
        ChallengePolicy.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error
    return text


def _faults(text: str) -> FaultPlan:
    try:
        return FaultPlan.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m hkcrawl.replica", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port (default: 8000)")
    parser.add_argument("--articles", type=int, default=5000, help="articles on the site (default: 5000)")
    parser.add_argument("--seed", type=int, default=1, help="same seed, same site, byte for byte (default: 1)")
    parser.add_argument("--end", type=_moment, default=DEFAULT_END, help="newest publish time (default: %(default)s)")
    parser.add_argument("--days", type=int, default=None, help="days the articles span (default: articles / 200)")
    parser.add_argument(
        "--copies", type=float, default=0.0, help="share of articles repeating an earlier one's story (default: 0)"
    )
    parser.add_argument("--now", type=_moment, default=None, help="the site's clock: later articles are hidden")
    parser.add_argument(
        "--challenge",
        type=_policy,
        default="none",
        help="Cloudflare challenges: none, all, after:N, rate:0.2, path:/feed, or several joined by commas",
    )
    parser.add_argument("--challenge-status", type=int, choices=(403, 503), default=403)
    parser.add_argument(
        "--faults",
        type=_faults,
        default=FaultPlan(),
        help="injected faults, e.g. 500:articles:rate=0.1,503:lists:count=3 (grammar: hkcrawl/replica/README.md)",
    )
    parser.add_argument("--base-url", default=None, help="URL written into pages (default: http://HOST:PORT)")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    model = SiteModel(articles=args.articles, seed=args.seed, end=args.end, days=args.days, copies=args.copies)
    if args.now is not None:
        model.now = args.now
    try:
        server = ReplicaServer(
            model,
            host=args.host,
            port=args.port,
            challenge=args.challenge,
            challenge_status=args.challenge_status,
            base_url=args.base_url,
            verbose=args.verbose,
            faults=args.faults,
        )
    except OSError as error:
        print(f"cannot listen on {args.host}:{args.port}: {error}; try another --port", file=sys.stderr)
        return 1
    kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(model.kind_counts.items()))
    print(
        f"hkcrawl replica: {args.articles} articles ({kinds}), {model.days} days up to {iso_time(model.end)}, "
        f"clock {iso_time(model.now)}, challenge {server.challenge}, faults {server.fault_plan}",
        file=sys.stderr,
    )
    print(server.base_url, flush=True)
    print("Ctrl-C to stop.", file=sys.stderr)
    # `kill` stops it as cleanly as Ctrl-C (and a background job, which ignores SIGINT, can be stopped).
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        counts = ", ".join(f"{kind} {count}" for kind, count in server.log.by_kind().most_common())
        print(f"\nanswered {len(server.log.records)} requests ({counts or 'none'})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``hkcrawl`` command line: tools around the crawl (``scrapy crawl hankyung`` is the crawl)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hkcrawl import seed
from hkcrawl.dataset_commands import merge_command, validate_command
from hkcrawl.extract import extract_command
from hkcrawl.scheduled import check_command, cron_command
from hkcrawl.settings import HANKYUNG_BASE_URL


def demo_command(args: argparse.Namespace) -> int:
    from hkcrawl.demo import run_demo  # the replica is only loaded for the demo

    return run_demo(args.articles, args.output, args.discover)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hkcrawl", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    extract = commands.add_parser(
        "extract",
        help="print the record for one saved page or URL, as the crawl would export it",
    )
    extract.add_argument("source", metavar="FILE_OR_URL", help="a saved HTML file, or an http(s) URL to fetch")
    extract.add_argument("--url", help="the URL the saved page came from (gives the article id and resolves links)")
    extract.add_argument(
        "--base-url",
        default=HANKYUNG_BASE_URL,
        help="a site whose host may be fetched besides hankyung.com's article hosts, e.g. the replica (%(default)s)",
    )
    extract.add_argument(
        "--timeout", type=float, default=30.0, help="seconds for the whole download, redirects included (%(default)s)"
    )
    extract.add_argument(
        "--explain",
        action="store_true",
        help="print to stderr, per field, the cue that gave its value and the cues tried in order",
    )
    extract.set_defaults(handler=extract_command)
    demo = commands.add_parser(
        "demo",
        help="start the bundled replica of hankyung.com, crawl it with the real spider, write JSONL",
    )
    demo.add_argument("--articles", type=int, default=1000, help="articles on the replica (default 1000)")
    demo.add_argument("--discover", default="sections,sitemap", help="the spider's -a discover= (%(default)s)")
    demo.add_argument("--output", type=Path, help="JSONL file to write (default data/demo/<UTC time>.jsonl)")
    demo.set_defaults(handler=demo_command)
    cron = commands.add_parser(
        "cron",
        help="one scheduled crawl: locked against overlap, logged to DIR/logs, non-zero exit when it failed",
    )
    cron.add_argument("--dir", required=True, help="working directory: data/, state/ and logs/ go under it")
    cron.add_argument("crawl_args", nargs=argparse.REMAINDER, help="after --: arguments for scrapy crawl (-a …, -s …)")
    cron.set_defaults(handler=cron_command)
    check = commands.add_parser(
        "check",
        help="compare the state with the finished run files and forget what no file holds (fetched again)",
    )
    check.add_argument("--dir", help="working directory of the runs (as hkcrawl cron --dir); default: here")
    check.add_argument("-s", "--set", action="append", metavar="NAME=VALUE", help="a setting, as for scrapy crawl")
    check.set_defaults(handler=check_command)
    validate = commands.add_parser(
        "validate",
        help="check exported .jsonl/.jsonl.gz files against the record schema (hkcrawl/schema/article.schema.json)",
    )
    validate.add_argument(
        "files", nargs="+", metavar="FILE_OR_DIR", help="run files, or directories (their *.jsonl and *.jsonl.gz)"
    )
    validate.set_defaults(handler=validate_command)
    from hkcrawl import watch  # the command and its options live in hkcrawl/watch.py

    watch.add_command(commands)
    merge = commands.add_parser(
        "merge",
        help="join run files into one deduplicated dataset, the latest version of each article winning",
    )
    merge.add_argument("out", type=Path, metavar="OUT", help="file to write (gzip'd when it ends .gz)")
    merge.add_argument(
        "inputs", nargs="+", metavar="FILE_OR_DIR", help="run files, or directories (their *.jsonl and *.jsonl.gz)"
    )
    merge.set_defaults(handler=merge_command)
    seed.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())

"""``hkcrawl validate`` and ``hkcrawl merge``: the exported files checked, and joined
into one dataset (the work is in hkcrawl/datasets.py; here, what the user sees)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def validate_command(args: argparse.Namespace) -> int:
    """Check exported files against the record schema, one line per problem (``FILE:LINE: …``,
    easy to grep or jump to); exit 0 all valid, 1 some record invalid, 2 a file unreadable."""
    from hkcrawl import datasets

    files: list[Path] = []
    unreadable = False
    for given in args.files:  # a missing one does not stop the others being checked
        try:
            files += datasets.input_files([given])
        except datasets.DatasetError as error:
            print(f"hkcrawl validate: {error}", file=sys.stderr)
            unreadable = True
    records = invalid = 0
    for path in files:
        try:
            for line in datasets.read_lines(path):
                records += 1
                problems = datasets.line_problems(line)
                invalid += bool(problems)
                for problem in problems:
                    print(problem)
        except datasets.DatasetError as error:
            print(f"hkcrawl validate: {error}", file=sys.stderr)
            unreadable = True
    print(f"{records} records, {invalid} invalid in {len(files)} files")
    return 2 if unreadable else 1 if invalid else 0


def merge_command(args: argparse.Namespace) -> int:
    """Join run files into one dataset, the latest version of each article winning;
    exit 2 (OUT untouched) when an input cannot be read or OUT cannot be written."""
    from hkcrawl import datasets

    missing = next((parent for parent in reversed(args.out.absolute().parents) if not parent.exists()), None)
    try:
        summary = datasets.merge(args.out, args.inputs)
    except datasets.DatasetError as error:
        print(f"hkcrawl merge: {error}; {args.out} not written", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"hkcrawl merge: cannot write {args.out}: {error.strerror or error}", file=sys.stderr)
        return 2
    for problem in summary.skipped:
        print(f"hkcrawl merge: skipped {problem}", file=sys.stderr)
    if missing is not None:  # a typo in OUT's folder should not go unnoticed
        print(f"created {missing}/")
    print(f"wrote {summary.output}")
    for line in summary.lines():
        print(f"  {line}")
    return 0

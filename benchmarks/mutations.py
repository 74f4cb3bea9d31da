"""Field survival over markup mutants: hkcrawl's parser now and, with ``--baseline REF``,
as of a git revision, on the same mutants in the same run; plus extraction speed
against trafilatura on the unmutated fixtures.

    .venv/bin/python benchmarks/mutations.py [--mutants 200] [--by-kind 25] [--baseline 85228a8] [--repeat 15]

Mutants come from ``tests/pages/mutations.py`` (fixed seeds 0 … N-1 per article
fixture, several mutation kinds each); fields are judged by ``tests/pages/survival.py``:
right / null (cues failed) / partial (a list lost items) / wrong. A field survives
when it is right. Targets (the issue "Extraction that survives the markup we had to
guess"): body right on ≥ 99 % of mutants, every other field on ≥ 95 %, no wrong
value, no boilerplate leak, and hkcrawl ≥ 5× faster than trafilatura.

The baseline's ``hkcrawl/`` is taken with ``git archive`` into a temporary folder and
run in a subprocess with it first on PYTHONPATH (this script with ``--worker``), so the
old parser needs no checkout and nothing here imports it. A second table runs each
kind alone (``--by-kind`` seeds per fixture and kind) to say which kind causes a
wrong value.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "articles"
BODY_TARGET, FIELD_TARGET, SPEED_TARGET = 0.99, 0.95, 5.0


def _articles() -> list[tuple[str, bytes, dict]]:
    pages = []
    for page in sorted(FIXTURES.glob("*.html")):
        if expected := json.loads(page.with_suffix(".json").read_text(encoding="utf-8")):
            pages.append((page.stem, page.read_bytes(), expected))
    return pages


def parse_mutants(mutants: int, by_kind: int) -> Iterator[dict]:
    """Every mutant's record, from whichever ``hkcrawl`` this process imports.

    ``kind`` is None for the mixed mutants, else the one kind the mutant has.
    """
    from hkcrawl.record import build_record
    from tests.pages.mutations import KINDS, mutate

    for stem, html, expected in _articles():
        plan = [(None, seed) for seed in range(mutants)] + [(k, seed) for k in KINDS for seed in range(by_kind)]
        for kind, seed in plan:
            mutant = mutate(html, seed, None if kind is None else {kind})
            article = build_record(mutant.html.encode(), expected["url"]).article
            record = asdict(article) if article is not None else None
            yield {"page": stem, "seed": seed, "kind": kind, "applied": mutant.applied, "record": record}


def _worker(mutants: int, by_kind: int) -> None:
    import hkcrawl

    print(json.dumps({"hkcrawl": hkcrawl.__file__}), flush=True)
    for row in parse_mutants(mutants, by_kind):
        print(json.dumps(row, ensure_ascii=False))


def baseline_rows(ref: str, mutants: int, by_kind: int) -> list[dict]:
    """The mutants parsed by ``hkcrawl/`` as of ``ref``, in a subprocess."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "hkcrawl"], capture_output=True, check=True)
    with tempfile.TemporaryDirectory(prefix="hkcrawl-baseline-") as folder:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(folder, filter="data")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([folder, str(ROOT)])}
        command = [sys.executable, __file__, "--worker", "--mutants", str(mutants), "--by-kind", str(by_kind)]
        done = subprocess.run(command, env=env, cwd=folder, capture_output=True, text=True, check=True)
        header, *lines = done.stdout.splitlines()
        imported = json.loads(header)["hkcrawl"]
        if not imported.startswith(folder):
            raise RuntimeError(f"the baseline worker imported {imported}, not the archive of {ref} in {folder}")
    return [json.loads(line) for line in lines]


#: The kinds that delete information (the rest keep every visible line and value).
DROPS = ("drop_jsonld", "drop_meta")


def removed_evidence() -> dict[tuple[str, frozenset[str]], set[str]]:
    """(fixture, the drop kinds applied) -> fields whose only evidence those drops delete.

    Judged by the current parser on mutants with nothing but those drops: a field it
    cannot find there is gone from the page (og:image the only image, JSON-LD the only
    keywords), so no parser can be right about it and it is left out of the
    "recoverable" rate (the raw rate keeps it). The same set is used for the baseline.
    """
    from hkcrawl.record import build_record
    from tests.pages.mutations import mutate
    from tests.pages.survival import verdicts

    found: dict[tuple[str, frozenset[str]], set[str]] = {}
    for stem, html, expected in _articles():
        for combo in ({"drop_jsonld"}, {"drop_meta"}, set(DROPS)):
            article = build_record(mutate(html, 0, combo).html.encode(), expected["url"]).article
            judged = verdicts(asdict(article) if article is not None else None, expected)
            # "partial": the drop took some of the value's sources (JSON-LD-only keywords).
            found[stem, frozenset(combo)] = {f for f, verdict in judged.items() if verdict in ("null", "partial")}
    return found


def judge(rows: list[dict], removed: dict[tuple[str, frozenset[str]], set[str]]) -> dict:
    """Verdict counts per field (all mutants, and those that kept the field's evidence),
    leaks, and wrong values by (fixture, kind, field)."""
    from tests.pages.survival import leaks, page_furniture, verdicts

    pages = {stem: (expected, page_furniture(html)) for stem, html, expected in _articles()}
    fields: dict[str, Counter[str]] = defaultdict(Counter)
    recoverable: dict[str, Counter[str]] = defaultdict(Counter)
    wrong_by_kind: dict[tuple[str, str, str], list] = defaultdict(list)
    mixed = leaked = any_wrong = 0
    for row in rows:
        expected, furniture = pages[row["page"]]
        judged = verdicts(row["record"], expected)
        if row["kind"] is not None:
            for field, verdict in judged.items():
                if verdict == "wrong":
                    wrong_by_kind[row["page"], row["kind"], field].append((row["record"] or {}).get(field))
            continue
        mixed += 1
        drops = frozenset(a.split(":")[0] for a in row["applied"]) & set(DROPS)
        gone = removed.get((row["page"], drops), set()) if drops else set()
        for field, verdict in judged.items():
            fields[field][verdict] += 1
            if field not in gone:
                recoverable[field][verdict] += 1
        any_wrong += "wrong" in judged.values()
        leaked += bool(leaks((row["record"] or {}).get("articleBody"), expected, furniture))
    return {
        "mutants": mixed,
        "fields": fields,
        "recoverable": recoverable,
        "leaked": leaked,
        "any_wrong": any_wrong,
        "by_kind": wrong_by_kind,
    }


def _counts(counts: Counter[str]) -> str:
    return " / ".join(str(counts[v]) for v in ("right", "null", "partial", "wrong"))


def _rate(counts: Counter[str]) -> float:
    return counts["right"] / max(1, sum(counts.values()))


def print_survival(results: dict[str, dict]) -> None:
    names = list(results)
    heads = " | ".join(
        f"{n}: right / null / partial / wrong | {n}: survival | {n}: survival where the evidence is left" for n in names
    )
    print(f"| field | target | {heads} |")
    print("|---|---:|" + "---:|---:|---:|" * len(names))
    for field in results[names[0]]["fields"]:
        target = BODY_TARGET if field in ("articleBody", "articleBodyHash") else FIELD_TARGET
        cells = []
        for name in names:
            counts, kept = results[name]["fields"][field], results[name]["recoverable"][field]
            mark = "" if _rate(kept) >= target and not counts["wrong"] else " ✗"
            cells.append(f"{_counts(counts)} | {_rate(counts):.1%} | {_rate(kept):.1%} of {sum(kept.values())}{mark}")
        print(f"| {field} | ≥ {target:.0%} | " + " | ".join(cells) + " |")
    for label, key in (("mutants with a wrong value", "any_wrong"), ("mutants with boilerplate in the body", "leaked")):
        print(f"| **{label}** | 0 | " + " | ".join(f"{results[n][key]} | | " for n in names) + " |")
    print()
    print("mutants: " + ", ".join(f"{n} {results[n]['mutants']}" for n in names))


def print_wrong_by_kind(results: dict[str, dict], by_kind: int) -> None:
    keys = sorted({key for result in results.values() for key in result["by_kind"]})
    print(f"Wrong values with one mutation kind at a time ({by_kind} seeds per fixture and kind):")
    print()
    if not keys:
        print("none")
        return
    names = list(results)
    print("| fixture | kind | field | " + " | ".join(f"{n}: wrong" for n in names) + " | example value |")
    print("|---|---|---|" + "---:|" * len(names) + "---|")
    for key in keys:
        found = [results[n]["by_kind"].get(key, []) for n in names]
        example = next(values[0] for values in found if values)
        cells = " | ".join(f"{len(values)} / {by_kind}" for values in found)
        print(f"| {key[0]} | {key[1]} | {key[2]} | {cells} | {str(example)[:70]!r} |")


def print_speed(repeat: int) -> None:
    """hkcrawl vs trafilatura per unmutated fixture, by benchmarks/extraction.py's own timer."""
    import trafilatura

    from benchmarks.extraction import median_ms
    from hkcrawl.record import build_record

    ratios = []
    for _stem, html, expected in _articles():
        url = expected["url"]
        ours = median_ms(lambda html=html, url=url: build_record(html, url, check_schema=False), repeat)
        theirs = median_ms(lambda html=html, url=url: trafilatura.extract(html, url=url), repeat)
        ratios.append((ours, theirs))
    ours_median = statistics.median(o for o, _ in ratios)
    theirs_median = statistics.median(t for _, t in ratios)
    speedup = statistics.median(t / o for o, t in ratios)
    verdict = "meets" if speedup >= SPEED_TARGET else "misses"
    print(
        f"speed on the {len(ratios)} unmutated fixtures ({repeat} repeats): median ms/page hkcrawl {ours_median:.2f}, "
        f"trafilatura {theirs_median:.2f}; hkcrawl {speedup:.1f}× faster (median of per-page ratios, as "
        f"benchmarks/extraction.py; slowest page {min(t / o for o, t in ratios):.1f}×): "
        f"{verdict} the ≥ {SPEED_TARGET:.0f}× target"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", type=int, default=200, help="mixed mutants per fixture")
    parser.add_argument("--by-kind", type=int, default=25, help="single-kind mutants per fixture and kind")
    parser.add_argument("--baseline", metavar="REF", help="also run hkcrawl/ as of this git revision")
    parser.add_argument("--repeat", type=int, default=15, help="timing repeats per page")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:  # PYTHONPATH already puts the baseline's hkcrawl first, then this tree
        _worker(args.mutants, args.by_kind)
        return 0
    sys.path.insert(0, str(ROOT))

    removed = removed_evidence()
    results = {"hkcrawl": judge(list(parse_mutants(args.mutants, args.by_kind)), removed)}
    if args.baseline:
        results[f"baseline {args.baseline}"] = judge(baseline_rows(args.baseline, args.mutants, args.by_kind), removed)
    print_survival(results)
    print()
    print_wrong_by_kind(results, args.by_kind)
    print()
    print_speed(args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Extraction speed and body quality: hkcrawl vs trafilatura, same pages, same run.

    .venv/bin/python benchmarks/extraction.py [--repeat 15]

For every stored article fixture: milliseconds per page (median of repeats) for
hkcrawl's full page -> record path (decode, parse, clean: what the crawl runs per
page) and for ``trafilatura.extract``; token F1 of the body against the expected
JSON; and boilerplate leaks (site furniture, captions or the email line found in
the body). Prints a Markdown table and the summary the README quotes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Not this folder: benchmarks/incremental.py would shadow twisted's "incremental" package.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != ROOT / "benchmarks"]
sys.path.insert(0, str(ROOT))

import trafilatura  # noqa: E402

from hkcrawl.record import build_record  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "articles"
# Text that is on hankyung pages but never part of an article (hankyung-site.md §3.3).
LEAK_MARKERS = (
    "ⓒ 한경닷컴", "무단전재", "좋아요", "싫어요", "후속기사 원해요", "기사 스크랩", "글자크기", "구독신청",
    "구독하기", "ADVERTISEMENT", "이 시각 관심정보", "독자들의 PICK", "많이 본 뉴스", "관련 뉴스",
    "@hankyung.com", "AI 기사요약", "프리미엄9의 모든 콘텐츠", "사진=",
)  # fmt: skip


def tokens(text: str | None) -> Counter[str]:
    return Counter((text or "").split())


def token_f1(predicted: str | None, expected: str) -> float:
    got, want = tokens(predicted), tokens(expected)
    overlap = sum((got & want).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(got.values()), overlap / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def leaks(predicted: str | None, expected: dict) -> int:
    text = predicted or ""
    markers = list(LEAK_MARKERS) + [image["caption"] for image in expected["images"] if image["caption"]]
    return sum(1 for marker in markers if marker in text and marker not in expected["articleBody"])


def median_ms(function, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    rows = []
    for page in sorted(FIXTURES.glob("*.html")):
        expected = json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))
        if expected is None:
            continue
        html, url = page.read_bytes(), expected["url"]
        ours = build_record(html, url).article
        theirs = trafilatura.extract(html, url=url, include_comments=False, include_tables=False)
        rows.append(
            {
                "page": page.stem,
                "kb": len(html) / 1024,
                # Extraction only (parse + clean): the schema check is validation, which the
                # crawl does in its pipeline and trafilatura not at all.
                "ours_ms": median_ms(
                    lambda html=html, url=url: build_record(html, url, check_schema=False), args.repeat
                ),
                "traf_ms": median_ms(lambda html=html, url=url: trafilatura.extract(html, url=url), args.repeat),
                "ours_f1": token_f1(ours.articleBody if ours else None, expected["articleBody"]),
                "traf_f1": token_f1(theirs, expected["articleBody"]),
                "ours_leaks": leaks(ours.articleBody if ours else None, expected),
                "traf_leaks": leaks(theirs, expected),
            }
        )

    print("| page | KB | hkcrawl ms | trafilatura ms | speed-up | hkcrawl F1 | trafilatura F1 | leaks (hk / traf) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['page']} | {r['kb']:.0f} | {r['ours_ms']:.2f} | {r['traf_ms']:.2f} | "
            f"{r['traf_ms'] / r['ours_ms']:.1f}× | {r['ours_f1']:.3f} | {r['traf_f1']:.3f} | "
            f"{r['ours_leaks']} / {r['traf_leaks']} |"
        )
    ours_median = statistics.median(r["ours_ms"] for r in rows)
    traf_median = statistics.median(r["traf_ms"] for r in rows)
    print()
    print(f"pages: {len(rows)}, repeats per page: {args.repeat}")
    print(
        f"median ms/page: hkcrawl {ours_median:.2f}, trafilatura {traf_median:.2f}; "
        f"hkcrawl is {traf_median / ours_median:.1f}× faster (median of per-page ratios "
        f"{statistics.median(r['traf_ms'] / r['ours_ms'] for r in rows):.1f}×)"
    )
    print(
        f"mean body token F1: hkcrawl {statistics.mean(r['ours_f1'] for r in rows):.3f}, "
        f"trafilatura {statistics.mean(r['traf_f1'] for r in rows):.3f}; "
        f"min hkcrawl {min(r['ours_f1'] for r in rows):.3f}"
    )
    print(
        f"boilerplate leaks: hkcrawl {sum(r['ours_leaks'] for r in rows)}, "
        f"trafilatura {sum(r['traf_leaks'] for r in rows)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
